"""Sending and receiving texts through the configured gateway, always behind the compliance gate.

``send_message``: reserve (the gate decides and the text is committed as pending, in the lead's
serialized section) → gateway → settle, in that order, so a refused text never leaves, two sends for one
lead are decided one after the other, and a text that left is always in the thread.

``receive``: a lead's text from a gateway (the sandbox's simulated lead, Twilio's webhook) goes through
the same opt-out/HELP detection as ``log_message``, and the server itself sends what carriers require in
answer — the single opt-out confirmation and the HELP text.

``delivery_status``: a provider's later report (Twilio's status callback) moves the text's delivery
status forward, and an unsubscribe it reports suppresses the number like one reported on send.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

import anyio

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
from st_mcp.services.interactions.models import IngestResult, MessageResult
from st_mcp.services.interactions.service import Interactions, Reserved
from st_mcp.services.outreach.gate import Purpose
from st_mcp.services.outreach.models import SendResult
from st_mcp.store.deliveries import UNKNOWN, DeliveryRecords, TrackedDelivery
from st_mcp.store.interactions import FAILED, InteractionRow
from st_mcp.store.receipts import AlreadyReceived, Receipt
from st_mcp.store.suppressions import OptChange, SuppressionList

log = logging.getLogger("st_mcp.outreach")
# The server's own first text on a new lead: an AI principal, held to the agent's rules.
INSTANT_REPLY = Principal("speed-to-lead instant reply", SYSTEM_ROLE, ai=True)
MAX_SMS = 1600  # Twilio's limit for one message body (it splits into segments itself)

# How far a text has got (Twilio's outbound lifecycle). Callbacks can arrive out of order, so a status
# only replaces one of a lower stage: a late "sent" never undoes "delivered". The final outcomes share a
# stage, so the first one reported stands; only "read" (which implies delivery) comes after them.
DELIVERY_STAGES: dict[str, int] = {
    "pending": -1,  # ours: reserved, the gateway has not answered yet
    "unknown": -1,  # ours: the gateway's answer was lost; any word from the provider settles it
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
        instant_reply: Callable[[InteractionRow], str] | None = None,
    ) -> None:
        self._interactions = interactions
        self.gateway = gateway
        self._suppressions = suppressions
        self._deliveries = deliveries
        self._now = clock
        self._opt_out_confirmation = opt_out_confirmation
        self._instant_reply = instant_reply
        if isinstance(gateway, SandboxGateway):
            gateway.on_inbound(self.receive)
        if instant_reply is not None:
            interactions.on_new_lead.append(self._send_instant_reply)

    async def send_message(self, principal: Principal, *, interaction_id: str, text: str) -> SendResult:
        body = (text or "").strip()
        if not body:
            raise UserInputError("'text' is empty: write the message to send.")
        if len(body) > MAX_SMS:
            raise UserInputError(f"'text' is {len(body)} characters; keep a text under {MAX_SMS}.")
        row = await self._interactions.row(interaction_id)
        if not row.phone:
            raise UserInputError(f"Interaction {row.id} has no phone number to text.")
        reserved, delivery = await self._deliver(principal, row, body, "conversation")
        note = "Sent."
        if delivery.gateway == "none":
            note = "Recorded and cleared: your platform must deliver this text now, exactly as written."
        if reserved.clearance.purpose == "opt_out_confirmation":
            note = "Opt-out confirmation sent. That was the last message this lead may receive."
        await self._drain()
        return SendResult(
            interaction_id=row.id,
            message_id=reserved.result.message_id,
            status=reserved.result.status,
            gateway=delivery.gateway,
            provider_message_id=delivery.provider_message_id,
            delivery_status=delivery.status,
            sent_at=self._now(),
            note=note,
        )

    async def receive(self, inbound: InboundSms, *, receipt: Receipt | None = None) -> MessageResult | None:
        """A lead's text arriving through a gateway; answers STOP and HELP as carriers require.
        ``receipt`` (the provider's id of this delivery): a replay or retry changes nothing → None."""
        principal = Principal("sms-gateway", SYSTEM_ROLE)
        try:
            result = await self._interactions.log_message(
                principal,
                interaction_id=None,
                phone=inbound.from_number,
                direction="inbound",
                text=inbound.body,
                receipt=receipt,
            )
        except AlreadyReceived:
            log.info("inbound text %s already taken in; replay ignored", inbound.provider_message_id)
            return None
        if result.opted_out:
            await self._auto_reply(result.interaction_id, self._opt_out_confirmation, "opt_out_confirmation")
        elif result.help_text:
            await self._auto_reply(result.interaction_id, result.help_text, "help")
        return result

    async def _send_instant_reply(self, created: IngestResult) -> str | None:
        """The operator's approved first text, the moment the lead arrives (``[speed_to_lead]``)."""
        assert self._instant_reply is not None
        row = await self._interactions.row(created.interaction_id)
        if not row.phone or row.goal != "Speed to Lead":
            return None  # someone who texted or called us first gets an answer to what they said
        try:
            await self._deliver(INSTANT_REPLY, row, self._instant_reply(row), "conversation")
        except (Blocked, UserInputError) as exc:
            log.info("instant reply to %s not sent: %s", row.id, exc)
            return (
                f"New lead. The server's instant first text was not sent ({exc}) — "
                "contact them from get_lead_queue."
            )
        await self._drain()
        return (
            "New lead. The server already sent the operator's first text (see get_interaction); "
            "continue the conversation from get_lead_queue."
        )

    async def delivery_status(
        self, report: DeliveryReport, *, message_id: str | None = None, receipt: Receipt | None = None
    ) -> TrackedDelivery | None:
        """Record how far a text got; None (and nothing written) when it is not a text of ours or the
        report was taken in before. ``message_id``: ours, from the callback URL — it finds a text whose
        send answer was lost (delivery ``unknown``) and settles it."""
        if report.status not in DELIVERY_STAGES:  # one we cannot place (a new one of Twilio's): keep ours
            log.info("delivery status %r of %s not recorded", report.status, report.provider_message_id)
        try:
            tracked = await self._deliveries.advance(
                report.gateway,
                report.provider_message_id,
                report.status,
                report.error_code,
                over=_replaceable_by(report.status),
                message_id=message_id,
                receipt=receipt,
                at=self._now(),
            )
        except AlreadyReceived:
            log.info("status %s of %s already taken in", report.status, report.provider_message_id)
            return None
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
            await self._deliver(principal, row, text, purpose)
        except (Blocked, UserInputError) as exc:
            log.info("auto-reply %s to %s not sent: %s", purpose, interaction_id, exc)

    async def _deliver(
        self, principal: Principal, row: InteractionRow, body: str, purpose: Purpose
    ) -> tuple[Reserved, Delivery]:
        """Reserve the touch (the gate decides and the text is written as pending), then hand it to the
        gateway, then settle the delivery with its answer. Only a reserved text ever leaves, and every
        text that left is in the thread: a lost answer leaves it ``unknown`` (still a touch) until a
        status callback settles it; a refusal marks it ``failed`` (no touch: it never left)."""
        assert row.phone is not None
        reserved = await self._interactions.reserve_message(
            principal, row, body, purpose=purpose, gateway=self.gateway.name
        )
        message_id = reserved.result.message_id
        outbound = OutboundSms(to=row.phone, body=body, interaction_id=row.id, message_id=message_id)
        try:
            delivery = await self.gateway.send(outbound)
        except GatewayError as exc:
            await self._settle_failure(message_id, exc)
            raise await self._explained(row, exc) from None
        except BaseException:
            # Cancelled or crashed mid-send: the text may have left. Never leave it pending forever.
            with anyio.CancelScope(shield=True):
                await self._deliveries.settle(message_id, UNKNOWN)
            raise
        await self._deliveries.settle(
            message_id, delivery.status, provider_message_id=delivery.provider_message_id
        )
        return reserved, delivery

    async def _settle_failure(self, message_id: str, exc: GatewayError) -> None:
        code = str(exc.code) if exc.code is not None else None
        status = UNKNOWN if exc.delivery_unknown else FAILED
        await self._deliveries.settle(message_id, status, error_code=code)

    async def _explained(self, row: InteractionRow, exc: GatewayError) -> Exception:
        """What the model is told about a gateway failure (and a carrier opt-out suppresses the number)."""
        assert row.phone is not None
        if exc.opted_out:
            await self._carrier_opted_out(row.phone, row.id)
            return Blocked(
                f"Not sent: the carrier says {row.name or row.phone} has opted out. "
                "The number is now suppressed; do not contact this lead again.",
                rule="opt_out",
                interaction_id=row.id,
            )
        if exc.delivery_unknown:
            return UserInputError(
                f"The text may or may not have been delivered ({exc.message}). It is in the thread as "
                "'unknown' and counts as a touch; do not resend it blindly — read the thread with "
                "get_interaction first."
            )
        again = "Try again in a minute." if exc.retryable else "Do not resend it."
        return UserInputError(f"The text was not sent: {exc.message} {again}")

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
