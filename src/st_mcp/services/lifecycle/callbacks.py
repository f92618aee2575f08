""" "Have someone call me back": a ServiceTitan task a CSR sees (or, by config, a follow-up on the lead),
linked to the conversation, and a line in the conversation's history saying so."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from pydantic import BaseModel

from st_mcp.config import EscalationSettings
from st_mcp.config_lifecycle import LifecycleSettings
from st_mcp.policy.identity import Principal
from st_mcp.services.bounds import short
from st_mcp.services.errors import UserInputError
from st_mcp.services.escalation import _employee, _named
from st_mcp.services.interactions.service import Interactions
from st_mcp.services.phones import national_digits, normalize_phone
from st_mcp.services.reference import ReferenceData
from st_mcp.servicetitan import ServiceTitanClient
from st_mcp.servicetitan.models.crm import LeadFollowUpRequest
from st_mcp.servicetitan.models.tasks import CreateTaskRequest

MAX_REASON = 1000
MAX_WINDOW = 200


class CallbackResult(BaseModel):
    via: str  # task | lead_follow_up
    task_id: int | None = None
    task_number: int | None = None
    lead_id: int | None = None
    follow_up_at: datetime | None = None
    interaction_id: str | None = None
    status: str | None = None  # the interaction's status (unchanged: a callback is not an escalation)
    customer_id: int | None = None
    note: str


class Callbacks:
    def __init__(
        self,
        st: ServiceTitanClient,
        reference: ReferenceData,
        interactions: Interactions,
        settings: LifecycleSettings,
        escalation: EscalationSettings,
        clock: Callable[[], datetime],
    ) -> None:
        self._st = st
        self._reference = reference
        self._interactions = interactions
        self._settings = settings
        self._escalation = escalation
        self._now = clock

    async def request(
        self,
        *,
        reason: str,
        interaction_id: str | None,
        phone: str | None,
        preferred_window: str | None,
        principal: Principal,
    ) -> CallbackResult:
        reason = short((reason or "").strip(), "reason", MAX_REASON)
        if not reason:
            raise UserInputError("'reason' is required: say what the caller wants to talk about.")
        window = short(preferred_window.strip(), "preferred_window", MAX_WINDOW) if preferred_window else None
        if not (interaction_id or phone):
            raise UserInputError(
                "Give interaction_id or the caller's phone, so the office knows whom to call."
            )
        e164 = normalize_phone(phone) if phone else None
        lead_id = customer_id = None
        who = None
        if interaction_id:
            await self._interactions.check_may_act(principal, interaction_id, "request callbacks")
            row = await self._interactions.row(interaction_id)
            e164 = e164 or row.phone
            lead_id, customer_id, who = row.servicetitan_lead_id, row.customer_id, row.name
        if customer_id is None and e164:
            found = (await self._st.crm.list_customers(phone=national_digits(e164), page_size=1)).data
            if found:
                customer_id, who = found[0].id, who or found[0].name
        who = who or e164 or "caller"
        now = self._now()
        due = now + timedelta(minutes=self._settings.callback_minutes)
        text = _description(reason, window, e164, interaction_id)
        if self._settings.callback_via == "lead_follow_up" and lead_id is not None:
            await self._st.crm.create_lead_follow_up(
                lead_id, LeadFollowUpRequest(followUpDate=due, text=f"Callback: {text}"[:2000], pinToTop=True)
            )
            result = CallbackResult(
                via="lead_follow_up", lead_id=lead_id, follow_up_at=due, customer_id=customer_id, note=""
            )
            line = f"Callback requested (lead {lead_id} follow-up): {reason}"
        else:
            data = await self._reference.task_data()
            types = data.taskTypes
            wanted = self._settings.callback_task_type
            type_name = (
                wanted
                if any(t.name.casefold() == wanted.casefold() for t in types)
                else (self._escalation.task_type)
            )
            task = await self._st.tasks.create_task(
                CreateTaskRequest(
                    reportedById=_employee(data, self._escalation.reported_by, exclude=None),
                    assignedToId=_employee(
                        data, self._escalation.assign_to, exclude=self._escalation.reported_by
                    ),
                    name=f"Call back: {who}"[:200],
                    businessUnitId=data.businessUnits[0].value,
                    employeeTaskTypeId=_named(types, type_name),
                    employeeTaskSourceId=_named(data.taskSources, self._escalation.task_source),
                    reportedDate=now,
                    priority="High",
                    completeBy=due,
                    customerId=customer_id,
                    description=text,
                )
            )
            result = CallbackResult(
                via="task",
                task_id=task.id,
                task_number=task.taskNumber,
                follow_up_at=due,
                customer_id=customer_id,
                note="",
            )
            line = f"Callback requested (ServiceTitan task {task.taskNumber or task.id}): {reason}"
        if window:
            line += f" — preferred: {window}"
        if interaction_id:
            result.interaction_id = interaction_id
            result.status = await self._interactions.record_event(principal, interaction_id, line)
        when = f" ({window})" if window else ""
        result.note = f"Tell the caller someone from the office will call back{when}; promise no exact time."
        return result


def _description(reason: str, window: str | None, phone: str | None, interaction_id: str | None) -> str:
    lines = [reason]
    if window:
        lines.append(f"Preferred time: {window}")
    if phone:
        lines.append(f"Phone: {phone}")
    if interaction_id:
        lines.append(f"Interaction: {interaction_id} (st-mcp)")
    return "\n".join(lines)
