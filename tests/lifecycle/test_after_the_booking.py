"""The must-show story, through a real MCP client on the sandbox: book → add a note → the sandbox job is
dispatched → the lead gets "on the way" with the tracking link (a dispatch at 9:30 PM local waits for the
window, if still relevant) → completed → the rating text → "5" stores the technician rating and sends the
review link; "1" escalates to a manager.

The job-events watcher is the server's background task; here each test runs one poll of it at a time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import pytest
from mcp import Client
from sqlalchemy import select

from st_mcp.policy.identity import Principal
from st_mcp.server import create_server
from st_mcp.store.lifecycle import SENT, JobEvent
from st_mcp.store.schema import job_events
from tests.server.conftest import Harness, ok, refused

from .conftest import LEAD_PHONE, Booked, advance, book_for_lead, gateway, texts_to

pytestmark = pytest.mark.anyio
EVENING = datetime(2026, 5, 6, 3, 30, tzinfo=UTC)  # Tuesday 9:30 PM in Denver: quiet hours
NEXT_MORNING = datetime(2026, 5, 6, 14, 5, tzinfo=UTC)  # Wednesday 8:05 AM in Denver


async def poll(harness: Harness) -> dict[str, object]:
    return (await harness.app.lifecycle.watcher.poll_once()).model_dump()


async def booked_and_noted(harness: Harness, client: Client) -> Booked:
    booked = await book_for_lead(client)
    await ok(client, "add_job_note", {"job_id": booked.job_id, "text": "Gate code 4411, dog in the yard"})
    first = await poll(harness)  # nothing has happened to the job yet
    assert first["events"] == [] and first["texts_sent"] == 0
    harness.clock.advance(600)
    return booked


async def history(client: Client, interaction_id: str) -> list[str]:
    detail = await ok(client, "get_interaction", {"interaction_id": interaction_id})
    return [h["reason"] or "" for h in detail["status_history"]]


async def test_on_the_way_then_the_follow_up_and_a_five(harness: Harness, client: Client) -> None:
    booked = await booked_and_noted(harness, client)
    advance(harness, booked.job_id, "Dispatched")
    result = await poll(harness)
    assert result["events"] == [f"job {booked.job_number}: dispatched"] and result["texts_sent"] == 1
    [on_the_way] = texts_to(harness)
    tech_id = harness.sandbox.appointment_technician_ids(booked.appointment_id)[0]
    technician = harness.sandbox.technicians[tech_id]
    assert f"{technician.first_name} from Peak Home Services is on the way" in on_the_way
    assert "https://track.sandbox.servicetitan.invalid/t/" in on_the_way
    assert technician.last_name not in on_the_way
    assert any("technician dispatched" in line for line in await history(client, booked.interaction_id))
    again = await poll(harness)  # the feed repeats the same instant: nothing is sent twice
    assert again["texts_sent"] == 0 and len(texts_to(harness)) == 1

    harness.clock.advance(3600)
    advance(harness, booked.job_id, "Working")
    advance(harness, booked.job_id, "Completed")
    gateway(harness).script(LEAD_PHONE, "5 - Great job!")
    done = await poll(harness)
    assert f"job {booked.job_number}: completed" in done["events"]
    texts = texts_to(harness)
    assert "Reply with a number from 1 (poor) to 5 (excellent)" in texts[1]
    assert "g.page/r/peak-home-services/review" in texts[2]  # the thanks, with the review link
    [rating] = [r for r in harness.sandbox.technician_ratings.values() if r.job_id == booked.job_id]
    assert (rating.technician_id, rating.rating) == (tech_id, 5)
    survey = await ok(client, "list_interactions", {"goal": "Post-Job Follow-up"})
    [row] = survey["items"]
    detail = await ok(client, "get_interaction", {"interaction_id": row["interaction_id"]})
    assert detail["links"]["job_id"] == booked.job_id
    assert detail["overview_summary"].startswith(f"Post-job follow-up: Rated 5/5 for {technician.first_name}")
    assert not detail["status"].startswith("Escalated")
    # The follow-up links the job it asks about; it did not book it, so it is no conversion.
    harness.clock.advance(1)  # the period ends before "now"; the follow-up began this very instant
    stats = await ok(client, "interaction_stats", {})
    assert stats["conversations"] == 2 and stats["conversion_rate"] == 0.5


async def test_a_one_escalates_to_a_manager(
    harness: Harness, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager = next(e for e in harness.sandbox.employees.values() if e.active and "Manager" in e.role)
    # `[escalation] negative_sentiment_assign_to`: who hears about unhappy customers.
    monkeypatch.setattr(harness.settings.escalation, "negative_sentiment_assign_to", manager.name)
    booked = await booked_and_noted(harness, client)
    advance(harness, booked.job_id, "Dispatched")
    advance(harness, booked.job_id, "Completed")
    tasks_before = set(harness.sandbox.tasks)
    gateway(harness).script(LEAD_PHONE, "1. He was two hours late and left a mess")
    await poll(harness)
    [row] = (await ok(client, "list_interactions", {"goal": "Post-Job Follow-up"}))["items"]
    detail = await ok(client, "get_interaction", {"interaction_id": row["interaction_id"]})
    assert detail["status"] == "Escalated (Negative Sentiment)"
    [task_id] = set(harness.sandbox.tasks) - tasks_before
    assert "rated job" in (harness.sandbox.tasks[task_id].description or "")
    assert harness.sandbox.tasks[task_id].assigned_to_id == manager.id
    assert "A manager will call you" in texts_to(harness)[-1]
    assert [r.rating for r in harness.sandbox.technician_ratings.values() if r.job_id == booked.job_id] == [1]


async def test_a_dispatch_at_half_past_nine_waits_for_the_window(harness: Harness, client: Client) -> None:
    booked = await booked_and_noted(harness, client)
    harness.clock.set(EVENING)
    advance(harness, booked.job_id, "Dispatched")
    held = await poll(harness)
    assert held["texts_sent"] == 0 and held["texts_held"] == 1
    assert texts_to(harness) == []
    still = await poll(harness)  # still quiet hours: still nothing
    assert still["texts_sent"] == 0 and texts_to(harness) == []

    harness.clock.set(NEXT_MORNING)
    sent = await poll(harness)
    assert sent["texts_sent"] == 1
    [text] = texts_to(harness)
    assert "is on the way" in text


async def test_a_held_text_that_is_no_longer_true_is_never_sent(harness: Harness, client: Client) -> None:
    booked = await booked_and_noted(harness, client)
    harness.clock.set(EVENING)
    advance(harness, booked.job_id, "Dispatched")
    await poll(harness)
    harness.clock.set(NEXT_MORNING - timedelta(minutes=30))
    advance(harness, booked.job_id, "Working")  # the technician arrived before the window opened
    harness.clock.set(NEXT_MORNING)
    result = await poll(harness)
    assert result["texts_sent"] == 0 and result["texts_dropped"] == 1
    assert texts_to(harness) == []
    async with harness.engine.connect() as conn:
        rows = (
            (await conn.execute(select(job_events).where(job_events.c.job_id == booked.job_id)))
            .mappings()
            .all()
        )
    on_the_way = next(r for r in rows if r["event"] == "dispatched")
    assert on_the_way["text_status"] == "expired" and "Working" in on_the_way["detail"]


async def test_a_job_not_booked_here_is_left_alone(harness: Harness, client: Client) -> None:
    await poll(harness)
    tenant = harness.sandbox
    seeded = next(
        j for j in tenant.jobs.values()
        if j.status == "Scheduled" and any(a.status == "Scheduled" for a in tenant.job_appointments(j))
    )  # fmt: skip
    advance(harness, seeded.id, "Dispatched")
    result = await poll(harness)
    assert result["events"] == [] and gateway(harness).outbox == []


async def test_the_reminder_the_day_before(harness: Harness, client: Client) -> None:
    booked = await book_for_lead(client)
    start = harness.sandbox.appointments[booked.appointment_id].start
    harness.clock.set(start - timedelta(days=1))
    result = await poll(harness)
    local_day = start.astimezone(harness.app.availability.zone)
    if (
        harness.clock.now().astimezone(harness.app.availability.zone).date() + timedelta(days=1)
    ) != local_day.date():
        pytest.fail("the test's clock is not the day before the visit")
    assert result["events"] == [f"job {booked.job_number}: reminder"]
    [text] = texts_to(harness)
    assert "your technician arrives tomorrow" in text


async def test_survey_post_job_by_hand_and_held_by_quiet_hours(harness: Harness, client: Client) -> None:
    booked = await booked_and_noted(harness, client)
    advance(harness, booked.job_id, "Dispatched")
    message = await refused(client, "survey_post_job", {"job_id": booked.job_id})
    assert "completed jobs" in message
    advance(harness, booked.job_id, "Completed")
    harness.clock.set(EVENING)
    held = await ok(client, "survey_post_job", {"job_id": booked.job_id})
    assert held["sent"] is False and held["opens_at"] is not None and texts_to(harness) == []
    assert held["goal"] == "Post-Job Follow-up" and held["job_id"] == booked.job_id
    harness.clock.set(NEXT_MORNING)
    sent = await ok(client, "survey_post_job", {"job_id": booked.job_id})
    assert sent["sent"] is True and "Reply with a number" in texts_to(harness)[-1]
    assert sent["interaction_id"] == held["interaction_id"]  # the held one, not a second conversation
    texts = len(texts_to(harness))
    again = await ok(client, "survey_post_job", {"job_id": booked.job_id})  # a CSR asks once more
    assert again["sent"] is False and "Already asked" in again["note"]
    assert (await poll(harness))["texts_sent"] == 0  # nor does the watcher, seeing the completion
    assert len(texts_to(harness)) == texts
    follow_ups = (await ok(client, "list_interactions", {"goal": "Post-Job Follow-up"}))["items"]
    assert [row["interaction_id"] for row in follow_ups] == [held["interaction_id"]]


async def test_the_follow_up_texts_the_number_the_lead_used(harness: Harness, client: Client) -> None:
    """ServiceTitan's number for the customer may be another (a landline, the office's); the customer
    texted us from this one, so the rating question goes here."""
    booked = await book_for_lead(client)
    for contact in harness.sandbox.customers[booked.customer_id].contacts:
        if contact.type in ("Phone", "MobilePhone"):
            contact.value = "303-555-0100"
    advance(harness, booked.job_id, "Completed")
    asked = await ok(client, "survey_post_job", {"job_id": booked.job_id})
    assert asked["sent"] is True and len(texts_to(harness)) == 1
    assert texts_to(harness, "+13035550100") == []


@pytest.mark.parametrize("stopped_by", ["STOP", "takeover"])
async def test_an_opt_out_or_a_takeover_stops_the_watchers_texts(
    harness: Harness, client: Client, stopped_by: str
) -> None:
    """The watcher's texts pass the same gate as the agent's: after a STOP, or once a CSR took the
    conversation over, "on the way" is not sent — not now, not later — though the event is recorded."""
    booked = await booked_and_noted(harness, client)
    if stopped_by == "STOP":
        stop = {"interaction_id": booked.interaction_id, "direction": "inbound", "text": "STOP"}
        await ok(client, "log_message", stop)
    else:
        csr = Principal("Dana Whitfield", "csr")
        await harness.app.interactions.takeover(csr, interaction_id=booked.interaction_id, note=None)
    texts = len(texts_to(harness))
    advance(harness, booked.job_id, "Dispatched")
    result = await poll(harness)
    assert result["events"] == [f"job {booked.job_number}: dispatched"]
    assert (result["texts_sent"], result["texts_held"], result["texts_dropped"]) == (0, 0, 1)
    harness.clock.advance(3600)
    assert (await poll(harness))["texts_sent"] == 0 and len(texts_to(harness)) == texts
    [event] = await harness.app.lifecycle.watcher._records.for_job(booked.job_id)
    assert event.text_status == "skipped"


def other_scheduled_job(harness: Harness, ours: int) -> int:
    return next(
        a.job_id
        for a in sorted(harness.sandbox.appointments.values(), key=lambda a: a.id)
        if a.status == "Scheduled"
        and a.job_id != ours
        and harness.sandbox.jobs[a.job_id].status == "Scheduled"
    )


async def test_a_pass_cut_off_after_reading_the_feeds_loses_no_event(
    harness: Harness, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A watcher pass that dies midway — its replica killed while it reads the jobs feed, after the
    appointments feed said "dispatched" — leaves that feed's place where it was: the next pass (another
    replica's, once the lease expires) reads the dispatch again, and the lead hears "on the way", once."""
    booked = await booked_and_noted(harness, client)
    advance(harness, booked.job_id, "Dispatched")
    harness.clock.advance(60)  # and a minute later another job (not ours) is dispatched: the feed moves on
    advance(harness, other_scheduled_job(harness, booked.job_id), "Dispatched")
    exports = harness.app.lifecycle.watcher._st.exports

    async def killed_here(_token: str | None) -> None:
        raise ConnectionError("the replica died while reading the jobs feed")

    with monkeypatch.context() as patch:
        patch.setattr(exports, "jobs", killed_here)
        with pytest.raises(ConnectionError):
            await poll(harness)
    result = await poll(harness)
    assert result["events"] == [f"job {booked.job_number}: dispatched"] and result["texts_sent"] == 1
    assert len(texts_to(harness)) == 1
    assert (await poll(harness))["texts_sent"] == 0, "read again, nothing is sent twice"


