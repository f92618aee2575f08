"""Leads that arrive in ServiceTitan itself (a CSR's entry, an integration) become interactions too.

The poller follows ServiceTitan's leads export feed (``crm export/leads``, ``includeRecentChanges``) from
the continuation token it keeps in the store (``export_tokens``, like the job-events watcher's feeds), and
takes each Open, active lead in through ``ingest_lead`` — the same dedupe (phone within 24 h), service-area
check and campaign attribution as every other door. The feed hands out every change of every lead, and with
recent changes the same rows again: a lead already taken in (by its ServiceTitan id) is skipped, and only a
lead created since the poller's place (the kept token's time less the lookback, or the first pass's date) is
new — a lead edited days later is not taken in again. The token moves on only once the rows are taken in,
so a pass cut off midway reads them again and loses none. One pass at a time per tenant (a lease in the
database), so replicas sharing a database take each lead in once.

A deployment that polled ``crm leads?createdOnOrAfter=<watermark>`` before (the ``servicetitan-leads``
watermark) starts the feed from that watermark's date, so no lead is lost or taken twice across the upgrade.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from pydantic import BaseModel

from st_mcp.policy.identity import SYSTEM_ROLE, Principal
from st_mcp.services.customers import Customers
from st_mcp.services.errors import UserInputError
from st_mcp.services.feeds import drain, feed_date
from st_mcp.services.interactions.models import IngestResult
from st_mcp.services.interactions.service import Interactions
from st_mcp.services.periodic import Leader, repeat
from st_mcp.services.reference import ReferenceData
from st_mcp.servicetitan import ServiceTitanClient
from st_mcp.servicetitan.models.crm import Lead
from st_mcp.store.interactions import InteractionRecords
from st_mcp.store.leases import LeaseTimeout, lease
from st_mcp.store.lifecycle import LifecycleRecords
from st_mcp.store.watermarks import Watermarks

POLLER = Principal("leads-poller", SYSTEM_ROLE)
FEED = "crm/export/leads"  # its place in export_tokens
# Where the poller of ``crm leads?createdOnOrAfter`` got to, before the feed: an upgrade starts there.
WATERMARK = "servicetitan-leads"
DEALT_LIMIT = 10_000  # rows remembered per process (past it, forgotten: at worst looked at once more)
LEASE_WAIT_SECONDS = 0.5  # how long a pass tries for the lease before leaving it to its holder


class PollResult(BaseModel):
    since: datetime | None  # leads created at or after this are new; None: another process is polling
    seen: int  # rows read from the feed (a lead may appear more than once)
    ingested: list[str]
    duplicates: int
    already_known: int
    passed_over: int = 0  # not Open, inactive, or created before ``since``
    unusable: list[str]  # "lead 123: no phone number"
    skipped_poll: bool = False  # another process holds the poller's lease


class LeadPoller:
    def __init__(
        self,
        st: ServiceTitanClient,
        reference: ReferenceData,
        customers: Customers,
        interactions: Interactions,
        records: InteractionRecords,
        feeds: LifecycleRecords,
        watermarks: Watermarks,
        *,
        lookback: timedelta,
        clock: Callable[[], datetime],
        leader: Leader | None = None,
    ) -> None:
        self._st = st
        self._reference = reference
        self._customers = customers
        self._interactions = interactions
        self._records = records
        self._feeds = feeds
        self._watermarks = watermarks
        self._lookback = lookback
        self._now = clock
        self._leader = leader
        # Rows this process has dealt with, by lead id → its modifiedOn: the feed repeats rows (recent
        # changes; every row of a frozen test clock's one instant), and a duplicate or unusable lead would
        # otherwise cost ServiceTitan reads on every pass. A change (a new modifiedOn) is looked at again.
        self._dealt: dict[int, datetime] = {}

    async def poll_once(self) -> PollResult:
        if self._leader is None:
            return await self._poll()
        leader = self._leader
        try:
            async with lease(
                leader.engine, leader.name, tenant=leader.tenant, ttl=leader.ttl, wait=LEASE_WAIT_SECONDS
            ):
                return await self._poll()
        except LeaseTimeout:
            return PollResult(
                since=None, seen=0, ingested=[], duplicates=0, already_known=0, unusable=[], skipped_poll=True
            )

    async def _start(self) -> tuple[str, datetime]:
        """Where this pass reads the feed from, and the creation time from which a lead is new."""
        place = await self._feeds.place(FEED)
        if place is not None:
            token, saved_at = place
            return token, saved_at - self._lookback
        # No token yet: the upgrade from the watermark's poller, or the very first pass (a recent moment).
        since = await self._watermarks.get(WATERMARK) or self._now() - self._lookback
        return feed_date(since), since

    async def _poll(self) -> PollResult:
        start, since = await self._start()
        rows, token = await drain(self._st.exports.leads, start)
        result = PollResult(
            since=since, seen=len(rows), ingested=[], duplicates=0, already_known=0, unusable=[]
        )
        if len(self._dealt) > DEALT_LIMIT:
            self._dealt.clear()
        for lead in rows:
            if lead.status != "Open" or not lead.active or lead.createdOn < since:
                result.passed_over += 1
            elif self._dealt.get(lead.id) == lead.modifiedOn or await self._records.exists_for_lead(lead.id):
                result.already_known += 1
            else:
                try:
                    taken = await self._take_in(lead)
                except UserInputError as exc:
                    result.unusable.append(f"lead {lead.id}: {exc}")
                else:
                    if taken.duplicate:
                        result.duplicates += 1
                    else:
                        result.ingested.append(taken.interaction_id)
            self._dealt[lead.id] = lead.modifiedOn
        # The place moves on only now that every row is taken in: a pass cut off midway (its replica killed,
        # ServiceTitan failing on a customer read) leaves the next pass to read the rows again.
        await self._feeds.save_token(FEED, token, self._now())
        return result

    async def _take_in(self, lead: Lead) -> IngestResult:
        phone, name = lead.leadPhone, lead.leadCustomerName
        street, city, state, zip_code = lead.leadStreet, lead.leadCity, lead.leadState, lead.leadZip
        if lead.customerId is not None and not phone:
            phones = await self._customers.phones_of(lead.customerId)
            phone = phones[0] if phones else None
        if lead.locationId is not None:
            # Facts first: the service location ServiceTitan holds is where the lead is, whatever was
            # typed on the lead (quiet hours and caps follow it).
            address = (await self._customers.location(lead.locationId)).address
            street, city, state, zip_code = address.street, address.city, address.state, address.zip
        if not phone:
            raise UserInputError("no phone number on the lead or its customer")
        campaign = await self._campaign_name(lead.campaignId)
        return await self._interactions.ingest_lead(
            POLLER,
            name=name or f"ServiceTitan lead {lead.id}",
            phone=phone,
            email=lead.leadEmail,
            street=street,
            city=city,
            state=state,
            zip_code=zip_code,
            summary=lead.summary,
            source=campaign,
            campaign_id=lead.campaignId,
            servicetitan_lead_id=lead.id,
        )

    async def _campaign_name(self, campaign_id: int) -> str | None:
        campaign = await self._reference.campaign(str(campaign_id))
        return campaign.name if campaign else None


async def poll_forever(poller: LeadPoller, interval_seconds: int) -> None:
    """Poll every ``interval_seconds``; each pass takes the poller's own lease (its ``Leader``)."""

    async def once() -> str | None:
        result = await poller.poll_once()
        return f"took in {len(result.ingested)} lead(s)" if result.ingested else None

    await repeat("leads poller", interval_seconds, once)
