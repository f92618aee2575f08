"""Webhooks on the HTTP transports: new leads (HMAC-signed by us), Twilio's inbound texts and its
delivery status callbacks.

These routes are outside MCP's bearer auth — their callers sign each request instead, and an unsigned,
badly signed or replayed request is refused before anything is stored. A body is read only up to
``MAX_BODY_BYTES`` (a larger one is refused while it is read, before the signature is even checked), and a
malformed one is a 400, never a 500. Twilio's deliveries are taken in once: a retried or replayed
request (same ``MessageSid``; for status callbacks, the same status) changes nothing and is answered 2xx
so Twilio stops retrying. Each lead taken in is an audit event; refusals are audited in aggregate (the
first per route and source each minute, with the count of the minute before), so a loop of unsigned
requests cannot grow the audit table.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qsl

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
from st_mcp.messaging.twilio import MESSAGE_ID_PARAMETER, STATUS_CALLBACK_PATH, delivery_report
from st_mcp.policy.identity import SYSTEM_ROLE, Principal
from st_mcp.server.context import AppContext
from st_mcp.server.shared import SharedAppContext
from st_mcp.server.tenants import Tenants
from st_mcp.services.errors import UserInputError
from st_mcp.services.phones import normalize_phone
from st_mcp.store.receipts import Receipt

MAX_BODY_BYTES = 64 * 1024  # a lead or a Twilio form is a few hundred bytes
TOO_LARGE = f"the body is larger than {MAX_BODY_BYTES // 1024} KB"
LEAD_WEBHOOK = Principal("lead-webhook", SYSTEM_ROLE)
TWILIO_STATUS = Principal("twilio-status-callback", SYSTEM_ROLE)
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


class LeadPayload(BaseModel):
    """What a lead source posts: the fields of ``ingest_lead``, under the same names."""

    model_config = {"extra": "ignore"}

    name: str = Field(min_length=1, max_length=200)
    phone: str = Field(min_length=7, max_length=32)
    email: str | None = Field(default=None, max_length=200)  # the store's column widths, on every engine
    street: str | None = Field(default=None, max_length=200)
    city: str | None = Field(default=None, max_length=100)
    state: str | None = Field(default=None, max_length=2)
    zip: str | None = Field(default=None, max_length=10)
    summary: str | None = Field(default=None, max_length=4000)
    source: str | None = Field(default=None, max_length=100)
    campaign_id: int | None = Field(default=None, gt=0)
    servicetitan_lead_id: int | None = Field(default=None, gt=0)


def register_webhooks(server: MCPServer, settings: Settings, shared: SharedAppContext) -> None:
    """The routes the tenants' settings call for. With several tenants a request finds its tenant by
    what only that tenant holds: the lead secret its signature verifies with, the SMS number a text went
    to (or came from, for a status callback). A request that reaches no tenant is refused."""
    tenants = settings.tenant_settings()
    refusals = RefusalTally()
    lead_secrets = {
        name: own.messaging.lead_webhook_secret.get_secret_value()
        for name, own in tenants.items()
        if own.messaging.lead_webhook_secret is not None
    }
    if lead_secrets:
        _register_leads(server, lead_secrets, shared, refusals)
    signers = {
        name: _TwilioSigned(
            own.messaging.twilio_auth_token.get_secret_value(), own.messaging.public_base_url, refusals
        )
        for name, own in tenants.items()
        if own.messaging.gateway == "twilio" and own.messaging.twilio_auth_token is not None
    }
    if signers:
        _register_twilio(server, signers, shared)


def _register_leads(
    server: MCPServer, secrets: Mapping[str, str], shared: SharedAppContext, refusals: RefusalTally
) -> None:
    @server.custom_route("/webhooks/leads", methods=["POST"])
    async def leads(request: Request) -> Response:
        body = await bounded_body(request)
        async with shared.use() as tenants:
            if body is None:
                await refusals.note(tenants.first, request, "webhook.leads", TOO_LARGE)
                return JSONResponse({"error": TOO_LARGE}, status_code=413)
            signed_by, reason = None, ""
            for name, secret in secrets.items():  # the tenant is the one whose secret signed it
                try:
                    verify_lead_webhook(
                        secret, body, request.headers.get(LEAD_SIGNATURE_HEADER), datetime.now(UTC)
                    )
                except SignatureError as exc:
                    reason = exc.reason if len(secrets) == 1 else "the signature matches no tenant's secret"
                    continue
                signed_by = tenants.named(name)
                break
            if signed_by is None:
                await refusals.note(tenants.first, request, "webhook.leads", reason)
                return JSONResponse({"error": reason}, status_code=401)
            return await _take_lead(signed_by, body)


async def _take_lead(app: AppContext, body: bytes) -> Response:
    try:
        lead = LeadPayload.model_validate(_json_object(body))
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


@dataclass(frozen=True, slots=True)
class _TwilioSigned:
    """The ``X-Twilio-Signature`` check every Twilio route makes before reading anything."""

    token: str
    public_base_url: str | None
    refusals: RefusalTally

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
        await self.refusals.note(app, request, name, reason)
        return JSONResponse({"error": reason}, status_code=403)


async def _signed_tenant(
    tenants: Tenants,
    signers: Mapping[str, _TwilioSigned],
    request: Request,
    params: Mapping[str, str] | None,
    ours: str,
    name: str,
) -> AppContext | Response:
    """The tenant a Twilio request is for (by our number, in ``params[ours]``) once its signature is
    checked with that tenant's token; else the audited refusal to answer with."""
    refusals = next(iter(signers.values())).refusals
    if params is None:
        await refusals.note(tenants.first, request, name, TOO_LARGE)
        return JSONResponse({"error": TOO_LARGE}, status_code=413)
    app = tenants.by_number(params.get(ours))
    signer = signers.get(app.tenant) if app is not None else None
    if app is None or signer is None:
        reason = f"{ours} is no tenant's SMS number"
        await refusals.note(tenants.first, request, name, reason)
        return JSONResponse({"error": reason}, status_code=403)
    refusal = await signer.refusal(app, request, params, name)
    return refusal if refusal is not None else app


