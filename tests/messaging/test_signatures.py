"""Webhook signatures: Twilio's published example, and our Stripe-style lead webhook with replay checks."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from st_mcp.messaging import (
    SignatureError,
    sign_lead_webhook,
    twilio_signature,
    twilio_signature_valid,
    verify_lead_webhook,
)

# --- Twilio ---------------------------------------------------------------------------------------------

# Twilio's documentation example (security docs / twilio-php "Validate Incoming Requests").
DOC_TOKEN = "12345"
DOC_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
DOC_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+14158675309",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
}
DOC_SIGNATURE = "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def test_twilio_documentation_example() -> None:
    assert twilio_signature(DOC_TOKEN, DOC_URL, DOC_PARAMS) == DOC_SIGNATURE
    assert twilio_signature_valid(DOC_TOKEN, DOC_URL, DOC_PARAMS, DOC_SIGNATURE)


def test_twilio_algorithm_by_hand() -> None:
    token = "an-auth-token"
    url = "https://agent.example.com/webhooks/twilio/sms"
    params = {"To": "+17205550100", "Body": "yes please", "From": "+13035550142", "MessageSid": "SM1"}
    # URL, then name+value for each parameter sorted by name, HMAC-SHA1, base64.
    payload = url + "Bodyyes please" + "From+13035550142" + "MessageSidSM1" + "To+17205550100"
    expected = hmac.new(token.encode(), payload.encode(), hashlib.sha1).digest()
    signature = base64.b64encode(expected).decode()
    assert twilio_signature(token, url, params) == signature
    assert twilio_signature_valid(token, url, params, signature)


@pytest.mark.parametrize(
    ("token", "url", "params", "signature"),
    [
        ("54321", DOC_URL, DOC_PARAMS, DOC_SIGNATURE),  # wrong token
        (DOC_TOKEN, DOC_URL.replace("foo=1", "foo=2"), DOC_PARAMS, DOC_SIGNATURE),  # URL changed
        (DOC_TOKEN, DOC_URL, {**DOC_PARAMS, "Digits": "9999"}, DOC_SIGNATURE),  # body changed
        (DOC_TOKEN, DOC_URL, {**DOC_PARAMS, "Extra": "1"}, DOC_SIGNATURE),  # parameter added
        (DOC_TOKEN, DOC_URL, DOC_PARAMS, None),  # header missing
        (DOC_TOKEN, DOC_URL, DOC_PARAMS, ""),
        (DOC_TOKEN, DOC_URL, DOC_PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8"),  # truncated
        (DOC_TOKEN, DOC_URL, DOC_PARAMS, "ünïcödé"),
        ("", DOC_URL, DOC_PARAMS, DOC_SIGNATURE),
    ],
)
def test_twilio_rejects(token: str, url: str, params: dict[str, str], signature: str | None) -> None:
    assert not twilio_signature_valid(token, url, params, signature)


def test_twilio_default_port_either_way() -> None:
    with_port = "https://mycompany.com:443/myapp.php?foo=1&bar=2"
    signed_with_port = twilio_signature(DOC_TOKEN, with_port, DOC_PARAMS)
    assert twilio_signature_valid(DOC_TOKEN, DOC_URL, DOC_PARAMS, signed_with_port)
    assert twilio_signature_valid(DOC_TOKEN, with_port, DOC_PARAMS, DOC_SIGNATURE)
    other_port = "https://mycompany.com:8443/myapp.php?foo=1&bar=2"
    assert not twilio_signature_valid(DOC_TOKEN, other_port, DOC_PARAMS, DOC_SIGNATURE)


# --- our lead webhook -------------------------------------------------------------------------------------

SECRET = "whsec_lead_test_0123456789"
BODY = b'{"name":"Dana Whitfield","phone":"(303) 555-0142","zip":"80202","source":"Angi"}'
NOW = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)
T = int(NOW.timestamp())


def test_header_format_and_known_value() -> None:
    header = sign_lead_webhook(SECRET, BODY, T)
    digest = hmac.new(SECRET.encode(), f"{T}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert header == f"t={T},v1={digest}"
    assert sign_lead_webhook(SECRET.encode(), BODY, T) == header  # bytes and str secrets agree


def test_good_signature_passes() -> None:
    verify_lead_webhook(SECRET, BODY, sign_lead_webhook(SECRET, BODY, T), NOW)
    # Upper-case hex and spaces after commas are tolerated.
    t_part, v_part = sign_lead_webhook(SECRET, BODY, T).split(",")
    verify_lead_webhook(SECRET, BODY, f"{t_part}, v1={v_part[3:].upper()}", NOW)


def reason(secret: object, body: bytes, header: str | None, now: datetime = NOW, **kw: int) -> str:
    with pytest.raises(SignatureError) as caught:
        verify_lead_webhook(secret, body, header, now, **kw)  # type: ignore[arg-type]
    return caught.value.reason


@pytest.mark.parametrize("header", [None, "", "   "])
def test_missing(header: str | None) -> None:
    assert reason(SECRET, BODY, header) == "missing signature"


@pytest.mark.parametrize(
    "header",
    [
        "garbage",
        f"t={T}",  # no v1
        "v1=" + "0" * 64,  # no t
        f"t=abc,v1={'0' * 64}",
        f"t=-5,v1={'0' * 64}",
        f"t={T},t={T},v1={'0' * 64}",
        f"t={T},,v1={'0' * 64}",
        f"t={T};v1={'0' * 64}",
        f"t=１２３,v1={'0' * 64}",  # non-ASCII digits
    ],
)
def test_malformed(header: str) -> None:
    assert reason(SECRET, BODY, header) == "malformed signature header"


def test_bad_signature() -> None:
    header = sign_lead_webhook(SECRET, BODY, T)
    assert reason(SECRET, BODY + b" ", header) == "signature does not match"  # body changed
    assert reason("another-secret", BODY, header) == "signature does not match"
    forged_time = header.replace(f"t={T}", f"t={T + 1}")
    assert reason(SECRET, BODY, forged_time) == "signature does not match"
    assert reason(SECRET, BODY, f"t={T},v1=not-hex") == "signature does not match"
    assert reason(SECRET, BODY, f"t={T},v0={header.split('v1=')[1]}") == "malformed signature header"


def test_replayed_old_request() -> None:
    header = sign_lead_webhook(SECRET, BODY, T)
    verify_lead_webhook(SECRET, BODY, header, NOW + timedelta(seconds=300))  # at the edge: fine
    assert reason(SECRET, BODY, header, NOW + timedelta(seconds=301)) == (
        "signature timestamp is too old (replayed?)"
    )
    assert reason(SECRET, BODY, header, NOW + timedelta(seconds=61), tolerance_seconds=60) == (
        "signature timestamp is too old (replayed?)"
    )


def test_a_forged_old_request_is_called_a_mismatch_not_a_replay() -> None:
    header = f"t={T - 3600},v1={'a' * 64}"
    assert reason(SECRET, BODY, header) == "signature does not match"


def test_future_timestamp() -> None:
    header = sign_lead_webhook(SECRET, BODY, T + 301)
    assert reason(SECRET, BODY, header) == "signature timestamp is in the future"
    verify_lead_webhook(SECRET, BODY, sign_lead_webhook(SECRET, BODY, T + 300), NOW)  # small skew is fine


def test_naive_now_is_taken_as_utc() -> None:
    verify_lead_webhook(SECRET, BODY, sign_lead_webhook(SECRET, BODY, T), NOW.replace(tzinfo=None))


def test_rotated_keys() -> None:
    old, new = "old-secret", b"new-secret"
    both = f"{sign_lead_webhook(old, BODY, T)},v1={sign_lead_webhook(new, BODY, T).split('v1=')[1]}"
    # The sender signs with both while rotating; a receiver on either secret accepts.
    verify_lead_webhook(old, BODY, both, NOW)
    verify_lead_webhook(new, BODY, both, NOW)
    # A receiver holding both secrets accepts a sender on either one.
    verify_lead_webhook([old, new], BODY, sign_lead_webhook(new, BODY, T), NOW)
    verify_lead_webhook([old, new], BODY, sign_lead_webhook(old, BODY, T), NOW)
    assert reason(["x", "y"], BODY, both) == "signature does not match"
    # Unknown schemes next to v1 are ignored, as Stripe does.
    verify_lead_webhook(new, BODY, f"{sign_lead_webhook(new, BODY, T)},v0=whatever", NOW)


@given(body=st.binary(max_size=512), secret=st.text(min_size=1, max_size=40), skew=st.integers(-300, 300))
def test_round_trip(body: bytes, secret: str, skew: int) -> None:
    verify_lead_webhook(secret, body, sign_lead_webhook(secret, body, T + skew), NOW)
