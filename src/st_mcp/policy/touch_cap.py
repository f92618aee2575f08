"""The touch cap (DESIGN §6): at most N outbound touches per lead in any rolling 24 hours.

Florida, Oklahoma and Maryland allow three solicitation calls or texts per 24 hours on the same subject;
an operator can cap other states, or every state, too. A refused touch must say when the next one is
allowed: the moment enough of the counted touches have aged out of the 24-hour window.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

from pydantic import BaseModel, Field, field_validator

from st_mcp.policy.lead_locale import StateCode

WINDOW = timedelta(hours=24)
DEFAULT_STATE_CAPS: dict[str, int] = {"FL": 3, "OK": 3, "MD": 3}


class TouchCapSettings(BaseModel):
    """TOML ``[compliance.touch_cap]``: ``everywhere = 5`` and/or ``[compliance.touch_cap.states]``."""

    model_config = {"extra": "forbid"}

    # Laid over DEFAULT_STATE_CAPS: naming a state replaces its built-in cap, the others stay.
    states: dict[StateCode, Annotated[int, Field(ge=1)]] = Field(
        default_factory=lambda: dict(DEFAULT_STATE_CAPS)
    )
    everywhere: int | None = Field(default=None, ge=1)  # a cap for every lead, wherever they are

    @field_validator("states", mode="after")
    @classmethod
    def _over_defaults(cls, value: dict[str, int]) -> dict[str, int]:
        return {**DEFAULT_STATE_CAPS, **value}


@dataclass(frozen=True, slots=True)
class CapCheck:
    allowed: bool
    limit: int | None  # None: no cap applies to this lead
    used: int  # touches in the last 24 hours
    opens_at: datetime | None  # when a refused touch would be allowed; None when allowed


def limit_for(settings: TouchCapSettings, state: str | None) -> int | None:
    """The strictest cap for a lead in ``state`` (the state's and the everywhere cap), or None."""
    caps = [cap for cap in (settings.states.get(state) if state else None, settings.everywhere) if cap]
    return min(caps) if caps else None


def strictest_state(settings: TouchCapSettings, states: Sequence[str | None]) -> str | None:
    """Of the states whose rules bind a lead, the one with the lowest cap (the first, when none is capped
    or several tie), so one count answers for all of them."""
    if not states:
        return None
    return min(states, key=lambda state: limit_for(settings, state) or math.inf)


def touch_cap(
    settings: TouchCapSettings, state: str | None, outbound_times: Sequence[datetime], now: datetime
) -> CapCheck:
    """May one more touch go out at ``now``, given the lead's earlier outbound touches?

    A touch counts while it is less than 24 hours old; one stamped after ``now`` (clock skew) counts too.
    """
    if now.tzinfo is None or any(moment.tzinfo is None for moment in outbound_times):
        raise ValueError("now and the outbound times must be timezone-aware")
    # In UTC: arithmetic on aware datetimes in one ZoneInfo is wall-clock arithmetic (23 or 25 h over DST).
    now_utc = now.astimezone(UTC)
    counted = sorted(
        utc for utc in (moment.astimezone(UTC) for moment in outbound_times) if utc > now_utc - WINDOW
    )
    limit = limit_for(settings, state)
    if limit is None or len(counted) < limit:
        return CapCheck(True, limit, len(counted), None)
    # Allowed again once only limit-1 touches remain in the window: when this one ages out.
    leaving = counted[len(counted) - limit]
    return CapCheck(False, limit, len(counted), (leaving + WINDOW).astimezone(now.tzinfo))
