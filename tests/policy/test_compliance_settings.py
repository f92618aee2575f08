"""The [compliance] settings: the TOML shape, the defaults, one-line errors, and the rules combined."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from st_mcp.policy.compliance import ComplianceSettings, help_reply, next_send_at
from st_mcp.policy.lead_locale import LeadLocale
from st_mcp.policy.quiet_hours import DailyWindow, QuietHoursSettings, hours_for

EXAMPLE = """
[compliance]
opt_out_confirmation_minutes = 2
help_text = "{company}: reply STOP to opt out. Msg&data rates may apply. Help: {support_phone}."

[compliance.quiet_hours]
default = "08:00-21:00"

[compliance.quiet_hours.states]
CT = "09:00-20:00"
RI = { mon-fri = "09:00-18:00", "sat,sun" = "10:00-17:00" }

[compliance.quiet_hours.states.TX]
mon-sat = "09:00-21:00"
sun = "12:00-21:00"

[compliance.touch_cap]
everywhere = 6

[compliance.touch_cap.states]
CT = 3
"""


def from_toml(text: str) -> ComplianceSettings:
    return ComplianceSettings.model_validate(tomllib.loads(text)["compliance"])


def one_line_error(text: str) -> str:
    """What config.load_settings prints: the dotted location and pydantic's message, on one line."""
    with pytest.raises(ValidationError) as caught:
        from_toml(text)
    error = caught.value.errors(include_url=False)[0]
    line = f"compliance.{'.'.join(str(part) for part in error['loc'])}: " + error["msg"].removeprefix(
        "Value error, "
    )
    assert "\n" not in line
    return line


def test_the_defaults_follow_the_design() -> None:
    settings = ComplianceSettings()
    assert settings.model_dump() == {
        "quiet_hours": {
            "default": "08:00-21:00",
            "states": {
                "FL": "08:00-20:00",
                "OK": "08:00-20:00",
                "MD": "08:00-20:00",
                "TX": {"mon-sat": "09:00-21:00", "sun": "12:00-21:00"},
            },
        },
        "touch_cap": {"states": {"FL": 3, "OK": 3, "MD": 3}, "everywhere": None},
        "opt_out_keywords": [],
        "opt_out_phrases": [],
        "opt_out_confirmation_minutes": 5,
        "help_text": (
            "{company}: reply STOP to opt out. Msg&data rates may apply. Call {support_phone} for help."
        ),
    }


def test_the_example_toml_parses() -> None:
    settings = from_toml(EXAMPLE)
    quiet = settings.quiet_hours
    assert set(quiet.states) == {"FL", "OK", "MD", "TX", "CT", "RI"}  # built-ins kept
    assert hours_for(quiet, "CT").days[0] == DailyWindow(time(9), time(20))
    assert hours_for(quiet, "RI").days[4] == DailyWindow(time(9), time(18))
    assert hours_for(quiet, "RI").days[6] == DailyWindow(time(10), time(17))
    assert hours_for(quiet, "TX").days[6] == DailyWindow(time(12), time(21))
    assert settings.touch_cap.states == {"FL": 3, "OK": 3, "MD": 3, "CT": 3}
    assert settings.touch_cap.everywhere == 6
    assert settings.opt_out_confirmation_minutes == 2


def test_settings_round_trip_through_their_dump() -> None:
    settings = from_toml(EXAMPLE)
    dumped = settings.model_dump()
    assert dumped["quiet_hours"]["states"]["RI"] == {"mon-fri": "09:00-18:00", "sat-sun": "10:00-17:00"}
    assert ComplianceSettings.model_validate(dumped) == settings


def test_an_empty_section_is_all_defaults() -> None:
    assert from_toml("[compliance]\n") == ComplianceSettings()


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        ({"daily": "09:00-17:00"}, [True] * 7),
        ({"fri-mon": "09:00-17:00", "tue-thu": "closed"}, [True, False, False, False, True, True, True]),
        (
            {"monday": "09:00-17:00", "Tue, Wed,thu ,fri": "09:00-17:00", "sat-sun": "closed"},
            [True] * 5 + [False] * 2,
        ),
    ],
)
def test_day_specs(days: dict[str, str], expected: list[bool]) -> None:
    quiet = QuietHoursSettings(states={"CO": days})
    assert [window is not None for window in quiet.states["CO"].days] == expected


