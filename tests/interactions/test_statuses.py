"""The status vocabulary, the one transition table, actor rules, filters, engagement temperature and
opt-out recognition — pure functions, no I/O."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta

import pytest

from st_mcp.services.interactions import statuses as s
from st_mcp.services.interactions.statuses import (
    ALL_STATUSES,
    GROUPS,
    TRANSITIONS,
    EngagementThresholds,
    TransitionRefused,
    check_transition,
    engagement_status,
    group_of,
    statuses_in,
)
from st_mcp.services.optout import OptOutDetector, is_help, is_opt_in, is_opt_out

# DESIGN §5, copied word for word from ServiceTitan's Interactions page.
SERVICETITAN_STATUSES = [
    "Started",
    "Active: Hot",
    "Active: Warm",
    "Active: Cool",
    "Active: Cold",
    "Active",
    "Converted: Agent",
    "Converted: Human",
    "Converted",
    "Escalated (Agent Issue)",
    "Escalated (Availability)",
    "Escalated (Skill/Handling)",
    "Escalated (Human Request)",
    "Escalated (Negative Sentiment)",
    "Escalated",
    "Dismissed: Agent",
    "Dismissed: Human",
    "Dismissed",
    "Abandoned",
    "Opt-out",
    "Failed",
    "Terminated",
    "Takeover",
]

EXPECTED_GROUP = {
    "Started": "Started",
    "Active: Hot": "Active",
    "Active: Warm": "Active",
    "Active: Cool": "Active",
    "Active: Cold": "Active",
    "Active": "Active",
    "Converted: Agent": "Converted",
    "Converted: Human": "Converted",
    "Converted": "Converted",
    "Escalated (Agent Issue)": "Escalated",
    "Escalated (Availability)": "Escalated",
    "Escalated (Skill/Handling)": "Escalated",
    "Escalated (Human Request)": "Escalated",
    "Escalated (Negative Sentiment)": "Escalated",
    "Escalated": "Escalated",
    "Dismissed: Agent": "Dismissed",
    "Dismissed: Human": "Dismissed",
    "Dismissed": "Dismissed",
    "Abandoned": "Abandoned",
    "Opt-out": "Opt-out",
    "Failed": "Failed",
    "Terminated": "Terminated",
    "Takeover": "Takeover",
}

# Statuses only a person may set, and statuses only the virtual agent may set.
HUMAN_ONLY = {"Converted: Human", "Dismissed: Human", "Takeover"}
AGENT_ONLY = {"Converted: Agent", "Dismissed: Agent"}


def refused(current: str, target: str, *, by_ai: bool) -> bool:
    try:
        check_transition(current, target, by_ai=by_ai)
    except TransitionRefused:
        return True
    return False


# -- vocabulary ----------------------------------------------------------------------------------------
def test_the_vocabulary_is_servicetitans_exactly() -> None:
    assert list(ALL_STATUSES) == SERVICETITAN_STATUSES
    assert len(set(ALL_STATUSES)) == len(ALL_STATUSES) == 23
    assert "Escalated (Skill/Handling)" in ALL_STATUSES and "Opt-out" in ALL_STATUSES
    # The constants spell the same words.
    assert (s.OPT_OUT, s.TAKEOVER, s.CONVERTED_AGENT, s.DISMISSED_HUMAN) == (
        "Opt-out",
        "Takeover",
        "Converted: Agent",
        "Dismissed: Human",
    )
    assert s.escalated("Skill/Handling") == "Escalated (Skill/Handling)"
    with pytest.raises(ValueError, match="unknown interaction status"):
        s.escalated("Bad Mood")


@pytest.mark.parametrize("status", SERVICETITAN_STATUSES)
def test_group_of_each_status(status: str) -> None:
    assert group_of(status) == EXPECTED_GROUP[status]


@pytest.mark.parametrize("text", ["active: hot", "Escalated (Bad Mood)", "Optout", "", "Converted:Agent"])
def test_group_of_refuses_unknown_words(text: str) -> None:
    with pytest.raises(ValueError, match="unknown interaction status"):
        group_of(text)


def test_groups_cover_the_vocabulary_and_the_table() -> None:
    assert set(GROUPS) == set(EXPECTED_GROUP.values())
    assert set(TRANSITIONS) == set(GROUPS)
    assert all(targets <= set(GROUPS) for targets in TRANSITIONS.values())
    assert s.OPEN_GROUPS | s.CLOSED_GROUPS | {"Converted"} == set(GROUPS)
    assert not s.OPEN_GROUPS & s.CLOSED_GROUPS


# -- the transition matrix ------------------------------------------------------------------------------
MATRIX = list(itertools.product(ALL_STATUSES, ALL_STATUSES))
ALLOWED = [(a, b) for a, b in MATRIX if EXPECTED_GROUP[b] in TRANSITIONS[EXPECTED_GROUP[a]]]
FORBIDDEN = [(a, b) for a, b in MATRIX if EXPECTED_GROUP[b] not in TRANSITIONS[EXPECTED_GROUP[a]]]


def test_the_matrix_is_complete() -> None:
    assert len(ALLOWED) + len(FORBIDDEN) == 23 * 23
    # Spot checks of the table as DESIGN §5 describes it, so an edit to it shows up here as well.
    allowed_groups = {(a, b) for a, targets in TRANSITIONS.items() for b in targets}
    assert ("Converted", "Takeover") in allowed_groups  # a CSR may take over after a booking
    assert ("Opt-out", "Active") in allowed_groups  # START opts back in
    assert ("Takeover", "Converted") in allowed_groups  # the person books
    assert ("Takeover", "Active") not in allowed_groups  # the AI never gets it back
    assert ("Dismissed", "Active") not in allowed_groups
    assert TRANSITIONS["Terminated"] == frozenset({"Opt-out"})  # nothing but the lead's STOP


@pytest.mark.parametrize("status", [x for x in SERVICETITAN_STATUSES if x != "Opt-out"])
def test_a_stop_is_honoured_from_every_status(status: str) -> None:
    """DESIGN §6: a lead's STOP is never dropped, whatever state the conversation is in."""
    check_transition(status, "Opt-out", by_ai=False)


