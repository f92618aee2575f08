"""ProblemDetails errors (ServiceTitan's ``ApiErrorResponse``): every error body has all six keys."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from starlette.responses import JSONResponse

# ASP.NET Core's default problem "type" links, which is what ServiceTitan's gateway emits.
_TYPES = {
    400: "https://tools.ietf.org/html/rfc7231#section-6.5.1",
    401: "https://tools.ietf.org/html/rfc7235#section-3.1",
    403: "https://tools.ietf.org/html/rfc7231#section-6.5.3",
    404: "https://tools.ietf.org/html/rfc7231#section-6.5.4",
    405: "https://tools.ietf.org/html/rfc7231#section-6.5.5",
    409: "https://tools.ietf.org/html/rfc7231#section-6.5.8",
    422: "https://tools.ietf.org/html/rfc4918#section-11.2",
    429: "https://tools.ietf.org/html/rfc6585#section-4",
    500: "https://tools.ietf.org/html/rfc7231#section-6.6.1",
    502: "https://tools.ietf.org/html/rfc7231#section-6.6.3",
    503: "https://tools.ietf.org/html/rfc7231#section-6.6.4",
    504: "https://tools.ietf.org/html/rfc7231#section-6.6.5",
}
_TITLES = {
    400: "One or more validation errors occurred.",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    422: "Unprocessable Entity",
    429: "Too many requests. Please try again in 1 seconds.",
    500: "An error occurred while processing your request.",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

FieldErrors = Mapping[str, Sequence[str]]


def trace_id() -> str:
    """W3C traceparent-style id, the shape ASP.NET puts in ``traceId``."""
    return f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-00"


def problem_body(status: int, title: str | None = None, errors: FieldErrors | None = None) -> dict[str, Any]:
    return {
        "type": _TYPES.get(status, "about:blank"),
        "title": title or _TITLES.get(status, "Error"),
        "status": status,
        "traceId": trace_id(),
        "errors": {field: list(messages) for field, messages in (errors or {}).items()},
        "data": {},
    }


def problem_response(
    status: int,
    title: str | None = None,
    errors: FieldErrors | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(problem_body(status, title, errors), status_code=status, headers=dict(headers or {}))


class ProblemError(Exception):
    """Raised anywhere in a handler; the route guard turns it into a ProblemDetails response."""

    def __init__(
        self,
        status: int,
        title: str | None = None,
        errors: FieldErrors | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(title or _TITLES.get(status, "Error"))
        self.status = status
        self.title = title
        self.errors = dict(errors or {})
        self.headers = dict(headers or {})

    def response(self) -> JSONResponse:
        return problem_response(self.status, self.title, self.errors, self.headers)


def bad_request(field: str, message: str) -> ProblemError:
    """400 with a single field error — the usual validation failure."""
    return ProblemError(400, errors={field: [message]})


def not_found(entity: str, entity_id: int | str) -> ProblemError:
    return ProblemError(404, f"{entity} with ID {entity_id} not found.", {"id": [f"{entity} not found."]})


def conflict(message: str) -> ProblemError:
    return ProblemError(409, message, {"": [message]})


def unprocessable(field: str, message: str) -> ProblemError:
    """422: the body is well-formed but refers to something the tenant cannot use (see app docs)."""
    return ProblemError(422, message, {field: [message]})
