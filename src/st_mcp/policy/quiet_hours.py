"""Quiet hours (DESIGN §6): when a lead may be texted or called, in the lead's own local time.

The federal TCPA window is 08:00–21:00; Florida, Oklahoma and Maryland stop at 20:00; Texas allows
09:00–21:00 Monday to Saturday and 12:00–21:00 on Sunday. A refused send must say when the window opens,
so this module answers both "may we send now?" and "when next?", across midnight, weekends and DST.

The ``default`` window applies everywhere (it is the federal rule); a state's rule can only narrow it,
because both laws apply at once — the strictest wins. An operator's ``states`` are laid over the
built-in ones, so naming one state never drops the others.

Windows are half-open: with 08:00–21:00, 20:59:59 is open and 21:00:00 is closed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import (
    BaseModel,
    Field,
    PlainSerializer,
    PlainValidator,
    WithJsonSchema,
    field_validator,
)

from st_mcp.policy.lead_locale import LeadLocale, StateCode, state_name

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # datetime.weekday() order
_DAY_LABELS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_FULL_DAYS = {name.lower(): short for name, short in zip(_DAY_NAMES, DAYS, strict=True)}
_WINDOW = re.compile(r"^(\d{1,2}):(\d{2})\s*[-–—]\s*(\d{1,2}):(\d{2})$")
_WINDOW_HINT = 'write "HH:MM-HH:MM" in 24-hour time, e.g. "08:00-21:00", or "closed"'
_DAYS_HINT = "use mon, tue, wed, thu, fri, sat, sun, a range such as mon-fri, or daily"


@dataclass(frozen=True, slots=True)
class DailyWindow:
    """[start, end) in local wall-clock time, within one day."""

    start: time
    end: time

    def __contains__(self, moment: time) -> bool:
        return self.start <= moment < self.end


@dataclass(frozen=True, slots=True)
class WeeklyHours:
    """One window (or None: no sending) per weekday, Monday first."""

    days: tuple[DailyWindow | None, ...]

    def __post_init__(self) -> None:
        if len(self.days) != 7:
            raise ValueError("weekly hours need exactly 7 days, Monday first")

    @classmethod
    def every_day(cls, window: DailyWindow | None) -> WeeklyHours:
        return cls((window,) * 7)

    def narrowed_by(self, other: WeeklyHours) -> WeeklyHours:
        """The hours both allow, day by day."""
        return WeeklyHours(tuple(_intersect(a, b) for a, b in zip(self.days, other.days, strict=True)))


@dataclass(frozen=True, slots=True)
class WindowCheck:
    """Whether a send is allowed at ``local_now``, and if not, the next moment it is (``opens_at``)."""

    open: bool
    opens_at: datetime | None  # None when open, or when no day of the week has a window
    rule: str  # "Florida: 8:00 AM–8:00 PM"
    local_now: datetime
    place: str  # "Florida", or the zone name when the lead's state is unknown
    hours: str  # "8:00 AM–8:00 PM", "Mon–Sat 9:00 AM–9:00 PM, Sun 12:00 PM–9:00 PM"
    state: str | None = None
    varies_by_day: bool = False


# ----- parsing the TOML shape ------------------------------------------------------------------------


def parse_window(text: str) -> DailyWindow | None:
    """'08:00-21:00' → a window; 'closed' → None. Raises ValueError with a one-line fix."""
    cleaned = text.strip()
    if cleaned.lower() == "closed":
        return None
    match = _WINDOW.match(cleaned)
    if match is None:
        raise ValueError(f"{text!r} is not a window; {_WINDOW_HINT}")
    sh, sm, eh, em = (int(part) for part in match.groups())
    if sh > 23 or eh > 23 or sm > 59 or em > 59:
        raise ValueError(f"{text!r} has an impossible time; {_WINDOW_HINT}")
    start, end = time(sh, sm), time(eh, em)
    if start >= end:
        raise ValueError(f'{text!r} must end after it starts, within one day, e.g. "08:00-21:00"')
    return DailyWindow(start, end)


def parse_hours(value: object) -> WeeklyHours:
    """'08:00-20:00' (every day) or a table of days {mon-sat = "09:00-21:00", sun = "12:00-21:00"}."""
    if isinstance(value, WeeklyHours):
        return value
    if isinstance(value, str):
        return WeeklyHours.every_day(parse_window(value))
    if not isinstance(value, Mapping):
        raise ValueError(
            'expected "HH:MM-HH:MM" or a table of days such as '
            '{ mon-sat = "09:00-21:00", sun = "12:00-21:00" }'
        )
    days: list[DailyWindow | None] = [None] * 7
    named: dict[int, str] = {}
    for key, window_text in value.items():
        if not isinstance(window_text, str):
            raise ValueError(f"{key} = {window_text!r}: {_WINDOW_HINT}")
        window = parse_window(window_text)
        for index in _parse_days(str(key)):
            if index in named:
                raise ValueError(f"{DAYS[index]} is named twice ({named[index]!r} and {key!r})")
            named[index] = str(key)
            days[index] = window
    missing = [DAYS[index] for index in range(7) if index not in named]
    if missing:
        raise ValueError(
            f'no window for {", ".join(missing)}; add {missing[0]} = "HH:MM-HH:MM" (or "closed")'
        )
    return WeeklyHours(tuple(days))


def _parse_days(spec: str) -> list[int]:
    """'mon-fri' → [0..4], 'sat,sun' → [5, 6], 'fri-mon' wraps, 'daily' → all seven."""
    text = spec.strip().lower()
    if text in {"daily", "every day", "everyday"}:
        return list(range(7))
    indexes: list[int] = []
    for part in text.split(","):
        ends = [_day_index(end, spec) for end in part.split("-")]
        if len(ends) == 1:
            indexes.append(ends[0])
        elif len(ends) == 2:
            first, last = ends
            indexes.extend((first + step) % 7 for step in range((last - first) % 7 + 1))
        else:
            raise ValueError(f"{spec!r} is not a day or range; {_DAYS_HINT}")
    return indexes


def _day_index(text: str, spec: str) -> int:
    name = text.strip()
    name = _FULL_DAYS.get(name, name)
    if name not in DAYS:
        raise ValueError(f"unknown day {text.strip()!r} in {spec!r}; {_DAYS_HINT}")
    return DAYS.index(name)


def render_hours(hours: WeeklyHours) -> str | dict[str, str]:
    """The TOML shape back: one string when every day is the same, else a table of day ranges."""
    if len(set(hours.days)) == 1:
        return _window_config(hours.days[0])
    runs = _runs(hours)
    return {_day_range(first, last, "-", DAYS): _window_config(window) for first, last, window in runs}


def _window_config(window: DailyWindow | None) -> str:
    return "closed" if window is None else f"{window.start:%H:%M}-{window.end:%H:%M}"


Hours = Annotated[
    WeeklyHours,
    PlainValidator(parse_hours),
    PlainSerializer(render_hours),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "examples": ["08:00-21:00", "closed"]},
                {"type": "object", "additionalProperties": {"type": "string"}},
            ]
        }
    ),
]

FEDERAL_HOURS = parse_hours("08:00-21:00")
DEFAULT_STATE_HOURS: dict[str, WeeklyHours] = {
    "FL": parse_hours("08:00-20:00"),
    "OK": parse_hours("08:00-20:00"),
    "MD": parse_hours("08:00-20:00"),
    "TX": parse_hours({"mon-sat": "09:00-21:00", "sun": "12:00-21:00"}),
}


class QuietHoursSettings(BaseModel):
    """TOML ``[compliance.quiet_hours]``: ``default`` everywhere, ``states`` narrow it per state."""

    model_config = {"extra": "forbid"}

    default: Hours = FEDERAL_HOURS
    # Laid over DEFAULT_STATE_HOURS: naming a state replaces its built-in rule, the others stay.
    states: dict[StateCode, Hours] = Field(default_factory=lambda: dict(DEFAULT_STATE_HOURS))

    @field_validator("states", mode="after")
    @classmethod
    def _over_defaults(cls, value: dict[str, WeeklyHours]) -> dict[str, WeeklyHours]:
        return {**DEFAULT_STATE_HOURS, **value}


# ----- the check ---------------------------------------------------------------------------------------


def hours_for(settings: QuietHoursSettings, state: str | None) -> WeeklyHours:
    """The hours that apply to a lead in ``state``: the default, narrowed by the state's own rule."""
    rule = settings.states.get(state) if state else None
    return settings.default if rule is None else settings.default.narrowed_by(rule)