# Allowed by the table (Takeover → Converted / Dismissed) but reserved for the agent, who never acts out
# of Takeover: the person's own word (Converted: Human, Dismissed: Human) is the only way there.
NOBODY = {("Takeover", "Converted: Agent"), ("Takeover", "Dismissed: Agent")}


@pytest.mark.parametrize(("source", "goal"), [(a, b) for a, targets in TRANSITIONS.items() for b in targets])
def test_every_group_transition_in_the_table_succeeds_for_some_actor(source: str, goal: str) -> None:
    made = [
        (a, b, by_ai)
        for a, b in ALLOWED
        if (EXPECTED_GROUP[a], EXPECTED_GROUP[b]) == (source, goal)
        for by_ai in (True, False)
        if not refused(a, b, by_ai=by_ai)
    ]
    assert made, f"{source} → {goal} is in the table but no actor can make it"


@pytest.mark.parametrize(("current", "target"), ALLOWED)
def test_each_allowed_status_pair_follows_the_actor_rules(current: str, target: str) -> None:
    by_person, by_agent = not refused(current, target, by_ai=False), not refused(current, target, by_ai=True)
    expected_person = target not in AGENT_ONLY
    expected_agent = target not in HUMAN_ONLY and EXPECTED_GROUP[current] != "Takeover"
    assert (by_person, by_agent) == (expected_person, expected_agent)
    assert (by_person or by_agent) == ((current, target) not in NOBODY)


@pytest.mark.parametrize(("current", "target"), FORBIDDEN)
def test_every_transition_outside_the_table_is_refused(current: str, target: str) -> None:
    for by_ai in (True, False):
        with pytest.raises(TransitionRefused, match=re.escape(f"'{current}' cannot become '{target}'")):
            check_transition(current, target, by_ai=by_ai)


@pytest.mark.parametrize("current", ALL_STATUSES)
def test_unknown_statuses_are_not_transitions(current: str) -> None:
    with pytest.raises(ValueError):
        check_transition(current, "Sleeping", by_ai=False)
    with pytest.raises(ValueError):
        check_transition("Sleeping", current, by_ai=False)


# -- who may do what ------------------------------------------------------------------------------------
@pytest.mark.parametrize("target", sorted(HUMAN_ONLY))
def test_the_ai_cannot_set_human_statuses(target: str) -> None:
    with pytest.raises(TransitionRefused, match=f"Only a person can set '{target}'"):
        check_transition("Active: Hot", target, by_ai=True)
    check_transition("Active: Hot", target, by_ai=False)


@pytest.mark.parametrize("target", sorted(AGENT_ONLY))
def test_a_person_cannot_set_agent_statuses(target: str) -> None:
    with pytest.raises(TransitionRefused, match="reserved for the virtual agent"):
        check_transition("Active: Hot", target, by_ai=False)
    check_transition("Active: Hot", target, by_ai=True)


