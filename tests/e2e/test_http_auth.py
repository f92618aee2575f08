"""Bearer-token identity on streamable HTTP and SSE, against real listeners on 127.0.0.1.

One background thread runs, on one event loop: a tiny identity provider serving a JWKS, and st-mcp on
streamable HTTP (stateful and stateless) and on SSE, all sharing one embedded sandbox tenant whose
every incoming request is recorded with its headers and body, so the tests can show that no client
token ever travels on to ServiceTitan. Each listener has its own public URL, which is its RFC 9728
resource and the audience its JWTs must name.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx
import httpx2
import pytest
import uvicorn
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from st_mcp.config import Settings, load_settings
from st_mcp.policy.permissions import DEFAULT_ROLES
from st_mcp.sandbox import SandboxConfig, SandboxTenant, create_sandbox_app
from st_mcp.server import create_server
from st_mcp.server.auth import hash_key
from st_mcp.server.visibility import exposed_tools
from st_mcp.upstream import Upstream, connect_servicetitan

from ..auth_keys import ISSUER, SigningKey, claims, jwks
from .conftest import JORDAN_PHONE, READ_TIMEOUT, STARTUP_TIMEOUT, TEST_TIMEOUT, free_port, structured

pytestmark = [pytest.mark.slow, pytest.mark.anyio]

AUDITOR_KEY = "audrey-" + uuid.uuid4().hex  # fresh per run, like a real key
CSR_KEY = "carla-" + uuid.uuid4().hex
IDP_KEY = SigningKey("idp-1")
MODES = ("auto", "legacy")


class RecordingApp:
    """ASGI wrapper around the sandbox: keeps method, path, query, headers and body of every request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.requests: list[dict[str, Any]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        entry: dict[str, Any] = {
            "method": scope["method"],
            "path": scope["path"],
            "query": scope.get("query_string", b"").decode("latin-1"),
            "headers": [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]],
            "body": "",
        }
        self.requests.append(entry)

        async def recording_receive() -> Any:
            message = await receive()
            if message["type"] == "http.request":
                entry["body"] += message.get("body", b"").decode("utf-8", "replace")
            return message

        await self.app(scope, recording_receive, send)


@dataclass
class Endpoint:
    name: str
    kind: str  # "http" or "sse"
    port: int
    path: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    @property
    def metadata_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/.well-known/oauth-protected-resource{self.path}"


@dataclass
class Stack:
    endpoints: dict[str, Endpoint]
    recorder: RecordingApp
    sandbox: SandboxTenant
    settings: Settings
    jwks_requests: list[float] = field(default_factory=list)

    def jwt(self, endpoint: Endpoint, **overrides: Any) -> str:
        return IDP_KEY.sign(claims(endpoint.url, **overrides))


def _settings(folder: Path, endpoint: Endpoint, jwks_url: str) -> Settings:
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "st-mcp.toml"
    config.write_text(
        "[[auth.api_keys]]\n"
        f'principal = "audrey"\nrole = "auditor"\nsha256 = "{hash_key(AUDITOR_KEY)}"\n'
        "[[auth.api_keys]]\n"
        f'principal = "carla"\nrole = "csr"\nsha256 = "{hash_key(CSR_KEY)}"\n',
        encoding="utf-8",
    )
    environ = {
        "ST_MCP_DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'st-mcp.db'}",
        "ST_MCP_PUBLIC_URL": endpoint.url,
        "ST_MCP_JWKS_URL": jwks_url,
        "ST_MCP_JWT_ISSUER": ISSUER,
    }
    return load_settings(config, environ=environ)


