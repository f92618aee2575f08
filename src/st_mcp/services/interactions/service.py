"""The interactions service: intake, the thread, status changes, CSR views and counters.

Every change goes through ``_change``: the state machine is asked first, then the write is committed
only if nobody changed the status meanwhile (optimistic check), so two processes (an agent and a CSR
on one database) cannot both win.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, TypeVar

from st_mcp.config import EngagementSettings
from st_mcp.policy.identity import Principal
from st_mcp.services.bounds import moment, quoted, short
from st_mcp.services.catalog import Catalog
from st_mcp.services.errors import Blocked, NotFound, Refused, UserInputError
from st_mcp.services.interactions import statuses as s
from st_mcp.services.interactions.models import (
    CallResult,
    Channel,
    Direction,
    Goal,
    HistoryItem,
    IngestResult,
    InteractionDetail,
    InteractionLinks,
    InteractionList,
    InteractionRowView,
    InteractionStats,
    InteractionType,
    MessageChannel,
    MessageResult,
    Outcome,
    StatusResult,
    ThreadItem,
)
from st_mcp.services.interactions.stats import open_statuses, summarize
from st_mcp.services.interactions.summary import generated_summary
from st_mcp.services.interactions.takeover import ensure_agent_may_act
from st_mcp.services.optout import DEFAULT as DEFAULT_OPT_OUT
from st_mcp.services.optout import OptOutDetector, is_help, is_opt_in
from st_mcp.services.outreach.gate import Clearance, ComplianceGate, Purpose
from st_mcp.services.phones import mask_phone, normalize_phone
from st_mcp.services.reference import ReferenceData
from st_mcp.store.counters import Filter
from st_mcp.store.deliveries import PENDING
from st_mcp.store.interactions import (
    CallRow,
    DeliveryRow,
    InteractionRecords,
    InteractionRow,
    ListFilter,
    MessageRow,
    StaleStatus,
    StatusChange,
    as_utc,
)
from st_mcp.store.receipts import Receipt
from st_mcp.store.suppressions import OptChange, SuppressionList
from st_mcp.store.transaction import serialized

OUTCOME_STATUSES: dict[str, str] = {
    "dismissed": s.DISMISSED_AGENT,
    "abandoned": s.ABANDONED,
    "failed": s.FAILED,
    "terminated": s.TERMINATED,
}
MAX_TEXT = 4000
MAX_THREAD_TEXT = 4 * MAX_TEXT  # one logged message or call transcript
MAX_ID = 40  # the store's id column; a longer one names nothing
DEFAULT_PERIOD = timedelta(days=30)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Reserved:
    """An outbound message the gate cleared and the store holds (pending, when a gateway sends it)."""

    result: MessageResult
    clearance: Clearance


class Interactions:
    def __init__(
        self,
        records: InteractionRecords,
        catalog: Catalog,
        reference: ReferenceData,
        settings: EngagementSettings,
        clock: Callable[[], datetime],
        *,
        gate: ComplianceGate,
        suppressions: SuppressionList,
        help_text: str,
        opt_out: OptOutDetector = DEFAULT_OPT_OUT,
    ) -> None:
        self._records = records
        self._opt_out = opt_out
        # Called with each new lead that may be contacted (Started); what they return joins the note.
        self.on_new_lead: list[Callable[[IngestResult], Awaitable[str | None]]] = []
        # Called when the lead queue gains work: a new lead to text, a reply waiting for an answer.
        self.on_queue_changed: list[Callable[[], Awaitable[None]]] = []
        # Called after a lead's text is committed: (the interaction as it was, the text, the result).
        self.on_inbound: list[Callable[[InteractionRow, str, MessageResult], Awaitable[None]]] = []
        self._gate = gate
        self._suppressions = suppressions
        self._help_text = help_text
        self._catalog = catalog
        self._reference = reference
        self._settings = settings
        self._now = clock
        self._thresholds = s.EngagementThresholds(
            settings.hot_minutes, settings.warm_minutes, settings.cool_minutes, settings.frequent_replies
        )

    # ------------------------------------------------------------------ intake
    async def ingest_lead(
        self,
        principal: Principal,
        *,
        name: str,
        phone: str,
        email: str | None = None,
        street: str | None = None,
        city: str | None = None,
        state: str | None = None,
        zip_code: str | None = None,
        summary: str | None = None,
        source: str | None = None,
        campaign_id: int | None = None,
        servicetitan_lead_id: int | None = None,
        goal: Goal = "Speed to Lead",
        channel: Channel = "SMS Agent",
        kind: InteractionType = "Lead",
        dedupe: bool = True,
        links: Mapping[str, object] | None = None,
        reason: str | None = None,
    ) -> IngestResult:
        if not name or not name.strip():
            raise UserInputError("'name' is required: the lead's name as received.")
        # The store's column widths, on every engine (PostgreSQL refuses what SQLite would keep).
        for field, value in (("name", name), ("email", email), ("street", street)):
            short(value or "", field, 200)
        for field, value in (("city", city), ("source", source)):
            short(value or "", field, 100)
        short(summary or "", "summary", MAX_TEXT)
        short(zip_code or "", "zip", 10)
        e164 = normalize_phone(phone)
        if dedupe and (existing := await self._recent_for_phone(e164)) is not None:
            return self._duplicate(existing)  # before asking ServiceTitan anything
        in_area = None
        status, received_reason = s.STARTED, reason
        reason = None
        if zip_code:
            area = await self._catalog.service_area(zip_code)
            in_area = area.in_area
            if not area.in_area:
                status, reason = s.DISMISSED_AGENT, f"ZIP {area.zip} is outside the service area"
        campaign_id = campaign_id or await self._campaign_for_source(source)
        interaction_id = _new_id("int")
        # The dedupe and the insert as one step per phone: the same lead arriving twice at once (the
        # webhook and the poller, two replicas) opens one interaction.
        async with serialized(self._records.engine, f"lead:{e164}", tenant=self._records.tenant):
            if dedupe and (existing := await self._recent_for_phone(e164)) is not None:
                return self._duplicate(existing)
            now = self._now()
            await self._records.create(
                {
                    "id": interaction_id,
                    "goal": goal,
                    "channel": channel,
                    "type": kind,
                    "status": status,
                    "status_reason": reason,
                    "name": name.strip(),
                    "phone": e164,
                    "email": email.strip() if email else None,
                    "street": street,
                    "city": city,
                    "state": state.strip().upper() if state else None,
                    "zip": zip_code.strip()[:5] if zip_code else None,
                    "request": summary.strip() if summary else None,
                    "source": source,
                    "campaign_id": campaign_id,
                    "servicetitan_lead_id": servicetitan_lead_id,
                    "in_service_area": in_area,
                    "received_at": now,
                    "last_activity_at": now,
                    "inbound_count": 0,
                    "outbound_count": 0,
                    **(links or {}),
                },
                actor=principal.name,
                reason=reason or received_reason or "lead received",
            )
        note = (
            f"Dismissed: {reason}. Do not contact this lead about booking."
            if reason
            else "New lead: contact them now, then offer real windows from get_available_slots."
        )
        result = IngestResult(
            interaction_id=interaction_id,
            status=status,
            duplicate=False,
            in_service_area=in_area,
            campaign_id=campaign_id,
            note=note,
        )
        if status == s.STARTED:
            for hook in self.on_new_lead:
                if said := await hook(result):
                    result = result.model_copy(update={"note": said})
            await self._queue_changed()
        return result

    async def _queue_changed(self) -> None:
        for listener in self.on_queue_changed:
            await listener()

    async def _recent_for_phone(self, e164: str) -> InteractionRow | None:
        window = self._now() - timedelta(hours=self._settings.dedupe_hours)
        return await self._records.latest_open_for_phone(e164, s.ALL_STATUSES, since=window)

    def _duplicate(self, existing: InteractionRow) -> IngestResult:
        return IngestResult(
            interaction_id=existing.id,
            status=existing.status,
            duplicate=True,
            duplicate_of=existing.id,
            in_service_area=existing.in_service_area,
            campaign_id=existing.campaign_id,
            note=f"Duplicate: this phone already has interaction {existing.id} from the last "
            f"{self._settings.dedupe_hours} h. Continue that conversation; nothing new was created.",
        )

    async def _campaign_for_source(self, source: str | None) -> int | None:
        if not source:
            return None
        campaign = await self._reference.campaign(source)
        return campaign.id if campaign else None

    # ------------------------------------------------------------------ thread
    async def log_message(
        self,
        principal: Principal,
        *,
        interaction_id: str | None,
        phone: str | None,
        direction: Direction,
        text: str,
        channel: MessageChannel = "sms",
        receipt: Receipt | None = None,
    ) -> MessageResult:
        body = _text(text)
        row = await self._resolve(interaction_id, phone, inbound=direction == "inbound", principal=principal)
        if direction == "inbound":
            result = await self.record_inbound(principal, row, body, channel=channel, receipt=receipt)
            for hook in self.on_inbound:  # e.g. a post-job rating reply (services/lifecycle/survey.py)
                await hook(row, body, result)
            return result
        # A platform that delivers texts itself still passes the gate before it may record one sent.
        reserved = await self.reserve_message(
            principal, row, body, channel=channel, gate_channel="voice" if channel == "voice" else "sms"
        )
        return reserved.result

    async def reserve_message(
        self,
        principal: Principal,
        row: InteractionRow,
        body: str,
        *,
        channel: MessageChannel = "sms",
        gate_channel: Literal["sms", "voice"] = "sms",
        purpose: Purpose = "conversation",
        gateway: str | None = None,
    ) -> Reserved:
        """The compliance gate and the touch it allows, as one step: under the lead's lock the gate
        decides on what the store says *now*, and the outbound message is written (with ``gateway``,
        as a ``pending`` delivery the caller settles once the gateway answers). A refusal raises
        ``Blocked`` and writes nothing; either way the decision is an audit record."""

        async def write(fresh: InteractionRow, clearance: Clearance, now: datetime) -> MessageResult:
            values: dict[str, object] = {"outbound_count": fresh.outbound_count + 1, "last_activity_at": now}
            if fresh.first_outbound_at is None:
                values["first_outbound_at"] = now
            change = None
            if clearance.purpose == "conversation":
                change = self._engagement_change(
                    fresh,
                    principal,
                    now,
                    last_inbound=fresh.last_inbound_at,
                    inbound_24h=await self._recent(fresh, now),
                )
            sender_name = None if principal.sender_kind == "agent" else principal.name
            message = MessageRow(
                _new_id("msg"), fresh.id, "outbound", channel, principal.sender_kind, sender_name, body, now
            )
            pending = DeliveryRow(message.id, gateway, None, PENDING) if gateway is not None else None
            await self._apply(
                fresh,
                change,
                by_ai=principal.is_ai,
                write=lambda: self._records.add_message(
                    message, values, expected_status=fresh.status, change=change, delivery=pending
                ),
            )
            status = change.to_status if change else fresh.status
            return MessageResult(
                interaction_id=fresh.id,
                message_id=message.id,
                direction="outbound",
                status=status,
                opted_out=False,
                opted_in=False,
                note=_message_note("outbound", status, fresh.status),
            )

        result, clearance = await self._through_gate(principal, row, gate_channel, purpose, write)
        return Reserved(result, clearance)

    async def _through_gate(
        self,
        principal: Principal,
        row: InteractionRow,
        channel: Literal["sms", "voice"],
        purpose: Purpose,
        write: Callable[[InteractionRow, Clearance, datetime], Awaitable[T]],
    ) -> tuple[T, Clearance]:
        """Decide and write inside the lead's serialized section (two sends for one lead, from any two
        processes, are decided one after the other, each seeing the other's touch); record the gate's
        decision after the commit."""
        try:
            async with serialized(self._records.engine, _lead_key(row), tenant=self._records.tenant):
                fresh = await self.row(row.id)
                now = self._now()  # one instant: what the gate decided at is what the touch says
                clearance = await self._gate.decide(
                    principal,
                    fresh,
                    linked=await self._linked(fresh),
                    channel=channel,
                    purpose=purpose,
                    now=now,
                )
                closed = s.group_of(fresh.status) not in s.AGENT_MAY_ACT_GROUPS
                if principal.is_ai and clearance.purpose == "conversation" and closed:
                    raise Refused(
                        f"Interaction {fresh.id} is {fresh.status}; "
                        "the virtual agent does not message closed conversations."
                    )
                written = await write(fresh, clearance, now)
        except Blocked as refusal:
            await self._gate.record_refusal(principal, row, channel, purpose, refusal)
            raise
        await self._gate.record_allowed(principal, row, channel, clearance)
        return written, clearance

    async def record_inbound(
        self,
        principal: Principal,
        row: InteractionRow,
        body: str,
        *,
        channel: MessageChannel = "sms",
        receipt: Receipt | None = None,
    ) -> MessageResult:
        """The lead's own message: opt-out/opt-in/HELP detection, temperature, suppression — one commit,
        in the lead's serialized section (a STOP and a send for the same lead never interleave).
        ``receipt``: the webhook delivery it came with; a replay raises ``AlreadyReceived``, unchanged."""
        async with serialized(self._records.engine, _lead_key(row), tenant=self._records.tenant):
            row = await self.row(row.id)
            now = self._now()
            values = {"inbound_count": row.inbound_count + 1, "last_inbound_at": now, "last_activity_at": now}
            change = self._inbound_change(row, body, principal, now, await self._recent(row, now))
            opt = await self._opt_change(row, body, now, "voice" if channel == "voice" else "sms")
            message = MessageRow(_new_id("msg"), row.id, "inbound", channel, "lead", row.name, body, now)
            fresh = row
            await self._apply(
                fresh,
                change,
                # What the lead writes changes the status by the lead's own decision (a STOP is honoured
                # even in Takeover, whoever relays it).
                by_ai=False,
                write=lambda: self._records.add_message(
                    message, values, expected_status=fresh.status, change=change, opt=opt, receipt=receipt
                ),
            )
        status = change.to_status if change else row.status
        await self._queue_changed()
        opted_out = opt is not None and opt.kind == "out"
        help_text = self._help_text if is_help(body) else None
        note = _message_note("inbound", status, row.status, opted_out=opted_out)
        if help_text:
            note = f"The lead asked for HELP; reply with exactly: {help_text}"
        return MessageResult(
            interaction_id=row.id,
            message_id=message.id,
            direction="inbound",
            status=status,
            opted_out=opted_out,
            opted_in=opt is not None and opt.kind == "in",
            help_text=help_text,
            note=note,
        )

    async def _opt_change(
        self, row: InteractionRow, body: str, now: datetime, channel: str
    ) -> OptChange | None:
        if row.phone is None:
            return None
        if self._opt_out.is_opt_out(body):
            return OptChange("out", row.phone, now, row.id, channel, f"lead said '{body[:80]}'")
        if is_opt_in(body) and await self._suppressions.active(row.phone) is not None:
            return OptChange("in", row.phone, now, row.id, channel, "lead opted back in")
        return None

    async def log_call(
        self,
        principal: Principal,
        *,
        interaction_id: str | None,
        phone: str | None,
        direction: Direction,
        transcript: str,
        duration_seconds: int,
        recording_url: str | None = None,
        outcome: str | None = None,
    ) -> CallResult:
        body = _text(transcript, field="transcript")
        if duration_seconds < 0:
            raise UserInputError("duration_seconds cannot be negative.")
        short(recording_url or "", "recording_url", 500)
        short(outcome or "", "outcome", 100)
        row = await self._resolve(
            interaction_id, phone, inbound=direction == "inbound", principal=principal, voice=True
        )

        async def write(fresh: InteractionRow, _clearance: Clearance | None, now: datetime) -> CallResult:
            return await self._write_call(
                principal, fresh, now, direction, body, duration_seconds, recording_url, outcome
            )

        if direction == "outbound":
            result, _ = await self._through_gate(principal, row, "voice", "conversation", write)
            return result
        async with serialized(self._records.engine, _lead_key(row), tenant=self._records.tenant):
            return await write(await self.row(row.id), None, self._now())

    async def _write_call(
        self,
        principal: Principal,
        row: InteractionRow,
        now: datetime,
        direction: Direction,
        body: str,
        duration_seconds: int,
        recording_url: str | None,
        outcome: str | None,
    ) -> CallResult:
        values: dict[str, object] = {"last_activity_at": now}
        change = None
        opted_out = any(self._opt_out.is_opt_out(line) for line in body.splitlines() if line.strip())
        opt = (
            OptChange("out", row.phone, now, row.id, "voice", "asked not to be contacted on a call")
            if opted_out and row.phone
            else None
        )
        if opted_out and s.OPT_OUT in s.TRANSITIONS[s.group_of(row.status)]:
            change = StatusChange(s.OPT_OUT, "asked not to be contacted (call)", principal.name)
        elif direction == "outbound" and row.first_outbound_at is None:
            values["first_outbound_at"] = now
            change = self._engagement_change(
                row,
                principal,
                now,
                last_inbound=row.last_inbound_at,
                inbound_24h=await self._recent(row, now),
            )
        elif direction == "inbound":
            # A call from the lead is a reply, for temperature and for the response rate alike.
            values.update(inbound_count=row.inbound_count + 1, last_inbound_at=now)
            change = self._engagement_change(
                row, principal, now, last_inbound=now, inbound_24h=await self._recent(row, now) + 1
            )
        call = CallRow(
            _new_id("call"),
            row.id,
            direction,
            body,
            recording_url,
            duration_seconds,
            outcome,
            principal.sender_kind if direction == "outbound" else "lead",
            (None if principal.is_ai else principal.name) if direction == "outbound" else row.name,
            now,
        )
        await self._apply(
            row,
            change,
            by_ai=principal.is_ai and not opted_out,  # an opt-out is the caller's decision
            write=lambda: self._records.add_call(
                call, values, expected_status=row.status, change=change, opt=opt
            ),
        )
        status = change.to_status if change else row.status
        return CallResult(
            interaction_id=row.id,
            call_id=call.id,
            status=status,
            opted_out=status == s.OPT_OUT and row.status != s.OPT_OUT,
            note="Call logged."
            + (" The lead asked not to be contacted: opted out." if status == s.OPT_OUT else ""),
        )

    async def _resolve(
        self,
        interaction_id: str | None,
        phone: str | None,
        *,
        inbound: bool,
        principal: Principal,
        voice: bool = False,
    ) -> InteractionRow:
        if interaction_id:
            return await self.row(interaction_id)
        if not phone:
            raise UserInputError("Give interaction_id, or the lead's phone.")
        e164 = normalize_phone(phone)
        found = await self._records.latest_open_for_phone(e164, s.ALL_STATUSES)
        if found is not None:
            return found
        if not inbound:
            raise NotFound(f"No interaction for {e164}. Use ingest_lead first, or give interaction_id.")
        # A first inbound text or call from an unknown number opens an inbound interaction.
        created = await self.ingest_lead(
            principal,
            name=e164,
            phone=e164,
            goal="Inbound Voice" if voice else "Inbound SMS",
            channel="Voice Agent" if voice else "SMS Agent",
        )
        return await self.row(created.interaction_id)

    def _engagement_change(
        self,
        row: InteractionRow,
        principal: Principal,
        now: datetime,
        *,
        last_inbound: datetime | None,
        inbound_24h: int,
    ) -> StatusChange | None:
        group = s.group_of(row.status)
        if group not in (s.STARTED, s.ACTIVE, s.ABANDONED):
            return None
        status = s.engagement_status(
            last_inbound=last_inbound,
            inbound_last_24h=inbound_24h,
            now=now,
            thresholds=self._thresholds,
        )
        return StatusChange(status, None, principal.name) if status != row.status else None

    def _inbound_change(
        self, row: InteractionRow, text: str, principal: Principal, now: datetime, recent: int
    ) -> StatusChange | None:
        if self._opt_out.is_opt_out(text) and s.OPT_OUT in s.TRANSITIONS[s.group_of(row.status)]:
            return StatusChange(s.OPT_OUT, f"lead replied '{text[:40]}'", principal.name)
        if row.status == s.OPT_OUT:
            if is_opt_in(text):
                return StatusChange(s.ACTIVE_HOT, "lead opted back in", principal.name)
            return None
        return self._engagement_change(row, principal, now, last_inbound=now, inbound_24h=recent + 1)

    async def _recent(self, row: InteractionRow, now: datetime) -> int:
        """The lead's replies in the 24 h before ``now`` (what lifts the temperature one step)."""
        counts = await self._records.inbound_counts_since(
            now - timedelta(hours=24), now, interaction_id=row.id
        )
        return counts.get(row.id, 0)

    async def _apply(
        self,
        row: InteractionRow,
        change: StatusChange | None,
        *,
        by_ai: bool,
        write: Callable[[], Awaitable[None]],
    ) -> None:
        """Ask the state machine about the status change first, then commit the write — in the lead's
        serialized section, so a status change (a takeover, an opt-out) and a send decided for the same
        lead are ordered, never interleaved."""
        if change is not None:
            self._check(row, change, by_ai=by_ai)
        try:
            async with serialized(self._records.engine, _lead_key(row), tenant=self._records.tenant):
                await write()
        except StaleStatus:
            raise UserInputError(
                f"Interaction {row.id} changed while this was being saved; read it again and retry."
            ) from None

    # ------------------------------------------------------------------ status
    async def update(
        self, principal: Principal, *, interaction_id: str, summary: str | None, outcome: Outcome | None
    ) -> StatusResult:
        if summary is None and outcome is None:
            raise UserInputError("Give a summary, an outcome, or both.")
        row = await self.row(interaction_id)
        values: dict[str, object] = {"last_activity_at": self._now()}
        if summary is not None:
            if not summary.strip():
                raise UserInputError("The summary cannot be empty.")
            values["summary"] = short(summary.strip(), "summary", MAX_TEXT)
        change = None
        if outcome is not None:
            target = OUTCOME_STATUSES[outcome] if principal.is_ai else outcome_for_human(outcome)
            change = StatusChange(target, f"closed by {principal.name}: {outcome}", principal.name)
            values["outcome"] = outcome
        return await self._change(row, principal, values, change, note="Interaction updated.")

    async def takeover(self, principal: Principal, *, interaction_id: str, note: str | None) -> StatusResult:
        if principal.is_ai:
            raise Refused("Only a person can take a conversation over.")
        row = await self.row(interaction_id)
        if s.group_of(row.status) in s.CLOSED_GROUPS or row.status == s.TAKEOVER:
            raise Refused(
                f"Interaction {row.id} is {row.status}, which is closed (or already taken over); "
                "nothing to take over."
            )
        change = StatusChange(s.TAKEOVER, note or f"taken over by {principal.name}", principal.name)
        values = {"taken_over_by": principal.name, "last_activity_at": self._now()}
        return await self._change(
            row,
            principal,
            values,
            change,
            note=f"Taken over: the virtual agent stops messaging and booking for {row.name or row.phone}.",
        )

    async def dismiss(self, principal: Principal, *, interaction_id: str, reason: str) -> StatusResult:
        if not reason or not reason.strip():
            raise UserInputError("'reason' is required: why is this interaction dismissed?")
        row = await self.row(interaction_id)
        target = s.DISMISSED_AGENT if principal.is_ai else s.DISMISSED_HUMAN
        change = StatusChange(target, reason.strip(), principal.name)
        values = {"status_reason": reason.strip(), "last_activity_at": self._now()}
        return await self._change(row, principal, values, change, note="Dismissed.")

    async def abandon(self, principal: Principal, row: InteractionRow, reason: str) -> StatusResult | None:
        """The cadence ended without a reply. None if the conversation moved on meanwhile."""
        change = StatusChange(s.ABANDONED, reason, principal.name)
        try:
            return await self._change(row, principal, {"status_reason": reason}, change, note="Abandoned.")
        except UserInputError:
            return None  # changed under us (a reply, a takeover): nothing to abandon

    async def record_booking(
        self,
        principal: Principal,
        interaction_id: str,
        *,
        job_id: int,
        job_number: str,
        customer_id: int,
        location_id: int,
    ) -> None:
        """A job was booked in this conversation: Converted: Agent (AI) or Converted: Human."""
        row = await self.row(interaction_id)
        if row.job_id == job_id:
            return  # a replayed or reconciled booking: already recorded
        target = s.CONVERTED_AGENT if principal.is_ai else s.CONVERTED_HUMAN
        values = {
            "job_id": job_id,
            "job_number": job_number,
            "customer_id": customer_id,
            "location_id": location_id,
            "type": row.type,
            "last_activity_at": self._now(),
        }
        await self._change(
            row, principal, values, StatusChange(target, f"booked job {job_number}", principal.name)
        )

    async def link_customer(self, interaction_id: str, *, customer_id: int, location_id: int | None) -> None:
        """Link a conversation the server opened about a known customer (an estimate, a tune-up) to them."""
        row = await self.row(interaction_id)
        values = {"customer_id": customer_id, "location_id": location_id}
        await self._records.update(row.id, values, expected_status=row.status, at=self._now())

    async def record_escalation(
        self, principal: Principal, interaction_id: str, *, status: str, note: str
    ) -> str:
        row = await self.row(interaction_id)
        values = {"status_reason": note[:500], "last_activity_at": self._now()}
        result = await self._change(row, principal, values, StatusChange(status, note[:500], principal.name))
        return result.status

    async def record_event(
        self, principal: Principal, interaction_id: str, note: str, values: Mapping[str, object] | None = None
    ) -> str:
        """Something happened around this conversation that changes nothing about its status (a callback
        asked for, the technician dispatched, a job completed): written to its history, status unchanged.
        ``values``: fields to set with it (the post-job rating as the outcome, the summary)."""
        row = await self.row(interaction_id)
        now = self._now()
        await self._apply(
            row,
            None,
            by_ai=principal.is_ai,
            write=lambda: self._records.add_event(
                row.id,
                # Not the lead's or the agent's activity: last_activity_at stays (it orders conversations).
                dict(values or {}),
                expected_status=row.status,
                event=StatusChange(row.status, note[:500], principal.name),
                at=now,
            ),
        )
        return row.status

    async def check_may_book(
        self,
        principal: Principal,
        interaction_id: str | None,
        *,
        lead_id: int | None,
        customer_id: int,
        phones: Sequence[str] = (),
    ) -> None:
        """Before a booking: the takeover lock, and that the conversation can still convert.

        ``phones`` are the customer's numbers in ServiceTitan: a lead taken over before any booking is
        linked to the customer only through its phone.
        """
        linked = await self._records.linked(lead_id=lead_id, customer_id=customer_id, phones=phones)
        if interaction_id is not None:
            row = await self.row(interaction_id)
            linked.append(row)
            ensure_agent_may_act(principal, linked, "book jobs", conversation=row.id)
            target = s.CONVERTED_AGENT if principal.is_ai else s.CONVERTED_HUMAN
            self._check(row, StatusChange(target, None, principal.name), by_ai=principal.is_ai)
        else:
            ensure_agent_may_act(principal, linked, "book jobs")

    async def ensure_can_become(self, principal: Principal, interaction_id: str, status: str) -> None:
        """Refuse early (before anything is written upstream) a change the state machine forbids."""
        row = await self.row(interaction_id)
        ensure_agent_may_act(principal, await self._linked(row), "act", conversation=row.id)
        self._check(row, StatusChange(status, None, principal.name), by_ai=principal.is_ai)

    async def check_may_act(self, principal: Principal, interaction_id: str, action: str) -> None:
        row = await self.row(interaction_id)
        ensure_agent_may_act(principal, await self._linked(row), action, conversation=row.id)

    async def _change(
        self,
        row: InteractionRow,
        principal: Principal,
        values: dict[str, object],
        change: StatusChange | None,
        *,
        note: str = "",
    ) -> StatusResult:
        await self._apply(
            row,
            change,
            by_ai=principal.is_ai,
            write=lambda: self._records.update(
                row.id, values, expected_status=row.status, change=change, at=self._now()
            ),
        )
        status = change.to_status if change else row.status
        return StatusResult(interaction_id=row.id, status=status, previous_status=row.status, note=note)

    @staticmethod
    def _check(row: InteractionRow, change: StatusChange, *, by_ai: bool) -> None:
        try:
            s.check_transition(row.status, change.to_status, by_ai=by_ai)
        except s.TransitionRefused as exc:
            raise Refused(f"{exc} (interaction {row.id})") from None

    async def _linked(self, row: InteractionRow) -> list[InteractionRow]:
        linked = await self._records.linked(
            lead_id=row.servicetitan_lead_id,
            customer_id=row.customer_id,
            phones=[row.phone] if row.phone else [],
        )
        return [*linked, row]

    async def row(self, interaction_id: str) -> InteractionRow:
        wanted = interaction_id.strip()
        row = await self._records.get(wanted) if len(wanted) <= MAX_ID else None
        if row is None:
            raise NotFound(f"No interaction with id {quoted(wanted)}. Use list_interactions to find it.")
        return row

    async def of_job(self, job_id: int) -> list[InteractionRow]:
        """The conversations linked to a job (the one that booked it, its follow-up), newest first."""
        return await self._records.of_job(job_id)

    async def outbound_texts_since(self, interaction_id: str, since: datetime) -> list[str]:
        """What went out on the conversation since a moment: how a sender cut off between the send and
        its own record learns whether its text left."""
        return await self._records.outbound_texts_since(interaction_id, since)

    async def touched(self, interaction_id: str) -> bool:
        """Whether anything went out on the conversation (a text or a call that was not refused)."""
        return bool((await self._records.touches_by_interaction([interaction_id]))[interaction_id])

    # ------------------------------------------------------------------ views
    async def list(
        self,
        *,
        status: str | None = None,
        goal: str | None = None,
        channel: str | None = None,
        kind: str | None = None,
        escalated_only: bool = False,
        since: datetime | None = None,
        until: datetime | None = None,
        search: str | None = None,
        limit: int = 25,
        cursor: str | None = None,
    ) -> InteractionList:
        statuses = None
        if status:
            try:
                statuses = s.statuses_in(status)
            except ValueError as exc:
                raise UserInputError(f"{exc}.") from None
        if escalated_only:
            escalated = set(s.statuses_in(s.ESCALATED))
            statuses = tuple(x for x in (statuses or s.ALL_STATUSES) if x in escalated)
        where = ListFilter(
            statuses, goal, channel, kind, moment(since, "since"), moment(until, "until"), search
        )
        rows = await self._records.page(where, limit=limit + 1, after=_decode_cursor(cursor))
        total = await self._records.count(where)
        more = len(rows) > limit
        rows = rows[:limit]
        items = [_list_item(r) for r in rows]
        next_cursor = _encode_cursor(rows[-1]) if more and rows else None
        return InteractionList(items=items, next_cursor=next_cursor, total_matching=total)

    async def detail(self, interaction_id: str, *, can_hear_calls: bool) -> InteractionDetail:
        row = await self.row(interaction_id)
        messages = await self._records.messages(row.id)
        deliveries = await self._records.deliveries(row.id)
        calls = await self._records.calls(row.id)
        history = await self._records.history(row.id)
        thread = [_message_item(m, deliveries.get(m.id)) for m in messages]
        hidden = None
        if can_hear_calls:
            thread += [_call_item(c) for c in calls]
        elif calls:
            hidden = (
                f"{len(calls)} call transcript(s) and recording(s) are hidden: "
                "they need the Listen to Call Recording permission."
            )
        thread.sort(key=lambda item: item.at)
        address = ", ".join(p for p in (row.street, row.city, row.state, row.zip) if p) or None
        return InteractionDetail(
            interaction_id=row.id,
            status=row.status,
            goal=row.goal,
            channel=row.channel,
            type=row.type,
            name=row.name,
            phone=row.phone,
            email=row.email,
            address=address,
            source=row.source,
            request=row.request,
            received_at=row.received_at,
            last_activity_at=row.last_activity_at,
            taken_over_by=row.taken_over_by,
            links=InteractionLinks(
                servicetitan_lead_id=row.servicetitan_lead_id,
                customer_id=row.customer_id,
                location_id=row.location_id,
                job_id=row.job_id,
                job_number=row.job_number,
            ),
            overview_summary=row.summary or generated_summary(row, messages, calls if can_hear_calls else []),
            summary_written_by="agent" if row.summary else "generated",
            thread=thread,
            status_history=[
                HistoryItem(
                    at=h.at, from_status=h.from_status, to_status=h.to_status, actor=h.actor, reason=h.reason
                )
                for h in history
            ],
            hidden=hidden,
        )

    async def stats(
        self, *, since: datetime | None, until: datetime | None, goal: str | None
    ) -> InteractionStats:
        now = self._now()
        since, until = moment(since, "since"), moment(until, "until")
        until = as_utc(until) if until else now  # naive times are UTC; any offset is converted
        since = as_utc(since) if since else until - DEFAULT_PERIOD
        if since >= until:
            raise UserInputError("'since' must be before 'until'.")
        # Summed by the database from the daily rollup and the edge days' rows (store/counters.py).
        where = Filter(since=since, until=until, goal=goal)
        tally = await self._records.counters.tally(where)
        threshold = self._settings.high_activity_inbound
        high = await self._records.counters.high_activity(
            where, open_statuses=open_statuses(), threshold=threshold, window_end=until
        )
        values = summarize(tally, high_activity=high, high_activity_inbound=threshold)
        return InteractionStats(since=since, until=until, goal=goal, **values)  # type: ignore[arg-type]


