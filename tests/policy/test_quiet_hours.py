"""Quiet hours at their boundaries, in the lead's own time, across midnight, weekends and DST."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from st_mcp.policy.lead_locale import LeadLocale, locale_for
from st_mcp.policy.quiet_hours import (
    DailyWindow,
    QuietHoursSettings,
    WindowCheck,
    describe_hours,
    hours_for,
    refusal_sentence,
    send_window,
    send_window_everywhere,
)

NEW_YORK = ZoneInfo("America/New_York")
CHICAGO = ZoneInfo("America/Chicago")
DENVER = ZoneInfo("America/Denver")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
HONOLULU = ZoneInfo("Pacific/Honolulu")
PHOENIX = ZoneInfo("America/Phoenix")

FLORIDA = LeadLocale("FL", NEW_YORK, "zip")
TEXAS = LeadLocale("TX", CHICAGO, "zip")
COLORADO = LeadLocale("CO", DENVER, "zip")
NEW_YORK_LEAD = LeadLocale("NY", NEW_YORK, "zip")
DEFAULTS = QuietHoursSettings()

# The week used below: Mon 9 … Sun 15 March 2026 (DST began on Sun 8 March in the US).
MON, WED, THU, SAT, SUN = 9, 11, 12, 14, 15


def at(day: int, hour: int, minute: int = 0, second: int = 0, *, zone: ZoneInfo, month: int = 3) -> datetime:
    """A UTC instant given as the lead's local wall time in March 2026."""
    return datetime(2026, month, day, hour, minute, second, tzinfo=zone).astimezone(UTC)


def check(locale: LeadLocale, now: datetime, qh: QuietHoursSettings = DEFAULTS) -> WindowCheck:
    return send_window(qh, locale, now)


def local(day: int, hour: int, minute: int = 0, *, zone: ZoneInfo, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=zone)


def same_instant(a: datetime | None, b: datetime) -> bool:
    """Equal instants *and* the same offset (aware datetimes in one ZoneInfo compare by wall time)."""
    return a is not None and a.astimezone(UTC) == b.astimezone(UTC) and a.utcoffset() == b.utcoffset()


# ----- the federal default ------------------------------------------------------------------------------


def test_federal_window_closes_at_21_00_sharp() -> None:
    assert check(COLORADO, at(WED, 20, 59, zone=DENVER)).open
    assert check(COLORADO, at(WED, 20, 59, 59, zone=DENVER)).open
    closed = check(COLORADO, at(WED, 21, 0, zone=DENVER))
    assert not closed.open
    assert same_instant(closed.opens_at, local(THU, 8, zone=DENVER))


def test_federal_window_opens_at_08_00_sharp() -> None:
    early = check(COLORADO, at(WED, 7, 59, 59, zone=DENVER))
    assert not early.open
    assert same_instant(early.opens_at, local(WED, 8, zone=DENVER))
    assert check(COLORADO, at(WED, 8, 0, zone=DENVER)).open


def test_after_midnight_opens_the_same_calendar_day() -> None:
    result = check(COLORADO, at(THU, 0, 30, zone=DENVER))
    assert same_instant(result.opens_at, local(THU, 8, zone=DENVER))


def test_an_open_window_has_no_opening_time_and_reports_local_now() -> None:
    result = check(COLORADO, at(WED, 12, 0, zone=DENVER))
    assert result.open and result.opens_at is None
    assert result.local_now == local(WED, 12, zone=DENVER)
    assert result.local_now.tzinfo == DENVER


# ----- state rules ----------------------------------------------------------------------------------


def test_florida_closes_at_20_00() -> None:
    assert check(FLORIDA, at(WED, 19, 59, zone=NEW_YORK)).open
    assert check(FLORIDA, at(WED, 19, 59, 59, zone=NEW_YORK)).open
    closed = check(FLORIDA, at(WED, 20, 0, zone=NEW_YORK))
    assert not closed.open
    assert same_instant(closed.opens_at, local(THU, 8, zone=NEW_YORK))
    assert closed.rule == "Florida: 8:00 AM–8:00 PM"


@pytest.mark.parametrize("state", ["OK", "MD"])
def test_oklahoma_and_maryland_close_at_20_00(state: str) -> None:
    lead = LeadLocale(state, CHICAGO if state == "OK" else NEW_YORK, "zip")
    assert check(lead, at(WED, 19, 59, zone=lead.timezone)).open
    assert not check(lead, at(WED, 20, 0, zone=lead.timezone)).open