@pytest.mark.parametrize("dies", ["before the text left", "after the text left"])
@pytest.mark.parametrize("status", ["Dispatched", "Completed"])
async def test_a_pass_cut_off_while_texting_sends_the_text_once(
    harness: Harness, client: Client, monkeypatch: pytest.MonkeyPatch, status: str, dies: str
) -> None:
    """A watcher whose replica dies while it texts ("on the way", or the post-job survey) — before the text
    reached the gate, or after it left but before the watcher wrote it down — leaves the next pass (another
    replica's) to finish: the lead gets the text once, and the survey keeps its one conversation."""
    booked = await booked_and_noted(harness, client)
    advance(harness, booked.job_id, "Dispatched")
    if status == "Completed":
        assert (await poll(harness))["texts_sent"] == 1  # "on the way"
        advance(harness, booked.job_id, "Completed")
    before = len(texts_to(harness))
    watcher = harness.app.lifecycle.watcher
    settle = watcher._records.settle

    async def dies_before(*_args: object, **_kwargs: object) -> None:
        raise ConnectionError("the replica died before the text reached the gate")

    async def dies_after(event: JobEvent, to: str, **kwargs: Any) -> bool:
        if to == SENT:
            raise ConnectionError("the replica died after the text left")
        return await settle(event, to, **kwargs)

    with monkeypatch.context() as patch:
        if dies == "before the text left":
            patch.setattr(harness.app.outreach, "send_message", dies_before)
        else:
            patch.setattr(watcher._records, "settle", dies_after)
        with pytest.raises(ConnectionError):
            await poll(harness)
    assert len(texts_to(harness)) == before + (dies == "after the text left")
    await poll(harness)
    assert (await poll(harness))["texts_sent"] == 0
    assert len(texts_to(harness)) == before + 1
    event = "completed" if status == "Completed" else "dispatched"
    [row] = [e for e in await watcher._records.for_job(booked.job_id) if e.event == event]
    assert row.text_status == SENT
    if status == "Completed":
        assert len((await ok(client, "list_interactions", {"goal": "Post-Job Follow-up"}))["items"]) == 1