def send_window(settings: QuietHoursSettings, locale: LeadLocale, now: datetime) -> WindowCheck:
    """Is ``now`` (timezone-aware) inside the lead's window, and if not, when does it next open?"""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware (UTC)")
    zone = locale.timezone
    now_utc = now.astimezone(UTC)
    local_now = now_utc.astimezone(zone)
    hours = hours_for(settings, locale.state)
    place = state_name(locale.state) if locale.state else zone.key
    described = describe_hours(hours)
    today = _span(local_now.date(), hours, zone)
    is_open = today is not None and today[0] <= now_utc < today[1]
    opens_at = None if is_open else _next_opening(hours, zone, local_now.date(), now_utc)
    return WindowCheck(
        open=is_open,
        opens_at=opens_at.astimezone(zone) if opens_at else None,
        rule=f"{place}: {described}",
        local_now=local_now,
        place=place,
        hours=described,
        state=locale.state,
        varies_by_day=len(set(hours.days)) > 1,
    )


def send_window_everywhere(
    settings: QuietHoursSettings, locales: Sequence[LeadLocale], now: datetime
) -> WindowCheck:
    """``send_window`` where several places' rules bind at once (``lead_locale.locales_for``): open only
    when every place is open. A closed check is the first place that is closed, with ``opens_at`` the
    first moment all of them are open together, in that place's zone."""
    if not locales:
        raise ValueError("a lead has at least one locale")
    checks = [
        _placed(send_window(settings, locale, now), locale, locale is not locales[0]) for locale in locales
    ]
    closed = next((check for check in checks if not check.open), None)
    if closed is None:
        return checks[0]
    return replace(closed, opens_at=_opening_everywhere(settings, locales, closed))