def test_texas_sunday_opens_at_noon() -> None:
    morning = check(TEXAS, at(SUN, 11, 59, zone=CHICAGO))
    assert not morning.open
    assert same_instant(morning.opens_at, local(SUN, 12, zone=CHICAGO))
    assert check(TEXAS, at(SUN, 12, 0, zone=CHICAGO)).open
    assert check(TEXAS, at(SUN, 20, 59, zone=CHICAGO)).open
    assert not check(TEXAS, at(SUN, 21, 0, zone=CHICAGO)).open


def test_texas_saturday_opens_at_nine() -> None:
    morning = check(TEXAS, at(SAT, 8, 59, zone=CHICAGO))
    assert not morning.open
    assert same_instant(morning.opens_at, local(SAT, 9, zone=CHICAGO))
    assert check(TEXAS, at(SAT, 9, 0, zone=CHICAGO)).open


def test_texas_saturday_night_waits_for_sunday_noon() -> None:
    result = check(TEXAS, at(SAT, 21, 0, zone=CHICAGO))
    assert not result.open
    assert same_instant(result.opens_at, local(SUN, 12, zone=CHICAGO))


def test_texas_sunday_night_opens_monday_at_nine() -> None:
    result = check(TEXAS, at(SUN, 22, 0, zone=CHICAGO))
    assert same_instant(result.opens_at, local(MON + 7, 9, zone=CHICAGO))


def test_texas_rule_is_described_by_day() -> None:
    result = check(TEXAS, at(SUN, 8, 0, zone=CHICAGO))
    assert result.rule == "Texas: Mon–Sat 9:00 AM–9:00 PM, Sun 12:00 PM–9:00 PM"
    assert result.varies_by_day


def test_a_state_without_a_rule_gets_the_default() -> None:
    assert check(COLORADO, at(WED, 20, 30, zone=DENVER)).rule == "Colorado: 8:00 AM–9:00 PM"


# ----- whose clock: the lead's ------------------------------------------------------------------------


def test_the_same_instant_is_open_in_one_zone_and_closed_in_another() -> None:
    """A Denver business; leads east and west of it. 02:30 UTC Wed = 8:30 PM Tue in Denver."""

    def lead(zip_code: str) -> LeadLocale:
        return locale_for(zip=zip_code, state=None, phone=None, business_timezone="America/Denver")

    evening = datetime(2026, 3, 11, 2, 30, tzinfo=UTC)
    assert check(lead("80202"), evening).open  # Denver 8:30 PM
    assert not check(lead("10001"), evening).open  # New York 10:30 PM
    assert check(lead("90012"), evening).open  # Los Angeles 7:30 PM
    assert check(lead("96813"), evening).open  # Honolulu 4:30 PM

    morning = datetime(2026, 3, 11, 14, 30, tzinfo=UTC)
    assert check(lead("10001"), morning).open  # New York 10:30 AM
    assert check(lead("80202"), morning).open  # Denver 8:30 AM
    west = check(lead("90012"), morning)  # Los Angeles 7:30 AM
    assert not west.open
    assert same_instant(west.opens_at, local(WED, 8, zone=LOS_ANGELES))
    hawaii = check(lead("96813"), morning)  # Honolulu 4:30 AM, no DST: UTC-10
    assert not hawaii.open
    assert hawaii.opens_at == datetime(2026, 3, 11, 18, 0, tzinfo=UTC)


def test_the_area_code_fallback_decides_the_clock_too() -> None:
    tampa = locale_for(zip=None, state=None, phone="+18135550100", business_timezone="America/Denver")
    result = check(tampa, at(WED, 20, 30, zone=NEW_YORK))
    assert not result.open
    assert result.rule == "Florida: 8:00 AM–8:00 PM"


def test_an_unknown_state_uses_the_default_in_the_zone_we_fell_back_to() -> None:
    lead = LeadLocale(None, DENVER, "business")
    result = check(lead, at(WED, 21, 30, zone=DENVER))
    assert result.rule == "America/Denver: 8:00 AM–9:00 PM"
    assert refusal_sentence(result) == (
        "outside the lead's quiet hours (texts are allowed 8:00 AM–9:00 PM in America/Denver; it is "
        "9:30 PM there) — the window opens at 8:00 AM Thu Mar 12 local"
    )


# ----- daylight saving time ---------------------------------------------------------------------------


