"""Token endpoint, JWT claims and expiry, and the per-request gate (app key, token, tenant, scope)."""

from __future__ import annotations

import base64

import httpx
import jwt
import pytest

from st_mcp.sandbox import SandboxClock, SandboxConfig, create_sandbox_app
from st_mcp.sandbox.scopes import ALL_SCOPES

from .conftest import APP_KEY, MONDAY_9AM, api_path, auth_headers, fetch_token, problem

pytestmark = pytest.mark.anyio

CUSTOMERS = api_path("crm", "customers")


async def test_token_response_and_jwt_claims(http: httpx.AsyncClient) -> None:
    response = await fetch_token(http)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "expires_in", "token_type", "scope"}
    assert body["expires_in"] == 900 and body["token_type"] == "Bearer"
    assert set(body["scope"].split(" ")) == set(ALL_SCOPES)

    token = body["access_token"]
    assert jwt.get_unverified_header(token)["typ"] == "at+jwt"
    claims = jwt.decode(token, options={"verify_signature": False})
    assert set(claims) == {"nbf", "exp", "iss", "client_id", "tenant", "jti", "iat", "scope"}
    assert claims["tenant"] == "4417001" and claims["client_id"] == "cid.tests"
    assert claims["iat"] == claims["nbf"] == int(MONDAY_9AM.timestamp())
    assert claims["exp"] - claims["iat"] == 900
    assert sorted(claims["scope"]) == sorted(ALL_SCOPES)


async def test_basic_client_authentication(http: httpx.AsyncClient) -> None:
    basic = base64.b64encode(b"cid.basic:cs1.secret").decode()
    response = await http.post(
        "/connect/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert response.status_code == 200
    assert (
        jwt.decode(response.json()["access_token"], options={"verify_signature": False})["client_id"]
        == "cid.basic"
    )


async def test_oauth_errors(http: httpx.AsyncClient) -> None:
    response = await fetch_token(http, grant_type="password")
    assert response.status_code == 400 and response.json()["error"] == "unsupported_grant_type"
    response = await fetch_token(http, client_secret="")
    assert response.status_code == 400 and response.json()["error"] == "invalid_client"


async def test_configured_credentials_are_enforced(clock: SandboxClock) -> None:
    app = create_sandbox_app(SandboxConfig(clock=clock, client_id="cid.real", client_secret="cs1.real"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox") as http:
        wrong = await fetch_token(http, client_id="cid.real", client_secret="nope")
        assert wrong.status_code == 400 and wrong.json() == {
            "error": "invalid_client",
            "error_description": "invalid client secret",
        }
        basic = base64.b64encode(b"cid.real:nope").decode()
        wrong_basic = await http.post(
            "/connect/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": f"Basic {basic}"},
        )
        assert wrong_basic.status_code == 401 and wrong_basic.json()["error"] == "invalid_client"
        right = await fetch_token(http, client_id="cid.real", client_secret="cs1.real")
        assert right.status_code == 200


async def test_token_expires_900_seconds_after_issue(http: httpx.AsyncClient, clock: SandboxClock) -> None:
    headers = await auth_headers(http)
    assert (await http.get(CUSTOMERS, headers=headers)).status_code == 200
    clock.advance(899)
    assert (await http.get(CUSTOMERS, headers=headers)).status_code == 200
    clock.advance(1)
    response = await http.get(CUSTOMERS, headers=headers)
    problem(response, 401)
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_missing_or_wrong_app_key_is_401(http: httpx.AsyncClient, clock: SandboxClock) -> None:
    headers = await auth_headers(http)
    del headers["ST-App-Key"]
    problem(await http.get(CUSTOMERS, headers=headers), 401)

    app = create_sandbox_app(SandboxConfig(clock=clock, app_key="ak1.only-this"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox") as other:
        headers = await auth_headers(other, app_key="ak1.something-else")
        problem(await other.get(CUSTOMERS, headers=headers), 401)
        headers["ST-App-Key"] = "ak1.only-this"
        assert (await other.get(CUSTOMERS, headers=headers)).status_code == 200


async def test_token_problems_are_401_with_challenge(http: httpx.AsyncClient) -> None:
    for authorization in (None, "Bearer not-a-jwt", "Bearer " + jwt.encode({"tenant": "4417001"}, "k" * 32)):
        headers = {"ST-App-Key": APP_KEY} | ({"Authorization": authorization} if authorization else {})
        response = await http.get(CUSTOMERS, headers=headers)
        problem(response, 401)
        assert 'Bearer error="invalid_token"' in response.headers["WWW-Authenticate"]


async def test_raw_token_without_bearer_prefix_is_accepted(http: httpx.AsyncClient) -> None:
    token = (await fetch_token(http)).json()["access_token"]
    response = await http.get(CUSTOMERS, headers={"Authorization": token, "ST-App-Key": APP_KEY})
    assert response.status_code == 200


async def test_missing_scope_is_403(clock: SandboxClock) -> None:
    config = SandboxConfig(clock=clock, granted_scopes=ALL_SCOPES - {"tn.dis.capacity:w"})
    app = create_sandbox_app(config)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox") as http:
        headers = await auth_headers(http)
        body = {
            "startsOnOrAfter": "2026-03-10T00:00:00Z",
            "endsOnOrBefore": "2026-03-11T00:00:00Z",
            "skillBasedAvailability": False,
        }
        denied = await http.post(api_path("dispatch", "capacity"), json=body, headers=headers)
        assert "tn.dis.capacity:w" in problem(denied, 403)["title"]
        assert (await http.get(CUSTOMERS, headers=headers)).status_code == 200


async def test_another_tenant_in_the_path_is_403(api: httpx.AsyncClient) -> None:
    problem(await api.get(api_path("crm", "customers", tenant=999)), 403)


async def test_token_endpoint_calls_are_logged(http: httpx.AsyncClient, tenant) -> None:
    await fetch_token(http)
    await fetch_token(http)
    assert tenant.request_log.count(("POST", "/connect/token")) == 2
    assert tenant.issuer.issued == 2
