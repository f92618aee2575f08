"""The sandbox gateway: an outbox the demo and tests read, and a scripted lead who texts back.

Nothing leaves the process. A test says what a phone will answer (``script``), sends through the same
services a real deployment uses, then reads ``outbox`` and watches the replies arrive at the inbound
handler exactly as Twilio's webhook would deliver them.

Delivery of replies is explicit, so tests are deterministic: ``send`` only queues the scripted reply, and
``deliver_pending()`` hands queued replies to the handler, one at a time, oldest first, until none are left
(replies the handler provokes included). Given a task group, ``send`` schedules that drain itself.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from anyio.abc import TaskGroup

from st_mcp.messaging.gateway import Delivery, GatewayError, InboundSms, OutboundSms

InboundHandler = Callable[[InboundSms], Awaitable[None]]

E164 = re.compile(r"^\+[1-9]\d{7,14}$")
DEFAULT_SANDBOX_NUMBER = "+13035550100"  # the business's number in the sandbox


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class SentSms:
    """One entry of the outbox: what was sent, the id it got, and when (by the gateway's clock)."""

    message: OutboundSms
    provider_message_id: str
    sent_at: datetime

    @property
    def to(self) -> str:
        return self.message.to

    @property
    def body(self) -> str:
        return self.message.body


class SandboxGateway:
    """In-process gateway with an outbox and a simulated lead.

    ``script(phone, *replies)`` queues what that phone answers, one reply per message it receives; a
    message with no scripted reply left gets none. ``unsubscribe(phone)`` makes sends to it fail the way
    Twilio's 21610 does, so the caller's opt-out path can be tested too.
    """

    name = "sandbox"

    def __init__(
        self,
        clock: Callable[[], datetime] | None = None,
        *,
        number: str = DEFAULT_SANDBOX_NUMBER,
        task_group: TaskGroup | None = None,
    ) -> None:
        self._clock = clock or _utc_now
        self.number = number
        self._task_group = task_group
        self.outbox: list[SentSms] = []
        self.inbox: list[InboundSms] = []  # replies already handed to the handler, in order
        self._scripts: dict[str, deque[str]] = {}
        self._pending: deque[InboundSms] = deque()
        self._unsubscribed: set[str] = set()
        self._handler: InboundHandler | None = None
        self._delivering = False
        self._counter = 0

    # --- what a test or the demo sets up -------------------------------------------------------------

    def script(self, phone: str, *replies: str) -> None:
        """Queue replies ``phone`` will send, one per message it receives (appends to earlier scripts)."""
        self._scripts.setdefault(phone, deque()).extend(replies)

    def receive(self, from_number: str, body: str) -> InboundSms:
        """Queue a text the lead sends first (not in answer to anything); delivered by ``deliver_pending``."""
        inbound = self._inbound(from_number, body)
        self._pending.append(inbound)
        return inbound

    def unsubscribe(self, phone: str) -> None:
        """Simulate a carrier-level STOP: later sends to ``phone`` fail with ``opted_out=True``."""
        self._unsubscribed.add(phone)

    def on_inbound(self, handler: InboundHandler) -> None:
        """Register the one handler replies are delivered to (a later call replaces it)."""
        self._handler = handler

    # --- what a test or the demo reads ---------------------------------------------------------------

    @property
    def pending(self) -> tuple[InboundSms, ...]:
        """Replies queued but not yet handed to the handler."""
        return tuple(self._pending)

    def sent_to(self, phone: str) -> list[SentSms]:
        return [sent for sent in self.outbox if sent.message.to == phone]

    def scripted_left(self, phone: str) -> int:
        return len(self._scripts.get(phone, ()))

    # --- the Gateway protocol ------------------------------------------------------------------------

    async def send(self, message: OutboundSms) -> Delivery:
        if not E164.match(message.to):
            raise GatewayError(
                f"{message.to!r} is not an E.164 phone number (like +13035550142); the text was not sent.",
                retryable=False,
            )
        if message.to in self._unsubscribed:
            raise GatewayError(
                f"The sandbox carrier refused: {message.to} has unsubscribed (replied STOP). "
                "Suppress this number; do not text it again.",
                retryable=False,
                opted_out=True,
            )
        sent = SentSms(message, self._next_id(), self._clock())
        self.outbox.append(sent)
        replies = self._scripts.get(message.to)
        if replies:
            self._pending.append(self._inbound(message.to, replies.popleft()))
            if self._task_group is not None:
                self._task_group.start_soon(self.deliver_pending)
        return Delivery(self.name, sent.provider_message_id, "sent")

    async def deliver_pending(self) -> int:
        """Hand queued replies to the handler, oldest first, until none are left; return how many.

        Re-entrant calls (the handler sends, and the send schedules another drain) return 0 at once: the
        drain already running picks their replies up, so order stays first-in, first-out. With no handler
        registered, replies stay queued.
        """
        if self._delivering or self._handler is None:
            return 0
        self._delivering = True
        delivered = 0
        try:
            while self._pending and self._handler is not None:
                inbound = self._pending.popleft()
                self.inbox.append(inbound)
                await self._handler(inbound)
                delivered += 1
        finally:
            self._delivering = False
        return delivered

    async def aclose(self) -> None:
        return None

    # --- internals -----------------------------------------------------------------------------------

    def _next_id(self) -> str:
        self._counter += 1
        return f"SBX-{self._counter:06d}"

    def _inbound(self, from_number: str, body: str) -> InboundSms:
        return InboundSms(
            from_number=from_number,
            to_number=self.number,
            body=body,
            provider_message_id=self._next_id(),
            received_at=self._clock(),
        )

    def __repr__(self) -> str:
        return f"SandboxGateway(number={self.number}, sent={len(self.outbox)}, pending={len(self._pending)})"
