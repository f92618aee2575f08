"""Typed errors for ServiceTitan calls.

ServiceTitan answers failures with a ProblemDetails body (``type, title, status, traceId, errors, data``).
Each status the server cares about gets its own exception class so callers can branch on type, and
every message names the operation but never a credential.
"""

from __future__ import annotations

from typing import Any


class ServiceTitanError(Exception):
    """Base class for everything the ServiceTitan client raises."""


class ConfigurationError(ServiceTitanError):
    """The client was built with settings it cannot work with."""


class TokenError(ServiceTitanError):
    """The token endpoint refused or failed to issue an access token."""


class UpstreamUnavailableError(ServiceTitanError):
    """ServiceTitan could not be reached (network error or timeout) after the allowed retries."""

    def __init__(self, operation: str, reason: str) -> None:
        super().__init__(f"ServiceTitan did not answer {operation}: {reason}")
        self.operation = operation
        self.reason = reason


class TokenUnavailableError(UpstreamUnavailableError):
    """The token endpoint did not answer, or answered 429/5xx: nothing that needs the token was sent, so
    the request that wanted it may be retried whatever it is (even a create)."""


class ApiError(ServiceTitanError):
    """An HTTP error answer from the ServiceTitan API, carrying its ProblemDetails."""

    def __init__(
        self,
        operation: str,
        status: int,
        title: str,
        *,
        errors: dict[str, list[str]] | None = None,
        trace_id: str | None = None,
        problem_type: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        self.operation = operation
        self.status = status
        self.title = title
        self.errors = errors or {}
        self.trace_id = trace_id
        self.problem_type = problem_type
        self.data = data or {}
        super().__init__(self._message())

    def _message(self) -> str:
        text = f"{self.operation} failed with {self.status}: {self.title}"
        if self.errors:
            fields = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in sorted(self.errors.items()))
            text += f" ({fields})"
        return text


class BadRequestError(ApiError):
    """400: the request did not pass ServiceTitan's validation."""


class AuthenticationError(ApiError):
    """401: the access token or app key was refused, even after one fresh token."""


class PermissionDeniedError(ApiError):
    """403: the app lacks the scope for this operation, or the tenant is not connected."""


class NotFoundError(ApiError):
    """404: the entity does not exist."""


class ConflictError(ApiError):
    """409: the change conflicts with the entity's current state."""


class UnprocessableError(ApiError):
    """422: the request was well-formed but broke a business rule."""


class RateLimitedError(ApiError):
    """429: too many requests; ``retry_after`` says how long ServiceTitan asked us to wait."""

    def __init__(self, *args: Any, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(*args, **kwargs)


class ServerError(ApiError):
    """5xx: ServiceTitan failed on its side."""


_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableError,
    429: RateLimitedError,
}


def error_class_for(status: int) -> type[ApiError]:
    if status >= 500:
        return ServerError
    return _BY_STATUS.get(status, ApiError)
