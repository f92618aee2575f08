"""Webhooks on the HTTP transports: new leads (HMAC-signed by us), Twilio's inbound texts and its
delivery status callbacks.

These routes are outside MCP's bearer auth — their callers sign each request instead, and an unsigned,
badly signed or replayed request is refused before anything is read or stored. Each refusal and each
lead taken in is an audit event.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from mcp.server.mcpserver import MCPServer
from pydantic import BaseModel, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from st_mcp.config import Settings
from st_mcp.messaging.gateway import InboundSms
from st_mcp.messaging.signatures import (
    LEAD_SIGNATURE_HEADER,
    TWILIO_SIGNATURE_HEADER,
    SignatureError,
    twilio_signature_valid,
    verify_lead_webhook,
)
from st_mcp.messaging.twilio import STATUS_CALLBACK_PATH, delivery_report
from st_mcp.policy.identity import SYSTEM_ROLE, Principal
from st_mcp.server.context import AppContext
from st_mcp.server.shared import SharedAppContext
from st_mcp.services.errors import UserInputError
from st_mcp.services.phones import normalize_phone

LEAD_WEBHOOK = Principal("lead-webhook", SYSTEM_ROLE)
TWILIO_STATUS = Principal("twilio-status-callback", SYSTEM_ROLE)
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


class LeadPayload(BaseModel):
    """What a lead source posts: the fields of ``ingest_lead``, under the same names."""

    model_config = {"extra": "ignore"}

    name: str = Field(min_length=1, max_length=200)
    phone: str = Field(min_length=7, max_length=32)
    email: str | None = None
    street: str | None = None
    city: str | None = None
    state: str | None = Field(default=None, max_length=2)
    zip: str | None = Field(default=None, max_length=10)
    summary: str | None = Field(default=None, max_length=4000)
    source: str | None = None
    campaign_id: int | None = Field(default=None, gt=0)
    servicetitan_lead_id: int | None = Field(default=None, gt=0)


def register_webhooks(server: MCPServer, settings: Settings, shared: SharedAppContext) -> None:
    messaging = settings.messaging
    if messaging.lead_webhook_secret is not None:
        secret = messaging.lead_webhook_secret.get_secret_value()

        @server.custom_route("/webhooks/leads", methods=["POST"])
        async def leads(request: Request) -> Response:
            body = await request.body()
            async with shared.use() as app:
                try:
                    verify_lead_webhook(
                        secret, body, request.headers.get(LEAD_SIGNATURE_HEADER), datetime.now(UTC)
                    )
                except SignatureError as exc:
                    await _refused(app, "webhook.leads", exc.reason)
                    return JSONResponse({"error": exc.reason}, status_code=401)
                try:
                    lead = LeadPayload.model_validate(json.loads(body))
                    taken = await app.interactions.ingest_lead(
                        LEAD_WEBHOOK,
                        name=lead.name,
                        phone=lead.phone,
                        email=lead.email,
                        street=lead.street,
                        city=lead.city,
                        state=lead.state,
                        zip_code=lead.zip,
                        summary=lead.summary,
                        source=lead.source,
                        campaign_id=lead.campaign_id,
                        servicetitan_lead_id=lead.servicetitan_lead_id,
                    )
                except (ValueError, ValidationError, UserInputError) as exc:
                    return JSONResponse({"error": _reason(exc)}, status_code=400)
                reason = "duplicate" if taken.duplicate else f"lead taken in: {taken.status}"
                await _accepted(app, LEAD_WEBHOOK, "webhook.leads", reason, taken.interaction_id)
                return JSONResponse(taken.model_dump(mode="json"), status_code=202)

    if messaging.gateway == "twilio" and messaging.twilio_auth_token is not None:
        signed = _TwilioSigned(messaging.twilio_auth_token.get_secret_value(), messaging.public_base_url)
        _register_twilio(server, signed, shared)


@dataclass(frozen=True, slots=True)
class _TwilioSigned:
    """The ``X-Twilio-Signature`` check every Twilio route makes before reading anything."""

    token: str
    public_base_url: str | None

    def url(self, request: Request) -> str:
        # Twilio signs the URL it called; behind a proxy that is the public one, not ours.
        if not self.public_base_url:
            return str(request.url)
        url = f"{self.public_base_url.rstrip('/')}{request.url.path}"
        return f"{url}?{request.url.query}" if request.url.query else url

    async def refusal(
        self, app: AppContext, request: Request, params: Mapping[str, str], name: str
    ) -> Response | None:
        """None when the signature matches; otherwise the audited 403 to answer with."""
        signature = request.headers.get(TWILIO_SIGNATURE_HEADER)
        if twilio_signature_valid(self.token, self.url(request), params, signature):
            return None
        reason = "X-Twilio-Signature does not match"
        await _refused(app, name, reason)
        return JSONResponse({"error": reason}, status_code=403)


def _register_twilio(server: MCPServer, signed: _TwilioSigned, shared: SharedAppContext) -> None:
    @server.custom_route("/webhooks/sms/twilio", methods=["POST"])
    async def twilio_inbound(request: Request) -> Response:
        params = await _form(request)
        async with shared.use() as app:
            if (refusal := await signed.refusal(app, request, params, "webhook.twilio")) is not None:
                return refusal
            try:
                inbound = InboundSms(
                    from_number=normalize_phone(params.get("From", "")),
                    to_number=params.get("To"),
                    body=params.get("Body", ""),
                    provider_message_id=params.get("MessageSid"),
                    received_at=app.clock(),
                )
                await app.outreach.receive(inbound)
            except UserInputError as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
        # Empty TwiML: our answers (opt-out confirmation, HELP) go out through the REST API.
        return Response(EMPTY_TWIML, media_type="text/xml")

    @server.custom_route(STATUS_CALLBACK_PATH, methods=["POST"])
    async def twilio_status(request: Request) -> Response:
        params = await _form(request)
        async with shared.use() as app:
            if (refusal := await signed.refusal(app, request, params, "webhook.twilio_status")) is not None:
                return refusal
            try:
                report = delivery_report(params)
            except ValueError as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
            tracked = await app.outreach.delivery_status(report)
            if tracked is not None and report.opted_out:
                reason = f"carrier reports unsubscribed (Twilio {report.error_code}): number suppressed"
                await _accepted(app, TWILIO_STATUS, "webhook.twilio_status", reason, tracked.interaction_id)
        # A 2xx with no body even for a text that is not ours (another app on the account): nothing
        # to retry, nothing to say.
        return Response(status_code=204)


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: str(value) for key, value in form.items()}


async def _accepted(app: AppContext, caller: Principal, name: str, reason: str, interaction_id: str) -> None:
    await app.audit.record_decision(
        "compliance", principal=caller.name, role=SYSTEM_ROLE, name=name, outcome="ok",
        transport="webhook", reason=reason, interaction_id=interaction_id,
    )  # fmt: skip


async def _refused(app: AppContext, name: str, reason: str) -> None:
    await app.audit.record_decision(
        "permission", principal="anonymous", role="none", name=name, outcome="denied", transport="webhook",
        reason=reason,
    )  # fmt: skip


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        error = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in error["loc"]) or "body"
        return f"{where}: {error['msg']}"
    if isinstance(exc, json.JSONDecodeError):
        return f"the body is not JSON ({exc.msg} at character {exc.pos})"
    return str(exc)
