"""Leads that arrive in ServiceTitan itself (a CSR's entry, an integration) become interactions too.

The poller reads CRM leads ``status=Open, createdOnOrAfter=<watermark>`` and takes each in through
``ingest_lead`` — the same dedupe (phone within 24 h), service-area check and campaign attribution as
every other door. The watermark lives in the database, so several processes share one; a lead already
taken in (by its ServiceTitan id) is skipped, so overlapping polls are harmless.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from pydantic import BaseModel

from st_mcp.policy.identity import SYSTEM_ROLE, Principal
from st_mcp.services.customers import Customers
from st_mcp.services.errors import UserInputError
from st_mcp.services.interactions.models import IngestResult
from st_mcp.services.interactions.service import Interactions
from st_mcp.services.periodic import Leader, repeat
from st_mcp.services.reference import ReferenceData
from st_mcp.servicetitan import ServiceTitanClient
from st_mcp.servicetitan.models.crm import Lead
from st_mcp.store.interactions import InteractionRecords
from st_mcp.store.watermarks import Watermarks

POLLER = Principal("leads-poller", SYSTEM_ROLE)
WATERMARK = "servicetitan-leads"


class PollResult(BaseModel):
    since: datetime
    seen: int
    ingested: list[str]
    duplicates: int
    already_known: int
    unusable: list[str]  # "lead 123: no phone number"


class LeadPoller:
    def __init__(
        self,
        st: ServiceTitanClient,
        reference: ReferenceData,
        customers: Customers,
        interactions: Interactions,
        records: InteractionRecords,
        watermarks: Watermarks,
        *,
        lookback: timedelta,
        clock: Callable[[], datetime],
    ) -> None:
        self._st = st
        self._reference = reference
        self._customers = customers
        self._interactions = interactions
        self._records = records
        self._watermarks = watermarks
        self._lookback = lookback
        self._now = clock

    async def poll_once(self) -> PollResult:
        since = await self._watermarks.get(WATERMARK) or self._now() - self._lookback
        result = PollResult(since=since, seen=0, ingested=[], duplicates=0, already_known=0, unusable=[])
        newest = since
        async for lead in self._st.crm.iter_leads(status="Open", created_on_or_after=since):
            result.seen += 1
            newest = max(newest, lead.createdOn)
            if await self._records.exists_for_lead(lead.id):
                result.already_known += 1
                continue
            try:
                taken = await self._take_in(lead)
            except UserInputError as exc:
                result.unusable.append(f"lead {lead.id}: {exc}")
                continue
            if taken.duplicate:
                result.duplicates += 1
            else:
                result.ingested.append(taken.interaction_id)
        await self._watermarks.advance(WATERMARK, newest)
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


async def poll_forever(poller: LeadPoller, interval_seconds: int, *, leader: Leader | None = None) -> None:
    async def once() -> str | None:
        result = await poller.poll_once()
        return f"took in {len(result.ingested)} lead(s)" if result.ingested else None

    await repeat("leads poller", interval_seconds, once, leader=leader)
