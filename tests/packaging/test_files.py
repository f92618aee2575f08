"""What ships beside the code, checked statically: LICENSE, server.json (against the registry's published
schema), the MCPB manifest's user_config, smithery.yaml (against what the Smithery CLI accepts), the
Dockerfile's rules and compose.yaml. The builds themselves are in test_builds.py."""

from __future__ import annotations

import json
import re
import shlex
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

import st_mcp
from st_mcp.config import CREDENTIAL_VARS, load_settings

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = Path(__file__).parent / "schemas"
sys.path.insert(0, str(REPO / "release"))
import mcpb  # noqa: E402  # release/mcpb.py, the bundle builder

SECRET_WORDS = re.compile(r"SECRET|PASSWORD|TOKEN|APP_KEY|API_KEY", re.IGNORECASE)


def test_license_is_the_apache_2_text() -> None:
    text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text
    assert 'license = "Apache-2.0"' in (REPO / "pyproject.toml").read_text()


# -- server.json (MCP registry) -------------------------------------------------------------------------
def _server_json() -> dict[str, Any]:
    return json.loads((REPO / "server.json").read_text(encoding="utf-8"))


def test_server_json_matches_the_registry_schema() -> None:
    schema = json.loads((SCHEMAS / "server.schema.json").read_text(encoding="utf-8"))
    server = _server_json()
    assert server["$schema"] == schema["$id"]  # the schema we check against is the one it names
    jsonschema.validate(server, schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


def test_server_json_names_the_pypi_package_on_stdio_and_streamable_http() -> None:
    server = _server_json()
    assert server["version"] == st_mcp.__version__
    transports = {package["transport"]["type"] for package in server["packages"]}
    assert transports == {"stdio", "streamable-http"}
    for package in server["packages"]:
        assert (package["registryType"], package["identifier"]) == ("pypi", "st-mcp")
        assert package["version"] == st_mcp.__version__
        secrets = {v["name"] for v in package["environmentVariables"] if v.get("isSecret")}
        assert secrets == {"ST_CLIENT_SECRET", "ST_APP_KEY"}
        assert not any(v.get("isRequired") for v in package["environmentVariables"])  # empty: sandbox
    http = next(p for p in server["packages"] if p["transport"]["type"] == "streamable-http")
    arguments = [a.get("value") for a in http["packageArguments"]]
    assert arguments == ["serve", "http", "{port}"] and http["transport"]["url"].endswith(":{port}/mcp")
    # The registry checks ownership of a PyPI package by this marker in its README (the PyPI page).
    assert f"mcp-name: {server['name']}" in (REPO / "README.md").read_text(encoding="utf-8")


def test_the_registry_schema_refuses_what_it_should() -> None:
    """The vendored schema is live: a version range and a missing name are refused."""
    schema = json.loads((SCHEMAS / "server.schema.json").read_text(encoding="utf-8"))
    bad = _server_json()
    bad["packages"][0]["version"] = "latest"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
    del bad["name"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


# -- MCPB manifest ----------------------------------------------------------------------------------------
def test_mcpb_user_config_is_optional_sensitive_where_secret_and_maps_to_settings() -> None:
    manifest = mcpb.manifest(st_mcp.__version__, f"st_mcp-{st_mcp.__version__}-py3-none-any.whl")
    config = manifest["user_config"]
    assert set(config) == {"tenant_id", "client_id", "client_secret", "app_key", "environment", "role"}
    assert {k for k, v in config.items() if v.get("sensitive")} == {"client_secret", "app_key"}
    assert not any(v["required"] for v in config.values())
    env = manifest["server"]["mcp_config"]["env"]
    assert set(CREDENTIAL_VARS) <= set(env) and env["ST_MCP_ROLE"] == "${user_config.role}"
    assert manifest["version"] == st_mcp.__version__
    # What Claude Desktop hands the server when the form is left empty (role keeps its default): the
    # sandbox, as the agent.
    empty = {name: "" for name in env} | {"ST_MCP_ROLE": config["role"]["default"]}
    settings = load_settings(environ=empty)
    assert settings.servicetitan.is_sandbox and settings.identity.role == "virtual_agent"


# -- smithery.yaml ----------------------------------------------------------------------------------------
# What the Smithery CLI reads from smithery.yaml (smithery-ai/cli src/lib/config-loader.ts, its
# ProjectConfigSchema, read 2026-11-30): a name, local or remote, and build options. A stdio server is
# published as its MCPB bundle, whose user_config is the install form.
SMITHERY_PROJECT = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "pattern": "^[a-zA-Z][a-zA-Z0-9-_]{2,38}$"},
        "target": {"enum": ["local", "remote"]},
        "build": {
            "type": "object",
            "properties": {
                "installCommand": {"type": "string"},
                "buildCommand": {"type": "string"},
                "outputDirectory": {"type": "string"},
                "assets": {"type": "array", "items": {"type": "string"}},
            },
            "additionalProperties": False,
        },
    },
    "required": ["name", "target"],
}


