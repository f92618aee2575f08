"""Sending and receiving texts through the configured gateway, always behind the compliance gate.

``send_message``: gate → gateway → commit, in that order, so a refused text never leaves and a text
that left is always in the thread. ``receive``: a lead's text from a gateway (the sandbox's simulated
lead, Twilio's webhook) goes through the same opt-out/HELP detection as ``log_message``, and the
server itself sends what carriers require in answer — the single opt-out confirmation and the HELP text.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from st_mcp.messaging.gateway import Delivery, Gateway, GatewayError, InboundSms, OutboundSms
from st_mcp.messaging.sandbox import SandboxGateway
from st_mcp.policy.identity import SYSTEM_ROLE, Principal
from st_mcp.services.errors import Blocked, UserInputError
from st_mcp.services.interactions.models import MessageResult
from st_mcp.services.interactions.service import Interactions
from st_mcp.services.outreach.gate import Clearance, Purpose
from st_mcp.services.outreach.models import SendResult
from st_mcp.store.interactions import InteractionRow
from st_mcp.store.suppressions import OptChange, SuppressionList

log = logging.getLogger("st_mcp.outreach")
MAX_SMS = 1600  # Twilio's limit for one message body (it splits into segments itself)


class Outreach:
    def __init__(
        self,
        interactions: Interactions,
        gateway: Gateway,
        suppressions: SuppressionList,
        clock: Callable[[], datetime],
        *,
        opt_out_confirmation: str,
    ) -> None:
        self._interactions = interactions
        self.gateway = gateway
        self._suppressions = suppressions
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
                await self._suppressions.suppress(
                    OptChange("out", row.phone, self._now(), row.id, "sms", "carrier reports unsubscribed")
                )
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
