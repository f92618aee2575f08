"""The ServiceTitan leads poller, following the sandbox's `crm export/leads` feed with the real client: the
seeded tenant's Open leads, a lead created later, the same lead again in the feed, a pass cut off midway,
the first pass's date, the upgrade from the `createdOnOrAfter` watermark, and two servers on one database.

Every test runs on SQLite and PostgreSQL (the harness's ``store_url``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from itertools import count
from typing import Any

import anyio
import pytest
from mcp import Client
from sqlalchemy import select

from st_mcp.server import create_server
from st_mcp.services.feeds import feed_date
from st_mcp.services.outreach.poller import FEED, WATERMARK, LeadPoller
from st_mcp.servicetitan import ServiceTitanClient
from st_mcp.servicetitan.models.crm import CreateLeadRequest, LeadFollowUpRequest
from st_mcp.servicetitan.models.lifecycle import ExportPage
from st_mcp.store.lifecycle import LifecycleRecords
from st_mcp.store.schema import interactions
from st_mcp.store.watermarks import Watermarks
from tests.interactions.conftest import Harness, ok
from tests.outreach.test_send_gate import lead

pytestmark = pytest.mark.anyio
PHONES = count(101)


def client_of(harness: Harness) -> ServiceTitanClient:
    return harness.upstream.client


async def new_lead(harness: Harness, name: str) -> int:
    """A lead entered in ServiceTitan (a CSR, an integration): Open, in the service area, its own phone."""
    body = CreateLeadRequest(
        campaignId=harness.sandbox.campaign_named("Virtual Agent").id,
        summary="Furnace is making a loud banging noise",
        leadCustomerName=name,
        leadPhone=f"720555{next(PHONES):04d}",
        leadStreet="1200 Krameria St",
        leadCity="Denver",
        leadState="CO",
        leadZip="80220",
    )
    return (await client_of(harness).crm.create_lead(body)).id


async def taken_in(harness: Harness) -> dict[int, int]:
    """How many interactions each ServiceTitan lead id opened."""
    async with harness.engine.connect() as conn:
        ids = (await conn.execute(select(interactions.c.servicetitan_lead_id))).scalars().all()
    counted: dict[int, int] = {}
    for lead_id in ids:
        if lead_id is not None:
            counted[lead_id] = counted.get(lead_id, 0) + 1
    return counted


def feed_reads(poller: LeadPoller, monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """The ``from`` of each read of the feed (the real client still reads it)."""
    exports = poller._st.exports
    real: Callable[[str | None], Awaitable[ExportPage[Any]]] = exports.leads
    reads: list[str | None] = []

    async def reading(token: str | None) -> ExportPage[Any]:
        reads.append(token)
        return await real(token)

    monkeypatch.setattr(exports, "leads", reading)
    return reads


def feeds_of(harness: Harness) -> LifecycleRecords:
    return LifecycleRecords(harness.engine, str(client_of(harness).tenant_id))


async def test_open_leads_become_interactions_once(harness: Harness, agent: Client) -> None:
    poller = harness.app.lead_poller
    first = await poller.poll_once()
    assert len(first.ingested) >= 8 and first.unusable == [] and not first.skipped_poll
    assert first.seen == len(first.ingested) + first.passed_over  # the rest: Dismissed, Converted, older
    rows = {row["name"]: row for row in await harness.rows(interactions)}
    karen = rows["Karen Whitmore"]
    assert (karen["phone"], karen["zip"], karen["source"], karen["status"]) == (
        "+17205550193",
        "80220",
        "Angi",
        "Started",
    )
    assert karen["servicetitan_lead_id"] is not None and karen["campaign_id"] is not None
    # Colorado Springs is outside the service area: taken in, and dismissed with the reason.
    nina = rows["Nina Petrova"]
    assert nina["status"] == "Dismissed: Agent" and "80905" in nina["status_reason"]
    # A second poll continues from the kept token and takes nothing in twice.
    assert await feeds_of(harness).token(FEED) is not None
    again = await poller.poll_once()
    assert again.ingested == [] and await harness.count(interactions) == len(rows)


async def test_a_lead_already_texted_by_phone_is_a_duplicate(harness: Harness, agent: Client) -> None:
    await lead(agent, "(720) 555-0193", zip="80220")
    result = await harness.app.lead_poller.poll_once()
    assert result.duplicates == 1
    queue = await ok(agent, "get_lead_queue", {"limit": 50})
    assert sum(item["lead"]["phone"].endswith("0193") for item in queue["items"]) == 1


async def test_a_new_lead_is_taken_in_once_though_the_feed_repeats_it(
    harness: Harness, agent: Client
) -> None:
    poller = harness.app.lead_poller
    await poller.poll_once()
    harness.clock.advance(120)
    lead_id = await new_lead(harness, "Omar Haddad")
    result = await poller.poll_once()
    assert len(result.ingested) == 1 and (await taken_in(harness))[lead_id] == 1
    # Recent changes repeat the last instant; then a CSR sets a follow-up: the lead is in the feed again.
    assert (await poller.poll_once()).ingested == []
    harness.clock.advance(300)
    follow_up = LeadFollowUpRequest(followUpDate=harness.clock.now() + timedelta(days=1), text="Call back")
    await client_of(harness).crm.create_lead_follow_up(lead_id, follow_up)
    modified = await poller.poll_once()
    assert modified.ingested == [] and modified.already_known >= 1
    assert (await taken_in(harness))[lead_id] == 1


async def test_a_pass_cut_off_midway_loses_no_lead(
    harness: Harness, agent: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The replica dies (here: an error) while taking in the second of two new leads: the token stays where
    it was, so the next pass reads both again — the first is known, the second is taken in now."""
    poller = harness.app.lead_poller
    await poller.poll_once()
    place = await feeds_of(harness).token(FEED)
    harness.clock.advance(120)
    first_id = await new_lead(harness, "Priya Raman")
    harness.clock.advance(60)
    second_id = await new_lead(harness, "Tomasz Nowak")
    real = poller._take_in

    async def dies_on_the_second(row: Any) -> Any:
        if row.id == second_id:
            raise ConnectionError("the replica died taking the lead in")
        return await real(row)

    with monkeypatch.context() as patch:
        patch.setattr(poller, "_take_in", dies_on_the_second)
        with pytest.raises(ConnectionError):
            await poller.poll_once()
    assert await feeds_of(harness).token(FEED) == place, "the place did not move past the lost lead"
    assert (await taken_in(harness)).get(second_id) is None
    result = await poller.poll_once()
    assert len(result.ingested) == 1 and result.already_known >= 1
    counted = await taken_in(harness)
    assert (counted[first_id], counted[second_id]) == (1, 1)