def test_spring_forward_night_opens_at_eight_daylight_time() -> None:
    """Sat 7 Mar 2026 9:30 PM EST (UTC-5); clocks jump at 2 AM; Sun 8 Mar 8:00 AM is EDT (UTC-4)."""
    result = check(NEW_YORK_LEAD, datetime(2026, 3, 8, 2, 30, tzinfo=UTC))
    assert result.local_now.utcoffset() == timedelta(hours=-5)
    assert result.opens_at == datetime(2026, 3, 8, 12, 0, tzinfo=UTC)
    assert result.opens_at is not None and result.opens_at.utcoffset() == timedelta(hours=-4)
    assert not check(NEW_YORK_LEAD, datetime(2026, 3, 8, 11, 59, 59, tzinfo=UTC)).open
    assert check(NEW_YORK_LEAD, datetime(2026, 3, 8, 12, 0, tzinfo=UTC)).open


def test_fall_back_night_opens_at_eight_standard_time() -> None:
    """Sat 31 Oct 2026 10 PM EDT; clocks fall back on Sun 1 Nov; 8:00 AM is EST (UTC-5) = 13:00 UTC."""
    result = check(NEW_YORK_LEAD, datetime(2026, 11, 1, 2, 0, tzinfo=UTC))
    assert result.opens_at == datetime(2026, 11, 1, 13, 0, tzinfo=UTC)
    assert not check(NEW_YORK_LEAD, datetime(2026, 11, 1, 12, 59, 59, tzinfo=UTC)).open
    assert check(NEW_YORK_LEAD, datetime(2026, 11, 1, 13, 0, tzinfo=UTC)).open
    # And it closes at 9 PM EST = 02:00 UTC the next day.
    assert check(NEW_YORK_LEAD, datetime(2026, 11, 2, 1, 59, 59, tzinfo=UTC)).open
    assert not check(NEW_YORK_LEAD, datetime(2026, 11, 2, 2, 0, tzinfo=UTC)).open


def test_arizona_keeps_standard_time() -> None:
    arizona = LeadLocale("AZ", PHOENIX, "zip")
    result = check(arizona, datetime(2026, 3, 11, 14, 30, tzinfo=UTC))  # 7:30 AM MST
    assert result.opens_at == datetime(2026, 3, 11, 15, 0, tzinfo=UTC)


def test_a_start_the_clocks_spring_over_opens_at_the_jump() -> None:
    odd = QuietHoursSettings(default="02:30-21:00", states={})
    result = check(NEW_YORK_LEAD, datetime(2026, 3, 8, 6, 0, tzinfo=UTC), odd)  # 1:00 AM EST
    assert result.opens_at == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)  # 3:00 AM EDT, the jump
    assert check(NEW_YORK_LEAD, datetime(2026, 3, 8, 7, 0, tzinfo=UTC), odd).open
    assert not check(NEW_YORK_LEAD, datetime(2026, 3, 8, 6, 59, 59, tzinfo=UTC), odd).open


def test_a_window_inside_the_jump_never_opens_that_day() -> None:
    odd = QuietHoursSettings(default="02:10-02:50", states={})
    result = check(NEW_YORK_LEAD, datetime(2026, 3, 8, 6, 0, tzinfo=UTC), odd)
    assert same_instant(result.opens_at, datetime(2026, 3, 9, 2, 10, tzinfo=NEW_YORK))


def test_the_repeated_hour_does_not_reopen_a_closed_window() -> None:
    odd = QuietHoursSettings(default="01:00-01:30", states={})
    first_pass = datetime(2026, 11, 1, 5, 15, tzinfo=UTC)  # 1:15 AM EDT
    second_pass = datetime(2026, 11, 1, 6, 15, tzinfo=UTC)  # 1:15 AM EST
    assert check(NEW_YORK_LEAD, first_pass, odd).open
    assert not check(NEW_YORK_LEAD, second_pass, odd).open


# ----- words ------------------------------------------------------------------------------------------


def test_refusal_sentence_for_florida() -> None:
    result = check(FLORIDA, at(WED, 20, 30, zone=NEW_YORK))
    assert refusal_sentence(result) == (
        "outside the lead's quiet hours (Florida allows texts 8:00 AM–8:00 PM; it is 8:30 PM there) — "
        "the window opens at 8:00 AM Thu Mar 12 local"
    )
    assert "Florida allows calls" in refusal_sentence(result, what="calls")