def _register_twilio(
    server: MCPServer, signers: Mapping[str, _TwilioSigned], shared: SharedAppContext
) -> None:
    @server.custom_route("/webhooks/sms/twilio", methods=["POST"])
    async def twilio_inbound(request: Request) -> Response:
        params = await _form(request)
        async with shared.use() as tenants:
            app = await _signed_tenant(tenants, signers, request, params, "To", "webhook.twilio")
            if isinstance(app, Response):
                return app
            assert params is not None
            sid = params.get("MessageSid", "").strip()
            if not sid:
                return JSONResponse({"error": "missing MessageSid"}, status_code=400)
            try:
                inbound = InboundSms(
                    from_number=normalize_phone(params.get("From", "")),
                    to_number=params.get("To"),
                    body=params.get("Body", ""),
                    provider_message_id=sid,
                    received_at=app.clock(),
                )
                await app.outreach.receive(inbound, receipt=Receipt(_tenant(app), "twilio.inbound", sid))
            except UserInputError as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
        # Empty TwiML: our answers (opt-out confirmation, HELP) go out through the REST API. A replay
        # gets the same answer: it was taken in once, there is nothing for Twilio to retry.
        return Response(EMPTY_TWIML, media_type="text/xml")

    @server.custom_route(STATUS_CALLBACK_PATH, methods=["POST"])
    async def twilio_status(request: Request) -> Response:
        params = await _form(request)
        async with shared.use() as tenants:
            app = await _signed_tenant(tenants, signers, request, params, "From", "webhook.twilio_status")
            if isinstance(app, Response):
                return app
            assert params is not None
            try:
                report = delivery_report(params)
            except ValueError as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
            receipt = Receipt(_tenant(app), "twilio.status", f"{report.provider_message_id}:{report.status}")
            tracked = await app.outreach.delivery_status(
                report, message_id=request.query_params.get(MESSAGE_ID_PARAMETER), receipt=receipt
            )
            if tracked is not None and report.opted_out:
                reason = f"carrier reports unsubscribed (Twilio {report.error_code}): number suppressed"
                await _accepted(app, TWILIO_STATUS, "webhook.twilio_status", reason, tracked.interaction_id)
        # A 2xx with no body even for a text that is not ours (another app on the account) or a report
        # taken in before: nothing to retry, nothing to say.
        return Response(status_code=204)


