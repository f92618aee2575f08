"""Settings: sandbox by default, one clear line naming any wrong or missing setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from st_mcp.cli import main
from st_mcp.config import ConfigError, load_settings

FULL = {
    "ST_TENANT_ID": "5150",
    "ST_CLIENT_ID": "cid.abc",
    "ST_CLIENT_SECRET": "cs1.topsecret",
    "ST_APP_KEY": "ak1.appkey",
}


def test_no_credentials_means_the_embedded_sandbox() -> None:
    settings = load_settings(environ={})
    assert settings.servicetitan.environment == "sandbox"
    assert settings.servicetitan.uses_embedded_sandbox


def test_full_credentials_default_to_production() -> None:
    st = load_settings(environ=FULL).servicetitan
    assert st.environment == "production"
    assert st.tenant_id == 5150
    assert st.credentials() == (5150, "cid.abc", "cs1.topsecret", "ak1.appkey")


def test_sandbox_on_loopback_keeps_the_override() -> None:
    env = {"ST_ENVIRONMENT": "sandbox", "ST_API_BASE_URL": "http://127.0.0.1:8765"}
    st = load_settings(environ=env).servicetitan
    assert st.is_sandbox and not st.uses_embedded_sandbox
    assert st.api_base_url == "http://127.0.0.1:8765"


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"ST_TENANT_ID": "abc"}, "ST_TENANT_ID: Input should be a valid integer"),
        ({**FULL, "ST_TENANT_ID": "-3"}, "ST_TENANT_ID: Input should be greater than 0"),
        ({"ST_TENANT_ID": "1", "ST_CLIENT_ID": "x"}, "ST_CLIENT_SECRET is missing"),
        (
            {"ST_ENVIRONMENT": "prod"},
            "ST_ENVIRONMENT: Input should be 'production', 'integration' or 'sandbox'",
        ),
        ({"ST_ENVIRONMENT": "integration"}, "ST_TENANT_ID is required when ST_ENVIRONMENT=integration"),
        ({"ST_API_BASE_URL": "ftp://x"}, "ST_API_BASE_URL: String should match pattern"),
        ({"ST_REQUESTS_PER_SECOND": "0"}, "ST_REQUESTS_PER_SECOND: Input should be greater than 0"),
    ],
)
def test_bad_settings_fail_with_one_line_naming_the_setting(environ: dict[str, str], expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ=environ)
    message = str(caught.value)
    assert message.startswith(expected)
    assert "\n" not in message
    assert "topsecret" not in message


def test_toml_file_fills_what_the_environment_leaves_out(tmp_path: Path) -> None:
    config = tmp_path / "st-mcp.toml"
    config.write_text('database_url = "sqlite+aiosqlite:///x.db"\n[servicetitan]\nrequests_per_second = 20\n')
    settings = load_settings(config, environ={"ST_MCP_DATABASE_URL": "sqlite+aiosqlite:///env.db"})
    assert settings.servicetitan.requests_per_second == 20
    assert settings.database_url == "sqlite+aiosqlite:///env.db"  # the environment wins


def test_missing_config_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ST_MCP_CONFIG: no such file"):
        load_settings(tmp_path / "absent.toml", environ={})


def test_cli_prints_one_line_and_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ST_TENANT_ID", "not-a-number")
    assert main(["check"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "st-mcp: configuration error: ST_TENANT_ID: Input should be a valid integer, "
        "unable to parse string as an integer (got 'not-a-number')"
    ]