def test_refusal_sentence_names_the_day_when_the_rule_depends_on_it() -> None:
    result = check(TEXAS, at(SUN, 11, 15, zone=CHICAGO))
    assert refusal_sentence(result) == (
        "outside the lead's quiet hours (Texas allows texts Mon–Sat 9:00 AM–9:00 PM, Sun 12:00 PM–9:00 PM; "
        "it is 11:15 AM Sunday there) — the window opens at 12:00 PM Sun Mar 15 local"
    )


def test_refusal_sentence_when_no_day_has_a_window() -> None:
    never = QuietHoursSettings(default="closed", states={})
    result = check(COLORADO, at(WED, 12, 0, zone=DENVER), never)
    assert not result.open and result.opens_at is None
    assert result.hours == "never"
    assert refusal_sentence(result).endswith("— no day of the week has a sending window")


def test_refusal_sentence_refuses_an_open_window() -> None:
    with pytest.raises(ValueError, match="open"):
        refusal_sentence(check(COLORADO, at(WED, 12, 0, zone=DENVER)))


def test_midnight_and_noon_are_written_plainly() -> None:
    odd = QuietHoursSettings(default="00:05-12:00", states={})
    assert describe_hours(odd.default) == "12:05 AM–12:00 PM"


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        send_window(DEFAULTS, COLORADO, datetime(2026, 3, 11, 12, 0))


# ----- the default narrows every state ---------------------------------------------------------------


def test_a_stricter_default_narrows_the_state_rules() -> None:
    vendor_practice = QuietHoursSettings(default="09:00-20:00")
    sunday = hours_for(vendor_practice, "TX").days[6]
    assert sunday == DailyWindow(time(12, 0), time(20, 0))
    assert hours_for(vendor_practice, "FL").days[0] == DailyWindow(time(9, 0), time(20, 0))


def test_a_looser_state_rule_cannot_widen_the_default() -> None:
    loose = QuietHoursSettings(states={"CO": "07:00-22:00"})
    assert hours_for(loose, "CO").days[0] == DailyWindow(time(8, 0), time(21, 0))


# ----- property ---------------------------------------------------------------------------------------

LEADS = [
    FLORIDA,
    TEXAS,
    COLORADO,
    NEW_YORK_LEAD,
    LeadLocale("MD", NEW_YORK, "state"),
    LeadLocale("OK", CHICAGO, "area_code"),
    LeadLocale("CA", LOS_ANGELES, "zip"),
    LeadLocale("HI", HONOLULU, "zip"),
    LeadLocale("AZ", PHOENIX, "zip"),
    LeadLocale(None, ZoneInfo("America/Anchorage"), "business"),
    LeadLocale(None, ZoneInfo("Australia/Lord_Howe"), "business"),  # a half-hour DST shift
]


def _window_text(start_minute: int, length: int) -> str:
    end_minute = min(start_minute + length, 24 * 60 - 1)
    return f"{start_minute // 60:02d}:{start_minute % 60:02d}-{end_minute // 60:02d}:{end_minute % 60:02d}"


WINDOWS = st.builds(
    _window_text,
    st.integers(0, 23).flatmap(lambda hour: st.sampled_from([hour * 60, hour * 60 + 15, hour * 60 + 30])),
    st.integers(1, 24 * 60 - 1),
)
HOURS = st.one_of(
    WINDOWS,
    st.fixed_dictionaries({"mon-fri": WINDOWS, "sat-sun": st.one_of(st.just("closed"), WINDOWS)}),
)
SETTINGS = st.one_of(
    st.just(DEFAULTS),
    st.builds(lambda default, tx: QuietHoursSettings(default=default, states={"TX": tx}), HOURS, HOURS),
)


@settings(max_examples=400, deadline=None)
@given(
    now=st.datetimes(
        min_value=datetime(2024, 1, 1), max_value=datetime(2031, 12, 31), timezones=st.just(UTC)
    ),
    lead=st.sampled_from(LEADS),
    qh=SETTINGS,
    fraction=st.floats(0, 1, exclude_max=True),
)
def test_opens_at_is_the_first_open_moment_after_now(
    now: datetime, lead: LeadLocale, qh: QuietHoursSettings, fraction: float
) -> None:
    result = send_window(qh, lead, now)
    if result.open:
        assert result.opens_at is None
        window = hours_for(qh, lead.state).days[result.local_now.weekday()]
        assert window is not None and result.local_now.time() in window
        return
    if result.opens_at is None:  # only when the state's rule and the default never overlap
        assert result.hours == "never"
        return
    assert result.opens_at > now
    assert result.opens_at - now <= timedelta(days=8)
    assert result.opens_at.tzinfo == lead.timezone
    assert send_window(qh, lead, result.opens_at).open
    assert not send_window(qh, lead, result.opens_at.astimezone(UTC) - timedelta(seconds=1)).open
    wait = (result.opens_at - now) // timedelta(microseconds=1)
    between = now + timedelta(microseconds=min(int(wait * fraction), wait - 1))
    assert not send_window(qh, lead, between).open


