"""The none gateway: the client platform delivers, so a send is only a receipt."""

from __future__ import annotations

import pytest

from st_mcp.messaging import Delivery, Gateway, NoneGateway, OutboundSms

pytestmark = pytest.mark.anyio


async def test_none_gateway_records_only() -> None:
    gateway = NoneGateway()
    assert isinstance(gateway, Gateway)
    assert gateway.name == "none"
    assert await gateway.send(OutboundSms("+13035550142", "hi", "i1")) == Delivery("none", None, "recorded")
    await gateway.aclose()
    await gateway.aclose()  # closing twice is harmless