class ServerThread:
    """uvicorn servers on one event loop in a daemon thread; stopped (and the upstream closed) on exit."""

    def __init__(self, apps: list[tuple[ASGIApp, int]], upstream: Upstream) -> None:
        self._servers = [
            uvicorn.Server(
                uvicorn.Config(
                    app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=3
                )
            )
            for app, port in apps
        ]
        self._upstream = upstream
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)
        self.error: BaseException | None = None

    async def _main(self) -> None:
        try:
            await asyncio.gather(*(server.serve() for server in self._servers))
        except BaseException as exc:  # reported by start()/the tests instead of vanishing with the thread
            self.error = exc
        finally:
            await self._upstream.client.aclose()

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not all(server.started for server in self._servers):
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"the test servers did not start: {self.error!r}")
            time.sleep(0.05)

    def stop(self) -> None:
        for server in self._servers:
            server.should_exit = True
        self._thread.join(timeout=15)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("http-auth")
    jwks_port = free_port()
    jwks_url = f"http://127.0.0.1:{jwks_port}/jwks.json"
    endpoints = {
        "http": Endpoint("http", "http", free_port(), "/mcp"),
        "http-stateless": Endpoint("http-stateless", "http", free_port(), "/mcp"),
        "sse": Endpoint("sse", "sse", free_port(), "/sse"),
    }

    sandbox_app = create_sandbox_app(SandboxConfig())
    recorder = RecordingApp(sandbox_app)
    any_settings = _settings(folder / "http", endpoints["http"], jwks_url)
    client = connect_servicetitan(
        any_settings.servicetitan, transport=httpx.ASGITransport(app=recorder)
    ).client
    upstream = Upstream(client, sandbox_app)  # the servers share it and do not close it; ServerThread does
    stack = Stack(endpoints, recorder, sandbox_app.state.sandbox, any_settings)

    async def serve_jwks(_request: Request) -> JSONResponse:
        stack.jwks_requests.append(time.time())
        return JSONResponse(jwks(IDP_KEY))

    apps: list[tuple[ASGIApp, int]] = [(Starlette(routes=[Route("/jwks.json", serve_jwks)]), jwks_port)]
    for endpoint in endpoints.values():
        settings = _settings(folder / endpoint.name, endpoint, jwks_url)
        server = create_server(settings, upstream=upstream, resource_url=endpoint.url)
        if endpoint.kind == "sse":
            apps.append((server.sse_app(host="127.0.0.1"), endpoint.port))
        else:
            stateless = endpoint.name == "http-stateless"
            apps.append(
                (server.streamable_http_app(stateless_http=stateless, host="127.0.0.1"), endpoint.port)
            )

    thread = ServerThread(apps, upstream)
    thread.start()
    try:
        yield stack
    finally:
        thread.stop()


@pytest.fixture(params=["http", "http-stateless", "sse"])
def endpoint(request: pytest.FixtureRequest, stack: Stack) -> Endpoint:
    return stack.endpoints[request.param]


@contextlib.asynccontextmanager
async def connected(endpoint: Endpoint, token: str, mode: str) -> AsyncIterator[Client]:
    headers = {"Authorization": f"Bearer {token}"}
    if endpoint.kind == "sse":
        async with Client(
            sse_client(endpoint.url, headers=headers, timeout=READ_TIMEOUT),
            mode=mode,
            read_timeout_seconds=READ_TIMEOUT,
        ) as client:
            yield client
        return
    async with (
        httpx2.AsyncClient(headers=headers, timeout=READ_TIMEOUT) as http,
        Client(
            streamable_http_client(endpoint.url, http_client=http),
            mode=mode,
            read_timeout_seconds=READ_TIMEOUT,
        ) as client,
    ):
        yield client


def tools_for(stack: Stack, role: str) -> set[str]:
    granted = DEFAULT_ROLES[role]
    return {spec.name for spec in exposed_tools(stack.settings) if granted & set(spec.permissions)}


# -- refused ------------------------------------------------------------------------------------------

BAD_TOKENS = {
    "no token": lambda stack, endpoint: None,
    "wrong API key": lambda stack, endpoint: AUDITOR_KEY + "x",
    "expired JWT": lambda stack, endpoint: stack.jwt(endpoint, exp=int(time.time()) - 3600),
    "JWT for another audience": lambda stack, endpoint: stack.jwt(endpoint, aud="https://elsewhere.test/mcp"),
    "JWT from another issuer": lambda stack, endpoint: stack.jwt(endpoint, iss="https://evil.example.test/"),
    "JWT with an unknown role": lambda stack, endpoint: stack.jwt(endpoint, role="superuser"),
    "JWT signed by another key": lambda stack, endpoint: SigningKey("idp-1").sign(claims(endpoint.url)),
}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "st-mcp-e2e", "version": "0"},
    },
}
ACCEPT = "application/json, text/event-stream"