def test_windows_tolerate_spaces_dashes_and_single_digit_hours() -> None:
    quiet = QuietHoursSettings(default=" 8:00 – 20:30 ")
    assert quiet.default.days[0] == DailyWindow(time(8), time(20, 30))


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        (
            '[compliance.quiet_hours]\ndefault = "9am-9pm"',
            "compliance.quiet_hours.default: '9am-9pm' is not a window; write \"HH:MM-HH:MM\" in 24-hour "
            'time, e.g. "08:00-21:00", or "closed"',
        ),
        (
            '[compliance.quiet_hours.states]\nFL = "21:00-08:00"',
            "compliance.quiet_hours.states.FL: '21:00-08:00' must end after it starts, within one day, "
            'e.g. "08:00-21:00"',
        ),
        ('[compliance.quiet_hours]\ndefault = "25:00-26:00"', "has an impossible time"),
        ("[compliance.quiet_hours]\ndefault = 8", 'expected "HH:MM-HH:MM" or a table of days'),
        (
            '[compliance.quiet_hours.states.TX]\nmon-sat = "09:00-21:00"',
            'compliance.quiet_hours.states.TX: no window for sun; add sun = "HH:MM-HH:MM" (or "closed")',
        ),
        (
            '[compliance.quiet_hours.states.TX]\nweekdays = "09:00-21:00"',
            "unknown day 'weekdays' in 'weekdays'; use mon, tue, wed, thu, fri, sat, sun, a range such as "
            "mon-fri, or daily",
        ),
        (
            '[compliance.quiet_hours.states.TX]\nmon-sat = "09:00-21:00"\nsat = "10:00-21:00"\n'
            'sun = "closed"',
            "sat is named twice ('mon-sat' and 'sat')",
        ),
        ("[compliance.quiet_hours.states.TX]\nsun = 12", 'sun = 12: write "HH:MM-HH:MM"'),
        (
            '[compliance.quiet_hours.states]\nFlordia = "08:00-20:00"',
            "unknown state 'Flordia'; use a two-letter code such as FL",
        ),
        ('[compliance.quiet_hours]\nwindow = "08:00-21:00"', "compliance.quiet_hours.window: Extra inputs"),
        ("[compliance.touch_cap.states]\nFL = 0", "compliance.touch_cap.states.FL: Input should be greater"),
        (
            "[compliance.touch_cap]\neverywhere = 0",
            "compliance.touch_cap.everywhere: Input should be greater",
        ),
        ("[compliance]\nopt_out_confirmation_minutes = 10", "less than or equal to 5"),
        (
            '[compliance]\nhelp_text = "{company}: reply STOP. Call {phone}."',
            "compliance.help_text: unknown placeholder {phone}; use {company} and {support_phone}",
        ),
        ('[compliance]\nhelp_text = "{company}: call us."', "must tell the lead how to opt out"),
        ('[compliance]\nhelp_text = "{company: reply STOP"', "unbalanced { or }"),
    ],
)
def test_config_errors_are_one_actionable_line(toml: str, expected: str) -> None:
    assert expected in one_line_error(toml)


def test_help_reply_fills_in_the_company_and_phone() -> None:
    assert help_reply(ComplianceSettings(), company="Peak Home Services", support_phone="(303) 555-0100") == (
        "Peak Home Services: reply STOP to opt out. Msg&data rates may apply. Call (303) 555-0100 for help."
    )
    custom = from_toml(EXAMPLE)
    assert help_reply(custom, company="Peak", support_phone="(303) 555-0100").endswith(
        "Help: (303) 555-0100."
    )


def test_the_settings_have_a_json_schema() -> None:
    schema = ComplianceSettings.model_json_schema()
    assert "QuietHoursSettings" in schema["$defs"]


# ----- the rules combined ----------------------------------------------------------------------------

NEW_YORK = ZoneInfo("America/New_York")
FLORIDA = LeadLocale("FL", NEW_YORK, "zip")
COLORADO = LeadLocale("CO", ZoneInfo("America/Denver"), "zip")


def test_next_send_is_now_when_both_rules_allow() -> None:
    now = datetime(2026, 3, 11, 16, 0, tzinfo=UTC)  # noon in Florida
    assert next_send_at(ComplianceSettings(), (FLORIDA,), [], now) == now


def test_next_send_waits_for_the_window_when_the_cap_frees_up_after_hours() -> None:
    now = datetime(2026, 3, 11, 23, 0, tzinfo=UTC)  # 7:00 PM in Florida: open, but three touches today
    touches = [now - timedelta(hours=h) for h in (22.5, 2, 1)]  # the oldest leaves at 8:30 PM: closed
    result = next_send_at(ComplianceSettings(), (FLORIDA,), touches, now)
    assert result is not None and result.astimezone(UTC) == datetime(2026, 3, 12, 12, 0, tzinfo=UTC)
    assert result.tzinfo == NEW_YORK


def test_next_send_is_when_the_cap_frees_up_inside_the_window() -> None:
    now = datetime(2026, 3, 11, 16, 0, tzinfo=UTC)  # noon in Florida
    touches = [now - timedelta(hours=h) for h in (23, 2, 1)]
    assert next_send_at(ComplianceSettings(), (FLORIDA,), touches, now) == now + timedelta(hours=1)


def test_next_send_in_colorado_ignores_the_count() -> None:
    now = datetime(2026, 3, 12, 4, 0, tzinfo=UTC)  # 10 PM in Denver
    touches = [now - timedelta(hours=h) for h in (4, 3, 2, 1)]
    result = next_send_at(ComplianceSettings(), (COLORADO,), touches, now)
    assert result is not None and result.astimezone(UTC) == datetime(2026, 3, 12, 14, 0, tzinfo=UTC)