def _list_item(row: InteractionRow) -> InteractionRowView:
    """A row of the list, phones masked — also where the phone stands in for an unknown caller's name."""
    masked = mask_phone(row.phone) if row.phone else None
    if row.phone and row.name == row.phone:
        row = dataclasses.replace(row, name=masked)
    return InteractionRowView(
        interaction_id=row.id,
        status=row.status,
        goal=row.goal,
        channel=row.channel,
        type=row.type,
        name=row.name,
        phone=masked,
        source=row.source,
        last_activity_at=row.last_activity_at,
        summary=_snippet(row.summary or generated_summary(dataclasses.replace(row, phone=masked), [], [])),
    )


def _message_item(message: MessageRow, delivery: DeliveryRow | None) -> ThreadItem:
    sender = (message.sender_name or "a person") if message.sender == "human" else message.sender
    return ThreadItem(
        at=message.created_at,
        kind="message",
        direction=message.direction,  # type: ignore[arg-type]
        sender=sender,
        text=message.text,
        delivery_status=delivery.status if delivery else None,
        delivery_error=delivery.error_code if delivery else None,
    )


def _call_item(call: CallRow) -> ThreadItem:
    sender = (call.sender_name or "a person") if call.sender == "human" else call.sender
    return ThreadItem(
        at=call.created_at,
        kind="call",
        direction=call.direction,  # type: ignore[arg-type]
        sender=sender,
        text=call.transcript,
        recording_url=call.recording_url,
        duration_seconds=call.duration_seconds,
        outcome=call.outcome,
    )


