"""The live facts a prompt is rendered with, as plain text for its ``$placeholders``.

A prompt about one conversation gets ``CONVERSATION_KEYS``: the persona, the lead and the thread, the
caller's ServiceTitan history (matched by phone), the service area and the bookable job types. The triage
prompt gets ``TRIAGE_KEYS``: the persona, the counters and the conversations that need a person.
ServiceTitan pieces degrade to a note when ServiceTitan does not answer: the prompt is still worth
having, and the note tells the model which tool to call instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import anyio

from st_mcp.config import Settings
from st_mcp.services.bounds import quoted
from st_mcp.services.catalog import Catalog
from st_mcp.services.concurrency import Later
from st_mcp.services.customers import LOOKUP_SECTIONS, CustomerMatch, Customers
from st_mcp.services.errors import UserInputError
from st_mcp.services.interactions.models import InteractionDetail, InteractionList, ThreadItem
from st_mcp.services.interactions.service import Interactions
from st_mcp.services.reference import ReferenceData
from st_mcp.servicetitan import ServiceTitanError

log = logging.getLogger("st_mcp.prompts")

PERSONA_KEYS = ("company_name", "agent_name", "trades", "tone", "support_phone", "now")
CONVERSATION_KEYS = (
    *PERSONA_KEYS,
    "interaction_id", "status", "goal", "channel", "lead_name", "lead_first_name", "lead_phone",
    "lead_source", "lead_request", "lead_address", "received_at", "overview_summary", "recent_thread",
    "customer_history", "service_area", "job_types",
)  # fmt: skip
TRIAGE_KEYS = (*PERSONA_KEYS, "since", "counters", "escalated", "hot", "not_contacted")

THREAD_LINES = 8  # the model reads the prompt every turn: the latest lines, not the whole thread
LINE_CHARS = 300
ZIPS_PER_ZONE = 4
LIST_LIMIT = 10
UNAVAILABLE = "ServiceTitan did not answer just now"


class PromptContext:
    def __init__(
        self,
        interactions: Interactions,
        customers: Customers,
        catalog: Catalog,
        reference: ReferenceData,
        settings: Settings,
        clock: Callable[[], datetime],
    ) -> None:
        self._interactions = interactions
        self._customers = customers
        self._catalog = catalog
        self._reference = reference
        self._settings = settings
        self._now = clock
        self._zone = ZoneInfo(settings.booking.business_timezone)

    def persona(self) -> dict[str, str]:
        persona = self._settings.persona
        return {
            "company_name": persona.company_name,
            "agent_name": persona.agent_name,
            "trades": ", ".join(persona.trades) or "home services",
            "tone": persona.tone,
            "support_phone": persona.support_phone,
            "now": self._when(self._now(), zone_name=True),
        }

    async def conversation(self, interaction_id: str, *, can_hear_calls: bool) -> dict[str, str]:
        """Everything about one conversation; raises ``NotFound`` for an unknown id (nothing is written)."""
        detail = await self._interactions.detail(interaction_id, can_hear_calls=can_hear_calls)
        async with anyio.create_task_group() as tg:
            history = Later(tg, self._customer_history(detail.phone))
            area = Later(tg, self._service_area())
            job_types = Later(tg, self._job_types())
        name = _lead_name(detail)
        return {
            **self.persona(),
            "interaction_id": detail.interaction_id,
            "status": detail.status,
            "goal": detail.goal,
            "channel": detail.channel,
            "lead_name": name,
            "lead_first_name": name.split()[0] if detail.name and name == detail.name else "there",
            "lead_phone": detail.phone or "unknown",
            "lead_source": detail.source or "not given",
            "lead_request": detail.request or "not given yet (ask what they need)",
            "lead_address": detail.address or "not given yet (ask for it)",
            "received_at": self._when(detail.received_at),
            "overview_summary": detail.overview_summary,
            "recent_thread": self._thread(detail.thread),
            "customer_history": history.value,
            "service_area": area.value,
            "job_types": job_types.value,
        }

    async def triage(self, since: str | None) -> dict[str, str]:
        """Counters for the period, and the open conversations that need a person right now."""
        now = self._now()
        start = self._parse_since(since) if since else now - timedelta(hours=24)
        stats = await self._interactions.stats(since=start, until=now, goal=None)
        escalated = await self._interactions.list(escalated_only=True, limit=LIST_LIMIT)
        hot = await self._interactions.list(status="Active: Hot", limit=LIST_LIMIT)
        started = await self._interactions.list(status="Started", limit=LIST_LIMIT)
        by_status = ", ".join(f"{status} {count}" for status, count in stats.counts_by_status.items())
        counters = (
            f"Conversations {stats.conversations} · Escalated {stats.escalated} · "
            f"High Activity {stats.high_activity} · Response rate {_percent(stats.response_rate)} · "
            f"Conversion rate {_percent(stats.conversion_rate)} · "
            f"Median speed to lead {_seconds(stats.median_speed_to_lead_seconds)}\n"
            f"By status: {by_status or 'none'}"
        )
        return {
            **self.persona(),
            "since": self._when(start, zone_name=True),
            "counters": counters,
            "escalated": self._rows(escalated),
            "hot": self._rows(hot),
            "not_contacted": self._rows(started),
        }

    # ------------------------------------------------------------------ pieces
    async def _customer_history(self, phone: str | None) -> str:
        if not phone:
            return "Phone unknown: ask for it, then lookup_customer."
        try:
            found = await self._customers.lookup(
                phone=phone, name=None, email=None, now=self._now(), include=LOOKUP_SECTIONS
            )
        except (ServiceTitanError, UserInputError) as exc:
            log.warning("prompt context: customer lookup failed: %s", type(exc).__name__)
            return f"{UNAVAILABLE}: call lookup_customer before booking."
        if not found.customers:
            return (
                "No ServiceTitan customer has this phone: a new customer. "
                "Ask for their name and service address, then create_customer."
            )
        blocks = [self._customer(match) for match in found.customers[:3]]
        if len(found.customers) > 1:
            blocks.insert(0, f"{len(found.customers)} customers share this phone: confirm which one.")
        return "\n".join(blocks)

    def _customer(self, c: CustomerMatch) -> str:
        flag = " — DO NOT SERVICE: do not book; escalate_to_dispatcher" if c.do_not_service else ""
        lines = [f"Existing customer: {c.name} (customer_id {c.customer_id}, {c.type}){flag}"]
        places = [
            f"{loc.address} (location_id {loc.location_id}, "
            + (f"in area: {loc.zone or 'yes'})" if loc.in_service_area else "OUTSIDE the service area)")
            for loc in c.locations
        ]
        jobs = [
            f"#{j.job_number} {j.job_type}, {j.status}, {j.created_on:%b %d %Y}"
            for j in (c.recent_jobs or [])[:3]
        ]
        upcoming = [f"{a.label} (job_id {a.job_id}, {a.status})" for a in c.upcoming_appointments or []]
        members = [f"{m.status} (membership_id {m.membership_id})" for m in c.memberships or []]
        for label, items in (
            ("Locations", places),
            ("Recent jobs", jobs),
            ("Upcoming appointments", upcoming),
            ("Memberships", members),
        ):
            lines.append(f"- {label}: {'; '.join(items) if items else 'none'}")
        return "\n".join(lines)

    async def _service_area(self) -> str:
        configured = self._settings.booking.service_area_zips
        if configured is not None:
            return f"ZIPs {', '.join(configured[:12])}{' …' if len(configured) > 12 else ''}"
        try:
            zones = await self._reference.zones()
        except ServiceTitanError:
            return (
                f"{UNAVAILABLE}; lookup_customer and create_customer say whether an address is in the area."
            )
        parts = []
        for zone in zones:
            zips = zone.zips or []
            more = f", … {len(zips)} ZIPs" if len(zips) > ZIPS_PER_ZONE else ""
            parts.append(f"{zone.name or f'zone {zone.id}'} ({', '.join(zips[:ZIPS_PER_ZONE])}{more})")
        if not parts:
            return "not configured: escalate_to_dispatcher before booking."
        return "; ".join(parts) + ". lookup_customer and create_customer say whether an address is in it."

    async def _job_types(self) -> str:
        try:
            types = await self._catalog.bookable_job_types()
        except ServiceTitanError:
            return f"{UNAVAILABLE}; get_available_slots accepts a job type name and says which exist."
        return ", ".join(sorted(t.name for t in types)) or "none: escalate_to_dispatcher"

    def _thread(self, items: list[ThreadItem]) -> str:
        if not items:
            return "(nothing yet: this is the first contact)"
        lines = []
        for item in items[-THREAD_LINES:]:
            text = " ".join(item.text.split())
            text = text if len(text) <= LINE_CHARS else text[: LINE_CHARS - 1] + "…"
            kind = f" (call, {item.duration_seconds or 0} s)" if item.kind == "call" else ""
            lines.append(f"- {self._when(item.at)} · {item.sender}{kind}: {text}")
        skipped = len(items) - THREAD_LINES
        return (f"({skipped} earlier line(s) not shown)\n" if skipped > 0 else "") + "\n".join(lines)

    def _rows(self, page: InteractionList) -> str:
        if not page.items:
            return "None."
        lines = [
            f"- {r.name or r.phone or 'Unknown'} · {r.interaction_id} · {r.status} · "
            f"{r.source or 'no source'} · last activity {self._when(r.last_activity_at)} — {r.summary}"
            for r in page.items
        ]
        if page.total_matching > len(page.items):
            lines.append(f"(and {page.total_matching - len(page.items)} more: list_interactions)")
        return "\n".join(lines)

    # ------------------------------------------------------------------ time
    def _when(self, moment: datetime, *, zone_name: bool = False) -> str:
        local = moment.astimezone(self._zone)
        hour = f"{local:%I}".lstrip("0") + f":{local:%M} {local:%p}"
        return f"{local:%a %b} {local.day}, {hour}" + (f" {local:%Z}" if zone_name else "")

    def _parse_since(self, text: str) -> datetime:
        try:
            moment = datetime.fromisoformat(text.strip())
        except ValueError:
            raise UserInputError(
                f"'since' must be an ISO 8601 date or date-time (e.g. 2026-05-05 or "
                f"2026-05-05T08:00-06:00), not {quoted(text)}."
            ) from None
        # A bare date is midnight; without a zone, it is business time.
        return moment if moment.tzinfo else moment.replace(tzinfo=self._zone)


def _lead_name(detail: InteractionDetail) -> str:
    # An unknown inbound number is recorded with the phone as its name; that is not a name to greet.
    if not detail.name or detail.name == detail.phone:
        return "unknown (ask their name)"
    return detail.name


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def _seconds(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.0f} s" if value < 120 else f"{value / 60:.0f} min"
