"""The one guard every request kind goes through: permissions, error mapping, upstream accounting, audit.

Tools pass it through ``guarded`` (a wrapper around each tool function); resources, resource templates,
prompts and completions through the server middleware in ``doors.py``. Both call ``through_the_guard``,
so the rules below hold for every door.

Errors split in two (as sentry-mcp does): the caller's input is wrong or the request cannot be done
(``UserInputError`` and ServiceTitan 4xx) → the message goes to the model verbatim as an ``isError``
result with a next step; we failed → the details are logged on stderr with an id, and the model gets
only that id and a generic next step. Secrets never appear in either (the client never puts them in
messages). Permissions are checked here and every call, read, render or completion — allowed or not —
leaves exactly one audit record, so no door can forget either.

Audit outcomes (DESIGN §7): ``ok``; ``denied`` (the role lacks the permission); ``blocked`` (a
compliance rule refused: ``Blocked``, reason "<rule>: <message>"); ``error`` (anything else that did
not do what was asked — bad input and business refusals as well as our own failures). For ``error`` the
reason is exactly what the caller was told: a ``UserInputError``'s message verbatim, or the generic
message with its error id, which leads to the logged traceback.
"""

from __future__ import annotations

import functools
import inspect
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, ParamSpec, TypeVar

import anyio
from mcp.server.context import ServerRequestContext
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.shared.exceptions import MCPError

from st_mcp import metrics, tracing
from st_mcp.logs import RequestFields, request_fields
from st_mcp.notices import listening
from st_mcp.policy.identity import Principal
from st_mcp.server.client_log import listener_for
from st_mcp.server.context import AppContext, CallRecord
from st_mcp.server.tenants import Tenants
from st_mcp.services.audit import calling_over
from st_mcp.services.errors import Blocked, UserInputError
from st_mcp.servicetitan import (
    ApiError,
    AuthenticationError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
    UpstreamUnavailableError,
)
from st_mcp.store.leases import LeaseTimeout

log = logging.getLogger("st_mcp.tools")
audit_log = logging.getLogger("st_mcp.audit")
AUDIT_WRITE_TIMEOUT = 15.0  # seconds; above SQLite's busy_timeout, so a busy file is waited out
P = ParamSpec("P")
R = TypeVar("R")


def app_context(ctx: Context) -> AppContext:
    """The calling principal's tenant's services."""
    return tenant_app(ctx.request_context.lifespan_context)


def tenant_app(lifespan_context: object) -> AppContext:
    """The services a request reaches: its principal's tenant's (the lifespan holds every tenant's)."""
    assert isinstance(lifespan_context, Tenants), "the lifespan yields every tenant's services"
    return lifespan_context.current()


@dataclass(frozen=True, slots=True)
class Door:
    """One request as the guard sees it: what kind of door, which one, and what it needs."""

    kind: str  # the audit kind: tool_call, resource_read, prompt_get or completion
    name: str  # as audited: the tool, resource (template), or prompt
    action: str  # how a refusal words it: "call get_interaction", "read interaction://{interaction_id}"
    needs_any_of: tuple[str, ...]
    also_needs: tuple[str, ...] = ()


# How a refusal reaches the client: a tool answers an isError result, other doors a protocol error.
Failure = Literal["denied", "blocked", "input", "ours"]
Refuse = Callable[[Failure, str], Exception]


async def through_the_guard(
    app: AppContext,
    transport: str,
    door: Door,
    arguments: Mapping[str, Any],
    call: Callable[[], Awaitable[R]],
    refuse: Refuse,
    session: Any = None,
    request: ServerRequestContext[Any, Any] | None = None,
) -> R:
    """Check the permission, run ``call``, map its errors, account for it and leave one audit record.

    The one code path every request kind shares: tools (``guarded``) and resources, prompts and
    completions (``doors.py``). An ``MCPError`` raised inside is already a protocol answer with the
    right code, so it passes unchanged (and is audited as ``error``). ``session``: the client's, which
    hears the notices (``st_mcp.notices``) raised while the request runs. ``request``: the SDK's request
    context, whose id and session name the log lines logged while this request runs.

    Every request is also counted and timed for Prometheus (``st_mcp.metrics``) and described on the
    current OpenTelemetry span (``st_mcp.tracing``), here once for every door."""
    principal = app.principal
    with request_fields(_log_fields(request, principal, door)):
        return await _guarded_call(app, transport, door, arguments, call, refuse, session, principal)