@pytest.mark.parametrize("target", ALL_STATUSES)
def test_nothing_the_ai_does_leaves_takeover(target: str) -> None:
    with pytest.raises(TransitionRefused):
        check_transition("Takeover", target, by_ai=True)


def test_a_person_continues_after_takeover() -> None:
    for target in ("Converted: Human", "Dismissed: Human", "Opt-out", "Terminated"):
        check_transition("Takeover", target, by_ai=False)
    with pytest.raises(TransitionRefused, match="a person has taken this conversation over"[2:]):
        check_transition("Takeover", "Opt-out", by_ai=True)


# -- status filters -------------------------------------------------------------------------------------
@pytest.mark.parametrize("status", SERVICETITAN_STATUSES)
def test_statuses_in_an_exact_status(status: str) -> None:
    expected = (
        tuple(x for x in SERVICETITAN_STATUSES if EXPECTED_GROUP[x] == status)
        if status in EXPECTED_GROUP.values()  # a bare group word selects the whole group
        else (status,)
    )
    assert statuses_in(status) == expected
    assert statuses_in(status.upper()) == expected
    assert statuses_in(f"  {status.lower()} ") == expected


def test_statuses_in_groups() -> None:
    assert statuses_in("Active") == ("Active: Hot", "Active: Warm", "Active: Cool", "Active: Cold", "Active")
    assert statuses_in("escalated") == tuple(x for x in SERVICETITAN_STATUSES if x.startswith("Escalated"))
    assert len(statuses_in("ESCALATED")) == 6
    assert statuses_in("Converted") == ("Converted: Agent", "Converted: Human", "Converted")
    assert statuses_in("dismissed") == ("Dismissed: Agent", "Dismissed: Human", "Dismissed")
    assert statuses_in("opt-out") == ("Opt-out",)
    assert statuses_in("Active: Hot") == ("Active: Hot",)
    assert statuses_in("escalated (skill/handling)") == ("Escalated (Skill/Handling)",)


@pytest.mark.parametrize("text", ["Hot", "Bogus", "Escalated (Bad Mood)", "Opt out", "Converted:Agent", ""])
def test_statuses_in_unknown_values(text: str) -> None:
    with pytest.raises(ValueError) as raised:
        statuses_in(text)
    message = str(raised.value)
    assert f"unknown status '{text}'" in message
    assert all(status in message for status in SERVICETITAN_STATUSES), "the valid values are listed"


# -- engagement temperature -------------------------------------------------------------------------------
NOW = datetime(2026, 5, 5, 16, 30, tzinfo=UTC)
DEFAULTS = EngagementThresholds()


def temperature(age: timedelta, replies: int = 1, thresholds: EngagementThresholds = DEFAULTS) -> str:
    return engagement_status(last_inbound=NOW - age, inbound_last_24h=replies, now=NOW, thresholds=thresholds)


def test_documented_defaults() -> None:
    assert (DEFAULTS.hot_minutes, DEFAULTS.warm_minutes, DEFAULTS.cool_minutes) == (30, 240, 1440)
    assert DEFAULTS.frequent_replies == 3


def test_plain_active_until_the_first_reply() -> None:
    for replies in (0, 5):
        assert (
            engagement_status(last_inbound=None, inbound_last_24h=replies, now=NOW, thresholds=DEFAULTS)
            == "Active"
        )


SECOND = timedelta(seconds=1)


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        (timedelta(0), "Active: Hot"),
        (timedelta(minutes=30), "Active: Hot"),
        (timedelta(minutes=30) + SECOND, "Active: Warm"),
        (timedelta(hours=4), "Active: Warm"),
        (timedelta(hours=4) + SECOND, "Active: Cool"),
        (timedelta(hours=24), "Active: Cool"),
        (timedelta(hours=24) + SECOND, "Active: Cold"),
        (timedelta(days=9), "Active: Cold"),
    ],
)
def test_recency_boundaries(age: timedelta, expected: str) -> None:
    assert temperature(age, replies=1) == expected
    assert temperature(age, replies=2) == expected  # below the frequency bump


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        (timedelta(minutes=5), "Active: Hot"),  # already the top: stays Hot
        (timedelta(minutes=30) + SECOND, "Active: Hot"),
        (timedelta(hours=4) + SECOND, "Active: Warm"),
        (timedelta(hours=24) + SECOND, "Active: Cool"),
    ],
)
def test_three_replies_lift_one_step(age: timedelta, expected: str) -> None:
    assert temperature(age, replies=3) == expected
    assert temperature(age, replies=7) == expected  # one step, however many


