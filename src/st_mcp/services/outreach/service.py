"""Sending and receiving texts through the configured gateway, always behind the compliance gate.

``send_message``: gate → gateway → commit, in that order, so a refused text never leaves and a text
that left is always in the thread. ``receive``: a lead's text from a gateway (the sandbox's simulated
lead, Twilio's webhook) goes through the same opt-out/HELP detection as ``log_message``, and the
server itself sends what carriers require in answer — the single opt-out confirmation and the HELP text.
``delivery_status``: a provider's later report (Twilio's status callback) moves the text's delivery
status forward, and an unsubscribe it reports suppresses the number like one reported on send.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from st_mcp.messaging.gateway import (
    Delivery,
    DeliveryReport,
    Gateway,
    GatewayError,
    InboundSms,
    OutboundSms,
)
from st_mcp.messaging.sandbox import SandboxGateway
from st_mcp.policy.identity import SYSTEM_ROLE, Principal
from st_mcp.services.errors import Blocked, UserInputError
from st_mcp.services.interactions.models import MessageResult
from st_mcp.services.interactions.service import Interactions
from st_mcp.services.outreach.gate import Clearance, Purpose
from st_mcp.services.outreach.models import SendResult
from st_mcp.store.deliveries import DeliveryRecords, TrackedDelivery
from st_mcp.store.interactions import InteractionRow
from st_mcp.store.suppressions import OptChange, SuppressionList

log = logging.getLogger("st_mcp.outreach")
MAX_SMS = 1600  # Twilio's limit for one message body (it splits into segments itself)

# How far a text has got (Twilio's outbound lifecycle). Callbacks can arrive out of order, so a status
# only replaces one of a lower stage: a late "sent" never undoes "delivered". The final outcomes share a
# stage, so the first one reported stands; only "read" (which implies delivery) comes after them.
DELIVERY_STAGES: dict[str, int] = {
    "scheduled": 0,
    "accepted": 1,
    "queued": 2,
    "sending": 3,
    "sent": 4,
    "delivered": 5,
    "undelivered": 5,
    "failed": 5,
    "canceled": 5,
    "read": 6,
}


class Outreach:
    def __init__(
        self,
        interactions: Interactions,
        gateway: Gateway,
        suppressions: SuppressionList,
        clock: Callable[[], datetime],
        *,
        deliveries: DeliveryRecords,
        opt_out_confirmation: str,
    ) -> None:
        self._interactions = interactions
        self.gateway = gateway
        self._suppressions = suppressions
        self._deliveries = deliveries
        self._now = clock
        self._opt_out_confirmation = opt_out_confirmation
        if isinstance(gateway, SandboxGateway):
            gateway.on_inbound(self.receive)

    async def send_message(self, principal: Principal, *, interaction_id: str, text: str) -> SendResult:
        body = (text or "").strip()
        if not body:
            raise UserInputError("'text' is empty: write the message to send.")
        if len(body) > MAX_SMS:
            raise UserInputError(f"'text' is {len(body)} characters; keep a text under {MAX_SMS}.")
        row = await self._interactions.row(interaction_id)
        if not row.phone:
            raise UserInputError(f"Interaction {row.id} has no phone number to text.")
        clearance = await self._interactions.clear_to_send(principal, row)
        result, delivery = await self._deliver(principal, row, body, clearance)
        note = "Sent."
        if delivery.gateway == "none":
            note = "Recorded and cleared: your platform must deliver this text now, exactly as written."
        if clearance.purpose == "opt_out_confirmation":
            note = "Opt-out confirmation sent. That was the last message this lead may receive."
        await self._drain()
        return SendResult(
            interaction_id=row.id,
            message_id=result.message_id,
            status=result.status,
            gateway=delivery.gateway,
            provider_message_id=delivery.provider_message_id,
            delivery_status=delivery.status,
            sent_at=self._now(),
            note=note,
        )

    async def receive(self, inbound: InboundSms) -> MessageResult:
        """A lead's text arriving through a gateway; answers STOP and HELP as carriers require."""
        principal = Principal("sms-gateway", SYSTEM_ROLE)
        result = await self._interactions.log_message(
            principal, interaction_id=None, phone=inbound.from_number, direction="inbound", text=inbound.body
        )
        if result.opted_out:
            await self._auto_reply(result.interaction_id, self._opt_out_confirmation, "opt_out_confirmation")
        elif result.help_text:
            await self._auto_reply(result.interaction_id, result.help_text, "help")
        return result

    async def delivery_status(self, report: DeliveryReport) -> TrackedDelivery | None:
        """Record how far a text got; None (and nothing written) when it is not a text of ours."""
        if report.status not in DELIVERY_STAGES:  # one we cannot place (a new one of Twilio's): keep ours
            log.info("delivery status %r of %s not recorded", report.status, report.provider_message_id)
        tracked = await self._deliveries.advance(
            report.gateway,
            report.provider_message_id,
            report.status,
            report.error_code,
            over=_replaceable_by(report.status),
        )
        if tracked is None:
            return None
        if not tracked.advanced:
            log.debug("delivery status %r of %s arrived late; kept", report.status, tracked.message_id)
        # An unsubscribe counts whatever the order it arrived in: the carrier's word is final.
        if report.opted_out and tracked.phone:
            await self._carrier_opted_out(tracked.phone, tracked.interaction_id)
        return tracked

    async def _carrier_opted_out(self, phone: str, interaction_id: str) -> None:
        """The provider says the number unsubscribed (Twilio 21610, on send or later): suppress it."""
        await self._suppressions.suppress(
            OptChange("out", phone, self._now(), interaction_id, "sms", "carrier reports unsubscribed")
        )

    async def _auto_reply(self, interaction_id: str, text: str, purpose: Purpose) -> None:
        principal = Principal("st-mcp auto-reply", SYSTEM_ROLE)
        row = await self._interactions.row(interaction_id)
        try:
            clearance = await self._interactions.clear_to_send(principal, row, purpose=purpose)
            await self._deliver(principal, row, text, clearance)
        except (Blocked, UserInputError) as exc:
            log.info("auto-reply %s to %s not sent: %s", purpose, interaction_id, exc)

    async def _deliver(
        self, principal: Principal, row: InteractionRow, body: str, clearance: Clearance
    ) -> tuple[MessageResult, Delivery]:
        assert row.phone is not None
        try:
            delivery = await self.gateway.send(OutboundSms(to=row.phone, body=body, interaction_id=row.id))
        except GatewayError as exc:
            if exc.opted_out:
                await self._carrier_opted_out(row.phone, row.id)
                raise Blocked(
                    f"Not sent: the carrier says {row.name or row.phone} has opted out. "
                    "The number is now suppressed; do not contact this lead again.",
                    rule="opt_out",
                    interaction_id=row.id,
                ) from None
            if exc.delivery_unknown:
                raise UserInputError(
                    f"The text may or may not have been delivered ({exc.message}). Do not resend it "
                    "blindly; read the thread with get_interaction first."
                ) from None
            again = "Try again in a minute." if exc.retryable else "Do not resend it."
            raise UserInputError(f"The text was not sent: {exc.message} {again}") from None
        result = await self._interactions.record_outbound(
            principal, row, body, channel="sms", clearance=clearance, delivery=delivery
        )
        return result, delivery

    async def _drain(self) -> None:
        """The sandbox's simulated lead answers right away (deterministic for the demo and tests)."""
        if isinstance(self.gateway, SandboxGateway):
            await self.gateway.deliver_pending()


def _replaceable_by(status: str) -> list[str]:
    """The statuses a report of ``status`` may overwrite: those of an earlier stage (none if unknown)."""
    stage = DELIVERY_STAGES.get(status)
    if stage is None:
        return []
    return [name for name, rank in DELIVERY_STAGES.items() if rank < stage]
