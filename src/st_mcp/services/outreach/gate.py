"""The compliance gate: every outbound text or call passes here, whoever asks and through whatever door.

``send_message``, an outbound ``log_message`` or ``log_call``, the gateways' automatic replies — all
reserve their touch through ``Interactions`` (which asks ``ComplianceGate.decide`` inside the lead's
serialized section) before anything leaves, so the model cannot talk its way around a rule.
The rules themselves are pure functions in ``st_mcp.policy`` (quiet hours, touch cap, lead locale);
this module gathers the facts they need and records every decision.

Order matters: the takeover lock first (a person owns the lead), then the opt-out (the lead said no),
then the clock (quiet hours), then the count (touch cap). A refusal raises ``Blocked`` naming the rule
and, where known, when a send would be allowed again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from st_mcp import metrics
from st_mcp.policy.compliance import ComplianceSettings, check_timing, next_send_at
from st_mcp.policy.identity import Principal
from st_mcp.policy.lead_locale import LeadLocale, locales_for, state_name
from st_mcp.policy.quiet_hours import moment_label, refusal_sentence
from st_mcp.services.audit import AuditTrail
from st_mcp.services.errors import Blocked
from st_mcp.services.interactions import statuses as s
from st_mcp.services.interactions.takeover import ensure_agent_may_act
from st_mcp.store.interactions import InteractionRecords, InteractionRow
from st_mcp.store.suppressions import SuppressionList

# Why a message goes out: a conversation turn, the one confirmation after an opt-out, or the HELP answer
# carriers require (both answers to the lead's own message, so quiet hours and the cap do not hold them).
Purpose = Literal["conversation", "opt_out_confirmation", "help"]


@dataclass(frozen=True, slots=True)
class GateDecision:
    """One decision of the gate, as the audit trail records it."""

    allowed: bool
    rule: str  # the rule that decided: takeover, opt_out, quiet_hours, touch_cap, or "clear"
    reason: str
    interaction_id: str
    principal: Principal
    channel: str
    purpose: Purpose
    opens_at: datetime | None = None


DecisionRecorder = Callable[[GateDecision], Awaitable[None]]


def audited(audit: AuditTrail, tenant: str) -> DecisionRecorder:
    """Every decision of the gate — allowed or blocked — as a ``compliance`` audit event (and counted
    for ``tenant``)."""

    async def record(decision: GateDecision) -> None:
        metrics.observe_gate(decision.rule, decision.allowed, tenant)
        await audit.record_decision(
            "compliance",
            principal=decision.principal.name,
            role=decision.principal.role,
            name=f"gate.{decision.rule}",
            outcome="ok" if decision.allowed else "blocked",
            reason=decision.reason,
            interaction_id=decision.interaction_id,
            details={
                "channel": decision.channel,
                "purpose": decision.purpose,
                "opens_at": decision.opens_at.isoformat() if decision.opens_at else None,
            },
        )

    return record


@dataclass(frozen=True, slots=True)
class Preview:
    allowed: bool
    opens_at: datetime | None
    reason: str | None
    local_now: datetime


@dataclass(frozen=True, slots=True)
class Clearance:
    purpose: Purpose
    rule: str = "clear"


class ComplianceGate:
    def __init__(
        self,
        records: InteractionRecords,
        suppressions: SuppressionList,
        settings: ComplianceSettings,
        *,
        business_timezone: str,
        clock: Callable[[], datetime],
        record: DecisionRecorder | None = None,
    ) -> None:
        self._records = records
        self._suppressions = suppressions
        self._settings = settings
        self._business_timezone = business_timezone
        self._now = clock
        self._record = record

    async def decide(
        self,
        principal: Principal,
        row: InteractionRow,
        *,
        linked: Sequence[InteractionRow],
        channel: Literal["sms", "voice"] = "sms",
        purpose: Purpose = "conversation",
        now: datetime | None = None,
    ) -> Clearance:
        """Allow the send at ``now`` (default: the clock) or raise ``Blocked``. Nothing is recorded here:
        the caller decides inside the lead's serialized section (``Interactions``), stamps the touch with
        the same ``now``, and records the decision once it has committed."""
        return await self._decide(principal, row, linked, channel, purpose, now or self._now())

    async def record_allowed(
        self, principal: Principal, row: InteractionRow, channel: str, clearance: Clearance
    ) -> None:
        await self._note(
            GateDecision(True, clearance.rule, "allowed", row.id, principal, channel, clearance.purpose)
        )

    async def record_refusal(
        self, principal: Principal, row: InteractionRow, channel: str, purpose: Purpose, refusal: Blocked
    ) -> None:
        opens_at = refusal.details.get("opens_at")
        await self._note(
            GateDecision(
                False,
                refusal.rule,
                str(refusal),
                row.id,
                principal,
                channel,
                purpose,
                opens_at=opens_at if isinstance(opens_at, datetime) else None,
            )
        )

    async def _decide(
        self,
        principal: Principal,
        row: InteractionRow,
        linked: Sequence[InteractionRow],
        channel: str,
        purpose: Purpose,
        now: datetime,
    ) -> Clearance:
        who = row.name or row.phone or "this lead"
        if purpose == "help":
            return Clearance("help", "help")
        ensure_agent_may_act(principal, linked, "send messages", conversation=row.id)
        if await self._opted_out(row):
            # Only a message sent *as* the confirmation may use the one the rules allow.
            confirming = purpose == "opt_out_confirmation" and channel == "sms"
            if confirming and await self._confirmation_allowed(row, now):
                return Clearance("opt_out_confirmation", "opt_out_confirmation")
            raise Blocked(
                f"{who} opted out of messages and calls; nothing may be sent until they text START. "
                "Do not contact this lead again.",
                rule="opt_out",
                interaction_id=row.id,
            )
        same_lead = [r.id for r in linked if r.phone == row.phone or r.id == row.id]
        touches = await self._records.outbound_times(same_lead, now - timedelta(hours=24))
        self._check_timing(row, self._locales(row), touches, now)
        return Clearance(purpose)

    def preview(self, row: InteractionRow, touches: Sequence[datetime]) -> Preview:
        """Would a conversation text be allowed now by the clock and the count? (Nothing recorded;
        ``touches`` are the lead's outbound times, which the caller already has.)"""
        locales = self._locales(row)
        local_now = self._now().astimezone(locales[0].timezone)
        try:
            self._check_timing(row, locales, touches, self._now())
        except Blocked as refusal:
            return Preview(False, refusal.details.get("opens_at"), str(refusal), local_now)  # type: ignore[arg-type]
        return Preview(True, None, None, local_now)

    def _locales(self, row: InteractionRow) -> tuple[LeadLocale, ...]:
        return locales_for(
            zip=row.zip, state=row.state, phone=row.phone, business_timezone=self._business_timezone
        )

    def _check_timing(
        self, row: InteractionRow, locales: Sequence[LeadLocale], touches: Sequence[datetime], now: datetime
    ) -> None:
        """Quiet hours in the lead's local time (and the phone's area code's, when it is elsewhere), then
        the touch cap over the last 24 hours. A refusal's ``opens_at`` is when both allow a touch again
        (the cap may end while the window is shut)."""
        timing = check_timing(self._settings, locales, touches, now)
        if timing.allowed:
            return
        window, cap = timing.window, timing.cap
        opens = next_send_at(self._settings, locales, touches, now)
        if not window.open:
            raise Blocked(
                f"Not sent: {refusal_sentence(window)}. Queue it; get_lead_queue shows when to send.",
                rule="quiet_hours",
                interaction_id=row.id,
                opens_at=opens,
            )
        when = f"; the next touch is allowed at {moment_label(opens)} local" if opens else ""
        where = state_name(timing.cap_state) if timing.cap_state else "this state"
        raise Blocked(
            f"Not sent: {row.name or row.phone or 'this lead'} already had {cap.used} touches in the last "
            f"24 hours, the limit in {where} is {cap.limit}{when}.",
            rule="touch_cap",
            interaction_id=row.id,
            opens_at=opens,
        )

    async def _opted_out(self, row: InteractionRow) -> bool:
        """The phone's suppression decides across conversations (a START anywhere lifts it)."""
        return row.status == s.OPT_OUT or await self._suppressions.active(row.phone) is not None

    async def _confirmation_allowed(self, row: InteractionRow, now: datetime) -> bool:
        if row.phone is None:
            return False
        within = timedelta(minutes=self._settings.opt_out_confirmation_minutes)
        return await self._suppressions.claim_confirmation(row.phone, now, within)

    async def _note(self, decision: GateDecision) -> None:
        if self._record is not None:
            await self._record(decision)
