"""The compliance settings in one place (TOML ``[compliance]``), and the rules combined.

The outbound gate (``services.outreach.gate``) gathers facts — the lead's ZIP, state, phone, earlier
touches — and asks these pure rules; keeping the rules free of I/O makes every boundary testable to the
second. ``next_send_at`` answers the question a queue needs: when may the next touch go out at all, with
both the touch cap and the quiet hours satisfied.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, Field, field_validator

from st_mcp.policy.lead_locale import LeadLocale
from st_mcp.policy.quiet_hours import QuietHoursSettings, WindowCheck, send_window_everywhere
from st_mcp.policy.templates import check_placeholders
from st_mcp.policy.touch_cap import CapCheck, TouchCapSettings, strictest_state, touch_cap

HELP_PLACEHOLDERS = ("company", "support_phone")


class ComplianceSettings(BaseModel):
    """Quiet hours, touch cap, the opt-out confirmation window and the HELP reply."""

    model_config = {"extra": "forbid"}

    quiet_hours: QuietHoursSettings = Field(default_factory=QuietHoursSettings)
    touch_cap: TouchCapSettings = Field(default_factory=TouchCapSettings)
    # Words an operator adds to the opt-out detector (services/optout.py; the built-in lists are in the
    # README): keywords count as the whole message, phrases anywhere in it.
    opt_out_keywords: list[str] = Field(default_factory=list, max_length=100)
    opt_out_phrases: list[str] = Field(default_factory=list, max_length=100)
    # The one confirmation after an opt-out must go within 5 minutes (FCC 24-24); 0 sends none.
    opt_out_confirmation_minutes: int = Field(default=5, ge=0, le=5)
    # The HELP reply; {company} and {support_phone} are filled in (see help_reply).
    # Carriers expect the HELP answer to name the sender and a way to reach a person.
    help_text: str = (
        "{company}: reply STOP to opt out. Msg&data rates may apply. Call {support_phone} for help."
    )

    @field_validator("help_text")
    @classmethod
    def _help_text(cls, value: str) -> str:
        check_placeholders(value, HELP_PLACEHOLDERS)
        if "stop" not in value.lower():
            raise ValueError("the HELP reply must tell the lead how to opt out, e.g. 'reply STOP to opt out'")
        return value


def help_reply(settings: ComplianceSettings, *, company: str, support_phone: str = "") -> str:
    """The HELP answer with the company's name (and support phone, if the text asks for it)."""
    return settings.help_text.format(company=company, support_phone=support_phone)


@dataclass(frozen=True, slots=True)
class TimingCheck:
    """Quiet hours and touch cap for one lead at one moment, across every place whose rules bind it."""

    window: WindowCheck
    cap: CapCheck
    cap_state: str | None  # the state whose cap counted (the strictest), None when uncapped

    @property
    def allowed(self) -> bool:
        return self.window.open and self.cap.allowed


def check_timing(
    settings: ComplianceSettings,
    locales: Sequence[LeadLocale],
    outbound_times: Sequence[datetime],
    now: datetime,
) -> TimingCheck:
    """May a touch go out at ``now``: every place's quiet hours open, and the strictest cap not reached?"""
    cap_state = strictest_state(settings.touch_cap, [locale.state for locale in locales])
    return TimingCheck(
        window=send_window_everywhere(settings.quiet_hours, locales, now),
        cap=touch_cap(settings.touch_cap, cap_state, outbound_times, now),
        cap_state=cap_state,
    )


def next_send_at(
    settings: ComplianceSettings,
    locales: Sequence[LeadLocale],
    outbound_times: Sequence[datetime],
    now: datetime,
) -> datetime | None:
    """The first moment at or after ``now`` when both the touch cap and the quiet hours of every place in
    ``locales`` allow a touch, in the first place's zone; None when the quiet hours never open together.
    Assumes no other touch goes out meanwhile."""
    cap = check_timing(settings, locales, outbound_times, now).cap
    moment = now if cap.allowed or cap.opens_at is None else cap.opens_at
    window = send_window_everywhere(settings.quiet_hours, locales, moment)
    opens = moment if window.open else window.opens_at
    return opens.astimezone(locales[0].timezone) if opens else None
