"""The one wrapper every tool goes through: permissions, error mapping, upstream accounting, audit.

Errors split in two (as sentry-mcp does): the caller's input is wrong or the request cannot be done
(``UserInputError`` and ServiceTitan 4xx) → the message goes to the model verbatim as an ``isError``
result with a next step; we failed → the details are logged on stderr with an id, and the model gets
only that id and a generic next step. Secrets never appear in either (the client never puts them in
messages). Permissions are checked here and every call — allowed or not — leaves exactly one audit
record, so no tool can forget either.

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
from typing import Any, ParamSpec, TypeVar

import anyio
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError

from st_mcp.policy.identity import Principal
from st_mcp.server.context import AppContext, CallRecord
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
    return ctx.request_context.lifespan_context  # type: ignore[no-any-return]


def guarded(fn: Callable[P, Awaitable[R]], needs_any_of: tuple[str, ...]) -> Callable[P, Awaitable[R]]:
    """Wrap a tool function (which must take ``ctx: Context``) with the permission check, error mapping,
    accounting and the audit record."""
    name = fn.__name__
    signature = inspect.signature(fn)
    if "ctx" not in signature.parameters:
        raise TypeError(f"tool {name} must accept ctx: Context")

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        ctx: Context = kwargs["ctx"]  # type: ignore[assignment]
        app = app_context(ctx)
        principal = app.principal
        transport = transport_of(ctx)
        arguments = _arguments(signature, args, kwargs)
        started = time.perf_counter()
        decision = app.policy.may_call(principal.role, name, needs_any_of)
        if not decision.allowed:
            app.calls.append(CallRecord(name, "denied", 0, 0.0))
            log.info("tool=%s outcome=denied role=%s", name, principal.role)
            await _audit(
                app, principal, transport, name, arguments, "denied", decision.reason, None, 0, started
            )
            raise ToolError(decision.reason)
        outcome, reason, interaction_id = "error", "cancelled before it finished", None
        with app.st.meter.measure() as upstream, calling_over(transport):
            try:
                result = await fn(*args, **kwargs)
                outcome, reason, interaction_id = "ok", None, _interaction_id(arguments, result)
                return result
            except Exception as raised:
                exc = _leaf(raised)
                interaction_id = _interaction_id(arguments, None)
                if isinstance(exc, Blocked):
                    outcome, reason = "blocked", f"{exc.rule}: {exc}"
                    interaction_id = exc.interaction_id or interaction_id
                    raise ToolError(str(exc)) from None
                reason = str(exc) if isinstance(exc, UserInputError) else _explain(name, exc)
                raise ToolError(reason) from None
            finally:
                elapsed = (time.perf_counter() - started) * 1000
                app.calls.append(CallRecord(name, outcome, upstream.count, elapsed))
                log.info("tool=%s outcome=%s upstream=%d ms=%.1f", name, outcome, upstream.count, elapsed)
                await _audit(
                    app, principal, transport, name, arguments, outcome, reason, interaction_id,
                    upstream.count, started,
                )  # fmt: skip

    return wrapper


async def _audit(
    app: AppContext,
    principal: Principal,
    transport: str,
    tool: str,
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
                tool=tool,
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
            "AUDIT WRITE FAILED: tool=%s principal=%s outcome=%s was not recorded",
            tool,
            principal.name,
            outcome,
        )


def transport_of(ctx: Context) -> str:
    """How this call arrived: ``http`` (streamable HTTP), ``sse``, ``stdio``, or ``memory`` (in-process).

    On HTTP and SSE the SDK hands over the Starlette request that carried the message; the legacy SSE
    transport posts to its message endpoint with a ``session_id`` query parameter, streamable HTTP does
    not (its session travels in a header). Without a request, the dispatcher's transport kind tells an
    in-process client (``direct``) from a JSON-RPC stream (stdio here).
    """
    try:
        request_context = ctx.request_context
    except ValueError:
        return "internal"
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
    """Errors are classified once, here: an exception group from concurrent upstream calls is reported
    as the one failure that explains it best — the caller's own mistake or a compliance refusal first,
    then ServiceTitan's answer (retryable or not), then anything else."""
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