@pytest.mark.parametrize("case", list(BAD_TOKENS))
async def test_missing_or_bad_tokens_get_401(stack: Stack, endpoint: Endpoint, case: str) -> None:
    token = BAD_TOKENS[case](stack, endpoint)
    headers = {"Accept": ACCEPT} | ({"Authorization": f"Bearer {token}"} if token else {})
    with anyio.fail_after(TEST_TIMEOUT):
        async with httpx.AsyncClient(timeout=READ_TIMEOUT) as http:
            if endpoint.kind == "sse":
                async with http.stream("GET", endpoint.url, headers=headers) as opened:
                    await opened.aread()
                    responses = [opened]
                message_url = f"http://127.0.0.1:{endpoint.port}/messages/?session_id={uuid.uuid4().hex}"
                responses.append(await http.post(message_url, json=INITIALIZE, headers=headers))
            else:
                responses = [await http.post(endpoint.url, json=INITIALIZE, headers=headers)]
    for response in responses:
        assert response.status_code == 401, (response.request.url, response.status_code, response.text)
        challenge = response.headers["www-authenticate"]
        assert challenge.startswith("Bearer ") and 'error="invalid_token"' in challenge, challenge
        assert f'resource_metadata="{endpoint.metadata_url}"' in challenge, challenge
        if token:
            assert token not in response.text and token not in str(response.headers)


async def test_protected_resource_metadata_is_served(endpoint: Endpoint) -> None:
    with anyio.fail_after(TEST_TIMEOUT):
        async with httpx.AsyncClient(timeout=READ_TIMEOUT) as http:
            response = await http.get(endpoint.metadata_url)
    assert response.status_code == 200, response.text
    document = response.json()
    assert document["resource"] == endpoint.url
    assert document["authorization_servers"] == [ISSUER]
    assert document["bearer_methods_supported"] == ["header"]


# -- accepted -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
async def test_auditor_key_sees_and_calls_only_auditor_tools(
    stack: Stack, endpoint: Endpoint, mode: str
) -> None:
    expected = tools_for(stack, "auditor")
    assert "get_job_status" in expected and "lookup_customer" not in expected
    with anyio.fail_after(TEST_TIMEOUT):
        async with connected(endpoint, AUDITOR_KEY, mode) as client:
            listed = {tool.name for tool in (await client.list_tools()).tools}
            assert listed == expected
            refused = await client.call_tool("lookup_customer", {"phone": JORDAN_PHONE})
    assert refused.is_error
    text = " ".join(getattr(block, "text", "") for block in refused.content)
    assert "'auditor' may not call lookup_customer" in text, text


@pytest.mark.parametrize("mode", MODES)
async def test_csr_jwt_works(stack: Stack, endpoint: Endpoint, mode: str) -> None:
    expected = tools_for(stack, "csr")
    assert {"cancel_job", "list_interactions"} <= expected  # beyond the process's own virtual_agent
    with anyio.fail_after(TEST_TIMEOUT):
        async with connected(endpoint, stack.jwt(endpoint, role="csr"), mode) as client:
            listed = {tool.name for tool in (await client.list_tools()).tools}
            assert listed == expected
            found = structured(
                await client.call_tool("lookup_customer", {"phone": JORDAN_PHONE}), "lookup_customer"
            )
    assert found["customers"][0]["name"] == "Jordan Avery"


@pytest.mark.parametrize("mode", MODES)
async def test_instructions_speak_to_the_token_s_principal(
    stack: Stack, endpoint: Endpoint, mode: str
) -> None:
    """initialize (and server/discover) answers with the rules of the toolsets this token's role has."""
    with anyio.fail_after(TEST_TIMEOUT):
        async with connected(endpoint, AUDITOR_KEY, mode) as client:
            as_auditor = client.instructions or ""
        async with connected(endpoint, CSR_KEY, mode) as client:
            as_csr = client.instructions or ""
    assert "get_audit_log" in as_auditor and "Speed to Lead" not in as_auditor
    assert "Speed to Lead" in as_csr and "get_audit_log" not in as_csr


async def test_csr_api_key_works(stack: Stack, endpoint: Endpoint) -> None:
    with anyio.fail_after(TEST_TIMEOUT):
        async with connected(endpoint, CSR_KEY, "legacy") as client:
            assert "cancel_job" in {tool.name for tool in (await client.list_tools()).tools}
            found = structured(
                await client.call_tool("lookup_customer", {"phone": JORDAN_PHONE}), "lookup_customer"
            )
    assert found["customers"][0]["name"] == "Jordan Avery"


