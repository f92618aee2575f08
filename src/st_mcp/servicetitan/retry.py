"""When a failed ServiceTitan request may be sent again, and how long to wait first.

- A token that could not be had: the request was never sent, so it may be sent again, whatever it is.
- 429: the request was refused before it was processed, so any method may be retried, after the
  server's ``Retry-After`` (capped, so a tool call never hangs on a huge value).
- 5xx and timeouts: only for requests marked safe to repeat (reads, and POSTs that only read, such
  as capacity). A create that timed out may have happened; sending it again could double-book, so
  the caller gets the error and reconciles instead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_exponential_jitter

from st_mcp.notices import notice
from st_mcp.servicetitan.errors import (
    RateLimitedError,
    ServerError,
    TokenUnavailableError,
    UpstreamUnavailableError,
)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 4
    initial_backoff: float = 0.2
    max_backoff: float = 4.0
    max_retry_after: float = 30.0
    sleep: Callable[[float], Awaitable[None]] = anyio.sleep


def _is_retryable(exc: BaseException, repeatable: bool) -> bool:
    if isinstance(exc, RateLimitedError | TokenUnavailableError):
        return True  # the request itself was never processed (or never sent)
    return repeatable and isinstance(exc, ServerError | UpstreamUnavailableError)


def retrying(policy: RetryPolicy, *, repeatable: bool) -> AsyncRetrying:
    backoff = wait_exponential_jitter(
        multiplier=policy.initial_backoff, max=policy.max_backoff, jitter=policy.initial_backoff
    )

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RateLimitedError) and exc.retry_after is not None:
            return min(exc.retry_after, policy.max_retry_after)
        return backoff(state)

    async def sleep(seconds: float) -> None:
        # Whoever waits on this request hears why it takes longer (an MCP log message to the client).
        await notice("warning", f"ServiceTitan is slow or busy; retrying in {seconds:.1f} s")
        await policy.sleep(seconds)

    return AsyncRetrying(
        stop=stop_after_attempt(policy.max_attempts),
        wait=wait,
        retry=retry_if_exception(lambda exc: _is_retryable(exc, repeatable)),
        sleep=sleep,
        reraise=True,
    )
