"""The Twilio gateway against a mocked Messages API: the exact request, the answer, every error mapping."""

from __future__ import annotations

import base64
import logging
from urllib.parse import parse_qsl

import httpx
import pytest
import respx

from st_mcp.messaging import (
    Delivery,
    DeliveryReport,
    Gateway,
    GatewayError,
    OutboundSms,
    TwilioGateway,
)
from st_mcp.messaging.twilio import delivery_report

pytestmark = pytest.mark.anyio

SID = "AC0123456789abcdef0123456789abcdef"
TOKEN = "tok-9f8e7d6c5b4a-super-secret"
FROM = "+17205550100"
LEAD = "+13035550142"
URL = f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages.json"
MESSAGE = OutboundSms(
    to=LEAD, body="Hi Dana, it's Ava from Acme Heating & Air. Tuesday 8–10?", interaction_id="i1"
)


def created(sid: str = "SM1f0e2d3c4b5a69788796a5b4c3d2e1f0", status: str = "queued") -> httpx.Response:
    return httpx.Response(
        201, json={"sid": sid, "status": status, "to": LEAD, "from": FROM, "account_sid": SID, "body": "…"}
    )


def twilio_error(http_status: int, code: int, message: str, **headers: str) -> httpx.Response:
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": http_status,
    }
    return httpx.Response(http_status, json=body, headers=headers)


def assert_no_token(error: GatewayError) -> None:
    basic = base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    for text in (str(error), repr(error), error.message):
        assert TOKEN not in text
        assert basic not in text


@respx.mock
async def test_the_request_is_exactly_what_twilio_documents() -> None:
    route = respx.post(URL).mock(return_value=created())
    gateway = TwilioGateway(SID, TOKEN, from_number=FROM)
    assert isinstance(gateway, Gateway)

    delivery = await gateway.send(MESSAGE)

    assert delivery == Delivery("twilio", "SM1f0e2d3c4b5a69788796a5b4c3d2e1f0", "queued")
    request = route.calls.last.request
    assert request.method == "POST"
    assert str(request.url) == URL
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    expected_auth = base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {expected_auth}"
    assert parse_qsl(request.content.decode(), strict_parsing=True) == [
        ("To", LEAD),
        ("Body", MESSAGE.body),
        ("From", FROM),
    ]
    await gateway.aclose()


@respx.mock
async def test_messaging_service_status_callback_and_base_url() -> None:
    base = "http://127.0.0.1:8765"
    route = respx.post(f"{base}/2010-04-01/Accounts/{SID}/Messages.json").mock(
        return_value=created(status="accepted")
    )
    gateway = TwilioGateway(
        SID,
        TOKEN,
        messaging_service_sid="MG0123456789abcdef0123456789abcdef",
        status_callback_url="https://agent.example.com/webhooks/twilio/status",
        base_url=base + "/",
    )
    delivery = await gateway.send(MESSAGE)
    assert delivery.status == "accepted"
    form = dict(parse_qsl(route.calls.last.request.content.decode()))
    assert form == {
        "To": LEAD,
        "Body": MESSAGE.body,
        "MessagingServiceSid": "MG0123456789abcdef0123456789abcdef",
        "StatusCallback": "https://agent.example.com/webhooks/twilio/status",
    }
    await gateway.aclose()


@respx.mock
async def test_a_shared_client_is_used_and_left_open() -> None:
    route = respx.post(URL).mock(return_value=created())
    async with httpx.AsyncClient() as http:
        gateway = TwilioGateway(SID, TOKEN, from_number=FROM, http=http)
        await gateway.send(MESSAGE)
        await gateway.aclose()
        assert not http.is_closed
    assert route.call_count == 1


