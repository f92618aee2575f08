"""``[speed_to_lead] instant_reply``: the first text leaves the moment a lead arrives, before any model.

Speed to lead is measured from the lead's arrival to the first text. An agent that polls
``get_lead_queue`` adds its polling interval; an operator who approves one opening text removes it: the
server sends it itself, through the same compliance gate as any text (quiet hours, opt-out, caps), as an
AI principal (held to the agent's rules). A refused instant text leaves the lead in the queue as before.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

from st_mcp.policy.templates import check_placeholders

PLACEHOLDERS = ("first_name", "company", "agent_name")
MAX_INSTANT_REPLY = 320  # two SMS segments at most


class SpeedToLeadSettings(BaseModel):
    """``[speed_to_lead]``: e.g. ``instant_reply = "Hi {first_name}, it's {agent_name} at {company} —
    thanks for reaching out! What's going on at home?"``. None (the default): the agent sends the first
    text."""

    model_config = {"extra": "forbid"}

    instant_reply: str | None = Field(default=None, min_length=1, max_length=MAX_INSTANT_REPLY)

    @field_validator("instant_reply")
    @classmethod
    def _placeholders(cls, value: str | None) -> str | None:
        return None if value is None else check_placeholders(value, PLACEHOLDERS)


def instant_text(template: str, *, name: str | None, company: str, agent_name: str) -> str:
    """The template filled in; a lead without a usable first name is greeted without one."""
    first = (name or "").strip().split(" ")[0] if name and not name.startswith("+") else ""
    text = template.format(first_name=first or "there", company=company, agent_name=agent_name)
    return " ".join(text.split())
