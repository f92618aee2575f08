"""Real bookable windows from ServiceTitan capacity, each with a signed slot_id.

Capacity answers are cached briefly (they change when anyone books) and dropped after every booking
this server makes; ``window_has_room`` always asks ServiceTitan afresh, because a booking decision
must not rest on a cached answer.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from async_lru import alru_cache
from pydantic import BaseModel

from st_mcp.config import BookingSettings
from st_mcp.services.bounds import moment
from st_mcp.services.catalog import Catalog
from st_mcp.services.errors import UserInputError
from st_mcp.services.slots import SlotClaim, SlotSigner
from st_mcp.services.timefmt import window_label
from st_mcp.servicetitan import ServiceTitanClient
from st_mcp.servicetitan.models.dispatch import CapacityAvailability, CapacityRequest
from st_mcp.servicetitan.models.jpm import JobType

Urgency = Literal["routine", "soon", "emergency"]
CAPACITY_TTL_SECONDS = 20.0
HORIZON_DAYS = 14  # how far ahead windows are offered
MAX_CAPACITY_SPAN = timedelta(days=7)  # the most ServiceTitan's capacity answers in one request
_URGENCY_DAYS = {"emergency": 1, "soon": 2}


class Slot(BaseModel):
    slot_id: str
    label: str
    start_local: datetime
    end_local: datetime
    start_utc: datetime
    end_utc: datetime
    business_unit_id: int
    technicians_available: int


class SlotOffer(BaseModel):
    job_type_id: int
    job_type: str
    duration_minutes: int
    zip: str
    searched_from: datetime
    searched_until: datetime
    slots: list[Slot]
    explanation: str | None = None


def open_technicians(window: CapacityAvailability) -> int:
    """Technicians who are free in the window and have the job type's skills."""
    return sum(1 for t in window.technicians if t.status == "Available" and t.hasRequiredSkills is not False)


