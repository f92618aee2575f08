"""The "none" gateway: the client platform (a voice AI, an SMS bot) delivers the text itself.

The server still records every message through ``log_message`` and still runs the compliance gate first,
so a send here is only a receipt: nothing leaves the process.
"""

from __future__ import annotations

from st_mcp.messaging.gateway import Delivery, OutboundSms


class NoneGateway:
    """Delivers nothing and says so: ``Delivery("none", None, "recorded")``."""

    name = "none"

    async def send(self, message: OutboundSms) -> Delivery:
        return Delivery(self.name, None, "recorded")

    async def aclose(self) -> None:
        return None

    def __repr__(self) -> str:
        return "NoneGateway()"
