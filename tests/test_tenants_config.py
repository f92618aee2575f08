"""``[tenants.<name>]``: each contractor's settings over the top level, its keys, and whom they reach."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
import pytest

from st_mcp.config import ConfigError, load_settings
from st_mcp.policy.identity import Principal
from st_mcp.server.auth import build_verifier, principal_of
from st_mcp.server.jwks import JwksCache

from .auth_keys import ISSUER, SigningKey, claims, jwks

ACME_KEY, BOLT_KEY, OPS_KEY = (
    "acme-key-0123456789abcdef",
    "bolt-key-0123456789abcdef",
    "ops-key-0123456789abcdef",
)
AUDIENCE = "https://mcp.example.test/mcp"


def sha(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


TWO_TENANTS = f"""
[persona]
company_name = "Shared Name"
[compliance.touch_cap]
everywhere = 4
[servicetitan]
requests_per_second = 30

[[auth.api_keys]]
principal = "ops"
role = "auditor"
tenant = "acme"
sha256 = "{sha(OPS_KEY)}"

[tenants.acme]
servicetitan = {{ tenant_id = 1001, client_id = "cid.acme", client_secret = "cs.acme", app_key = "ak.acme" }}
persona = {{ company_name = "Acme Air" }}
messaging = {{ gateway = "sandbox", twilio_from_number = "+13035550170" }}
[[tenants.acme.api_keys]]
principal = "acme-agent"
role = "virtual_agent"
sha256 = "{sha(ACME_KEY)}"

[tenants.bolt]
sandbox = {{ seed = 11 }}
[tenants.bolt.access.roles]
night_desk = {{ permissions = ["chats.view"], ai = true }}
[[tenants.bolt.api_keys]]
principal = "bolt-desk"
role = "night_desk"
sha256 = "{sha(BOLT_KEY)}"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "st-mcp.toml"
    path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path: Path, text: str = TWO_TENANTS, **environ: str) -> dict[str, object]:
    settings = load_settings(
        write(tmp_path, text),
        environ={"ST_MCP_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/s.db", **environ},
    )
    return {"settings": settings, **settings.tenant_settings()}


def test_without_blocks_there_is_one_default_tenant() -> None:
    settings = load_settings(environ={})
    assert list(settings.tenant_settings()) == ["default"]
    assert settings.tenant_settings()["default"] is settings
    assert settings.stdio_tenant == "default"


def test_a_block_lays_its_sections_over_the_top_level(tmp_path: Path) -> None:
    loaded = load(tmp_path)
    acme, bolt = loaded["acme"], loaded["bolt"]
    assert acme.persona.company_name == "Acme Air" and bolt.persona.company_name == "Shared Name"  # type: ignore[attr-defined]
    assert acme.compliance.touch_cap.everywhere == bolt.compliance.touch_cap.everywhere == 4  # type: ignore[attr-defined]
    assert acme.servicetitan.requests_per_second == 30  # type: ignore[attr-defined]  # inherited, not a credential
    assert acme.servicetitan.environment == "production" and acme.servicetitan.tenant_id == 1001  # type: ignore[attr-defined]
    assert (acme.identity.tenant, bolt.identity.tenant) == ("acme", "bolt")  # type: ignore[attr-defined]
    assert list(bolt.access.roles) == ["night_desk"] and not acme.access.roles  # type: ignore[attr-defined]
    assert loaded["settings"].stdio_tenant == "acme"  # type: ignore[attr-defined]


def test_credentials_are_never_inherited(tmp_path: Path) -> None:
    """The top level's ServiceTitan tenant does not leak into a block that names none."""
    top = '[servicetitan]\ntenant_id = 5150\nclient_id = "top"\nclient_secret = "s"\napp_key = "k"\n'
    loaded = load(tmp_path, top + "[tenants.bolt]\npersona = { agent_name = 'Bo' }\n")
    assert loaded["settings"].servicetitan.tenant_id == 5150  # type: ignore[attr-defined]
    bolt = loaded["bolt"].servicetitan  # type: ignore[attr-defined]
    assert bolt.environment == "sandbox" and bolt.tenant_id is None and bolt.client_secret is None


def test_each_sandbox_tenant_keeps_its_own_state_file(tmp_path: Path) -> None:
    loaded = load(tmp_path)
    paths = {loaded[name].sandbox.state_path(None) for name in ("acme", "bolt")}  # type: ignore[attr-defined]
    assert len(paths) == 2 and all(path is not None and path.parent == tmp_path for path in paths)
    assert loaded["bolt"].sandbox.seed == 11  # type: ignore[attr-defined]


