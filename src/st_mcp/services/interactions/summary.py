"""The Overview Summary a CSR reads first, generated when the agent never wrote one.

Deterministic from the record and thread: who, what they need, what happened, what is pending.
"""

from __future__ import annotations

from st_mcp.services.interactions import statuses as s
from st_mcp.store.interactions import CallRow, InteractionRow, MessageRow


def generated_summary(row: InteractionRow, messages: list[MessageRow], calls: list[CallRow]) -> str:
    who = row.name or row.phone or "Unknown contact"
    source = f" via {row.source}" if row.source else ""
    kind = "lead" if row.type == "Lead" else "customer"
    need = (row.request or "").strip() or _first_inbound(messages) or "no request given yet"
    need = need.strip()
    parts = [f"{who} ({kind}{source}) needs: {need}{'' if need[-1] in '.?!' else '.'}"]
    inbound = sum(1 for m in messages if m.direction == "inbound")
    outbound = len(messages) - inbound
    if messages or calls:
        parts.append(f"{outbound} message(s) sent, {inbound} received, {len(calls)} call(s).")
    parts.append(_what_happened(row))
    pending = _pending(row)
    if pending:
        parts.append(f"Pending: {pending}.")
    return " ".join(parts)


def _first_inbound(messages: list[MessageRow]) -> str | None:
    return next((m.text for m in messages if m.direction == "inbound"), None)


def _what_happened(row: InteractionRow) -> str:
    group = s.group_of(row.status)
    reason = f" ({row.status_reason})" if row.status_reason else ""
    if group == s.CONVERTED:
        return f"Booked job {row.job_number or row.job_id}."
    if group == s.ESCALATED:
        return f"{row.status}{reason}."
    if group == s.TAKEOVER:
        return f"Taken over by {row.taken_over_by or 'a person'}."
    if group == s.DISMISSED:
        return f"{row.status}{reason}."
    if group == s.OPT_OUT:
        return "Opted out of messages."
    if group in (s.ABANDONED, s.FAILED, s.TERMINATED):
        return f"{row.status}{reason}."
    if group == s.STARTED:
        return "Not contacted yet."
    return "Conversation in progress."


def _pending(row: InteractionRow) -> str | None:
    group = s.group_of(row.status)
    if group == s.ESCALATED:
        return "a dispatcher to call back"
    if group == s.TAKEOVER:
        return f"{row.taken_over_by or 'the person who took over'} to continue"
    if group in (s.STARTED, s.ACTIVE) and not row.job_id:
        return "an open appointment to be offered and booked"
    return None
