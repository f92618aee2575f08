"""Masking before anything is stored: phones keep their last four digits, e-mails their first letter and
domain, secrets disappear — anywhere in the arguments, at any depth."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum

import pytest
from pydantic import BaseModel

from st_mcp.policy.audit import MAX_FIELD_CHARS, REDACTED, audit_event, mask, mask_text


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("(720) 555-0118", "(***) ***-0118"),
        ("+17205550118", "+1******0118"),
        ("+1 (720) 555-0118", "+1 (***) ***-0118"),
        ("720-555-0118", "***-***-0118"),
        ("720.555.0118", "***.***.0118"),
        ("7205550118", "******0118"),
        ("1-720-555-0118", "*-***-***-0118"),
        ("+44 20 7946 0958", "+44 ** **** 0958"),
        ("Call me at 303 555 0142 after 5", "Call me at *** *** 0142 after 5"),
        ("home (303) 555-0142, cell 720.555.0118", "home (***) ***-0142, cell ***.***.0118"),
    ],
)
def test_phone_numbers_anywhere_keep_only_their_last_four_digits(raw: str, masked: str) -> None:
    assert mask_text(raw) == masked


@pytest.mark.parametrize(
    "text",
    [
        "since 2026-05-05T10:00:00Z",
        "job 12500008 at 2:30 PM",
        "Furnace is blowing cold air, 2 units, 1998 model",
        "int_3f2a9c0d1e4b5a6c",
        # error ids are random hex: digit runs glued to letters are not phone numbers (a CI run once
        # masked "(error id 6399672d3a50)" into "***9672d3a50")
        "Something went wrong on our side (error id 6399672d3a50).",
        "error id a6399672d3a5",
        "",
    ],
)
def test_text_without_phones_is_left_alone(text: str) -> None:
    assert mask_text(text) == text


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("jane.doe@example.com", "j***@example.com"),
        ("Reach me at Bob+hvac@mail.example.co.uk today", "Reach me at B***@mail.example.co.uk today"),
        ("a@b.io, c.d@e.org", "a***@b.io, c***@e.org"),
    ],
)
def test_email_addresses_keep_the_first_letter_and_the_domain(raw: str, masked: str) -> None:
    assert mask_text(raw) == masked


def test_secret_keys_are_redacted_at_any_depth_and_the_rest_is_kept() -> None:
    arguments = {
        "token": "tok-1",
        "api_key": "k-2",
        "apiKey": "k-3",
        "client_secret": "s-4",
        "Password": "p-5",
        "headers": {"Authorization": "Bearer eyJ...", "Accept": "application/json"},
        "items": [{"access_token": "a-6", "note": "call (303) 555-0142"}],
        "refresh_token": None,
        "customer_id": 10300001,
        "idempotency_key": "book-123",
        "escalated_only": True,
    }
    assert mask(arguments) == {
        "token": REDACTED,
        "api_key": REDACTED,
        "apiKey": REDACTED,
        "client_secret": REDACTED,
        "Password": REDACTED,
        "headers": {"Authorization": REDACTED, "Accept": "application/json"},
        "items": [{"access_token": REDACTED, "note": "call (***) ***-0142"}],
        "refresh_token": None,
        "customer_id": 10300001,
        "idempotency_key": "book-123",
        "escalated_only": True,
    }


class Goal(Enum):
    LEAD = "Speed to Lead"


class Contact(BaseModel):
    email: str
    phone: str


def test_models_times_and_enums_become_json_before_masking() -> None:
    masked = mask(
        {
            "since": datetime(2026, 5, 5, 16, 30, tzinfo=UTC),
            "goal": Goal.LEAD,
            "contact": Contact(email="priya@example.com", phone="(720) 555-0118"),
        }
    )
    assert masked == {
        "since": "2026-05-05T16:30:00Z",
        "goal": "Speed to Lead",
        "contact": {"email": "p***@example.com", "phone": "(***) ***-0118"},
    }


def test_an_event_masks_its_arguments_and_its_reason() -> None:
    event = audit_event(
        at=datetime(2026, 5, 5, 10, 30),  # naive: taken as UTC
        kind="tool_call",
        principal="virtual_agent",
        role="virtual_agent",
        transport="memory",
        tool="lookup_customer",
        arguments={"phone": "303-555-0142", "email": "jordan@example.com"},
        outcome="error",
        reason="No customer with phone +13035550142 or e-mail jordan@example.com.",
        duration_ms=12.34567,
    )
    assert event.arguments == {"phone": "***-***-0142", "email": "j***@example.com"}
    assert event.reason == "No customer with phone +1******0142 or e-mail j***@example.com."
    assert event.at == datetime(2026, 5, 5, 10, 30, tzinfo=UTC)
    assert event.duration_ms == 12.346


def test_unknown_kinds_and_outcomes_are_programming_errors() -> None:
    common = {
        "at": datetime(2026, 5, 5, tzinfo=UTC),
        "principal": "p",
        "role": "r",
        "transport": "cli",
        "tool": "t",
        "arguments": {},
    }
    with pytest.raises(ValueError, match="outcome"):
        audit_event(kind="tool_call", outcome="refused", **common)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="kind"):
        audit_event(kind="login", outcome="ok", **common)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        (
            "https://rec.s3.amazonaws.com/calls/1.mp3?X-Amz-Signature=9f8e&X-Amz-Credential=AKIA",
            "https://rec.s3.amazonaws.com/calls/1.mp3?[redacted]",
        ),
        ("see https://x.example/r?token=abc123 now", "see https://x.example/r?[redacted] now"),
        ("https://x.example/r#access_token=abc", "https://x.example/r?[redacted]"),
        ("https://x.example/plain/path", "https://x.example/plain/path"),
    ],
)
def test_url_signatures_and_tokens_never_reach_the_audit(given: str, kept: str) -> None:
    assert mask({"recording_url": given}) == {"recording_url": kept}


def test_a_long_argument_is_capped_with_its_length() -> None:
    masked = mask({"transcript": "x" * 10_000, "short": "fine"})
    assert masked["transcript"] == "x" * MAX_FIELD_CHARS + f"…[+{10_000 - MAX_FIELD_CHARS} characters]"
    assert masked["short"] == "fine"
