"""Webhooks under attack, and texts whose fate is unknown (issue 10).

- A captured, validly signed Twilio request replayed later changes nothing: an old START does not lift
  a newer STOP, a replayed text is not stored twice, a replayed unsubscribe report does not re-suppress
  after an opt-in. Replays are answered 2xx so Twilio stops retrying.
- A body larger than the limit is refused while it is read, before the signature is checked; a deeply
  nested JSON lead is a 400, never a 500.
- Refused requests are audited in aggregate: one record per route and source per minute.
- A text whose send answer was lost is in the thread as "unknown", counts as a touch, and Twilio's
  status callback (which carries our message id) settles it.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import respx
from mcp import Client
from sqlalchemy import select

from st_mcp.messaging.signatures import twilio_signature
from st_mcp.server.webhooks import MAX_BODY_BYTES, RefusalTally
from st_mcp.store.schema import audit_events, deliveries, interactions, messages, suppressions
from tests.interactions.conftest import Harness, ok, refused

from .conftest import TWILIO_TOKEN
from .test_webhooks import (
    LEAD,
    MESSAGES_PATH,
    STATUS_URL,
    post_lead,
    post_status,
    signed,
    status_form,
    texted_lead,
)

pytestmark = pytest.mark.anyio
INBOUND_URL = "https://agent.example.com/webhooks/sms/twilio"


def inbound(text: str, sid: str) -> dict[str, str]:
    return {"From": "+13035550177", "To": "+13035550100", "Body": text, "MessageSid": sid}


async def post_inbound(web: httpx.AsyncClient, form: dict[str, str]) -> httpx.Response:
    signature = twilio_signature(TWILIO_TOKEN, INBOUND_URL, form)
    return await web.post("/webhooks/sms/twilio", data=form, headers={"X-Twilio-Signature": signature})


async def suppression(harness: Harness) -> dict[str, Any] | None:
    rows = await harness.rows(suppressions)
    return rows[0] if rows else None


@pytest.fixture
def twilio() -> Iterator[respx.Route]:
    with respx.mock(base_url="https://api.twilio.com") as mock:
        yield mock.post(path__regex=MESSAGES_PATH).respond(
            201, json={"sid": "SM" + "9" * 32, "status": "queued"}
        )


async def test_a_replayed_start_does_not_lift_a_newer_stop(
    harness: Harness, web: httpx.AsyncClient, twilio: respx.Route
) -> None:
    await post_lead(web, LEAD)
    assert (await post_inbound(web, inbound("STOP", "SM-stop-1"))).status_code == 200
    start = inbound("START", "SM-start-1")
    assert (await post_inbound(web, start)).status_code == 200
    assert (await suppression(harness))["active"] is False  # type: ignore[index]
    assert (await post_inbound(web, inbound("STOP", "SM-stop-2"))).status_code == 200
    stored = await harness.count(messages)
    replay = await post_inbound(web, start)  # captured earlier, validly signed
    assert replay.status_code == 200 and replay.headers["content-type"].startswith("text/xml")
    assert (await suppression(harness))["active"] is True  # type: ignore[index]
    assert await harness.count(messages) == stored  # nothing stored twice
    [row] = await harness.rows(interactions)
    assert row["status"] == "Opt-out"


async def test_a_replayed_text_is_stored_once(harness: Harness, web: httpx.AsyncClient) -> None:
    await post_lead(web, LEAD)
    form = inbound("Is Tuesday morning possible?", "SM-q-1")
    for _ in range(3):
        assert (await post_inbound(web, form)).status_code == 200
    texts = [row["text"] for row in await harness.rows(messages)]
    assert texts == ["Is Tuesday morning possible?"]


async def test_a_replayed_unsubscribe_report_does_not_resuppress_after_an_opt_in(
    harness: Harness, web: httpx.AsyncClient, texter: Client
) -> None:
    await texted_lead(texter)
    report = status_form("undelivered", ErrorCode="21610")
    assert (await post_status(web, report)).status_code == 204
    assert (await suppression(harness))["active"] is True  # type: ignore[index]
    await post_inbound(web, inbound("START", "SM-start-2"))
    assert (await suppression(harness))["active"] is False  # type: ignore[index]
    assert (await post_status(web, report)).status_code == 204  # the replay
    assert (await suppression(harness))["active"] is False  # type: ignore[index]


async def _chunks(total: int, counter: list[int]) -> AsyncIterator[bytes]:
    chunk = b"x" * (1024 * 1024)
    for _ in range(total // len(chunk)):
        counter[0] += 1
        yield chunk


@pytest.mark.parametrize("route", ["/webhooks/leads", "/webhooks/sms/twilio", "/webhooks/sms/twilio/status"])
async def test_a_50_mb_body_is_refused_after_at_most_the_limit_is_read(
    harness: Harness, web: httpx.AsyncClient, route: str
) -> None:
    sent = [0]
    response = await web.post(route, content=_chunks(50 * 1024 * 1024, sent))  # streamed: no length
    assert response.status_code == 413 and "larger than 64 KB" in response.json()["error"]
    assert sent[0] * 1024 * 1024 <= MAX_BODY_BYTES + 1024 * 1024  # the rest was never read
    declared = await web.post(route, content=b"x" * (MAX_BODY_BYTES + 1))  # with Content-Length
    assert declared.status_code == 413
    assert await harness.count(interactions) == 0 and await harness.count(messages) == 0


async def test_a_deeply_nested_signed_lead_is_a_400(harness: Harness, web: httpx.AsyncClient) -> None:
    body = ("[" * 20_000 + "]" * 20_000).encode()
    response = await web.post("/webhooks/leads", content=body, headers=signed(body))
    assert response.status_code == 400 and "nested too deeply" in response.json()["error"]
    body = json.dumps(["not", "an", "object"]).encode()
    response = await web.post("/webhooks/leads", content=body, headers=signed(body))
    assert response.status_code == 400 and "JSON object" in response.json()["error"]
    assert await harness.count(interactions) == 0


async def test_refusals_are_audited_once_per_source_per_minute(
    harness: Harness, web: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One minute for all fifty (a run that straddles a minute would rightly write two records).
    monkeypatch.setattr(time, "time", lambda: 1_800_000_030.0)
    for _ in range(50):
        assert (await web.post("/webhooks/leads", content=b"{}")).status_code == 401
    async with harness.engine.connect() as conn:
        query = select(audit_events.c.reason).where(audit_events.c.tool == "webhook.leads")
        reasons = (await conn.execute(query)).scalars().all()
    assert len(reasons) == 1 and "missing signature" in reasons[0], reasons


def test_the_tally_carries_the_minute_before_into_the_next_record() -> None:
    now = [600.0]
    tally = RefusalTally(clock=lambda: now[0])
    assert tally.admit("webhook.leads", "10.0.0.9") == 0  # the first: recorded
    assert all(tally.admit("webhook.leads", "10.0.0.9") is None for _ in range(76))  # counted only
    assert tally.admit("webhook.leads", "10.0.0.8") == 0  # another source has its own window
    now[0] += 60
    assert tally.admit("webhook.leads", "10.0.0.9") == 76  # the next record says how many were not


async def test_a_text_of_unknown_fate_counts_and_is_settled_by_the_callback(
    harness: Harness, web: httpx.AsyncClient, texter: Client
) -> None:
    key = (await ok(texter, "ingest_lead", {**LEAD, "phone": "(813) 555-0177", "zip": "33602"}))[
        "interaction_id"
    ]
    with respx.mock(base_url="https://api.twilio.com") as mock:
        mock.post(path__regex=MESSAGES_PATH).mock(side_effect=httpx.ReadTimeout("lost"))
        text = await refused(texter, "send_message", {"interaction_id": key, "text": "Hi Ana!"})
        assert "may or may not have been delivered" in text and "counts as a touch" in text
        request = mock.calls.last.request
    [row] = await harness.rows(deliveries)
    assert (row["status"], row["provider_message_id"]) == ("unknown", None)
    detail = await ok(texter, "get_interaction", {"interaction_id": key})
    assert [item["delivery_status"] for item in detail["thread"]] == ["unknown"]

    # Twilio did send it, and reports on it to the URL that names our message.
    callback = dict(httpx.QueryParams(request.content.decode()))["StatusCallback"]
    assert callback == f"{STATUS_URL}?message_id={row['message_id']}"
    form = status_form("delivered", sid="SM" + "7" * 32)
    signature = twilio_signature(TWILIO_TOKEN, callback, form)
    response = await web.post(
        f"/webhooks/sms/twilio/status?message_id={row['message_id']}",
        data=form,
        headers={"X-Twilio-Signature": signature},
    )
    assert response.status_code == 204
    [row] = await harness.rows(deliveries)
    assert (row["status"], row["provider_message_id"]) == ("delivered", "SM" + "7" * 32)

    # Florida's cap of 3 counts the unknown text: two more are allowed, the fourth is not.
    with respx.mock(base_url="https://api.twilio.com") as mock:
        mock.post(path__regex=MESSAGES_PATH).respond(201, json={"sid": "SM" + "6" * 32, "status": "queued"})
        for n in range(2):
            await ok(texter, "send_message", {"interaction_id": key, "text": f"Follow-up {n}"})
        text = await refused(texter, "send_message", {"interaction_id": key, "text": "One more"})
    assert "limit in Florida is 3" in text


async def test_a_refused_text_is_failed_and_no_touch(harness: Harness, texter: Client) -> None:
    key = (await ok(texter, "ingest_lead", {**LEAD, "phone": "(813) 555-0178", "zip": "33602"}))[
        "interaction_id"
    ]
    with respx.mock(base_url="https://api.twilio.com") as mock:
        mock.post(path__regex=MESSAGES_PATH).respond(400, json={"code": 21211, "message": "bad To"})
        for _ in range(4):
            assert "not a valid phone number" in await refused(
                texter, "send_message", {"interaction_id": key, "text": "Hi"}
            )
    statuses = [(row["status"], row["error_code"]) for row in await harness.rows(deliveries)]
    assert statuses == [("failed", "21211")] * 4  # in the thread, and none counted against the cap