async def test_two_watchers_on_one_database_text_once(harness: Harness, client: Client) -> None:
    """Replicas sharing a database (two servers, each its own watcher and SMS gateway): one poll at a time
    (a lease), and each event is written once, so the lead gets one text."""
    booked = await booked_and_noted(harness, client)
    async with Client(create_server(harness.settings, upstream=harness.upstream)) as second:
        await ok(second, "list_interactions", {})
        first_app, second_app = harness.apps[0], harness.apps[-1]
        assert first_app is not second_app
        advance(harness, booked.job_id, "Dispatched")
        async with anyio.create_task_group() as tg:
            for app in (first_app, second_app):
                tg.start_soon(app.lifecycle.watcher.poll_once)
        await second_app.lifecycle.watcher.poll_once()
        await first_app.lifecycle.watcher.poll_once()
        sent = [
            s.message.body
            for app in (first_app, second_app)
            for s in app.outreach.gateway.sent_to(LEAD_PHONE)  # type: ignore[attr-defined]
        ]
    assert len(sent) == 1 and "is on the way" in sent[0]


async def test_a_reply_that_is_no_rating_waits_and_log_message_counts_too(
    harness: Harness, client: Client
) -> None:
    """Any inbound path takes the rating (here log_message, a platform that delivers texts itself); a
    reply without one is left to the agent, and the rating is taken once."""
    booked = await booked_and_noted(harness, client)
    advance(harness, booked.job_id, "Dispatched")
    advance(harness, booked.job_id, "Completed")
    await poll(harness)
    [row] = (await ok(client, "list_interactions", {"goal": "Post-Job Follow-up"}))["items"]
    survey_id = row["interaction_id"]
    await ok(
        client, "log_message", {"interaction_id": survey_id, "direction": "inbound", "text": "who is this?"}
    )
    assert not harness.sandbox.technician_ratings
    await ok(client, "log_message", {"interaction_id": survey_id, "direction": "inbound", "text": "4 stars"})
    await ok(
        client, "log_message", {"interaction_id": survey_id, "direction": "inbound", "text": "actually 2"}
    )
    assert [r.rating for r in harness.sandbox.technician_ratings.values()] == [4]
    detail = await ok(client, "get_interaction", {"interaction_id": survey_id})
    assert detail["overview_summary"].startswith("Post-job follow-up: Rated 4/5")
