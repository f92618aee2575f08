"""``[auth]`` settings, ``st-mcp auth hash-key``, and the refusal to listen openly without auth."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import pytest
from mcp.server.mcpserver import MCPServer

from st_mcp.cli import main
from st_mcp.config import ConfigError, load_settings
from st_mcp.server import transports

DANA_HASH = hashlib.sha256(b"dana-key-0123456789abcdef").hexdigest()
JWT_ENV = {
    "ST_MCP_JWKS_URL": "https://idp.example.test/jwks.json",
    "ST_MCP_JWT_ISSUER": "https://idp.example.test/",
}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "st-mcp.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_auth_is_off_by_default() -> None:
    assert not load_settings(environ={}).auth.enabled


def test_api_keys_and_jwt_from_file_and_environment(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        f"""
[auth]
public_url = "https://mcp.example.test/mcp"
api_keys = [{{ principal = "dana", role = "csr", sha256 = "{DANA_HASH.upper()}" }}]

[auth.jwt]
role_claim = "https://example.test/role"

[access.roles]
night_csr = ["chats.view"]
""",
    )
    settings = load_settings(config, environ={**JWT_ENV, "ST_MCP_JWT_AUDIENCE": "api://st-mcp"})
    auth = settings.auth
    assert auth.enabled
    assert auth.api_keys[0].sha256 == DANA_HASH  # normalised to lower case
    assert auth.jwt.jwks_url == JWT_ENV["ST_MCP_JWKS_URL"] and auth.jwt.issuer == JWT_ENV["ST_MCP_JWT_ISSUER"]
    assert auth.audience == "api://st-mcp"
    assert auth.jwt.role_claim == "https://example.test/role"
    assert auth.jwt.algorithms == ["RS256", "ES256"] and auth.jwt.principal_claim == "sub"

    # A role defined in [access.roles] is as good as a default one.
    custom = write(
        tmp_path,
        f'[access.roles]\nnight_csr = ["chats.view"]\n'
        f'[[auth.api_keys]]\nprincipal = "nina"\nrole = "night_csr"\nsha256 = "{DANA_HASH}"\n',
    )
    assert load_settings(custom, environ={}).auth.api_keys[0].role == "night_csr"


def test_audience_defaults_to_the_public_url() -> None:
    settings = load_settings(environ={**JWT_ENV, "ST_MCP_PUBLIC_URL": "https://mcp.example.test/mcp"})
    assert settings.auth.audience == "https://mcp.example.test/mcp"


@pytest.mark.parametrize(
    ("toml", "environ", "expected"),
    [
        (
            f'[[auth.api_keys]]\nprincipal = "dana"\nrole = "superuser"\nsha256 = "{DANA_HASH}"\n',
            {},
            "[auth].api_keys[0] (dana): unknown role 'superuser'; known roles: auditor, csr,",
        ),
        (
            '[[auth.api_keys]]\nprincipal = "dana"\nrole = "csr"\nsha256 = "not-a-hash-but-the-raw-key"\n',
            {},
            "auth.api_keys.0.sha256: String should match pattern",
        ),
        (
            f'[[auth.api_keys]]\nprincipal = "a"\nrole = "csr"\nsha256 = "{DANA_HASH}"\n'
            f'[[auth.api_keys]]\nprincipal = "b"\nrole = "csr"\nsha256 = "{DANA_HASH}"\n',
            {},
            "[auth].api_keys[1]: the same key is configured twice",
        ),
        ("", {"ST_MCP_JWKS_URL": "https://idp.example.test/jwks.json"}, "ST_MCP_JWT_ISSUER is required"),
        ("", JWT_ENV, "ST_MCP_PUBLIC_URL (or ST_MCP_JWT_AUDIENCE) is required with ST_MCP_JWKS_URL"),
        ("", {"ST_MCP_PUBLIC_URL": "mcp.example.test"}, "ST_MCP_PUBLIC_URL: String should match pattern"),
        ("", {"ST_MCP_JWKS_URL": "file:///etc/keys"}, "ST_MCP_JWKS_URL: String should match pattern"),
        ('[auth.jwt]\nalgorithms = ["HS256"]\n', {}, "auth.jwt.algorithms: unsupported algorithm HS256"),
    ],
)
def test_bad_auth_settings_fail_with_one_line(
    tmp_path: Path, toml: str, environ: dict[str, str], expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, toml), environ=environ)
    message = str(caught.value)
    assert message.startswith(expected), message
    assert "\n" not in message
    assert "raw-key" not in message  # what was in the hash field is never echoed


def test_hash_key_prints_the_sha256(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("dana-key-0123456789abcdef\n"))
    assert main(["auth", "hash-key"]) == 0
    out, err = capsys.readouterr()
    assert out == DANA_HASH + "\n"
    assert "dana-key" not in out + err


def test_hash_key_refuses_a_short_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["auth", "hash-key"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "at least 16 characters" in err and "short" not in err


@pytest.mark.parametrize("transport", ["http", "sse"])
@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "mcp.example.test"])
def test_open_listener_without_auth_is_refused(
    transport: str,
    host: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    def must_not_listen(*args: object, **kwargs: object) -> None:
        raise AssertionError("the server started listening")

    monkeypatch.setattr(MCPServer, "run", must_not_listen)
    monkeypatch.setenv("ST_MCP_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/st.db")
    for name in ("ST_MCP_CONFIG", "ST_TENANT_ID", "ST_CLIENT_ID", "ST_CLIENT_SECRET", "ST_APP_KEY"):
        monkeypatch.delenv(name, raising=False)
    assert main(["serve", "--transport", transport, "--host", host, "--port", "8799"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"st-mcp: refusing to listen on {host} without authentication; configure [auth] api_keys "
        "or a JWKS URL, or listen on 127.0.0.1"
    ]


@pytest.mark.parametrize(
    ("host", "with_auth"), [("127.0.0.1", False), ("localhost", False), ("::1", False), ("0.0.0.0", True)]
)
def test_loopback_or_authenticated_listeners_start(
    host: str, with_auth: bool, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    started: list[tuple[list[str], str, int]] = []

    def listen(app: Any, host: str, port: int) -> None:  # instead of uvicorn: record what would listen
        started.append(([getattr(route, "path", "") for route in app.routes], host, port))

    monkeypatch.setattr(transports, "listen", listen)
    monkeypatch.setenv("ST_MCP_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/st.db")
    for name in ("ST_MCP_CONFIG", "ST_TENANT_ID", "ST_CLIENT_ID", "ST_CLIENT_SECRET", "ST_APP_KEY"):
        monkeypatch.delenv(name, raising=False)
    args = ["serve", "--transport", "http", "--host", host, "--port", "8799"]
    if with_auth:
        config = write(
            tmp_path, f'[[auth.api_keys]]\nprincipal = "dana"\nrole = "csr"\nsha256 = "{DANA_HASH}"\n'
        )
        args = ["--config", str(config), *args]
    assert main(args) == 0
    ((paths, listened_host, port),) = started
    assert "/mcp" in paths and "/healthz" in paths and (listened_host, port) == (host, 8799)


def test_run_itself_refuses_an_open_listener(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The same rule holds for code that calls ``transports.run`` without the CLI."""
    from st_mcp.server import create_server
    from st_mcp.server.transports import UnsafeListenerError, run

    monkeypatch.setattr(MCPServer, "run", lambda *a, **kw: pytest.fail("the server started listening"))
    monkeypatch.setattr(transports, "listen", lambda *a, **kw: pytest.fail("the server started listening"))
    settings = load_settings(environ={"ST_MCP_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/st.db"})
    with pytest.raises(UnsafeListenerError, match=r"^refusing to listen on 0\.0\.0\.0 without auth"):
        run(create_server(settings), "sse", host="0.0.0.0", port=8799, stateless=False)