class Availability:
    def __init__(
        self, st: ServiceTitanClient, catalog: Catalog, signer: SlotSigner, settings: BookingSettings
    ) -> None:
        self._st = st
        self._catalog = catalog
        self._signer = signer
        self._settings = settings
        self.zone = ZoneInfo(settings.business_timezone)
        self._cached_capacity = alru_cache(maxsize=256, ttl=CAPACITY_TTL_SECONDS)(self._capacity)

    def forget_capacity(self) -> None:
        self._cached_capacity.cache_clear()

    async def _capacity(
        self, start: datetime, end: datetime, unit_ids: tuple[int, ...], job_type_id: int
    ) -> list[CapacityAvailability]:
        request = CapacityRequest(
            startsOnOrAfter=start,
            endsOnOrBefore=end,
            businessUnitIds=list(unit_ids),
            jobTypeId=job_type_id,
            skillBasedAvailability=True,
        )
        return (await self._st.dispatch.capacity(request)).availabilities

    async def offer(
        self,
        job_type: JobType,
        zip_code: str,
        *,
        location_id: int | None,
        now: datetime,
        earliest: datetime | None = None,
        latest: datetime | None = None,
        urgency: Urgency = "routine",
        max_slots: int = 3,
    ) -> SlotOffer:
        earliest, latest = moment(earliest, "earliest"), moment(latest, "latest")
        start = max(
            _utc(earliest) if earliest else now, now + timedelta(minutes=self._settings.min_lead_minutes)
        )
        days = _URGENCY_DAYS.get(urgency, self._settings.search_days)
        end = _utc(latest) if latest else start + timedelta(days=days)
        horizon = now + timedelta(days=HORIZON_DAYS)
        if end <= start:
            raise UserInputError("'latest' must be after 'earliest' (and in the future). Widen the range.")
        if start >= horizon:
            raise UserInputError(
                f"Windows are offered up to {HORIZON_DAYS} days ahead; 'earliest' is later than that. "
                "Ask for an earlier date, or escalate_to_dispatcher with reason availability."
            )
        end = min(end, horizon)
        # Only the units that serve this ZIP: a technician of another branch (HVAC - Tampa) must not
        # make a Denver window look open, and booking re-checks the window for the slot's unit alone.
        serving = (await self._catalog.service_area(zip_code)).business_unit_ids
        units = tuple(u for u in job_type.businessUnitIds if serving is None or u in serving)
        windows: list[CapacityAvailability] = []
        if units:
            # Ask on whole hours so nearby requests share one cached capacity answer; filter exactly after.
            ask_from = start.replace(minute=0, second=0, microsecond=0)
            ask_until = end.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
            # ServiceTitan answers at most a week of capacity per request: longer spans go in parts (a
            # week asked for stays one request, its hour rounding trimmed to fit).
            if end - start <= MAX_CAPACITY_SPAN:
                ask_until = min(ask_until, ask_from + MAX_CAPACITY_SPAN)
            while ask_from < ask_until:
                part_end = min(ask_from + MAX_CAPACITY_SPAN, ask_until)
                windows += await self._cached_capacity(ask_from, part_end, units, job_type.id)
                ask_from = part_end
        usable = [w for w in windows if w.startUtc >= start and w.endUtc <= end and open_technicians(w) > 0]
        chosen = _spread_across_days(usable, self.zone, max_slots)
        expires = now + timedelta(minutes=self._settings.slot_ttl_minutes)
        slots = [self._slot(w, job_type, zip_code, location_id, expires) for w in chosen]
        explanation = None
        if not units:
            explanation = (
                f"No {job_type.name} team serves ZIP {zip_code}. "
                "escalate_to_dispatcher with reason skill_handling."
            )
        elif not slots:
            explanation = _nothing_open(start, end, self.zone, urgency)
        return SlotOffer(
            job_type_id=job_type.id,
            job_type=job_type.name,
            duration_minutes=job_type.duration // 60,
            zip=zip_code,
            searched_from=start,
            searched_until=end,
            slots=slots,
            explanation=explanation,
        )

    def _slot(
        self,
        window: CapacityAvailability,
        job_type: JobType,
        zip_code: str,
        location_id: int | None,
        expires: datetime,
    ) -> Slot:
        unit = window.businessUnitIds[0] if window.businessUnitIds else job_type.businessUnitIds[0]
        claim = SlotClaim(
            job_type_id=job_type.id,
            business_unit_id=unit,
            start=_utc(window.startUtc),
            end=_utc(window.endUtc),
            zip=zip_code,
            location_id=location_id,
            expires=expires,
        )
        return Slot(
            slot_id=self._signer.issue(claim),
            label=window_label(claim.start, claim.end, self.zone),
            start_local=claim.start.astimezone(self.zone),
            end_local=claim.end.astimezone(self.zone),
            start_utc=claim.start,
            end_utc=claim.end,
            business_unit_id=unit,
            technicians_available=open_technicians(window),
        )

    async def window_has_room(self, claim: SlotClaim) -> bool:
        """Ask ServiceTitan now (never the cache) whether the window can still take one more job."""
        windows = await self._capacity(claim.start, claim.end, (claim.business_unit_id,), claim.job_type_id)
        return any(_utc(w.startUtc) == claim.start and open_technicians(w) > 0 for w in windows)

    def label(self, start: datetime, end: datetime) -> str:
        return window_label(start, end, self.zone)


def _spread_across_days(
    windows: list[CapacityAvailability], zone: ZoneInfo, limit: int
) -> list[CapacityAvailability]:
    """Earliest window of each day first, then second-earliest…, so offers are not all on one day."""
    by_day: dict[object, list[CapacityAvailability]] = defaultdict(list)
    for window in sorted(windows, key=lambda w: w.startUtc):
        by_day[_utc(window.startUtc).astimezone(zone).date()].append(window)
    chosen: list[CapacityAvailability] = []
    rank = 0
    while len(chosen) < limit and any(len(day) > rank for day in by_day.values()):
        for day in sorted(by_day):
            if len(by_day[day]) > rank and len(chosen) < limit:
                chosen.append(by_day[day][rank])
        rank += 1
    return sorted(chosen, key=lambda w: w.startUtc)


def _nothing_open(start: datetime, end: datetime, zone: ZoneInfo, urgency: Urgency) -> str:
    span = f"{start.astimezone(zone):%a %b %d} to {end.astimezone(zone):%a %b %d}"
    advice = (
        "For an emergency, escalate_to_dispatcher with reason availability so the on-call team can help."
        if urgency == "emergency"
        else "Try a later 'latest', or escalate_to_dispatcher with reason availability."
    )
    return f"No open windows for this job from {span}. {advice}"


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
