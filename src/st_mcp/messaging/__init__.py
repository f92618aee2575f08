"""SMS gateways (sandbox outbox, Twilio REST, none) and webhook signature checks.

Adapters only: they deliver a text or verify a signature. Which texts may be sent is decided earlier, by
the compliance gate in the policy layer.
"""

from __future__ import annotations

from st_mcp.messaging.gateway import (
    Delivery,
    DeliveryReport,
    Gateway,
    GatewayError,
    InboundSms,
    OutboundSms,
)
from st_mcp.messaging.none import NoneGateway
from st_mcp.messaging.sandbox import InboundHandler, SandboxGateway, SentSms
from st_mcp.messaging.settings import MessagingSettings, build_gateway
from st_mcp.messaging.signatures import (
    LEAD_SIGNATURE_HEADER,
    TWILIO_SIGNATURE_HEADER,
    SignatureError,
    sign_lead_webhook,
    twilio_signature,
    twilio_signature_valid,
    verify_lead_webhook,
)
from st_mcp.messaging.twilio import TwilioGateway

__all__ = [
    "LEAD_SIGNATURE_HEADER",
    "TWILIO_SIGNATURE_HEADER",
    "Delivery",
    "DeliveryReport",
    "Gateway",
    "GatewayError",
    "InboundHandler",
    "InboundSms",
    "MessagingSettings",
    "NoneGateway",
    "OutboundSms",
    "SandboxGateway",
    "SentSms",
    "SignatureError",
    "TwilioGateway",
    "build_gateway",
    "sign_lead_webhook",
    "twilio_signature",
    "twilio_signature_valid",
    "verify_lead_webhook",
]