async def _guarded_call(
    app: AppContext,
    transport: str,
    door: Door,
    arguments: Mapping[str, Any],
    call: Callable[[], Awaitable[R]],
    refuse: Refuse,
    session: Any,
    principal: Principal,
) -> R:
    started = time.perf_counter()
    decision = app.policy.may(principal.role, door.action, door.needs_any_of, door.also_needs)
    if not decision.allowed:
        app.calls.append(CallRecord(door.name, "denied", 0, 0.0))
        _observe(door, "denied", principal, started, 0)
        log.info("%s=%s outcome=denied role=%s", _LOG_KEY[door.kind], door.name, principal.role)
        about = _interaction_id(arguments, None)
        await _audit(app, principal, transport, door, arguments, "denied", decision.reason, about, 0, started)
        raise refuse("denied", decision.reason)
    outcome, reason, interaction_id = "error", "cancelled before it finished", None
    with app.st.meter.measure() as upstream, calling_over(transport), listening(listener_for(session)):
        try:
            result = await call()
            outcome, reason, interaction_id = "ok", None, _interaction_id(arguments, result)
            return result
        except Exception as raised:
            exc = _leaf(raised)  # concurrent failures arrive grouped: classified once, here
            interaction_id = _interaction_id(arguments, None)
            if isinstance(exc, Blocked):
                outcome, reason = "blocked", f"{exc.rule}: {exc}"
                interaction_id = exc.interaction_id or interaction_id
                raise refuse("blocked", str(exc)) from None
            if isinstance(exc, UserInputError):
                reason = str(exc)
                raise refuse("input", reason) from None
            if isinstance(exc, MCPError) and door.kind != "tool_call":
                reason = exc.error.message  # already a protocol answer with the right code
                raise exc from None
            # A tool answers with an isError result, never a protocol error.
            reason = _explain(door.name, exc)
            raise refuse("ours", reason) from None
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            trips = upstream.round_trips
            app.calls.append(CallRecord(door.name, outcome, upstream.count, elapsed, trips))
            _observe(door, outcome, principal, started, upstream.count)
            log.info(
                "%s=%s outcome=%s upstream=%d round_trips=%d ms=%.1f",
                _LOG_KEY[door.kind], door.name, outcome, upstream.count, trips, elapsed,
            )  # fmt: skip
            await _audit(
                app, principal, transport, door, arguments, outcome, reason, interaction_id,
                upstream.count, started,
            )  # fmt: skip


_LOG_KEY = {
    "tool_call": "tool",
    "resource_read": "resource",
    "prompt_get": "prompt",
    "completion": "completion",
}


def _observe(door: Door, outcome: str, principal: Principal, started: float, upstream: int) -> None:
    metrics.observe_call(
        door.kind, door.name, outcome, principal.role, principal.tenant, time.perf_counter() - started
    )
    tracing.describe(door.kind, door.name, outcome, principal.role, upstream)


def _log_fields(
    request: ServerRequestContext[Any, Any] | None, principal: Principal, door: Door
) -> RequestFields:
    request_id = getattr(request, "request_id", None)
    return RequestFields(
        request_id=None if request_id is None else str(request_id),
        session=_session_id(request),
        principal=principal.name,
        tool=door.name,
    )


def _session_id(request: ServerRequestContext[Any, Any] | None) -> str | None:
    """The transport's session, from the HTTP request that carried the message: streamable HTTP's
    ``Mcp-Session-Id`` header or legacy SSE's ``session_id`` query (stdio and 2026-07-28 have none)."""
    http = getattr(request, "request", None)
    if http is None:
        return None
    headers = getattr(http, "headers", None) or {}
    query = getattr(http, "query_params", None) or {}
    session = headers.get("mcp-session-id") or query.get("session_id")
    return str(session)[:64] if session else None


def guarded(fn: Callable[P, Awaitable[R]], needs_any_of: tuple[str, ...]) -> Callable[P, Awaitable[R]]:
    """Wrap a tool function (which must take ``ctx: Context``) with the permission check, error mapping,
    accounting and the audit record."""
    name = fn.__name__
    signature = inspect.signature(fn)
    if "ctx" not in signature.parameters:
        raise TypeError(f"tool {name} must accept ctx: Context")
    door = Door("tool_call", name, f"call {name}", needs_any_of)

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        ctx: Context = kwargs["ctx"]  # type: ignore[assignment]
        return await through_the_guard(
            app_context(ctx),
            transport_of(ctx),
            door,
            _arguments(signature, args, kwargs),
            lambda: fn(*args, **kwargs),
            lambda _failure, message: ToolError(message),
            _session_of(ctx),
            _request_of(ctx),
        )

    return wrapper


async def _audit(
    app: AppContext,
    principal: Principal,
    transport: str,
    door: Door,
    arguments: Mapping[str, Any],
    outcome: str,
    reason: str | None,
    interaction_id: str | None,
    upstream_requests: int,
    started: float,
) -> None:
    """Append the call's audit record; a failure to do so is logged loudly but does not change the answer.

    Fail open, deliberately: by now the call's effects (a booked job, a sent text) are committed, so
    answering "error" would mislead the model into retrying an action that already happened, and a
    refusal or error result is already the truth. Shielded from cancellation (a client that gives up
    must not erase the record of what its call did), with a bound so a stuck database cannot hang it.
    """
    try:
        with anyio.move_on_after(AUDIT_WRITE_TIMEOUT, shield=True) as scope:
            await app.audit.record_tool_call(
                principal=principal,
                transport=transport,
                kind=door.kind,
                tool=door.name,
                arguments=arguments,
                outcome=outcome,
                reason=reason,
                interaction_id=interaction_id,
                upstream_requests=upstream_requests,
                duration_ms=(time.perf_counter() - started) * 1000,
            )
        if scope.cancelled_caught:
            raise TimeoutError(f"no answer from the database in {AUDIT_WRITE_TIMEOUT:.0f} s")
    except Exception:
        audit_log.exception(
            "AUDIT WRITE FAILED: %s=%s principal=%s outcome=%s was not recorded",
            _LOG_KEY[door.kind],
            door.name,
            principal.name,
            outcome,
        )


