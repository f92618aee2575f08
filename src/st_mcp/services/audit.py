"""The audit trail as the rest of the server uses it: record what happened, read it back, check it.

Tool calls are recorded by the guard (``server/guard.py``), one record per call, whatever its outcome.
Other code records decisions made outside a tool call — the compliance gate's automatic replies, signed
webhooks, HTTP authentication — with ``record_decision``. Inside a tool call, a compliance refusal only
needs to raise ``Blocked``: the guard records the call as ``blocked`` with the rule and the reason.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from st_mcp.policy.audit import AuditRecord, VerifyResult, audit_event
from st_mcp.policy.identity import Principal
from st_mcp.services.errors import UserInputError
from st_mcp.store.audit import AuditLog, AuditQuery

log = logging.getLogger("st_mcp.audit")

# The transport of the tool call in progress (set by the guard), so a decision recorded deeper down
# (the compliance gate) says how the call arrived without every layer passing it along.
_CALL_TRANSPORT: ContextVar[str | None] = ContextVar("st_mcp_call_transport", default=None)


@contextlib.contextmanager
def calling_over(transport: str) -> Iterator[None]:
    token = _CALL_TRANSPORT.set(transport)
    try:
        yield
    finally:
        _CALL_TRANSPORT.reset(token)


class AuditEventView(BaseModel):
    seq: int = Field(description="Position in the chain: 1, 2, 3, … with no gaps")
    event_id: str
    at: datetime
    kind: str = Field(
        description="tool_call, resource_read, prompt_get, completion (requests), compliance or permission"
    )
    principal: str
    role: str
    transport: str
    tool: str = Field(description="The tool, resource, prompt or completion's door, or the decision's name")
    arguments: dict[str, Any] = Field(description="As called, phones and e-mails masked, secrets removed")
    outcome: str = Field(description="ok, denied, blocked or error")
    reason: str | None = None
    interaction_id: str | None = None
    upstream_requests: int = Field(description="ServiceTitan requests the call made")
    duration_ms: float
    summary: str = Field(description="The event in one line of plain words")


class AuditLogPage(BaseModel):
    events: list[AuditEventView]
    next_cursor: str | None = Field(default=None, description="Pass as cursor for the next (older) page")
    chain_ok: bool | None = Field(default=None, description="Set when verify_chain was asked for")
    chain_problem: str | None = None


class AuditTrail:
    def __init__(self, log_: AuditLog, clock: Callable[[], datetime], zone: ZoneInfo) -> None:
        self.log = log_
        self._now = clock
        self._zone = zone

    async def record_tool_call(
        self,
        *,
        principal: Principal,
        transport: str,
        tool: str,
        arguments: Mapping[str, Any],
        outcome: str,
        reason: str | None = None,
        interaction_id: str | None = None,
        upstream_requests: int = 0,
        duration_ms: float = 0.0,
        kind: str = "tool_call",
    ) -> AuditRecord:
        """One request through the guard: a tool call, or (``kind``) a resource read, prompt render or
        completion, ``tool`` naming the door. Raises if the record cannot be written."""
        event = audit_event(
            at=self._now(),
            kind=kind,
            principal=principal.name,
            role=principal.role,
            transport=transport,
            tool=tool,
            arguments=arguments,
            outcome=outcome,
            reason=reason,
            interaction_id=interaction_id,
            upstream_requests=upstream_requests,
            duration_ms=duration_ms,
        )
        return await self.log.append(event)

    async def record_decision(
        self,
        kind: str,
        *,
        principal: str,
        role: str,
        name: str,
        outcome: str,
        transport: str | None = None,
        reason: str | None = None,
        interaction_id: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> AuditRecord | None:
        """Record a decision made outside a tool call: ``kind`` is ``compliance`` or ``permission``,
        ``name`` says which decision (``gate.quiet_hours``, ``webhook.leads``, ``http.auth``), ``outcome``
        is ok / denied / blocked / error, ``details`` is masked like tool arguments. ``transport``
        defaults to the transport of the tool call in progress, else ``internal``.

        Never raises for a failed write: the decision has been made either way, so the failure is
        logged loudly (ERROR, "AUDIT WRITE FAILED") and None is returned. Bad arguments (an unknown
        kind or outcome) are programming errors and do raise ``ValueError``.
        """
        event = audit_event(
            at=self._now(),
            kind=kind,
            principal=principal,
            role=role,
            transport=transport or _CALL_TRANSPORT.get() or "internal",
            tool=name,
            arguments=details,
            outcome=outcome,
            reason=reason,
            interaction_id=interaction_id,
        )
        try:
            return await self.log.append(event)
        except Exception:
            log.exception(
                "AUDIT WRITE FAILED: %s %s %s → %s was not recorded", kind, name, principal, outcome
            )
            return None

    async def page(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        principal: str | None = None,
        tool: str | None = None,
        outcome: str | None = None,
        limit: int = 25,
        cursor: str | None = None,
        verify_chain: bool = False,
    ) -> AuditLogPage:
        where = AuditQuery(since=since, until=until, principal=principal, tool=tool, outcome=outcome)
        records = await self.log.page(where, limit=limit + 1, before=_decode_cursor(cursor))
        more = len(records) > limit
        records = records[:limit]
        page = AuditLogPage(
            events=[self._view(record) for record in records],
            next_cursor=_encode_cursor(records[-1].seq) if more and records else None,
        )
        if verify_chain:
            checked = await self.verify()
            page.chain_ok, page.chain_problem = checked.ok, checked.problem
        return page

    async def verify(self) -> VerifyResult:
        return await self.log.verify()

    def _view(self, record: AuditRecord) -> AuditEventView:
        return AuditEventView(
            seq=record.seq,
            event_id=record.id,
            at=record.at,
            kind=record.kind,
            principal=record.principal,
            role=record.role,
            transport=record.transport,
            tool=record.tool,
            arguments=record.arguments,
            outcome=record.outcome,
            reason=record.reason,
            interaction_id=record.interaction_id,
            upstream_requests=record.upstream_requests,
            duration_ms=record.duration_ms,
            summary=self.summary(record),
        )

    def summary(self, record: AuditRecord) -> str:
        """'10:31 dana (csr) takeover_interaction → ok, int_ab12' (local time; the date when not today)."""
        local = record.at.astimezone(self._zone)
        today = self._now().astimezone(self._zone).date()
        when = f"{local:%H:%M}" if local.date() == today else f"{local:%b} {local.day} {local:%H:%M}"
        line = f"{when} {record.principal} ({record.role}) {record.tool} → {record.outcome}"
        if record.interaction_id:
            line += f", {record.interaction_id}"
        if record.outcome != "ok" and record.reason:
            reason = " ".join(record.reason.split())
            line += f": {reason if len(reason) <= 100 else reason[:99] + '…'}"
        return line


def _encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"before": seq}).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        before = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))["before"]
        if not isinstance(before, int) or before < 1:
            raise ValueError(before)
        return before
    except (ValueError, TypeError, KeyError):
        raise UserInputError("That cursor is not valid; use next_cursor exactly as returned.") from None