def outcome_for_human(outcome: str) -> str:
    return s.DISMISSED_HUMAN if outcome == "dismissed" else OUTCOME_STATUSES[outcome]


def _text(text: str, *, field: str = "text") -> str:
    if text is None or not text.strip():
        raise UserInputError(f"'{field}' cannot be empty.")
    if len(text) > MAX_THREAD_TEXT:
        raise UserInputError(f"'{field}' is too long ({len(text)} characters).")
    return text.strip()


def _message_note(direction: str, status: str, previous: str, *, opted_out: bool = False) -> str:
    if opted_out or (status == s.OPT_OUT and previous != s.OPT_OUT):
        return "The lead opted out. Send nothing more (one confirmation at most); the conversation is closed."
    if previous == s.OPT_OUT and status != s.OPT_OUT:
        return "The lead opted back in."
    return "Logged." if direction == "outbound" else "Reply logged; answer it."


def _lead_key(row: InteractionRow) -> str:
    """What serializes sends and status changes: the lead's phone (every conversation with that number
    shares the opt-out and the touch cap), or the interaction when it has none."""
    return f"lead:{row.phone or row.id}"


def _snippet(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:16]}"


def _encode_cursor(row: InteractionRow) -> str:
    raw = json.dumps([row.last_activity_at.isoformat(), row.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    if not cursor:
        return None
    try:
        at, last_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return datetime.fromisoformat(at), str(last_id)
    except (ValueError, TypeError):
        raise UserInputError("That cursor is not valid; use next_cursor exactly as returned.") from None
