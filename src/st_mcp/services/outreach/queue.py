"""``get_lead_queue``: what the agent should do now — answer replies, text new leads, follow up.

Each open Speed to Lead conversation is asked the cadence's question (what is due, when) and the
gate's timing question (may a text go out now, or when does the lead's window open). Sequences that
ended without a reply are closed as ``Abandoned`` here, as they are found.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from st_mcp import metrics
from st_mcp.config_tenants import DEFAULT_TENANT
from st_mcp.policy.identity import SYSTEM_ROLE, Principal
from st_mcp.policy.quiet_hours import moment_label
from st_mcp.services.interactions import statuses as s
from st_mcp.services.interactions.service import Interactions
from st_mcp.services.outreach.cadence import CadenceSettings, Step, next_step
from st_mcp.services.outreach.gate import ComplianceGate
from st_mcp.services.outreach.models import LeadContext, LeadQueue, LeadQueueItem
from st_mcp.services.phones import mask_phone
from st_mcp.store.interactions import InteractionRecords, InteractionRow
from st_mcp.store.suppressions import SuppressionList

CADENCE = Principal("cadence", SYSTEM_ROLE)
# Replies first (a lead is waiting on us), then new leads (speed to lead), then follow-ups.
_PRIORITY = {"reply": 0, "first_touch": 1, "follow_up": 2}
_SCAN_LIMIT = 500
_OPEN = [status for status in s.ALL_STATUSES if s.group_of(status) in (s.STARTED, s.ACTIVE)]


class LeadQueueService:
    def __init__(
        self,
        records: InteractionRecords,
        interactions: Interactions,
        gate: ComplianceGate,
        suppressions: SuppressionList,
        settings: CadenceSettings,
        clock: Callable[[], datetime],
        *,
        tenant: str = DEFAULT_TENANT,
    ) -> None:
        self._tenant = tenant  # the metrics' label
        self._records = records
        self._interactions = interactions
        self._gate = gate
        self._suppressions = suppressions
        self._settings = settings
        self._now = clock

    async def queue(self, *, limit: int = 10) -> LeadQueue:
        now = self._now()
        rows = await self._records.in_statuses(_OPEN, limit=_SCAN_LIMIT)
        touches = await self._records.touches_by_interaction([row.id for row in rows])
        suppressed = await self._suppressions.active_phones([row.phone for row in rows if row.phone])
        # A lead who asked for a visit (booking mode) waits for the office, not for more follow-ups: only
        # their replies are due until the request is converted or dismissed.
        awaiting = await self._records.awaiting_the_office([row.id for row in rows])
        due: list[tuple[InteractionRow, Step]] = []
        abandoned: list[str] = []
        upcoming: list[datetime] = []
        for row in rows:
            step = next_step(row, touches[row.id], self._settings, now)
            if step is None or (row.id in awaiting and step.action != "reply"):
                continue
            if step.action == "abandon":
                if step.due_at <= now:
                    await self._interactions.abandon(CADENCE, row, "no reply after the whole cadence")
                    abandoned.append(row.id)
                continue
            if step.due_at > now:
                upcoming.append(step.due_at)
            elif row.phone not in suppressed:  # opted out in another conversation: never due
                due.append((row, step))
        replies = await self._records.last_inbound_texts([row.id for row, _ in due])
        items = [self._item(row, step, touches[row.id], replies.get(row.id)) for row, step in due]
        metrics.observe_lead_queue(len(items), len(upcoming), self._tenant)
        # What may go out now first; among those, replies, then new leads, then follow-ups.
        items.sort(key=lambda item: (not item.can_send_now, _PRIORITY[item.action], item.due_at))
        items = items[:limit]
        return LeadQueue(
            items=items,
            abandoned=abandoned,
            upcoming=len(upcoming),
            next_due_at=min(upcoming) if upcoming else None,
            note=_note(items, len(upcoming)),
        )

    def _item(
        self, row: InteractionRow, step: Step, touches: list[datetime], last_reply: str | None
    ) -> LeadQueueItem:
        preview = self._gate.preview(row, touches)
        return LeadQueueItem(
            interaction_id=row.id,
            status=row.status,
            action=step.action,  # type: ignore[arg-type]
            touch_number=step.touch_number,
            due_at=step.due_at,
            can_send_now=preview.allowed,
            send_window_opens_at=preview.opens_at,
            waiting=preview.reason,
            lead=LeadContext(
                name=row.name,
                phone=mask_phone(row.phone) if row.phone else None,
                source=row.source,
                request=row.request,
                city=row.city,
                state=row.state,
                zip=row.zip,
                customer_id=row.customer_id,
                received_at=row.received_at,
                lead_local_time=moment_label(preview.local_now),
                last_reply=last_reply,
            ),
        )


def _note(items: list[LeadQueueItem], upcoming: int) -> str:
    if not items:
        later = f" {upcoming} follow-up(s) are scheduled later." if upcoming else ""
        return "Nothing to do right now." + later
    ready = sum(item.can_send_now for item in items)
    held = len(items) - ready
    parts = [f"{ready} ready to send now with send_message"]
    if held:
        parts.append(f"{held} waiting for the lead's send window (do not send them yet)")
    return "; ".join(parts) + "."
