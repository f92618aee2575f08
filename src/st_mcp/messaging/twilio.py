"""Twilio's Messages REST API as a gateway: one POST per text, errors turned into ``GatewayError``.

Sends are never retried here. Creating a message is not idempotent at Twilio, so after a timeout or a
5xx the text may already be on its way; the error says so (``delivery_unknown``) and the caller decides.
The auth token goes only into the Authorization header: it is scrubbed from every error message and
never logged or shown by ``repr``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import httpx

from st_mcp.messaging.gateway import Delivery, DeliveryReport, GatewayError, OutboundSms

logger = logging.getLogger(__name__)

TWILIO_API_BASE_URL = "https://api.twilio.com"
DEFAULT_TIMEOUT_SECONDS = 15.0
# Where Twilio posts delivery status callbacks, under the server's public base URL.
STATUS_CALLBACK_PATH = "/webhooks/sms/twilio/status"
MESSAGE_ID_PARAMETER = "message_id"  # our message id, in the status callback URL's query

# Twilio error codes with a meaning the caller must act on.
UNSUBSCRIBED = 21610  # the recipient replied STOP to this sender
INVALID_TO = 21211  # not a valid phone number
NOT_MOBILE = 21614  # not a mobile number / cannot receive SMS
LANDLINE = 21635  # a landline, where Twilio does not attempt SMS
TOO_MANY_REQUESTS = 20429
AUTHENTICATION_FAILED = 20003


class TwilioGateway:
    """Sends through ``POST {base_url}/2010-04-01/Accounts/{AccountSid}/Messages.json``.

    The sender is the Messaging Service when ``messaging_service_sid`` is set (Twilio then picks the
    number from its sender pool), else ``from_number``. An ``http`` client passed in is shared and left
    open by ``aclose``; one created here is closed by it.
    """

    name = "twilio"

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        from_number: str | None = None,
        messaging_service_sid: str | None = None,
        status_callback_url: str | None = None,
        http: httpx.AsyncClient | None = None,
        base_url: str = TWILIO_API_BASE_URL,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        if not account_sid:
            raise ValueError("TwilioGateway needs an account SID")
        if not auth_token:
            raise ValueError("TwilioGateway needs an auth token")
        if not (from_number or messaging_service_sid):
            raise ValueError("TwilioGateway needs a from number or a messaging service SID")
        self.account_sid = account_sid
        self._auth_token = auth_token
        self._auth = httpx.BasicAuth(account_sid, auth_token)
        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid
        self.status_callback_url = status_callback_url
        self.messages_url = f"{base_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self._owns_http = http is None
        self._http = http if http is not None else httpx.AsyncClient(timeout=timeout_seconds)

    def _form(self, message: OutboundSms) -> dict[str, str]:
        form = {"To": message.to, "Body": message.body}
        if self.messaging_service_sid:
            form["MessagingServiceSid"] = self.messaging_service_sid
        else:
            assert self.from_number is not None  # checked in __init__
            form["From"] = self.from_number
        if self.status_callback_url:
            form["StatusCallback"] = status_callback_for(self.status_callback_url, message.message_id)
        return form

    async def send(self, message: OutboundSms) -> Delivery:
        try:
            response = await self._http.post(
                self.messages_url,
                data=self._form(message),
                auth=self._auth,
                headers={"Accept": "application/json"},
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            # The request never left: nothing was created, so a later retry cannot double-text.
            logger.warning("twilio send: could not connect (%s)", type(exc).__name__)
            raise GatewayError(
                "Could not reach Twilio; the text was not sent. Try again shortly.", retryable=True
            ) from None
        except httpx.HTTPError as exc:
            # Timed out or broken mid-request: the request may have arrived, so the text may be on its way.
            timed_out = isinstance(exc, httpx.TimeoutException)
            logger.warning(
                "twilio send: %s (%s)", "timed out" if timed_out else "transport error", type(exc).__name__
            )
            what = (
                "Twilio did not answer in time"
                if timed_out
                else "The connection to Twilio failed mid-request"
            )
            raise GatewayError(
                f"{what}; delivery is unknown (the text may have been sent). "
                "Check the conversation before sending it again.",
                retryable=True,
                delivery_unknown=True,
            ) from None

        if response.is_success:
            return self._delivery(response)
        error = self._error(response, message)
        logger.warning("twilio send failed: HTTP %s, code %s", error.http_status, error.code)
        raise error

    def _delivery(self, response: httpx.Response) -> Delivery:
        body = _json(response)
        sid = body.get("sid") if body else None
        if not isinstance(sid, str) or not sid:
            raise GatewayError(
                f"Twilio accepted the request (HTTP {response.status_code}) but its answer had no message "
                "SID; the text was probably sent. Check before sending it again.",
                retryable=False,
                delivery_unknown=True,
                http_status=response.status_code,
            )
        status = body.get("status")
        return Delivery(self.name, sid, status if isinstance(status, str) and status else "queued")

    def _error(self, response: httpx.Response, message: OutboundSms) -> GatewayError:
        status = response.status_code
        body = _json(response) or {}
        code = body.get("code") if isinstance(body.get("code"), int) else None
        detail = self._scrub(str(body.get("message") or "")).strip()[:300]
        said = f" Twilio said: {detail}" if detail else ""
        common: dict[str, Any] = {"code": code, "http_status": status}

        if code == UNSUBSCRIBED:
            return GatewayError(
                f"{message.to} has unsubscribed from this sender (replied STOP; Twilio error 21610). "
                "The text was not sent. Suppress this number and do not text it again.",
                retryable=False,
                opted_out=True,
                **common,
            )
        if code == INVALID_TO:
            return GatewayError(
                f"{message.to} is not a valid phone number (Twilio error 21211); the text was not sent. "
                "Check the number; retrying will not help.",
                retryable=False,
                **common,
            )
        if code in (NOT_MOBILE, LANDLINE):
            return GatewayError(
                f"{message.to} cannot receive text messages (not a mobile number; Twilio error {code}); "
                "the text was not sent. Call the lead instead or ask for a mobile number.",
                retryable=False,
                **common,
            )
        if status == 429 or code == TOO_MANY_REQUESTS:
            retry_after = _retry_after(response)
            when = f" in {retry_after:g} s" if retry_after is not None else " shortly"
            return GatewayError(
                f"Twilio is rate limiting (HTTP 429); the text was not sent. Try again{when}.",
                retryable=True,
                retry_after=retry_after,
                **common,
            )
        if status >= 500:
            return GatewayError(
                f"Twilio failed (HTTP {status}); delivery is unknown (the text may have been sent). "
                "Try again later, after checking the conversation.",
                retryable=True,
                delivery_unknown=True,
                **common,
            )
        if status in (401, 403) or code == AUTHENTICATION_FAILED:
            return GatewayError(
                f"Twilio rejected this server's credentials (HTTP {status}); the text was not sent. "
                "An operator must check the Twilio account SID and auth token.",
                retryable=False,
                **common,
            )
        code_text = f", error {code}" if code is not None else ""
        return GatewayError(
            f"Twilio refused the text (HTTP {status}{code_text}); it was not sent.{said}",
            retryable=False,
            **common,
        )

    def _scrub(self, text: str) -> str:
        """Belt and braces: the token must never reach a message, even if a provider echoed it."""
        return text.replace(self._auth_token, "***") if self._auth_token else text

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    def __repr__(self) -> str:
        sender = (
            f"messaging_service_sid={self.messaging_service_sid}"
            if self.messaging_service_sid
            else f"from_number={self.from_number}"
        )
        return f"TwilioGateway(account_sid={self.account_sid}, auth_token=***, {sender})"


def status_callback_for(base_url: str, message_id: str | None) -> str:
    """The callback URL for one text: ours carries our message id, so even a text whose send answer
    was lost (a timeout) is found and settled when Twilio reports on it. Twilio signs the URL with it."""
    if not message_id:
        return base_url
    separator = "&" if "?" in base_url else "?"
    return f"{base_url}{separator}{urlencode({MESSAGE_ID_PARAMETER: message_id})}"


def delivery_report(params: Mapping[str, str]) -> DeliveryReport:
    """Twilio's status callback form as a ``DeliveryReport``; ``ValueError`` names what is missing.

    ``ErrorCode`` 21610 is the same unsubscribe as on a send; it can arrive here instead (a Messaging
    Service accepts the text first and fails it later), so it means the same: suppress the number.
    """
    sid = params.get("MessageSid", "").strip()
    status = params.get("MessageStatus", "").strip().lower()
    missing = [name for name, value in (("MessageSid", sid), ("MessageStatus", status)) if not value]
    if missing:
        raise ValueError(f"missing {' and '.join(missing)}")
    error_code = params.get("ErrorCode", "").strip()[:16] or None
    return DeliveryReport(
        TwilioGateway.name, sid, status, error_code, opted_out=error_code == str(UNSUBSCRIBED)
    )


def _json(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # an HTTP date; rare from Twilio, and "shortly" is good enough
    return seconds if seconds >= 0 else None