async def test_the_first_pass_starts_from_the_lookback_date(
    harness: Harness, agent: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    poller = harness.app.lead_poller
    reads = feed_reads(poller, monkeypatch)
    first = await poller.poll_once()
    since = harness.clock.now() - timedelta(hours=harness.settings.leads.first_poll_lookback_hours)
    assert reads[0] == feed_date(since) and first.since == since
    # Leads created before the lookback are not taken in on the first pass (as before the feed).
    assert all(lead.createdOn >= since for lead in await _taken_leads(harness))
    kept = await feeds_of(harness).token(FEED)
    reads.clear()
    await poller.poll_once()
    assert reads[0] == kept and kept != feed_date(since)  # later passes: from the kept token


async def test_an_upgrade_starts_the_feed_from_the_old_watermark(
    harness: Harness, agent: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deployment that polled `crm leads?createdOnOrAfter=<watermark>` has a watermark and no token: the
    feed starts at the watermark, so the leads the old poller took in are not taken again, and a lead
    created after it is not lost."""
    poller = harness.app.lead_poller
    opened = sorted(
        (x for x in harness.sandbox.leads.values() if x.status == "Open"), key=lambda x: x.created_on
    )
    mark = opened[len(opened) // 2].created_on  # the old poller got this far
    await Watermarks(harness.engine, tenant=harness.app.store.tenant).advance(WATERMARK, mark)
    reads = feed_reads(poller, monkeypatch)
    result = await poller.poll_once()
    assert reads[0] == feed_date(mark) and result.since == mark
    after = {x.id for x in opened if x.created_on >= mark}
    assert set(await taken_in(harness)) == after and after
    assert await feeds_of(harness).token(FEED) is not None  # from now on, the feed's own place


async def test_two_pollers_on_one_database_take_each_lead_in_once(harness: Harness, agent: Client) -> None:
    """Replicas sharing a database (two servers, each its own poller): one pass at a time (a lease), and a
    lead already taken in is skipped, so each lead opens one interaction."""
    async with Client(create_server(harness.settings, upstream=harness.upstream)) as second:
        await ok(second, "list_interactions", {})
        first_app, second_app = harness.apps[0], harness.apps[-1]
        assert first_app is not second_app
        harness.clock.advance(60)
        ids = [await new_lead(harness, name) for name in ("Ada Brooks", "Ben Carver", "Cleo Diaz")]
        async with anyio.create_task_group() as tg:
            for app in (first_app, second_app):
                tg.start_soon(app.lead_poller.poll_once)
        harness.clock.advance(60)
        ids.append(await new_lead(harness, "Dev Eastman"))
        await second_app.lead_poller.poll_once()
        await first_app.lead_poller.poll_once()
    counted = await taken_in(harness)
    assert all(counted[i] == 1 for i in ids) and set(counted.values()) == {1}


async def _taken_leads(harness: Harness) -> list[Any]:
    return [await client_of(harness).crm.get_lead(lead_id) for lead_id in await taken_in(harness)]
