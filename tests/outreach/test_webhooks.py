"""The lead webhook (our HMAC) and Twilio's inbound webhook (X-Twilio-Signature), on the HTTP app.

Requests go through the server's real Starlette app (the one uvicorn serves) in process; the store is
read afterwards to prove that a refused request wrote nothing.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import respx
from mcp import Client

from st_mcp.messaging.signatures import sign_lead_webhook, twilio_signature
from st_mcp.store.schema import audit_events, deliveries, interactions, messages, suppressions
from tests.interactions.conftest import Harness, ok, refused
from tests.server.conftest import new_interaction

from .conftest import SECRET, TWILIO_TOKEN

pytestmark = pytest.mark.anyio

LEAD = {"name": "Ana Ruiz", "phone": "(303) 555-0177", "zip": "80210", "source": "Angi", "summary": "No heat"}


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


# -- delivery status callbacks ------------------------------------------------------------------------------
SENT_SID = "SM" + "3" * 32
STATUS_URL = "https://agent.example.com/webhooks/sms/twilio/status"
MESSAGES_PATH = r"/2010-04-01/Accounts/.+/Messages\.json"


async def texted_lead(texter: Client) -> str:
    """A lead, and one text to it that Twilio accepted as ``SENT_SID``, asked to report to us."""
    interaction_id = await new_interaction(texter, "Ana Ruiz", "(303) 555-0177")
    with respx.mock(base_url="https://api.twilio.com") as twilio:
        route = twilio.post(path__regex=MESSAGES_PATH)
        route.respond(201, json={"sid": SENT_SID, "status": "queued"})
        await ok(texter, "send_message", {"interaction_id": interaction_id, "text": "Hi Ana, it's Sam."})
    [callback] = parse_qs(route.calls.last.request.content.decode())["StatusCallback"]
    assert callback.startswith(f"{STATUS_URL}?message_id=msg_")  # ours, to settle a lost answer
    return interaction_id


def status_form(status: str, *, sid: str = SENT_SID, **extra: str) -> dict[str, str]:
    form = {"MessageSid": sid, "MessageStatus": status, "To": "+13035550177", "From": "+13035550100"}
    return {**form, **extra}


async def post_status(
    web: httpx.AsyncClient, form: dict[str, str], *, signature: str | None = None
) -> httpx.Response:
    signature = signature or twilio_signature(TWILIO_TOKEN, STATUS_URL, form)
    return await web.post("/webhooks/sms/twilio/status", data=form, headers={"X-Twilio-Signature": signature})


async def thread_text(texter: Client, interaction_id: str) -> dict[str, Any]:
    """The one outbound text of the interaction, as get_interaction shows it."""
    detail = await ok(texter, "get_interaction", {"interaction_id": interaction_id})
    [text] = [item for item in detail["thread"] if item["direction"] == "outbound"]
    return dict(text)


async def test_a_delivered_callback_shows_in_the_thread(
    harness: Harness, web: httpx.AsyncClient, texter: Client
) -> None:
    interaction_id = await texted_lead(texter)
    assert (await thread_text(texter, interaction_id))["delivery_status"] == "queued"
    response = await post_status(web, status_form("delivered"))
    assert response.status_code == 204 and response.content == b""
    [row] = await harness.rows(deliveries)
    assert (row["provider_message_id"], row["status"], row["error_code"]) == (SENT_SID, "delivered", None)
    text = await thread_text(texter, interaction_id)
    assert (text["delivery_status"], text["delivery_error"]) == ("delivered", None)


@pytest.mark.parametrize(
    ("reports", "final"),
    [
        (["sent", "delivered"], "delivered"),
        (["delivered", "sent"], "delivered"),  # out of order: a late "sent" never undoes "delivered"
        (["delivered", "sending", "queued"], "delivered"),
        (["undelivered", "sent"], "undelivered"),
        (["failed", "delivered"], "failed"),  # the first final outcome stands
        (["delivered", "read"], "read"),
        (["sent", "partially_delivered"], "sent"),  # a status we cannot place changes nothing
    ],
)
async def test_a_status_only_moves_forward(
    harness: Harness, web: httpx.AsyncClient, texter: Client, reports: list[str], final: str
) -> None:
    await texted_lead(texter)
    for status in reports:
        assert (await post_status(web, status_form(status))).status_code == 204
    [row] = await harness.rows(deliveries)
    assert row["status"] == final


async def test_an_undelivered_text_shows_its_error_in_the_thread(
    harness: Harness, web: httpx.AsyncClient, texter: Client
) -> None:
    interaction_id = await texted_lead(texter)
    await post_status(web, status_form("undelivered", ErrorCode="30007"))
    await post_status(web, status_form("sent"))  # late, and without the error: both are kept
    text = await thread_text(texter, interaction_id)
    assert (text["delivery_status"], text["delivery_error"]) == ("undelivered", "30007")
    resource = await texter.read_resource(f"interaction://{interaction_id}")
    markdown = resource.contents[0].text  # type: ignore[union-attr]
    assert "(outbound message, undelivered (30007)): Hi Ana, it's Sam." in markdown
    assert await harness.count(suppressions) == 0  # a filtered text is not an opt-out


async def test_an_unsubscribed_callback_suppresses_the_number(
    harness: Harness, web: httpx.AsyncClient, texter: Client
) -> None:
    interaction_id = await texted_lead(texter)
    response = await post_status(web, status_form("failed", ErrorCode="21610"))
    assert response.status_code == 204
    [row] = await harness.rows(suppressions)
    assert row["phone"] == "+13035550177" and row["active"]
    assert row["reason"] == "carrier reports unsubscribed"  # as when Twilio refuses a send with 21610
    assert (await thread_text(texter, interaction_id))["delivery_error"] == "21610"
    with respx.mock(base_url="https://api.twilio.com", assert_all_called=False) as twilio:
        sent = twilio.post(path__regex=MESSAGES_PATH).respond(201, json={"sid": "SM" + "4" * 32})
        text = await refused(
            texter, "send_message", {"interaction_id": interaction_id, "text": "Still there?"}
        )
        assert sent.call_count == 0  # refused by the gate, before Twilio
    assert "opted out" in text and "START" in text, text
    events = await harness.rows(audit_events)
    [blocked] = [e for e in events if e["tool"] == "send_message" and e["outcome"] == "blocked"]
    assert blocked["reason"].startswith("opt_out:")
    [callback] = [e for e in events if e["tool"] == "webhook.twilio_status"]
    assert (callback["kind"], callback["interaction_id"]) == ("compliance", interaction_id)
    assert "21610" in callback["reason"]


@pytest.mark.parametrize(
    "signature",
    [
        "bm90IGEgc2lnbmF0dXJl",
        twilio_signature(TWILIO_TOKEN, STATUS_URL, status_form("sent")),  # signed for another form
        twilio_signature(
            TWILIO_TOKEN, "https://agent.example.com/webhooks/sms/twilio", status_form("failed")
        ),
        twilio_signature("another-token-0123456789abcdef", STATUS_URL, status_form("failed")),
    ],
    ids=["garbage", "other-form", "other-url", "other-token"],
)
async def test_a_badly_signed_callback_is_refused_and_changes_nothing(
    harness: Harness, web: httpx.AsyncClient, texter: Client, signature: str
) -> None:
    await texted_lead(texter)
    before = await harness.rows(deliveries)
    response = await post_status(web, status_form("failed", ErrorCode="21610"), signature=signature)
    assert response.status_code == 403 and "X-Twilio-Signature" in response.json()["error"]
    assert await harness.rows(deliveries) == before and await harness.count(suppressions) == 0
    [refusal] = [e for e in await harness.rows(audit_events) if e["tool"] == "webhook.twilio_status"]
    assert (refusal["kind"], refusal["outcome"]) == ("permission", "denied")


async def test_an_unsigned_callback_is_refused(harness: Harness, web: httpx.AsyncClient) -> None:
    response = await web.post("/webhooks/sms/twilio/status", data=status_form("delivered"))
    assert response.status_code == 403


async def test_a_callback_for_a_text_that_is_not_ours_is_acknowledged_and_ignored(
    harness: Harness, web: httpx.AsyncClient, texter: Client
) -> None:
    await texted_lead(texter)
    before = await harness.rows(deliveries)
    response = await post_status(web, status_form("failed", sid="SM" + "9" * 32, ErrorCode="21610"))
    assert response.is_success
    assert await harness.rows(deliveries) == before and await harness.count(suppressions) == 0


@pytest.mark.parametrize(
    ("form", "missing"),
    [
        ({"MessageSid": SENT_SID, "To": "+13035550177"}, "MessageStatus"),
        ({"MessageStatus": "delivered", "To": "+13035550177"}, "MessageSid"),
        ({"MessageSid": " ", "MessageStatus": "", "To": "+13035550177"}, "MessageSid and MessageStatus"),
    ],
    ids=["no-status", "no-sid", "both-blank"],
)
async def test_a_callback_without_sid_or_status_is_a_400(
    harness: Harness, web: httpx.AsyncClient, texter: Client, form: dict[str, str], missing: str
) -> None:
    await texted_lead(texter)
    before = await harness.rows(deliveries)
    response = await post_status(web, form)
    assert response.status_code == 400 and response.json()["error"] == f"missing {missing}"
    assert await harness.rows(deliveries) == before
