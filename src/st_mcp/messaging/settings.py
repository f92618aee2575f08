"""Messaging settings, and the one place that turns them into a gateway.

The model is meant to be nested in the top-level ``Settings``; it checks only what a gateway needs to
start, so a Twilio deployment with a missing credential stops at start-up with one line naming it,
instead of failing on the first text to a lead.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Literal

import httpx
from pydantic import BaseModel, Field, SecretStr, model_validator

from st_mcp.messaging.gateway import Gateway
from st_mcp.messaging.none import NoneGateway
from st_mcp.messaging.sandbox import SandboxGateway
from st_mcp.messaging.twilio import (
    DEFAULT_TIMEOUT_SECONDS,
    STATUS_CALLBACK_PATH,
    TWILIO_API_BASE_URL,
    TwilioGateway,
)

GatewayName = Literal["sandbox", "twilio", "none"]


class MessagingSettings(BaseModel):
    """Which gateway delivers texts, and the credentials it needs."""

    model_config = {"extra": "forbid"}

    gateway: GatewayName = "sandbox"
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_from_number: str | None = Field(default=None, pattern=r"^\+[1-9]\d{7,14}$")  # E.164
    twilio_messaging_service_sid: str | None = None
    twilio_base_url: str = Field(default=TWILIO_API_BASE_URL, pattern=r"^https?://")
    # How long a send waits for Twilio's answer; past it the text's fate is unknown (it counts as a touch
    # until a status callback settles it).
    twilio_timeout_seconds: float = Field(default=DEFAULT_TIMEOUT_SECONDS, gt=0, le=120)
    # The public base URL Twilio calls (e.g. https://agent.example.com): signatures are computed over
    # the URL Twilio used, which behind a proxy is not the one the app sees.
    public_base_url: str | None = Field(default=None, pattern=r"^https?://")
    lead_webhook_secret: SecretStr | None = None  # HMAC secret for POST /webhooks/leads

    @model_validator(mode="after")
    def _twilio_complete(self) -> MessagingSettings:
        if self.gateway != "twilio":
            return self
        missing = []
        if not self.twilio_account_sid:
            missing.append("twilio_account_sid")
        if self.twilio_auth_token is None or not self.twilio_auth_token.get_secret_value():
            missing.append("twilio_auth_token")
        if not (self.twilio_from_number or self.twilio_messaging_service_sid):
            missing.append("twilio_from_number or twilio_messaging_service_sid")
        if missing:
            raise ValueError(f"gateway twilio needs {', '.join(missing)}")
        return self


def build_gateway(
    settings: MessagingSettings,
    *,
    clock: Callable[[], datetime],
    http: httpx.AsyncClient | None = None,
) -> Gateway:
    """The gateway ``settings`` name; ``http`` (shared, left open) is used by Twilio only."""
    if settings.gateway == "twilio":
        # The validator guarantees these; the asserts narrow the types.
        assert settings.twilio_account_sid is not None and settings.twilio_auth_token is not None
        return TwilioGateway(
            settings.twilio_account_sid,
            settings.twilio_auth_token.get_secret_value(),
            from_number=settings.twilio_from_number,
            messaging_service_sid=settings.twilio_messaging_service_sid,
            status_callback_url=_status_callback_url(settings.public_base_url),
            http=http,
            base_url=settings.twilio_base_url,
            timeout_seconds=settings.twilio_timeout_seconds,
        )
    if settings.gateway == "none":
        return NoneGateway()
    return SandboxGateway(clock)


def _status_callback_url(public_base_url: str | None) -> str | None:
    """Where Twilio reports delivery; without a public URL it could not reach us, so ask for nothing."""
    return f"{public_base_url.rstrip('/')}{STATUS_CALLBACK_PATH}" if public_base_url else None