def _placed(check: WindowCheck, locale: LeadLocale, secondary: bool) -> WindowCheck:
    """Name the area code when it, not the address, is why a place's rules apply."""
    if not secondary or locale.source != "area_code":
        return check
    place = f"{check.place} (the phone's area code)"
    return replace(check, place=place, rule=f"{place}: {check.hours}")


def _opening_everywhere(
    settings: QuietHoursSettings, locales: Sequence[LeadLocale], closed: WindowCheck
) -> datetime | None:
    """Jump to each closed place's next opening until all are open at one moment (windows repeat weekly,
    so two weeks of jumps settle it or no common window exists)."""
    moment = closed.opens_at
    for _ in range(14 * len(locales)):
        if moment is None:
            return None
        checks = [send_window(settings, locale, moment) for locale in locales]
        still_closed = [check.opens_at for check in checks if not check.open]
        if not still_closed:
            return moment.astimezone(closed.local_now.tzinfo)
        if any(opening is None for opening in still_closed):
            return None
        moment = max(opening for opening in still_closed if opening is not None)
    return None


# The window of a day is the span of instants from the first moment the lead's clock shows its start to
# the first moment it shows its end. On ordinary days that is just the wall-clock window; it also makes
# the two DST nights well defined: a start the clocks spring over opens at the jump, and the hour that
# repeats when they fall back does not reopen a window that has closed. All comparisons are made in UTC
# (aware datetimes sharing one ZoneInfo compare by wall time, ignoring the fold).


def _next_opening(hours: WeeklyHours, zone: ZoneInfo, today: date, now_utc: datetime) -> datetime | None:
    for offset in range(8):  # today (later on) and the seven days after it
        span = _span(today + timedelta(days=offset), hours, zone)
        if span is not None and span[0] > now_utc:
            return span[0]
    return None


def _span(day: date, hours: WeeklyHours, zone: ZoneInfo) -> tuple[datetime, datetime] | None:
    window = hours.days[day.weekday()]
    if window is None:
        return None
    start, end = _first_instant_at(day, window.start, zone), _first_instant_at(day, window.end, zone)
    return (start, end) if start < end else None  # a window wholly inside a DST jump never opens