def test_custom_thresholds() -> None:
    quick = EngagementThresholds(hot_minutes=5, warm_minutes=60, cool_minutes=120, frequent_replies=5)
    minute = timedelta(minutes=1)
    assert temperature(5 * minute, thresholds=quick) == "Active: Hot"
    assert temperature(5 * minute + SECOND, thresholds=quick) == "Active: Warm"
    assert temperature(60 * minute, thresholds=quick) == "Active: Warm"
    assert temperature(60 * minute + SECOND, thresholds=quick) == "Active: Cool"
    assert temperature(120 * minute, thresholds=quick) == "Active: Cool"
    assert temperature(120 * minute + SECOND, thresholds=quick) == "Active: Cold"
    # The bump follows the configured count: 3 replies no longer lift, 5 do.
    assert temperature(120 * minute + SECOND, replies=3, thresholds=quick) == "Active: Cold"
    assert temperature(120 * minute + SECOND, replies=4, thresholds=quick) == "Active: Cold"
    assert temperature(120 * minute + SECOND, replies=5, thresholds=quick) == "Active: Cool"
    # …and what is Hot by default is not Hot under these thresholds.
    assert temperature(20 * minute) == "Active: Hot"
    assert temperature(20 * minute, thresholds=quick) == "Active: Warm"


# -- opt-out recognition -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "STOP",
        " stop ",
        "Stop.",
        "STOPALL",
        "stop all",
        "unsubscribe",
        "UNSUBSCRIBE!",
        "cancel",
        "End",
        "quit",
        "REVOKE",
        "optout",
        "opt-out",
        "Opt out",
        "stop texting me please",
        "Please STOP TEXTING ME!!",
        "leave me alone",
        "Just leave me alone.",
        "no more messages",
        "No more texts, thanks",
        "don't text me again",
        "take me off your list",
        "Stop please",
        "please STOP",
        "STOP STOP",
        "Unsubscribe now",
        "stop it!",
        # Seen ignored in an attack on the first wave (issue 10), honoured now:
        "ＳＴＯＰ",  # full-width
        "S.T.O.P",
        "st0p",
        "I want to opt out",
        "Please remove my number",
        "I don't want these texts",
        "wrong number, stop",
        # More of the same kinds:
        "s t o p",
        "$TOP!!",
        "Ｕｎｓｕｂｓｃｒｉｂｅ",
        "QU1T",
        "opt me out",
        "I don’t want these messages",
        "Wrong number",
        "how do I unsubscribe?",
    ],
)
def test_opt_out(text: str) -> None:
    assert is_opt_out(text)
    assert not is_opt_in(text)


@pytest.mark.parametrize(
    "text",
    [
        "don't stop, I need a plumber",
        "stop by tomorrow?",
        "can you stop the leak",
        "Can you stop by after 5?",
        "the faucet won't stop dripping",
        "cancel my 2pm and rebook",  # a request about a job, not a keyword on its own
        "please end the noise from my furnace",
        "please stop by",
        "stop it from leaking",
        "Cancel please",  # ambiguous (an appointment?): only the bare carrier keyword counts
        "cancel 2",  # a digit that stands for no letter keeps the word what it is
        "yes",
        "",
        "I need 1 tech at 5pm",
        "don't stop now, the basement is flooding",
        "the number on the truck is 3035550142",
    ],
)
def test_not_opt_out(text: str) -> None:
    assert not is_opt_out(text)


def test_an_operator_extends_the_lists() -> None:
    detector = OptOutDetector(keywords=["BASTA"], phrases=["no more robots", "Quit bugging me"])
    assert detector.is_opt_out("basta!") and detector.is_opt_out("B.A.S.T.A")
    assert detector.is_opt_out("ok, no more robots please") and detector.is_opt_out("QUIT BUGGING ME")
    assert detector.is_opt_out("STOP")  # the built-in words stay
    assert not detector.is_opt_out("basta pasta") and not is_opt_out("basta")


@pytest.mark.parametrize("text", ["START", "start", " Start. ", "UNSTOP", "unstop", "ＳＴＡＲＴ"])
def test_opt_in(text: str) -> None:
    assert is_opt_in(text)
    assert not is_opt_out(text)


@pytest.mark.parametrize("text", ["start the furnace please", "stop", "unstoppable", "restart"])
def test_not_opt_in(text: str) -> None:
    assert not is_opt_in(text)


def test_help_keywords() -> None:
    assert is_help("HELP") and is_help(" help? ") and is_help("Info")
    assert not is_help("I need help with my furnace")
