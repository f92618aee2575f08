"""Interaction statuses — ServiceTitan's own words — and the one table of allowed transitions.

Every status belongs to a group (the part before ":" or "("). Transitions are allowed or refused by
group, in ``TRANSITIONS``; a few rules about *which* member of a group (an AI never makes
"Converted: Human") live in ``check_transition``. Nothing else in the code decides transitions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from st_mcp.services.bounds import quoted

STARTED = "Started"
ACTIVE, ACTIVE_HOT, ACTIVE_WARM, ACTIVE_COOL, ACTIVE_COLD = (
    "Active", "Active: Hot", "Active: Warm", "Active: Cool", "Active: Cold",
)  # fmt: skip
CONVERTED, CONVERTED_AGENT, CONVERTED_HUMAN = "Converted", "Converted: Agent", "Converted: Human"
ESCALATED = "Escalated"
ESCALATED_REASONS = ("Agent Issue", "Availability", "Skill/Handling", "Human Request", "Negative Sentiment")
DISMISSED, DISMISSED_AGENT, DISMISSED_HUMAN = "Dismissed", "Dismissed: Agent", "Dismissed: Human"
ABANDONED, OPT_OUT, FAILED, TERMINATED, TAKEOVER = "Abandoned", "Opt-out", "Failed", "Terminated", "Takeover"

ALL_STATUSES: tuple[str, ...] = (
    STARTED,
    ACTIVE_HOT, ACTIVE_WARM, ACTIVE_COOL, ACTIVE_COLD, ACTIVE,
    CONVERTED_AGENT, CONVERTED_HUMAN, CONVERTED,
    *(f"{ESCALATED} ({reason})" for reason in ESCALATED_REASONS), ESCALATED,
    DISMISSED_AGENT, DISMISSED_HUMAN, DISMISSED,
    ABANDONED, OPT_OUT, FAILED, TERMINATED, TAKEOVER,
)  # fmt: skip

GROUPS: tuple[str, ...] = (
    STARTED,
    ACTIVE,
    CONVERTED,
    ESCALATED,
    DISMISSED,
    ABANDONED,
    OPT_OUT,
    FAILED,
    TERMINATED,
    TAKEOVER,
)
# Conversations still going on (the AI's, or a human's after takeover).
OPEN_GROUPS = frozenset({STARTED, ACTIVE, ESCALATED, TAKEOVER})
# Where the AI may still send messages or book (after a booking it may still confirm and answer).
AGENT_MAY_ACT_GROUPS = frozenset({STARTED, ACTIVE, ESCALATED, CONVERTED})
# Finished conversations: nothing more happens in them unless the lead comes back.
CLOSED_GROUPS = frozenset({DISMISSED, ABANDONED, OPT_OUT, FAILED, TERMINATED})

TRANSITIONS: dict[str, frozenset[str]] = {
    STARTED: frozenset(
        {ACTIVE, CONVERTED, ESCALATED, DISMISSED, ABANDONED, OPT_OUT, FAILED, TERMINATED, TAKEOVER}
    ),
    ACTIVE: frozenset(
        {ACTIVE, CONVERTED, ESCALATED, DISMISSED, ABANDONED, OPT_OUT, FAILED, TERMINATED, TAKEOVER}
    ),
    ESCALATED: frozenset({ESCALATED, CONVERTED, DISMISSED, OPT_OUT, TERMINATED, TAKEOVER}),
    TAKEOVER: frozenset({CONVERTED, DISMISSED, OPT_OUT, TERMINATED}),
    # A lead who replies after the cadence ended, or a failure someone retries, becomes active again.
    ABANDONED: frozenset({ACTIVE, CONVERTED, ESCALATED, DISMISSED, OPT_OUT}),
    # A STOP is honoured from every status (DESIGN §6): the lead's opt-out is never dropped.
    FAILED: frozenset({ACTIVE, ESCALATED, DISMISSED, OPT_OUT, TERMINATED}),
    # After a booking the conversation goes on: another job, a person about this one, an opt-out.
    CONVERTED: frozenset({CONVERTED, ESCALATED, OPT_OUT, TAKEOVER}),
    DISMISSED: frozenset({OPT_OUT}),
    OPT_OUT: frozenset({ACTIVE}),  # START/UNSTOP opts back in
    TERMINATED: frozenset({OPT_OUT}),
}


class TransitionRefused(Exception):
    """The state machine does not allow this change; the message says why and what to do."""


def group_of(status: str) -> str:
    if status not in ALL_STATUSES:
        raise ValueError(f"unknown interaction status '{status}'")
    if status.startswith(ESCALATED):
        return ESCALATED
    return status.split(":")[0]


def statuses_in(group_or_status: str) -> tuple[str, ...]:
    """A filter value → the statuses it selects: an exact status, or a whole group ("Active")."""
    wanted = group_or_status.strip()
    exact = [s for s in ALL_STATUSES if s.casefold() == wanted.casefold()]
    group = [s for s in ALL_STATUSES if group_of(s).casefold() == wanted.casefold()]
    if group:
        return tuple(group)
    if exact:
        return tuple(exact)
    raise ValueError(
        f"unknown status {quoted(group_or_status)}; use one of {', '.join(ALL_STATUSES)} or a group"
    )


def check_transition(current: str, target: str, *, by_ai: bool) -> None:
    """Raise ``TransitionRefused`` unless ``current`` → ``target`` is allowed for this kind of actor."""
    source, goal = group_of(current), group_of(target)
    if goal not in TRANSITIONS[source]:
        raise TransitionRefused(f"An interaction in '{current}' cannot become '{target}'.")
    if by_ai and target in (CONVERTED_HUMAN, DISMISSED_HUMAN, TAKEOVER):
        raise TransitionRefused(f"Only a person can set '{target}'.")
    if not by_ai and target in (CONVERTED_AGENT, DISMISSED_AGENT):
        raise TransitionRefused(f"'{target}' is reserved for the virtual agent.")
    if source == TAKEOVER and by_ai:
        raise TransitionRefused(
            "A person has taken this conversation over; the virtual agent may not change it."
        )


@dataclass(frozen=True, slots=True)
class EngagementThresholds:
    """How reply recency and frequency map to Hot/Warm/Cool/Cold (documented defaults)."""

    hot_minutes: int = 30
    warm_minutes: int = 240
    cool_minutes: int = 1440
    frequent_replies: int = 3  # replies in 24 h that lift the temperature one step


def engagement_status(
    *, last_inbound: datetime | None, inbound_last_24h: int, now: datetime, thresholds: EngagementThresholds
) -> str:
    """The Active status for a conversation: plain "Active" until the lead first replies."""
    if last_inbound is None:
        return ACTIVE
    age = now - last_inbound
    ladder = [ACTIVE_COLD, ACTIVE_COOL, ACTIVE_WARM, ACTIVE_HOT]
    if age <= timedelta(minutes=thresholds.hot_minutes):
        step = 3
    elif age <= timedelta(minutes=thresholds.warm_minutes):
        step = 2
    elif age <= timedelta(minutes=thresholds.cool_minutes):
        step = 1
    else:
        step = 0
    if inbound_last_24h >= thresholds.frequent_replies:
        step = min(step + 1, 3)
    return ladder[step]


def escalated(reason_words: str) -> str:
    status = f"{ESCALATED} ({reason_words})"
    group_of(status)  # validates the reason
    return status
