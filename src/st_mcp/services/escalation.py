"""Handing a conversation to a person, visibly: recorded here, a task (and lead follow-up) in ServiceTitan."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Literal

import anyio
from pydantic import BaseModel

from st_mcp.config import EscalationSettings
from st_mcp.policy.identity import Principal
from st_mcp.services.concurrency import Later
from st_mcp.services.errors import NotFound, UserInputError
from st_mcp.services.interactions.service import Interactions
from st_mcp.services.phones import national_digits, normalize_phone
from st_mcp.services.reference import ReferenceData
from st_mcp.servicetitan import NotFoundError, ServiceTitanClient
from st_mcp.servicetitan.models.crm import Customer, Lead, LeadFollowUpRequest
from st_mcp.servicetitan.models.tasks import CreateTaskRequest, TaskClientData
from st_mcp.store import EscalationRecord, Store

EscalationReason = Literal[
    "agent_issue", "availability", "skill_handling", "human_request", "negative_sentiment"
]

# ServiceTitan's own words for each reason, as they appear in the Interactions status.
REASON_WORDS: dict[str, str] = {
    "agent_issue": "Agent Issue",
    "availability": "Availability",
    "skill_handling": "Skill/Handling",
    "human_request": "Human Request",
    "negative_sentiment": "Negative Sentiment",
}


def escalated_status(reason: str) -> str:
    return f"Escalated ({REASON_WORDS[reason]})"


class EscalationResult(BaseModel):
    escalation_id: str
    status: str
    reason: str
    servicetitan_task_id: int
    servicetitan_task_number: int | None = None
    lead_follow_up_at: datetime | None = None
    customer_id: int | None = None
    note: str


class Escalations:
    def __init__(
        self,
        st: ServiceTitanClient,
        store: Store,
        reference: ReferenceData,
        interactions: Interactions,
        settings: EscalationSettings,
        clock: Callable[[], datetime],
    ) -> None:
        self._interactions = interactions
        self._st = st
        self._store = store
        self._reference = reference
        self._settings = settings
        self._now = clock

    async def escalate(
        self,
        *,
        reason: EscalationReason,
        note: str,
        interaction_id: str | None,
        phone: str | None,
        lead_id: int | None,
        principal: Principal,
    ) -> EscalationResult:
        if reason not in REASON_WORDS:
            raise UserInputError(f"reason must be one of: {', '.join(REASON_WORDS)}.")
        if not note or not note.strip():
            raise UserInputError("'note' is required: tell the dispatcher what the caller needs.")
        if not (interaction_id or phone or lead_id):
            raise UserInputError("Give interaction_id, phone or lead_id so the dispatcher knows who to call.")
        e164 = normalize_phone(phone) if phone else None
        status = escalated_status(reason)
        if interaction_id:
            # Refuse before anything reaches ServiceTitan if this conversation cannot be escalated.
            await self._interactions.ensure_can_become(principal, interaction_id, status)
        async with anyio.create_task_group() as tg:
            lead_read = Later(tg, self._lead(lead_id))
            caller = Later(tg, self._customer_by_phone(e164))
            task_data = Later(tg, self._reference.task_data())
        lead, data = lead_read.value, task_data.value
        customer_id = lead.customerId if lead else None
        who = lead.leadCustomerName if lead and lead.leadCustomerName else None
        if customer_id is None and caller.value is not None:
            customer_id, who = caller.value.id, caller.value.name
        who = who or e164 or (lead.leadPhone if lead else None) or "unknown caller"
        now = self._now()
        assignee = self._settings.assign_to
        if reason == "negative_sentiment" and self._settings.negative_sentiment_assign_to:
            assignee = self._settings.negative_sentiment_assign_to

        task = await self._st.tasks.create_task(
            CreateTaskRequest(
                reportedById=_employee(data, self._settings.reported_by, exclude=None),
                assignedToId=_employee(data, assignee, exclude=self._settings.reported_by),
                name=f"{status}: {who}"[:200],
                businessUnitId=(
                    lead.businessUnitId if lead and lead.businessUnitId else data.businessUnits[0].value
                ),
                employeeTaskTypeId=_named(data.taskTypes, self._settings.task_type),
                employeeTaskSourceId=_named(data.taskSources, self._settings.task_source),
                reportedDate=now,
                priority="Urgent" if reason in ("human_request", "negative_sentiment") else "High",
                completeBy=now + timedelta(minutes=self._settings.follow_up_minutes),
                customerId=customer_id,
                description=_description(note, e164, interaction_id, lead_id),
            )
        )
        follow_up_at = None
        if lead is not None:
            follow_up_at = now + timedelta(minutes=self._settings.follow_up_minutes)
            await self._st.crm.create_lead_follow_up(
                lead.id,
                LeadFollowUpRequest(
                    followUpDate=follow_up_at, text=f"{status}: {note.strip()}", pinToTop=True
                ),
            )
        escalation_id = f"esc_{uuid.uuid4().hex[:16]}"
        await self._store.escalations.add(
            EscalationRecord(
                id=escalation_id,
                interaction_id=interaction_id,
                lead_id=lead_id,
                phone=e164,
                reason=reason,
                note=note.strip(),
                servicetitan_task_id=task.id,
                servicetitan_lead_follow_up=follow_up_at.isoformat() if follow_up_at else None,
                principal=principal.name,
            )
        )
        if interaction_id:
            await self._interactions.record_escalation(
                principal, interaction_id, status=status, note=note.strip()
            )
        return EscalationResult(
            escalation_id=escalation_id,
            status=status,
            reason=reason,
            servicetitan_task_id=task.id,
            servicetitan_task_number=task.taskNumber,
            lead_follow_up_at=follow_up_at,
            customer_id=customer_id,
            note=(
                f"A dispatcher will follow up (ServiceTitan task {task.taskNumber or task.id}). "
                "Tell the caller a person will contact them shortly; do not promise a time or price."
            ),
        )

    async def _customer_by_phone(self, e164: str | None) -> Customer | None:
        if e164 is None:
            return None
        found = (await self._st.crm.list_customers(phone=national_digits(e164), page_size=1)).data
        return found[0] if found else None

    async def _lead(self, lead_id: int | None) -> Lead | None:
        if lead_id is None:
            return None
        try:
            return await self._st.crm.get_lead(lead_id)
        except NotFoundError:
            raise NotFound(
                f"No ServiceTitan lead with id {lead_id}. Leave lead_id out or check it."
            ) from None


def _employee(data: TaskClientData, name: str | None, *, exclude: str | None) -> int:
    active = [e for e in data.employees if e.active]
    if name:
        for employee in active:
            if employee.name.casefold() == name.casefold():
                return employee.id
    fallback = [e for e in active if not exclude or e.name.casefold() != exclude.casefold()]
    if not fallback:
        raise RuntimeError("ServiceTitan task management lists no active employees")
    return fallback[0].id


def _named(items: list, name: str) -> int:  # type: ignore[type-arg]
    for item in items:
        if item.name.casefold() == name.casefold():
            return int(item.id)
    if not items:
        raise RuntimeError(f"ServiceTitan task management has no '{name}' entries")
    return int(items[0].id)


def _description(note: str, phone: str | None, interaction_id: str | None, lead_id: int | None) -> str:
    lines = [note.strip()]
    if phone:
        lines.append(f"Phone: {phone}")
    if lead_id:
        lines.append(f"Lead: {lead_id}")
    if interaction_id:
        lines.append(f"Interaction: {interaction_id} (st-mcp)")
    return "\n".join(lines)
