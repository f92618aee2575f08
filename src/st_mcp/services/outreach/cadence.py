"""The Speed to Lead cadence: when the next touch to a lead is due, and when the sequence is over.

Default ≈ 6 touches over 5 days (DESIGN §6): now, +5 min, +1 h, +4 h, day 2, day 5. A reply pauses the
sequence until the agent answers it; after the lead has replied, follow-ups are spaced from the agent's
last message rather than from the lead's arrival. Booking, opt-out, takeover, escalation or dismissal
stop it (the interaction leaves Started/Active). The end of the sequence without any reply means
``Abandoned``.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from st_mcp.services.interactions import statuses as s
from st_mcp.store.interactions import InteractionRow

Action = Literal["reply", "first_touch", "follow_up", "abandon"]

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(value: object) -> object:
    """'5m', '4h', '1d' (or anything pydantic reads as a timedelta: seconds, ISO 8601)."""
    if isinstance(value, str) and (match := _DURATION.match(value)):
        return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    return value


class CadenceSettings(BaseModel):
    """``[cadence]``: offsets of each touch from the lead's arrival, and when silence means abandoned."""

    model_config = {"extra": "forbid"}

    touches: list[timedelta] = Field(
        default_factory=lambda: [
            timedelta(0),
            timedelta(minutes=5),
            timedelta(hours=1),
            timedelta(hours=4),
            timedelta(days=1),
            timedelta(days=4),
        ],
        min_length=1,
        max_length=20,
    )
    abandon_after: timedelta = timedelta(days=1)  # after the last touch, with no reply at all

    @field_validator("touches", mode="before")
    @classmethod
    def _short_forms(cls, value: object) -> object:
        return [parse_duration(item) for item in value] if isinstance(value, list) else value

    @field_validator("abandon_after", mode="before")
    @classmethod
    def _short_form(cls, value: object) -> object:
        return parse_duration(value)

    @field_validator("touches")
    @classmethod
    def _increasing(cls, value: list[timedelta]) -> list[timedelta]:
        if value[0] < timedelta(0) or any(b <= a for a, b in itertools.pairwise(value)):
            raise ValueError("touch offsets must start at 0 or later and increase, e.g. ['0m', '5m', '1h']")
        return value


@dataclass(frozen=True, slots=True)
class Step:
    action: Action
    due_at: datetime
    touch_number: int  # the touch this would be (1-based); for a reply, the next outbound's number


def next_step(
    row: InteractionRow, touches: Sequence[datetime], settings: CadenceSettings, now: datetime
) -> Step | None:
    """What the cadence asks for this interaction now or later; None once the sequence is over.

    ``touches`` are the times of the outbound messages and calls to this interaction, oldest first.
    """
    if s.group_of(row.status) not in (s.STARTED, s.ACTIVE):
        return None
    count = len(touches)
    last_touch = touches[-1] if touches else None
    replied = row.last_inbound_at is not None
    if replied and (last_touch is None or row.last_inbound_at > last_touch):  # type: ignore[operator]
        return Step("reply", row.last_inbound_at, count + 1)  # type: ignore[arg-type]
    schedule = settings.touches
    if count == 0:
        return Step("first_touch", row.received_at + schedule[0], 1)
    assert last_touch is not None
    if count < len(schedule):
        if replied:
            due = last_touch + (schedule[count] - schedule[count - 1])
        else:
            due = max(row.received_at + schedule[count], last_touch)
        return Step("follow_up", due, count + 1)
    if not replied:
        return Step("abandon", last_touch + settings.abandon_after, count)
    return None