TRANSITIONS = [
    datetime(2026, 3, 8, 7, 0, tzinfo=UTC),  # New York springs forward
    datetime(2026, 11, 1, 6, 0, tzinfo=UTC),  # New York falls back
    datetime(2026, 4, 4, 15, 0, tzinfo=UTC),  # Lord Howe falls back half an hour
    datetime(2026, 10, 3, 15, 30, tzinfo=UTC),  # Lord Howe springs forward half an hour
]


@settings(max_examples=300, deadline=None)
@given(
    transition=st.sampled_from(TRANSITIONS),
    seconds=st.integers(-36 * 3600, 36 * 3600),
    zone=st.sampled_from([NEW_YORK, ZoneInfo("Australia/Lord_Howe")]),
    qh=st.builds(lambda default: QuietHoursSettings(default=default, states={}), HOURS),
)
def test_around_dst_transitions_opens_at_is_still_the_first_open_moment(
    transition: datetime, seconds: int, zone: ZoneInfo, qh: QuietHoursSettings
) -> None:
    lead = LeadLocale(None, zone, "business")
    now = transition + timedelta(seconds=seconds)
    result = send_window(qh, lead, now)
    if result.open or result.opens_at is None:
        return
    assert result.opens_at > now
    assert send_window(qh, lead, result.opens_at).open
    assert not send_window(qh, lead, result.opens_at.astimezone(UTC) - timedelta(seconds=1)).open
    step = max((result.opens_at - now) // 50, timedelta(seconds=1))
    moment = now
    while moment < result.opens_at:
        assert not send_window(qh, lead, moment).open
        moment += step


# ----- two places at once: the address and the phone's area code -------------------------------------

TAMPA_PHONE = LeadLocale("FL", NEW_YORK, "area_code")
HONOLULU_PHONE = LeadLocale("HI", HONOLULU, "area_code")


def test_a_denver_address_on_a_tampa_number_keeps_floridas_evening() -> None:
    now = at(SAT, 18, 30, zone=DENVER)  # 8:30 PM in Tampa
    assert check(COLORADO, now).open
    result = send_window_everywhere(DEFAULTS, [COLORADO, TAMPA_PHONE], now)
    assert not result.open and result.place == "Florida (the phone's area code)"
    # Florida opens at 8:00 AM Eastern, but Colorado only at 8:00 AM Mountain: both at 10:00 AM Eastern.
    assert same_instant(result.opens_at, local(SUN, 10, zone=NEW_YORK))
    assert refusal_sentence(result).startswith(
        "outside the lead's quiet hours (Florida (the phone's area code) allows texts 8:00 AM–8:00 PM; "
        "it is 8:30 PM there)"
    )


def test_open_in_every_place_reads_as_the_leads_own_place() -> None:
    now = at(WED, 12, zone=DENVER)
    assert send_window_everywhere(DEFAULTS, [COLORADO, TAMPA_PHONE], now) == check(COLORADO, now)


def test_the_common_window_is_found_when_each_place_opens_at_a_different_moment() -> None:
    now = at(THU, 7, zone=NEW_YORK)  # 1:00 AM in Honolulu: both closed
    result = send_window_everywhere(DEFAULTS, [FLORIDA, HONOLULU_PHONE], now)
    assert not result.open and result.place == "Florida"
    # Florida opens at 8:00 AM Eastern (2:00 AM in Honolulu); Honolulu at 8:00 AM there = 2:00 PM Eastern.
    assert same_instant(result.opens_at, local(THU, 14, zone=NEW_YORK))


def test_places_whose_windows_never_overlap_never_open() -> None:
    narrow = QuietHoursSettings(states={"FL": "08:00-09:00", "HI": "08:00-09:00"})
    result = send_window_everywhere(narrow, [FLORIDA, HONOLULU_PHONE], at(THU, 7, zone=NEW_YORK))
    assert not result.open and result.opens_at is None
    assert "no day of the week has a sending window" in refusal_sentence(result)