@pytest.mark.parametrize(
    ("response", "retryable", "opted_out", "unknown", "code", "says"),
    [
        (
            twilio_error(400, 21610, "Attempt to send to unsubscribed recipient"),
            False,
            True,
            False,
            21610,
            "has unsubscribed from this sender (replied STOP",
        ),
        (
            twilio_error(400, 21211, f"The 'To' number {LEAD} is not a valid phone number."),
            False,
            False,
            False,
            21211,
            "is not a valid phone number",
        ),
        (
            twilio_error(400, 21614, f"'To' number {LEAD} is not a valid mobile number"),
            False,
            False,
            False,
            21614,
            "cannot receive text messages",
        ),
        (
            twilio_error(429, 20429, "Too Many Requests", **{"Retry-After": "2"}),
            True,
            False,
            False,
            20429,
            "rate limiting (HTTP 429); the text was not sent. Try again in 2 s",
        ),
        (
            twilio_error(500, 20500, "Internal Server Error"),
            True,
            False,
            True,
            20500,
            "Twilio failed (HTTP 500); delivery is unknown",
        ),
        (
            httpx.Response(503, text="<html>Service Unavailable</html>"),
            True,
            False,
            True,
            None,
            "Twilio failed (HTTP 503)",
        ),
        (
            twilio_error(401, 20003, "Authenticate"),
            False,
            False,
            False,
            20003,
            "rejected this server's credentials",
        ),
        (
            twilio_error(400, 21608, "The number is unverified. Trial accounts cannot send messages."),
            False,
            False,
            False,
            21608,
            "HTTP 400, error 21608); it was not sent. Twilio said: The number is unverified",
        ),
    ],
    ids=["21610", "21211", "21614", "429", "500", "503-html", "401", "other-4xx"],
)
@respx.mock
async def test_error_mapping(
    response: httpx.Response,
    retryable: bool,
    opted_out: bool,
    unknown: bool,
    code: int | None,
    says: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    route = respx.post(URL).mock(return_value=response)
    gateway = TwilioGateway(SID, TOKEN, from_number=FROM)
    with caplog.at_level(logging.DEBUG), pytest.raises(GatewayError) as caught:
        await gateway.send(MESSAGE)
    error = caught.value
    assert says in str(error)
    assert (error.retryable, error.opted_out, error.delivery_unknown) == (retryable, opted_out, unknown)
    assert error.code == code
    assert error.http_status == response.status_code
    assert route.call_count == 1  # never retried, even when retryable
    assert_no_token(error)
    assert TOKEN not in caplog.text
    await gateway.aclose()


@respx.mock
async def test_retry_after_is_exposed() -> None:
    respx.post(URL).mock(return_value=twilio_error(429, 20429, "Too Many Requests", **{"Retry-After": "7"}))
    gateway = TwilioGateway(SID, TOKEN, from_number=FROM)
    with pytest.raises(GatewayError) as caught:
        await gateway.send(MESSAGE)
    assert caught.value.retry_after == 7.0
    await gateway.aclose()


@respx.mock
async def test_a_timeout_is_retryable_and_says_delivery_is_unknown(caplog: pytest.LogCaptureFixture) -> None:
    route = respx.post(URL).mock(side_effect=httpx.ReadTimeout("timed out"))
    gateway = TwilioGateway(SID, TOKEN, from_number=FROM)
    with caplog.at_level(logging.DEBUG), pytest.raises(GatewayError) as caught:
        await gateway.send(MESSAGE)
    error = caught.value
    assert error.retryable and error.delivery_unknown and not error.opted_out
    assert "delivery is unknown" in str(error)
    assert error.__cause__ is None and error.__suppress_context__
    assert route.call_count == 1
    assert_no_token(error)
    assert TOKEN not in caplog.text
    await gateway.aclose()


@respx.mock
async def test_a_connect_failure_is_retryable_and_known_unsent() -> None:
    respx.post(URL).mock(side_effect=httpx.ConnectError("connection refused"))
    gateway = TwilioGateway(SID, TOKEN, from_number=FROM)
    with pytest.raises(GatewayError, match="was not sent") as caught:
        await gateway.send(MESSAGE)
    assert caught.value.retryable and not caught.value.delivery_unknown
    await gateway.aclose()


@respx.mock
async def test_a_success_without_a_sid_is_not_called_a_failure_to_send() -> None:
    respx.post(URL).mock(return_value=httpx.Response(201, text="not json"))
    gateway = TwilioGateway(SID, TOKEN, from_number=FROM)
    with pytest.raises(GatewayError, match="probably sent") as caught:
        await gateway.send(MESSAGE)
    assert caught.value.delivery_unknown and not caught.value.retryable
    await gateway.aclose()


@respx.mock
async def test_a_token_echoed_by_the_provider_is_scrubbed() -> None:
    respx.post(URL).mock(return_value=twilio_error(400, 99999, f"weird: {TOKEN}"))
    gateway = TwilioGateway(SID, TOKEN, from_number=FROM)
    with pytest.raises(GatewayError) as caught:
        await gateway.send(MESSAGE)
    assert "weird: ***" in str(caught.value)
    assert_no_token(caught.value)
    await gateway.aclose()


def test_repr_hides_the_token() -> None:
    gateway = TwilioGateway(SID, TOKEN, from_number=FROM)
    assert TOKEN not in repr(gateway)
    assert "auth_token=***" in repr(gateway)


@pytest.mark.parametrize(
    ("kwargs", "missing"),
    [
        ({"account_sid": "", "auth_token": TOKEN, "from_number": FROM}, "account SID"),
        ({"account_sid": SID, "auth_token": "", "from_number": FROM}, "auth token"),
        ({"account_sid": SID, "auth_token": TOKEN}, "from number or a messaging service SID"),
    ],
)
def test_construction_needs_credentials_and_a_sender(kwargs: dict[str, str], missing: str) -> None:
    with pytest.raises(ValueError, match=missing):
        TwilioGateway(**kwargs)


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        (
            {"MessageSid": "SM1", "MessageStatus": "delivered", "ErrorCode": ""},
            DeliveryReport("twilio", "SM1", "delivered", None, opted_out=False),
        ),
        (
            {"MessageSid": "SM1", "MessageStatus": "Undelivered", "ErrorCode": "30007", "To": LEAD},
            DeliveryReport("twilio", "SM1", "undelivered", "30007", opted_out=False),
        ),
        (
            {"MessageSid": "SM1", "MessageStatus": "failed", "ErrorCode": "21610"},
            DeliveryReport("twilio", "SM1", "failed", "21610", opted_out=True),
        ),
    ],
    ids=["delivered", "filtered", "unsubscribed"],
)
def test_a_status_callback_form_becomes_a_report(form: dict[str, str], expected: DeliveryReport) -> None:
    assert delivery_report(form) == expected


def test_a_status_callback_form_needs_sid_and_status() -> None:
    with pytest.raises(ValueError, match=r"^missing MessageSid and MessageStatus$"):
        delivery_report({"To": LEAD})
