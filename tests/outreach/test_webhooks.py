"""The lead webhook (our HMAC) and Twilio's inbound webhook (X-Twilio-Signature), on the HTTP app.

Requests go through the server's real Starlette app (the one uvicorn serves) in process; the store is
read afterwards to prove that a refused request wrote nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import respx
from pydantic import SecretStr

from st_mcp.messaging.settings import MessagingSettings
from st_mcp.messaging.signatures import sign_lead_webhook, twilio_signature
from st_mcp.server import create_server
from st_mcp.store.schema import interactions, messages, suppressions
from tests.interactions.conftest import Harness

pytestmark = pytest.mark.anyio

SECRET = "whsec-test-0123456789abcdef"
TWILIO_TOKEN = "twilio-token-0123456789abcdef"
LEAD = {"name": "Ana Ruiz", "phone": "(303) 555-0177", "zip": "80210", "source": "Angi", "summary": "No heat"}


@pytest.fixture
async def web(harness: Harness) -> AsyncIterator[httpx.AsyncClient]:
    messaging = MessagingSettings(
        gateway="twilio",
        twilio_account_sid="AC0123456789abcdef0123456789abcdef",
        twilio_auth_token=SecretStr(TWILIO_TOKEN),
        twilio_from_number="+13035550100",
        public_base_url="https://agent.example.com",
        lead_webhook_secret=SecretStr(SECRET),
    )
    settings = harness.settings.model_copy(update={"messaging": messaging})
    app = create_server(settings, upstream=harness.upstream).streamable_http_app(host="127.0.0.1")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        yield client


def signed(body: bytes, *, at: int | None = None, secret: str = SECRET) -> dict[str, str]:
    header = sign_lead_webhook(secret, body, at if at is not None else int(time.time()))
    return {"X-St-Mcp-Signature": header, "Content-Type": "application/json"}


async def post_lead(
    web: httpx.AsyncClient, payload: Any, headers: dict[str, str] | None = None
) -> httpx.Response:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return await web.post(
        "/webhooks/leads", content=body, headers=signed(body) if headers is None else headers
    )


async def test_a_signed_lead_is_taken_in(harness: Harness, web: httpx.AsyncClient) -> None:
    response = await post_lead(web, LEAD)
    assert response.status_code == 202, response.text
    taken = response.json()
    assert taken["status"] == "Started" and taken["duplicate"] is False
    [row] = await harness.rows(interactions)
    assert (row["id"], row["phone"], row["source"]) == (taken["interaction_id"], "+13035550177", "Angi")
    assert row["campaign_id"] is not None  # Angi's campaign, for attribution
    again = await post_lead(web, LEAD)
    assert again.json()["duplicate"] is True and await harness.count(interactions) == 1


async def test_an_out_of_area_lead_is_dismissed_with_the_reason(web: httpx.AsyncClient) -> None:
    taken = (await post_lead(web, {**LEAD, "zip": "80903"})).json()
    assert taken["status"] == "Dismissed: Agent" and taken["in_service_area"] is False


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "missing signature"),
        ({"X-St-Mcp-Signature": "garbage"}, "malformed"),
        (signed(b"{}", secret="another-secret-0123456789"), "does not match"),
        (signed(json.dumps(LEAD).encode(), secret="another-secret-0123456789"), "does not match"),
        (signed(json.dumps(LEAD).encode(), at=int(time.time()) - 3600), "too old"),
    ],
    ids=["missing", "malformed", "other-body", "wrong-secret", "replayed-old"],
)
async def test_a_bad_signature_is_refused_and_nothing_is_stored(
    harness: Harness, web: httpx.AsyncClient, headers: dict[str, str], reason: str
) -> None:
    response = await post_lead(web, LEAD, headers={"Content-Type": "application/json", **headers})
    assert response.status_code == 401 and reason in response.json()["error"], response.text
    assert await harness.count(interactions) == 0


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "not JSON"),
        (json.dumps({"phone": "3035550177"}).encode(), "name"),
        (json.dumps({**LEAD, "phone": "12"}).encode(), "phone"),
        (json.dumps({**LEAD, "campaign_id": -4}).encode(), "campaign_id"),
    ],
    ids=["not-json", "no-name", "bad-phone", "bad-campaign"],
)
async def test_a_malformed_body_is_a_400_with_a_reason(
    harness: Harness, web: httpx.AsyncClient, body: bytes, reason: str
) -> None:
    response = await post_lead(web, body)
    assert response.status_code == 400 and reason in response.json()["error"], response.text
    assert await harness.count(interactions) == 0


def twilio_form(text: str) -> dict[str, str]:
    return {"From": "+13035550177", "To": "+13035550100", "Body": text, "MessageSid": "SM" + "1" * 32}


async def post_sms(web: httpx.AsyncClient, form: dict[str, str], signature: str | None) -> httpx.Response:
    headers = {"X-Twilio-Signature": signature} if signature else {}
    return await web.post("/webhooks/sms/twilio", data=form, headers=headers)


async def test_a_signed_twilio_stop_opts_out_and_is_confirmed_once(
    harness: Harness, web: httpx.AsyncClient
) -> None:
    await post_lead(web, LEAD)
    url = "https://agent.example.com/webhooks/sms/twilio"
    with respx.mock(base_url="https://api.twilio.com") as twilio:
        sent = twilio.post(path__regex=r"/2010-04-01/Accounts/.+/Messages\.json").respond(
            201, json={"sid": "SM" + "2" * 32, "status": "queued"}
        )
        form = twilio_form("Stop texting me please")
        response = await post_sms(web, form, twilio_signature(TWILIO_TOKEN, url, form))
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/xml")
        assert sent.call_count == 1 and b"unsubscribed" in sent.calls[0].request.content
        form = twilio_form("STOP")
        await post_sms(web, form, twilio_signature(TWILIO_TOKEN, url, form))
        assert sent.call_count == 1  # one confirmation, never two
    [row] = await harness.rows(suppressions)
    assert row["phone"] == "+13035550177" and row["active"]


@pytest.mark.parametrize("signature", [None, "bm90IGEgc2lnbmF0dXJl"])
async def test_an_unsigned_twilio_request_is_refused(
    harness: Harness, web: httpx.AsyncClient, signature: str | None
) -> None:
    response = await post_sms(web, twilio_form("STOP"), signature)
    assert response.status_code == 403
    assert await harness.count(messages) == 0 and await harness.count(suppressions) == 0