async def test_client_tokens_never_reach_servicetitan(stack: Stack, endpoint: Endpoint) -> None:
    tokens = [CSR_KEY, stack.jwt(endpoint, role="csr", sub=f"leak-check-{endpoint.name}")]
    before = len(stack.recorder.requests)
    logged_before = len(stack.sandbox.request_log)
    with anyio.fail_after(TEST_TIMEOUT):
        for token in tokens:
            async with connected(endpoint, token, "legacy") as client:
                structured(
                    await client.call_tool("lookup_customer", {"phone": JORDAN_PHONE}), "lookup_customer"
                )
                structured(
                    await client.call_tool(
                        "get_available_slots", {"job_type": "Heating Repair", "zip": "80210"}
                    ),
                    "get_available_slots",
                )
    upstream = stack.recorder.requests[before:]
    assert upstream, "the tool calls made no upstream requests to check"
    assert len(stack.sandbox.request_log) > logged_before
    for request in stack.recorder.requests:  # every request the sandbox ever received, in every test
        carried = " ".join(f"{name}: {value}" for name, value in request["headers"])
        carried += f" {request['query']} {request['body']}"
        for token in [*tokens, AUDITOR_KEY]:
            assert token not in carried, (
                f"client token forwarded to ServiceTitan: {request['method']} {request['path']}"
            )
    # What ServiceTitan does get: the server's own OAuth token and app key.
    api_calls = [r for r in upstream if r["path"] != "/connect/token"]
    assert api_calls and all(dict(r["headers"]).get("st-app-key") for r in api_calls)


# -- identity follows the token of each message --------------------------------------------------------


def _jsonrpc(response: httpx.Response) -> dict[str, Any]:
    """The JSON-RPC answer, whether it came as JSON or as one SSE event."""
    assert response.status_code == 200, response.text
    if response.headers.get("content-type", "").startswith("application/json"):
        return response.json()  # type: ignore[no-any-return]
    data = [line[5:].strip() for line in response.text.splitlines() if line.startswith("data:")]
    return json.loads(data[-1])  # type: ignore[no-any-return]


async def test_each_message_acts_with_its_own_token(stack: Stack) -> None:
    """One stateful session, one person (same issuer and subject), two tokens with different roles: each
    request acts with the role of the token it carries, not the one that opened the session."""
    endpoint = stack.endpoints["http"]
    as_csr = stack.jwt(endpoint, role="csr", sub="robin")
    as_auditor = stack.jwt(endpoint, role="auditor", sub="robin")

    def headers(token: str, session: str | None = None) -> dict[str, str]:
        extra = {"Mcp-Session-Id": session, "MCP-Protocol-Version": "2025-11-25"} if session else {}
        return {"Accept": ACCEPT, "Authorization": f"Bearer {token}", **extra}

    list_tools = {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}}
    with anyio.fail_after(TEST_TIMEOUT):
        async with httpx.AsyncClient(timeout=READ_TIMEOUT) as http:
            opened = await http.post(endpoint.url, json=INITIALIZE, headers=headers(as_csr))
            _jsonrpc(opened)
            session = opened.headers["mcp-session-id"]
            initialized = {"jsonrpc": "2.0", "method": "notifications/initialized"}
            assert (
                await http.post(endpoint.url, json=initialized, headers=headers(as_csr, session))
            ).is_success
            seen = {}
            for role, token in (("auditor", as_auditor), ("csr", as_csr)):
                answer = _jsonrpc(
                    await http.post(endpoint.url, json=list_tools, headers=headers(token, session))
                )
                seen[role] = {tool["name"] for tool in answer["result"]["tools"]}
            # Another person's valid token cannot use this session at all.
            stranger = stack.jwt(endpoint, role="manager", sub="mallory")
            hijack = await http.post(endpoint.url, json=list_tools, headers=headers(stranger, session))
            await http.delete(endpoint.url, headers=headers(as_csr, session))
    assert seen == {"auditor": tools_for(stack, "auditor"), "csr": tools_for(stack, "csr")}
    assert hijack.status_code == 404