def _first_instant_at(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The first instant (in UTC) at which the local clock shows ``day wall`` or later.

    Usually that is simply ``day wall``; when the clocks fall back and the time happens twice it is the
    first of the two (fold=0); when they spring forward over it, it is the moment of the jump.
    """
    naive = datetime.combine(day, wall)
    candidate = naive.replace(tzinfo=zone).astimezone(UTC)
    if candidate.astimezone(zone).replace(tzinfo=None) == naive:
        return candidate
    # In a spring-forward gap: the two readings of the wall time bracket the jump; find it to the second.
    low, high = sorted(int(naive.replace(tzinfo=zone, fold=fold).timestamp()) for fold in (0, 1))
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).replace(tzinfo=None) >= naive:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


# ----- words -------------------------------------------------------------------------------------------


def describe_hours(hours: WeeklyHours) -> str:
    """'8:00 AM–8:00 PM', or 'Mon–Sat 9:00 AM–9:00 PM, Sun 12:00 PM–9:00 PM' when days differ."""
    if len(set(hours.days)) == 1:
        return _describe_window(hours.days[0]) if hours.days[0] else "never"
    return ", ".join(
        f"{_day_range(first, last, '–', _DAY_LABELS)} {_describe_window(window) if window else 'closed'}"
        for first, last, window in _runs(hours)
    )


def refusal_sentence(check: WindowCheck, *, what: str = "texts") -> str:
    """'outside the lead's quiet hours (Florida allows texts 8:00 AM–8:00 PM; it is 8:30 PM there) — the
    window opens at 8:00 AM Thu Mar 15 local'. No capital and no full stop: callers embed it."""
    if check.open:
        raise ValueError("the window is open: there is no refusal to explain")
    local = check.local_now
    now_text = clock_label(local.time()) + (f" {_DAY_NAMES[local.weekday()]}" if check.varies_by_day else "")
    if check.state is None:
        allowed = f"{what} are allowed {check.hours} in {check.place}"
    else:
        allowed = f"{check.place} allows {what} {check.hours}"
    if check.opens_at is None:
        when = "no day of the week has a sending window"
    else:
        when = f"the window opens at {moment_label(check.opens_at)} local"
    return f"outside the lead's quiet hours ({allowed}; it is {now_text} there) — {when}"


def clock_label(moment: time) -> str:
    """time(20, 30) → '8:30 PM'; time(12, 0) → '12:00 PM'; time(0, 5) → '12:05 AM'."""
    hour = moment.hour % 12 or 12
    return f"{hour}:{moment.minute:02d} {'AM' if moment.hour < 12 else 'PM'}"


def moment_label(moment: datetime) -> str:
    """'8:00 AM Thu Mar 15' in the moment's own zone (English whatever the process locale)."""
    return (
        f"{clock_label(moment.time())} {_DAY_LABELS[moment.weekday()]} {_MONTHS[moment.month - 1]} "
        f"{moment.day}"
    )


def _describe_window(window: DailyWindow) -> str:
    return f"{clock_label(window.start)}–{clock_label(window.end)}"


def _runs(hours: WeeklyHours) -> list[tuple[int, int, DailyWindow | None]]:
    """Consecutive days (Monday first) with the same window: [(first, last, window), …]."""
    runs: list[tuple[int, int, DailyWindow | None]] = []
    for index, window in enumerate(hours.days):
        if runs and runs[-1][2] == window and runs[-1][1] == index - 1:
            runs[-1] = (runs[-1][0], index, window)
        else:
            runs.append((index, index, window))
    return runs


def _day_range(first: int, last: int, dash: str, names: tuple[str, ...]) -> str:
    return names[first] if first == last else f"{names[first]}{dash}{names[last]}"


def _intersect(a: DailyWindow | None, b: DailyWindow | None) -> DailyWindow | None:
    if a is None or b is None:
        return None
    start, end = max(a.start, b.start), min(a.end, b.end)
    return DailyWindow(start, end) if start < end else None