def test_a_tenants_secrets_may_come_from_its_own_variables(tmp_path: Path) -> None:
    block = (
        "[tenants.acme-east]\nservicetitan = { tenant_id = 7, client_id = 'c', environment = 'production' }\n"
    )
    with pytest.raises(
        ConfigError,
        match=r"\[tenants.acme-east\].servicetitan: ST_CLIENT_SECRET is required.*ST_MCP_TENANT_ACME_EAST_",
    ):
        load(tmp_path, block)
    loaded = load(
        tmp_path,
        block,
        ST_MCP_TENANT_ACME_EAST_ST_CLIENT_SECRET="cs.env",
        ST_MCP_TENANT_ACME_EAST_ST_APP_KEY="ak.env",
    )
    assert loaded["acme-east"].servicetitan.credentials() == (7, "c", "cs.env", "ak.env")  # type: ignore[attr-defined]
    assert loaded["settings"].servicetitan.tenant_id is None  # type: ignore[attr-defined]  # not the top level's


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[tenants.Acme]\n", r"\[tenants.Acme\]: a tenant name is"),
        ("[tenants.acme]\ndatabase_url = 'x'\n", r"\[tenants.acme\]: unknown section database_url"),
        (
            "[tenants.acme]\nbooking = { window_lease_seconds = -1 }\n",
            r"\[tenants.acme\].booking.window_lease_seconds",
        ),
        (
            f"[tenants.acme]\n[[auth.api_keys]]\nprincipal = 'x'\nrole = 'csr'\nsha256 = '{sha(OPS_KEY)}'\n",
            r"\(x\): name the tenant the key serves",
        ),
        (
            f"[tenants.acme]\n[[auth.api_keys]]\nprincipal = 'x'\nrole = 'csr'\ntenant = 'zed'\n"
            f"sha256 = '{sha(OPS_KEY)}'\n",
            r"unknown tenant 'zed'",
        ),
        (
            f"[tenants.acme]\n[tenants.bolt]\nservicetitan = {{ environment = 'sandbox', tenant_id = 2 }}\n"
            "[tenants.bolt.access.roles]\nnight = ['chats.view']\n"
            f"[[tenants.acme.api_keys]]\nprincipal = 'x'\nrole = 'night'\nsha256 = '{sha(OPS_KEY)}'\n",
            r"\(x\): unknown role 'night'",  # bolt's role is not acme's
        ),
        (
            f"[tenants.acme]\n[[tenants.acme.api_keys]]\nprincipal = 'x'\nrole = 'csr'\n"
            f"sha256 = '{sha(OPS_KEY)}'\n[tenants.bolt]\n"
            "servicetitan = { environment = 'sandbox', tenant_id = 2 }\n"
            "[[tenants.bolt.api_keys]]\nprincipal = 'y'\n"
            f"role = 'csr'\nsha256 = '{sha(OPS_KEY)}'\n",
            r"the API key of y is configured twice",
        ),
        (
            "[tenants.acme]\n[tenants.bolt]\n",  # both on the embedded sandbox's one tenant id
            r"\[tenants.bolt\]: ServiceTitan tenant 4417001 is \[tenants.acme\]'s already",
        ),
    ],
)
def test_a_broken_block_stops_the_start_with_one_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load(tmp_path, text)


def test_stdio_tenant_must_be_known(tmp_path: Path) -> None:
    assert load(tmp_path, ST_MCP_TENANT="bolt")["settings"].stdio_tenant == "bolt"  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match="ST_MCP_TENANT: unknown tenant 'zed'; known tenants: acme, bolt"):
        load(tmp_path, ST_MCP_TENANT="zed")


@pytest.mark.anyio
async def test_an_api_key_reaches_its_own_tenant_only(tmp_path: Path) -> None:
    settings = load(tmp_path)["settings"]
    verifier = build_verifier(settings, AUDIENCE)  # type: ignore[arg-type]
    assert verifier is not None
    found = {key: principal_of(await verifier.verify_token(key)) for key in (ACME_KEY, BOLT_KEY, OPS_KEY)}
    assert found == {
        ACME_KEY: Principal("acme-agent", "virtual_agent", tenant="acme"),
        BOLT_KEY: Principal("bolt-desk", "night_desk", tenant="bolt"),
        OPS_KEY: Principal("ops", "auditor", tenant="acme"),
    }


@pytest.mark.anyio
async def test_a_jwt_names_its_tenant_and_is_held_to_that_tenants_roles(tmp_path: Path) -> None:
    signing = SigningKey("k1")
    text = (
        TWO_TENANTS
        + f'\n[auth]\npublic_url = "{AUDIENCE}"\n[auth.jwt]\n'
        + f'jwks_url = "https://idp.example.test/jwks.json"\nissuer = "{ISSUER}"\n'
    )
    settings = load(tmp_path, text)["settings"]
    verifier = build_verifier(settings, AUDIENCE)  # type: ignore[arg-type]
    assert verifier is not None
    cache = JwksCache(
        "https://idp.example.test/jwks.json",
        transport=httpx.MockTransport(lambda request: httpx.Response(200, json=jwks(signing))),
    )
    verifier._jwts._jwks = cache  # type: ignore[union-attr]  # the IdP, on a mock transport

    async def principal(**overrides: object) -> Principal | None:
        return principal_of(await verifier.verify_token(signing.sign(claims(AUDIENCE, **overrides))))

    assert await principal(role="night_desk", st_mcp_tenant="bolt") == Principal(
        "casey", "night_desk", tenant="bolt"
    )
    assert await principal(role="csr", st_mcp_tenant="acme") == Principal("casey", "csr", tenant="acme")
    assert await principal(role="night_desk", st_mcp_tenant="acme") is None  # bolt's role, not acme's
    assert await principal(role="csr") is None  # no tenant claim
    assert await principal(role="csr", st_mcp_tenant="zed") is None  # a tenant this deployment lacks
