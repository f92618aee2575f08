"""The touch cap: N outbound touches per lead in any rolling 24 hours, and when the next one is allowed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from st_mcp.policy.touch_cap import CapCheck, TouchCapSettings, limit_for, strictest_state, touch_cap

NOW = datetime(2026, 3, 11, 18, 0, tzinfo=UTC)
DEFAULTS = TouchCapSettings()


def hours_ago(*hours: float) -> list[datetime]:
    return [NOW - timedelta(hours=h) for h in hours]


def test_the_fourth_touch_in_florida_within_24_hours_is_refused() -> None:
    result = touch_cap(DEFAULTS, "FL", hours_ago(23, 2, 1), NOW)
    assert result == CapCheck(allowed=False, limit=3, used=3, opens_at=NOW + timedelta(hours=1))


@pytest.mark.parametrize("state", ["FL", "OK", "MD"])
def test_the_third_touch_is_still_allowed(state: str) -> None:
    assert touch_cap(DEFAULTS, state, hours_ago(5, 1), NOW) == CapCheck(True, 3, 2, None)


def test_the_fourth_touch_in_colorado_is_allowed() -> None:
    assert touch_cap(DEFAULTS, "CO", hours_ago(23, 2, 1), NOW) == CapCheck(True, None, 3, None)


def test_an_unknown_state_has_no_state_cap() -> None:
    assert touch_cap(DEFAULTS, None, hours_ago(3, 2, 1, 0.5), NOW).allowed


def test_a_touch_exactly_24_hours_old_no_longer_counts() -> None:
    result = touch_cap(DEFAULTS, "FL", hours_ago(24, 2, 1), NOW)
    assert result == CapCheck(True, 3, 2, None)
    just_inside = [NOW - timedelta(hours=24) + timedelta(seconds=1), *hours_ago(2, 1)]
    assert touch_cap(DEFAULTS, "FL", just_inside, NOW).opens_at == NOW + timedelta(seconds=1)


def test_over_the_cap_waits_until_enough_touches_age_out() -> None:
    result = touch_cap(DEFAULTS, "FL", hours_ago(1, 20, 3, 22, 10), NOW)  # five, in any order
    assert (result.allowed, result.used) == (False, 5)
    assert result.opens_at == NOW + timedelta(hours=14)  # the 10-hours-old one: then only 2 remain


def test_a_touch_stamped_a_little_in_the_future_still_counts() -> None:
    result = touch_cap(DEFAULTS, "FL", [*hours_ago(3, 2), NOW + timedelta(seconds=2)], NOW)
    assert not result.allowed


def test_the_everywhere_cap_applies_to_every_state() -> None:
    everywhere = TouchCapSettings(everywhere=5)
    assert touch_cap(everywhere, "CO", hours_ago(5, 4, 3, 2), NOW).allowed
    refused = touch_cap(everywhere, "CO", hours_ago(5, 4, 3, 2, 1), NOW)
    assert refused == CapCheck(False, 5, 5, NOW + timedelta(hours=19))
    assert touch_cap(everywhere, None, hours_ago(5, 4, 3, 2, 1), NOW).limit == 5


def test_the_strictest_cap_wins() -> None:
    assert limit_for(TouchCapSettings(everywhere=5), "FL") == 3
    assert limit_for(TouchCapSettings(everywhere=2), "FL") == 2
    assert limit_for(TouchCapSettings(), "TX") is None


def test_an_operator_cap_for_one_state_keeps_the_built_in_ones() -> None:
    custom = TouchCapSettings.model_validate({"states": {"co": 2, "FL": 2}})
    assert custom.states == {"FL": 2, "OK": 3, "MD": 3, "CO": 2}
    assert not touch_cap(custom, "CO", hours_ago(2, 1), NOW).allowed


def test_24_hours_are_real_hours_across_a_dst_change() -> None:
    """Clocks sprang forward on 8 Mar 2026: 11:30 AM on the 7th is only 23.5 real hours before noon."""
    new_york = ZoneInfo("America/New_York")
    now = datetime(2026, 3, 8, 12, 0, tzinfo=new_york)
    touches = [
        datetime(2026, 3, 7, 11, 30, tzinfo=new_york),
        datetime(2026, 3, 8, 10, 0, tzinfo=new_york),
        datetime(2026, 3, 8, 11, 0, tzinfo=new_york),
    ]
    result = touch_cap(DEFAULTS, "FL", touches, now)
    assert (result.allowed, result.used) == (False, 3)
    assert result.opens_at is not None and result.opens_at.tzinfo == new_york
    assert result.opens_at.astimezone(UTC) == datetime(2026, 3, 8, 16, 30, tzinfo=UTC)  # 12:30 PM EDT


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        touch_cap(DEFAULTS, "FL", [datetime(2026, 3, 11, 12, 0)], NOW)
    with pytest.raises(ValueError, match="timezone-aware"):
        touch_cap(DEFAULTS, "FL", [], datetime(2026, 3, 11, 12, 0))


def test_the_strictest_of_several_states_counts() -> None:
    assert strictest_state(DEFAULTS, ["CO", "FL"]) == "FL"
    assert strictest_state(TouchCapSettings(states={"MD": 2}), ["FL", "MD", "TX"]) == "MD"
    assert strictest_state(DEFAULTS, ["CO", "TX"]) == "CO"  # none capped: the lead's own state
    assert strictest_state(DEFAULTS, []) is None