def _tenant(app: AppContext) -> str:
    """The ServiceTitan tenant id webhook receipts are kept under."""
    return str(app.settings.servicetitan.credentials()[0])


async def bounded_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes | None:
    """The body, or None as soon as it is known to be over ``limit`` (by its Content-Length, or while
    reading) — so an unsigned 50 MB post costs at most ``limit`` bytes of memory."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


async def _form(request: Request) -> dict[str, str] | None:
    """Twilio's form post (application/x-www-form-urlencoded), or None when it is too large."""
    body = await bounded_body(request)
    if body is None:
        return None
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def _json_object(body: bytes) -> dict[str, object]:
    """The lead as a JSON object; anything else (or nesting deep enough to exhaust the parser) is a
    ``ValueError`` with a reason, answered 400."""
    try:
        value = json.loads(body)
    except RecursionError:
        raise ValueError("the body is nested too deeply to be a lead") from None
    if not isinstance(value, dict):
        raise ValueError("the body must be a JSON object with the lead's fields")
    return value


class RefusalTally:
    """Refused webhook requests, audited in aggregate: per route and source, the first refusal of each
    minute is an audit record (carrying how many more were refused in that source's last window) and the
    rest are only counted. Kept per process and bounded."""

    MAX_SOURCES = 10_000

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        self._clock = clock  # None: the wall clock, read at each refusal
        self._windows: dict[tuple[str, str], tuple[int, int]] = {}  # → (minute, refusals not recorded)

    def admit(self, name: str, source: str) -> int | None:
        """None: counted only. Else this refusal is recorded, and the int is how many went unrecorded in
        the source's previous window."""
        minute = int((self._clock or time.time)() // 60)
        key = (name, source)
        window = self._windows.get(key)
        if window is not None and window[0] == minute:
            self._windows[key] = (minute, window[1] + 1)
            return None
        if len(self._windows) >= self.MAX_SOURCES:
            self._windows = {k: v for k, v in self._windows.items() if v[0] == minute}
        self._windows[key] = (minute, 0)
        return window[1] if window is not None else 0

    async def note(self, app: AppContext, request: Request, name: str, reason: str) -> None:
        source = request.client.host if request.client else "unknown"
        earlier = self.admit(name, source)
        if earlier is None:
            return
        more = f" (+{earlier} more refused from {source} in its previous minute)" if earlier else ""
        await app.audit.record_decision(
            "permission", principal="anonymous", role="none", name=name, outcome="denied",
            transport="webhook", reason=f"{reason} [from {source}]{more}",
        )  # fmt: skip


async def _accepted(app: AppContext, caller: Principal, name: str, reason: str, interaction_id: str) -> None:
    await app.audit.record_decision(
        "compliance", principal=caller.name, role=SYSTEM_ROLE, name=name, outcome="ok",
        transport="webhook", reason=reason, interaction_id=interaction_id,
    )  # fmt: skip


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        error = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in error["loc"]) or "body"
        return f"{where}: {error['msg']}"
    if isinstance(exc, json.JSONDecodeError):
        return f"the body is not JSON ({exc.msg} at character {exc.pos})"
    return str(exc)
