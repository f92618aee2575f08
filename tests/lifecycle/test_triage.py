"""emergency_triage decides by rules: the same words give the same answer, whatever the model thinks."""

from __future__ import annotations

import pytest
from mcp import Client
from sqlalchemy import select

from st_mcp.config_lifecycle import TriageRule, TriageSettings
from st_mcp.services.lifecycle.survey import parse_rating
from st_mcp.services.lifecycle.triage import Triage
from st_mcp.store.schema import audit_events
from tests.server.conftest import Harness, ok, refused

pytestmark = pytest.mark.anyio

# (what the caller says, level, rule, escalate now)
TABLE = [
    ("I smell gas", "emergency", "gas_smell", True),
    ("There's a rotten egg smell by the water heater", "emergency", "gas_smell", True),
    ("AC a bit weak", "routine", "none", False),
    ("Our CO alarm is beeping and my head hurts", "emergency", "co_alarm", True),
    ("ＣＯ ａｌａｒｍ going off", "emergency", "co_alarm", True),  # full-width letters
    ("The outlet in the kitchen is sparking", "emergency", "sparking_or_burning", True),
    ("burning smell from the furnace", "emergency", "sparking_or_burning", True),
    ("Pipe burst in the basement, water everywhere!!!", "emergency", "flooding", True),
    ("No heat and it's 45 degrees in the house", "emergency", "no_heat_freezing", True),
    ("Furnace quit, it is 3°C inside", "emergency", "no_heat_freezing", True),
    ("furnace not working and the pipes are freezing", "emergency", "no_heat_freezing", True),
    ("No heat, it's 68 degrees in here though", "urgent", "no_heat", False),
    ("no heat", "urgent", "no_heat", False),
    ("AC is not working, it's 97 degrees and my elderly mother lives with us", "emergency",
     "no_cooling_vulnerable_heat", True),
    ("AC is not working, it's 97 degrees", "urgent", "no_cooling", False),
    ("ac not working, my newborn is here but it's only 75°", "urgent", "no_cooling", False),
    ("Water heater leaking a little", "urgent", "active_leak", False),
    ("There is no gas smell, just a noisy furnace", "routine", "none", False),
    ("I don't smell gas, the pilot light is out", "routine", "none", False),
    ("Please schedule a furnace tune-up", "routine", "none", False),
    ("", "routine", "none", False),
    ("'; DROP TABLE jobs; -- I smell gas", "emergency", "gas_smell", True),  # hostile, still read plainly
    ("gasoline smell in the garage from the mower", "routine", "none", False),  # not "smell gas"
    ("9" * 4000, "routine", "none", False),
    ("S M E L L   G A S", "routine", "none", False),  # spaced-out letters are not the words
]  # fmt: skip


@pytest.mark.parametrize(("text", "level", "rule", "escalate"), TABLE)
def test_triage_table(text: str, level: str, rule: str, escalate: bool) -> None:
    result = Triage(TriageSettings()).assess(text)
    assert (result.level, result.rule, result.escalate_now) == (level, rule, escalate)
    if level == "emergency":
        assert result.safety_advice and result.priority == "Urgent"
    if level == "routine":
        assert result.safety_advice == "" and result.priority == "Normal"


def test_an_operator_adds_a_rule_and_it_comes_first() -> None:
    custom = TriageRule(
        name="septic_alarm", level="urgent", keywords=["septic alarm"], priority="High", escalate_now=True
    )
    settings = TriageSettings(extra_rules=[custom])
    result = Triage(settings).assess("the septic alarm is going off")
    assert (result.level, result.rule, result.escalate_now, result.priority) == (
        "urgent",
        "septic_alarm",
        True,
        "High",
    )


async def test_every_decision_is_audited(harness: Harness, client: Client) -> None:
    result = await ok(client, "emergency_triage", {"description": "I smell gas, call me at 720-555-0111"})
    assert result["level"] == "emergency" and result["escalate_now"] is True
    assert "Leave the building" in result["safety_advice"]
    await ok(client, "emergency_triage", {"description": "AC a bit weak"})
    async with harness.engine.connect() as conn:
        rows = (
            (await conn.execute(select(audit_events).where(audit_events.c.tool.like("triage.%"))))
            .mappings()
            .all()
        )
    assert [(r["tool"], r["kind"], r["reason"]) for r in rows] == [
        ("triage.gas_smell", "compliance", "emergency: gas_smell"),
        ("triage.none", "compliance", "routine: none"),
    ]
    async with harness.engine.connect() as conn:
        calls = (
            (await conn.execute(select(audit_events).where(audit_events.c.tool == "emergency_triage")))
            .mappings()
            .all()
        )
    assert len(calls) == 2 and all("720-555-0111" not in str(r["arguments"]) for r in calls)


async def test_an_over_long_description_is_refused_before_anything(client: Client) -> None:
    message = await refused(client, "emergency_triage", {"description": "x" * 5000})
    assert "4000" in message


@pytest.mark.parametrize(
    ("reply", "rating"),
    [("5", 5), ("5/5", 5), ("4 stars", 4), ("1. He was two hours late", 1), ("I'd give it a 4", 4),
     ("five", 5), ("a four!", 4), ("10", None), ("4.5", None), ("I'd say 3, maybe 4", None),
     ("Great job, thanks", None), ("two guys came, one was late and the other was rude", None), ("", None)],
)  # fmt: skip
def test_rating_replies(reply: str, rating: int | None) -> None:
    assert parse_rating(reply) == rating