def _request_of(ctx: Context) -> ServerRequestContext[Any, Any] | None:
    try:
        return ctx.request_context
    except ValueError:
        return None


def _session_of(ctx: Context) -> Any:
    try:
        return ctx.request_context.session
    except ValueError:
        return None


def transport_of(ctx: Context) -> str:
    """How this call arrived (see ``transport_of_request``); ``internal`` outside a request."""
    try:
        request_context = ctx.request_context
    except ValueError:
        return "internal"
    return transport_of_request(request_context)


def transport_of_request(request_context: ServerRequestContext[Any, Any]) -> str:
    """How this call arrived: ``http`` (streamable HTTP), ``sse``, ``stdio``, or ``memory`` (in-process).

    On HTTP and SSE the SDK hands over the Starlette request that carried the message; the legacy SSE
    transport posts to its message endpoint with a ``session_id`` query parameter, streamable HTTP does
    not (its session travels in a header). Without a request, the dispatcher's transport kind tells an
    in-process client (``direct``) from a JSON-RPC stream (stdio here).
    """
    request = request_context.request
    if request is not None:
        query = getattr(request, "query_params", None) or {}
        return "sse" if "session_id" in query else "http"
    # Not public API: the session's request-scoped dispatch context (a read, with a safe fallback).
    outbound = getattr(request_context.session, "_request_outbound", None)
    kind = getattr(getattr(outbound, "transport", None), "kind", None)
    return "memory" if kind == "direct" else "stdio"


def _arguments(
    signature: inspect.Signature, args: tuple[Any, ...], kwargs: Mapping[str, Any]
) -> dict[str, Any]:
    """The call's arguments as given (None left out), without the context."""
    try:
        bound = signature.bind_partial(*args, **kwargs).arguments
    except TypeError:
        bound = dict(kwargs)
    return {key: value for key, value in bound.items() if key != "ctx" and value is not None}


def _interaction_id(arguments: Mapping[str, Any], result: Any) -> str | None:
    """The interaction the call was about: named in the arguments, or created by the call."""
    for candidate in (arguments.get("interaction_id"), getattr(result, "interaction_id", None)):
        if isinstance(candidate, str) and candidate:
            return candidate
    return None


def _leaf(exc: BaseException) -> BaseException:
    """An exception group from concurrent upstream calls, reported as the one failure that explains it
    best: the caller's own mistake or a compliance refusal first, then ServiceTitan's answer (retryable
    or not), then anything else."""
    if not isinstance(exc, BaseExceptionGroup):
        return exc
    leaves = list(_leaves(exc))
    for kinds in ((Blocked, UserInputError), (ApiError, UpstreamUnavailableError, LeaseTimeout)):
        for leaf in leaves:
            if isinstance(leaf, kinds):
                return leaf
    return leaves[0]


def _leaves(group: BaseExceptionGroup[BaseException]) -> Iterator[BaseException]:
    for inner in group.exceptions:
        if isinstance(inner, BaseExceptionGroup):
            yield from _leaves(inner)
        else:
            yield inner


def _explain(tool: str, exc: BaseException) -> str:
    if isinstance(exc, RateLimitedError):
        wait = f" in {exc.retry_after:.0f} s" if exc.retry_after else " in a few seconds"
        return f"ServiceTitan is rate limiting right now; call {tool} again{wait}."
    if isinstance(exc, UpstreamUnavailableError | ServerError):
        return (
            f"ServiceTitan did not answer ({exc}). Call {tool} again shortly; if it keeps failing, escalate."
        )
    if isinstance(exc, LeaseTimeout):
        return f"That window is busy with another booking; call {tool} again in a moment."
    if isinstance(exc, ApiError) and not isinstance(exc, AuthenticationError | PermissionDeniedError):
        fields = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.errors.items())
        detail = f" ({fields})" if fields else ""
        return f"ServiceTitan refused this: {exc.title}{detail}. Check the arguments and try again."
    error_id = uuid.uuid4().hex[:12]
    log.error("tool=%s error_id=%s failed", tool, error_id, exc_info=(type(exc), exc, exc.__traceback__))
    return (
        f"Something went wrong on our side (error id {error_id}). Try again once; "
        "if it fails again, escalate_to_dispatcher with reason agent_issue."
    )
