"""The sandbox gateway: outbox, ids and timestamps, and scripted replies reaching the handler in order."""

from __future__ import annotations

import anyio
import pytest

from st_mcp.messaging import Delivery, Gateway, GatewayError, InboundSms, OutboundSms, SandboxGateway

from .helpers import START, ManualClock

pytestmark = pytest.mark.anyio

LEAD = "+13035550142"
OTHER = "+13035550199"


class Recorder:
    """An inbound handler that keeps what it got."""

    def __init__(self) -> None:
        self.got: list[InboundSms] = []

    async def __call__(self, inbound: InboundSms) -> None:
        self.got.append(inbound)

    @property
    def bodies(self) -> list[str]:
        return [m.body for m in self.got]


def sms(body: str, to: str = LEAD, interaction_id: str = "int-1") -> OutboundSms:
    return OutboundSms(to=to, body=body, interaction_id=interaction_id)


async def test_send_goes_to_the_outbox_with_id_and_clock_time(clock: ManualClock) -> None:
    gateway = SandboxGateway(clock)
    assert isinstance(gateway, Gateway)

    first = await gateway.send(sms("Hi, this is Ava from Acme Heating."))
    clock.advance(300)
    second = await gateway.send(sms("Still need a hand with the furnace?"))

    assert first == Delivery("sandbox", "SBX-000001", "sent")
    assert second == Delivery("sandbox", "SBX-000002", "sent")
    assert [(s.provider_message_id, s.to, s.sent_at) for s in gateway.outbox] == [
        ("SBX-000001", LEAD, START),
        ("SBX-000002", LEAD, clock.now),
    ]
    assert gateway.outbox[0].message.interaction_id == "int-1"
    assert gateway.sent_to(OTHER) == []


async def test_scripted_replies_reach_the_handler_in_order_after_the_send(clock: ManualClock) -> None:
    gateway = SandboxGateway(clock)
    handler = Recorder()
    gateway.on_inbound(handler)
    gateway.script(LEAD, "yes please", "Tuesday morning works")

    await gateway.send(sms("Want us to come out?"))
    assert handler.got == []  # nothing is delivered inside send
    assert [m.body for m in gateway.pending] == ["yes please"]
    await gateway.send(sms("Tuesday 8-10 or Wednesday 12-2?"))

    assert await gateway.deliver_pending() == 2
    assert handler.bodies == ["yes please", "Tuesday morning works"]
    first = handler.got[0]
    assert first.from_number == LEAD
    assert first.to_number == gateway.number
    assert first.provider_message_id == "SBX-000002"  # one sequence for both directions
    assert first.received_at == START
    assert gateway.inbox == handler.got
    assert gateway.pending == ()

    # The script is used up: a third message gets no answer.
    await gateway.send(sms("Booked!"))
    assert await gateway.deliver_pending() == 0
    assert gateway.scripted_left(LEAD) == 0


async def test_a_handler_that_answers_runs_the_whole_conversation_in_one_drain(clock: ManualClock) -> None:
    gateway = SandboxGateway(clock)
    gateway.script(LEAD, "my furnace is out", "tomorrow 8-10")
    gateway.script(OTHER, "wrong number")
    seen: list[tuple[str, str]] = []

    async def agent(inbound: InboundSms) -> None:
        seen.append((inbound.from_number, inbound.body))
        await gateway.send(sms(f"re: {inbound.body}", to=inbound.from_number))

    gateway.on_inbound(agent)
    await gateway.send(sms("Hi from Acme"))
    await gateway.send(sms("Hi from Acme", to=OTHER))

    assert await gateway.deliver_pending() == 3
    # First in, first out: LEAD's first reply, OTHER's reply, then LEAD's answer to our follow-up.
    assert seen == [(LEAD, "my furnace is out"), (OTHER, "wrong number"), (LEAD, "tomorrow 8-10")]
    assert [s.body for s in gateway.sent_to(LEAD)] == [
        "Hi from Acme",
        "re: my furnace is out",
        "re: tomorrow 8-10",
    ]


async def test_replies_wait_for_a_handler(clock: ManualClock) -> None:
    gateway = SandboxGateway(clock)
    gateway.script(LEAD, "hello?")
    await gateway.send(sms("Hi"))
    assert await gateway.deliver_pending() == 0
    assert len(gateway.pending) == 1

    handler = Recorder()
    gateway.on_inbound(handler)
    assert await gateway.deliver_pending() == 1
    assert handler.bodies == ["hello?"]


async def test_a_lead_can_text_first(clock: ManualClock) -> None:
    gateway = SandboxGateway(clock)
    handler = Recorder()
    gateway.on_inbound(handler)
    inbound = gateway.receive(LEAD, "do you fix water heaters?")
    assert await gateway.deliver_pending() == 1
    assert handler.got == [inbound]
    assert inbound.provider_message_id == "SBX-000001"


async def test_with_a_task_group_replies_are_delivered_by_the_group(clock: ManualClock) -> None:
    handler = Recorder()
    async with anyio.create_task_group() as tg:
        gateway = SandboxGateway(clock, task_group=tg)
        gateway.on_inbound(handler)
        gateway.script(LEAD, "one", "two")
        await gateway.send(sms("a"))
        await gateway.send(sms("b"))
        assert handler.got == []  # scheduled, not yet run: the sends returned first
    assert handler.bodies == ["one", "two"]


async def test_an_unsubscribed_phone_fails_like_twilio_21610(clock: ManualClock) -> None:
    gateway = SandboxGateway(clock)
    gateway.unsubscribe(LEAD)
    with pytest.raises(GatewayError) as caught:
        await gateway.send(sms("Hi"))
    assert caught.value.opted_out is True
    assert caught.value.retryable is False
    assert gateway.outbox == []


async def test_a_number_that_is_not_e164_is_refused(clock: ManualClock) -> None:
    gateway = SandboxGateway(clock)
    with pytest.raises(GatewayError, match=r"not an E\.164 phone number") as caught:
        await gateway.send(sms("Hi", to="303-555-0142"))
    assert caught.value.retryable is False
    await gateway.aclose()
