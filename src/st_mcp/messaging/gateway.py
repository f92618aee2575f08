"""The seam between the services and whatever carries an SMS: plain values in, plain values out.

A gateway only delivers. Whether a message may be sent at all (opt-out, quiet hours, touch cap, takeover)
is decided by the compliance gate before ``send`` is called, so no gateway knows a business rule. Keeping
the values here small and frozen lets the sandbox, Twilio and "none" be swapped without the services
noticing, and lets tests compare them with ``==``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class OutboundSms:
    """One text to send; ``interaction_id`` ties the delivery back to the conversation that asked for it."""

    to: str  # E.164, e.g. "+13035550142"
    body: str
    interaction_id: str
    # Our id of the reserved message: a provider that reports back later (Twilio's status callback URL
    # carries it) can settle a text whose send answer was lost.
    message_id: str | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """What the gateway did with a message: who took it, its id there, and how far it got."""

    gateway: str  # "sandbox", "twilio", "none"
    provider_message_id: str | None  # e.g. "SBX-000001", Twilio's "SM…"; None when nobody sent it
    status: str  # e.g. "queued", "accepted", "sent", "recorded"


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """A provider's later word on a text it took (e.g. Twilio's status callback): how far it got."""

    gateway: str
    provider_message_id: str
    status: str  # e.g. "sent", "delivered", "undelivered", "failed"
    error_code: str | None  # the provider's code when delivery failed, e.g. "30007"
    opted_out: bool  # the provider says the recipient has unsubscribed: suppress the number


@dataclass(frozen=True, slots=True)
class InboundSms:
    """A text a lead sent us, as a gateway (sandbox script or Twilio webhook) received it."""

    from_number: str  # E.164
    to_number: str | None  # our number, when the gateway knows it
    body: str
    provider_message_id: str | None
    received_at: datetime


class GatewayError(Exception):
    """A send failed. The message is safe to show a model: it never carries credentials.

    ``retryable``: trying again later may work (rate limit, outage, timeout). The gateway itself never
    retries a send: a send is a create, and a retry after an unclear failure can text the lead twice.
    ``delivery_unknown``: the request may have reached the provider (timeout, 5xx), so the message may
    have gone out; check before sending it again.
    ``opted_out``: the provider says the recipient has opted out (e.g. replied STOP to the carrier); the
    caller must suppress the number.
    """

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        opted_out: bool = False,
        delivery_unknown: bool = False,
        code: int | None = None,
        http_status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.opted_out = opted_out
        self.delivery_unknown = delivery_unknown
        self.code = code  # the provider's error code (Twilio's 21610, …), when it gave one
        self.http_status = http_status
        self.retry_after = retry_after  # seconds, from Retry-After, when the provider said

    def __repr__(self) -> str:
        return (
            f"GatewayError({self.message!r}, retryable={self.retryable}, opted_out={self.opted_out}, "
            f"delivery_unknown={self.delivery_unknown}, code={self.code}, http_status={self.http_status})"
        )


@runtime_checkable
class Gateway(Protocol):
    """Anything that can deliver an ``OutboundSms``; ``name`` is what ``Delivery.gateway`` says."""

    name: str

    async def send(self, message: OutboundSms) -> Delivery:
        """Deliver one message or raise ``GatewayError``; never retries on its own."""
        ...

    async def aclose(self) -> None:
        """Release what the gateway owns (an HTTP client it created); safe to call twice."""
        ...