def test_smithery_yaml_is_todays_local_form() -> None:
    project = yaml.safe_load((REPO / "smithery.yaml").read_text(encoding="utf-8"))
    jsonschema.validate(project, SMITHERY_PROJECT)
    assert project["target"] == "local"
    # Not the legacy forms the issue found mixed: no runtime (python needs [tool.smithery]), no
    # startCommand requiring every credential.
    assert "runtime" not in project and "startCommand" not in project


# -- Dockerfile and compose.yaml ----------------------------------------------------------------------------
def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    lines: list[tuple[str, str]] = []
    pending = ""
    for raw in (REPO / "Dockerfile").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        instruction, _, arguments = line.partition(" ")
        lines.append((instruction.upper(), arguments.strip()))
    return lines


def test_dockerfile_slim_non_root_with_a_healthcheck_and_no_secrets() -> None:
    lines = dockerfile()
    bases = [args.split()[0] for op, args in lines if op == "FROM"]
    assert bases and all(re.fullmatch(r"python:3\.1[1-9]-slim", base) for base in bases), bases
    final = lines[max(i for i, (op, _) in enumerate(lines) if op == "FROM") :]
    users = [args for op, args in final if op == "USER"]
    assert users and users[-1] not in ("root", "0"), "the final stage must run as a non-root user"
    user_at = max(i for i, (op, _) in enumerate(final) if op == "USER")
    assert all(i < user_at for i, (op, _) in enumerate(final) if op == "RUN"), (
        "nothing runs as root after USER"
    )
    (healthcheck,) = [args for op, args in final if op == "HEALTHCHECK"]
    exposed = {args for op, args in final if op == "EXPOSE"}
    assert "/healthz" in healthcheck and f"127.0.0.1:{next(iter(exposed))}/healthz" in healthcheck
    command = json.loads(next(args for op, args in final if op == "CMD"))
    entry = json.loads(next(args for op, args in final if op == "ENTRYPOINT"))
    assert entry == ["st-mcp"] and command[:3] == ["serve", "--transport", "http"]
    assert command[command.index("--port") + 1] in exposed
    for op, args in lines:
        if op in ("ENV", "ARG", "LABEL"):
            assert not SECRET_WORDS.search(args), f"{op} {args}: secrets arrive at run time, not in the image"
        if op == "COPY" and "--from" not in args:
            *sources, _target = shlex.split(args)
            for source in sources:
                assert (REPO / source).exists(), source
                assert not SECRET_WORDS.search(source) and not source.endswith((".toml.local", ".env"))


def test_dockerignore_lets_through_only_what_the_image_copies() -> None:
    patterns = (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert patterns[patterns.index("*") :][0] == "*"  # everything excluded first
    allowed = {p[1:] for p in patterns if p.startswith("!")}
    copied = {
        source
        for op, args in dockerfile()
        if op == "COPY" and "--from" not in args
        for source in shlex.split(args)[:-1]
    }
    assert copied == allowed


def test_compose_runs_the_http_server_on_postgresql_without_literal_secrets() -> None:
    text = (REPO / "compose.yaml").read_text(encoding="utf-8")
    compose = yaml.safe_load(text)
    server, db = compose["services"]["st-mcp"], compose["services"]["db"]
    assert server["build"] == "." and server["depends_on"]["db"]["condition"] == "service_healthy"
    assert server["environment"]["ST_MCP_DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert "@db:5432/" in server["environment"]["ST_MCP_DATABASE_URL"]
    assert db["image"].startswith("postgres:") and "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert server["environment"]["ST_MCP_CONFIG"].startswith("/run/secrets/")  # [auth]: a mounted file
    for service in (server, db):
        for name, value in service["environment"].items():
            if SECRET_WORDS.search(name):
                assert str(value).startswith("${"), f"{name} must come from the environment"
    assert all(port.startswith("127.0.0.1:") for port in server["ports"])
