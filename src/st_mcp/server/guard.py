"""The one wrapper every tool goes through: error mapping and upstream accounting.

Errors split in two (as sentry-mcp does): the caller's input is wrong or the request cannot be done
(``UserInputError`` and ServiceTitan 4xx) → the message goes to the model verbatim as an ``isError``
result with a next step; we failed → the details are logged on stderr with an id, and the model gets
only that id and a generic next step. Secrets never appear in either (the client never puts them in
messages). Permissions and audit (a later layer) hook in here too, so no tool can forget them.
"""

from __future__ import annotations

import functools
import inspect
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError

from st_mcp.server.context import AppContext, CallRecord
from st_mcp.services.errors import UserInputError
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
P = ParamSpec("P")
R = TypeVar("R")


def app_context(ctx: Context) -> AppContext:
    return ctx.request_context.lifespan_context  # type: ignore[no-any-return]


def guarded(fn: Callable[P, Awaitable[R]], needs_any_of: tuple[str, ...]) -> Callable[P, Awaitable[R]]:
    """Wrap a tool function (which must take ``ctx: Context``) with the permission check, error mapping
    and accounting."""
    name = fn.__name__
    if "ctx" not in inspect.signature(fn).parameters:
        raise TypeError(f"tool {name} must accept ctx: Context")

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        app = app_context(kwargs["ctx"])  # type: ignore[arg-type]
        started = time.perf_counter()
        outcome = "error"
        decision = app.policy.may_call(app.principal.role, name, needs_any_of)
        if not decision.allowed:
            app.calls.append(CallRecord(name, "denied", 0, 0.0))
            log.info("tool=%s outcome=denied role=%s", name, app.principal.role)
            raise ToolError(decision.reason)
        with app.st.meter.measure() as upstream:
            try:
                result = await fn(*args, **kwargs)
                outcome = "ok"
                return result
            except UserInputError as exc:
                outcome = "refused"
                raise ToolError(str(exc)) from None
            except Exception as exc:
                raise ToolError(_explain(name, exc)) from None
            finally:
                elapsed = (time.perf_counter() - started) * 1000
                app.calls.append(CallRecord(name, outcome, upstream.count, elapsed))
                log.info("tool=%s outcome=%s upstream=%d ms=%.1f", name, outcome, upstream.count, elapsed)

    return wrapper


def _explain(tool: str, exc: Exception) -> str:
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
