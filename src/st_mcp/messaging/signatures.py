"""Webhook signatures: Twilio's ``X-Twilio-Signature`` and our own signed lead webhook.

Both webhooks are public URLs that create work (an inbound text, a new lead to text within seconds), so a
request is only trusted when it carries a signature made with a secret we share with the sender.

Twilio: base64(HMAC-SHA1(auth token, full URL + each POST parameter's name and value, sorted by name)).
The URL must be the one Twilio called (behind a proxy, the public URL, not the one the app sees).

Ours, Stripe-style: ``X-St-Mcp-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256("<t>." + raw body)>``.
The timestamp is signed, so an old request cannot be replayed with a fresh one; several ``v1=`` entries
are allowed so a sender can sign with the old and the new secret while the key rotates.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

LEAD_SIGNATURE_HEADER = "X-St-Mcp-Signature"
TWILIO_SIGNATURE_HEADER = "X-Twilio-Signature"
DEFAULT_TOLERANCE_SECONDS = 300

_HEX_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_DEFAULT_PORTS = {"https": 443, "http": 80}


class SignatureError(Exception):
    """A webhook signature is missing, malformed, wrong or stale; ``reason`` is short and safe to return."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- Twilio ---------------------------------------------------------------------------------------------


def twilio_signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """The ``X-Twilio-Signature`` Twilio would send for a POST of ``params`` to ``url``."""
    payload = url + "".join(name + params[name] for name in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def twilio_signature_valid(
    auth_token: str, url: str, params: Mapping[str, str], signature: str | None
) -> bool:
    """True when ``signature`` matches ``url`` + ``params``; constant-time.

    Like Twilio's own helpers, the URL is also tried with its default port added or removed
    (``https://host/x`` and ``https://host:443/x``), since proxies disagree on which Twilio signed.
    """
    if not signature or not auth_token:
        return False
    given = signature.encode("utf-8", "surrogateescape")
    matched = False
    for candidate in _url_variants(url):
        expected = twilio_signature(auth_token, candidate, params).encode("ascii")
        matched |= hmac.compare_digest(expected, given)
    return matched


def _url_variants(url: str) -> list[str]:
    parts = urlsplit(url)
    default = _DEFAULT_PORTS.get(parts.scheme)
    try:
        port = parts.port
    except ValueError:  # not a number: leave the URL as it is
        return [url]
    if default is None or not parts.netloc:
        return [url]
    userinfo, at, host = parts.netloc.rpartition("@")
    prefix = userinfo + at
    if port is None:
        other = f"{prefix}{host}:{default}"
    elif port == default:
        other = prefix + host.rsplit(":", 1)[0]
    else:
        return [url]
    return [url, urlunsplit(parts._replace(netloc=other))]


# --- our lead webhook -------------------------------------------------------------------------------------


def _key(secret: bytes | str) -> bytes:
    return secret.encode() if isinstance(secret, str) else secret


def _lead_digest(secret: bytes | str, body: bytes, timestamp: int) -> str:
    return hmac.new(_key(secret), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign_lead_webhook(secret: bytes | str, body: bytes, timestamp: int) -> str:
    """The ``X-St-Mcp-Signature`` header value for ``body`` sent at ``timestamp`` (unix seconds)."""
    return f"t={timestamp},v1={_lead_digest(secret, body, timestamp)}"


def _parse_header(header: str) -> tuple[int, list[str]]:
    """``t=…,v1=…[,v1=…]`` → (timestamp, v1 signatures); unknown schemes (``v0=``) are ignored."""
    timestamps: list[str] = []
    signatures: list[str] = []
    for item in header.split(","):
        name, sep, value = item.strip().partition("=")
        if not sep or not name:
            raise SignatureError("malformed signature header")
        if name == "t":
            timestamps.append(value.strip())
        elif name == "v1":
            signatures.append(value.strip())
    if len(timestamps) != 1 or not timestamps[0].isascii() or not timestamps[0].isdigit() or not signatures:
        raise SignatureError("malformed signature header")
    return int(timestamps[0]), signatures


def verify_lead_webhook(
    secret: bytes | str | Sequence[bytes | str],
    body: bytes,
    header: str | None,
    now: datetime,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
) -> None:
    """Accept the request or raise ``SignatureError`` with a short reason.

    The signature is checked before the timestamp, so "too old" is only ever said of a request we really
    signed (a replay), never of a forgery. ``secret`` may be several secrets while ours rotates; ``now``
    is taken as UTC when naive.
    """
    if header is None or not header.strip():
        raise SignatureError("missing signature")
    timestamp, signatures = _parse_header(header)
    secrets = [secret] if isinstance(secret, (bytes, str)) else list(secret)
    matched = False
    for key in secrets:
        expected = _lead_digest(key, body, timestamp).encode("ascii")
        for candidate in signatures:
            if _HEX_SHA256.fullmatch(candidate):  # a shape check only; the compare below is constant-time
                matched |= hmac.compare_digest(expected, candidate.lower().encode("ascii"))
    if not matched:
        raise SignatureError("signature does not match")
    now_utc = now.replace(tzinfo=UTC) if now.tzinfo is None else now
    age = now_utc.timestamp() - timestamp
    if age > tolerance_seconds:
        raise SignatureError("signature timestamp is too old (replayed?)")
    if -age > tolerance_seconds:
        raise SignatureError("signature timestamp is in the future")
