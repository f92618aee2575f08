"""Messaging settings: defaults, the Twilio completeness check, secrets kept out of errors, the factory."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest
import respx
from pydantic import ValidationError

from st_mcp.messaging import (
    MessagingSettings,
    NoneGateway,
    OutboundSms,
    SandboxGateway,
    TwilioGateway,
    build_gateway,
)

from .helpers import ManualClock

TOKEN = "tok-never-print-me"


def error_text(**values: object) -> str:
    with pytest.raises(ValidationError) as caught:
        MessagingSettings(**values)
    errors = caught.value.errors()
    assert len(errors) == 1
    return str(errors[0]["msg"])


def test_defaults() -> None:
    settings = MessagingSettings()
    assert settings.gateway == "sandbox"
    assert settings.twilio_base_url == "https://api.twilio.com"
    assert settings.lead_webhook_secret is None


def test_unknown_keys_are_refused() -> None:
    with pytest.raises(ValidationError, match="extra"):
        MessagingSettings(gatway="twilio")  # type: ignore[call-arg]


def test_twilio_names_everything_missing_in_one_line() -> None:
    message = error_text(gateway="twilio")
    assert message == (
        "Value error, gateway twilio needs twilio_account_sid, twilio_auth_token, "
        "twilio_from_number or twilio_messaging_service_sid"
    )
    assert "\n" not in message


@pytest.mark.parametrize(
    ("values", "missing"),
    [
        ({"twilio_auth_token": TOKEN, "twilio_from_number": "+17205550100"}, "twilio_account_sid"),
        ({"twilio_account_sid": "AC1", "twilio_from_number": "+17205550100"}, "twilio_auth_token"),
        (
            {"twilio_account_sid": "AC1", "twilio_auth_token": "", "twilio_from_number": "+17205550100"},
            "token",
        ),
        (
            {"twilio_account_sid": "AC1", "twilio_auth_token": TOKEN},
            "twilio_from_number or twilio_messaging_service_sid",
        ),
    ],
)
def test_twilio_names_the_one_missing(values: dict[str, str], missing: str) -> None:
    message = error_text(gateway="twilio", **values)
    assert message.endswith(missing)
    assert TOKEN not in message


def test_twilio_complete_with_either_sender() -> None:
    MessagingSettings(
        gateway="twilio", twilio_account_sid="AC1", twilio_auth_token=TOKEN, twilio_from_number="+17205550100"
    )
    settings = MessagingSettings(
        gateway="twilio",
        twilio_account_sid="AC1",
        twilio_auth_token=TOKEN,
        twilio_messaging_service_sid="MG1",
    )
    assert TOKEN not in repr(settings)
    assert TOKEN not in str(settings.model_dump())


def test_other_gateways_do_not_need_twilio() -> None:
    assert MessagingSettings(gateway="none").gateway == "none"


@pytest.mark.parametrize(
    ("field", "value"),
    [("twilio_from_number", "720-555-0100"), ("twilio_base_url", "api.twilio.com"), ("public_base_url", "x")],
)
def test_shapes_are_checked(field: str, value: str) -> None:
    with pytest.raises(ValidationError, match=field):
        MessagingSettings(**{field: value})


def test_secrets_stay_secret() -> None:
    settings = MessagingSettings(lead_webhook_secret="whsec-123", public_base_url="https://agent.example.com")
    assert "whsec-123" not in repr(settings)
    assert settings.lead_webhook_secret is not None
    assert settings.lead_webhook_secret.get_secret_value() == "whsec-123"


@pytest.mark.anyio
async def test_build_gateway(clock: ManualClock) -> None:
    sandbox = build_gateway(MessagingSettings(), clock=clock)
    assert isinstance(sandbox, SandboxGateway)
    await sandbox.send(OutboundSms("+13035550142", "hi", "i1"))
    assert sandbox.outbox[0].sent_at == clock.now  # the clock was passed through

    assert isinstance(build_gateway(MessagingSettings(gateway="none"), clock=clock), NoneGateway)

    twilio = build_gateway(
        MessagingSettings(
            gateway="twilio",
            twilio_account_sid="AC1",
            twilio_auth_token=TOKEN,
            twilio_from_number="+17205550100",
            twilio_base_url="http://127.0.0.1:9",
        ),
        clock=clock,
    )
    assert isinstance(twilio, TwilioGateway)
    assert twilio.messages_url == "http://127.0.0.1:9/2010-04-01/Accounts/AC1/Messages.json"
    assert twilio.from_number == "+17205550100"
    await twilio.aclose()


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("public_base_url", "callback"),
    [
        (None, None),  # Twilio could not reach us: ask it for nothing
        ("https://agent.example.com", "https://agent.example.com/webhooks/sms/twilio/status"),
        ("https://agent.example.com/", "https://agent.example.com/webhooks/sms/twilio/status"),
    ],
)
@respx.mock
async def test_twilio_asks_for_status_callbacks_only_with_a_public_url(
    clock: ManualClock, public_base_url: str | None, callback: str | None
) -> None:
    route = respx.post("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json").respond(
        201, json={"sid": "SM1", "status": "queued"}
    )
    settings = MessagingSettings(
        gateway="twilio",
        twilio_account_sid="AC1",
        twilio_auth_token=TOKEN,
        twilio_from_number="+17205550100",
        public_base_url=public_base_url,
    )
    twilio = build_gateway(settings, clock=clock)
    await twilio.send(OutboundSms("+13035550142", "hi", "i1"))
    await twilio.aclose()
    form = dict(parse_qsl(route.calls.last.request.content.decode()))
    assert form.get("StatusCallback") == callback
    assert form["To"] == "+13035550142"  # the rest of the request is as before
