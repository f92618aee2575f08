"""The one place that sends requests to ServiceTitan.

Every call goes through ``ServiceTitanHttp.send``: tenant path, ``ST-App-Key``, a shared token,
client-side rate limiting, safe retries, one re-authentication on 401, and ProblemDetails mapped to
typed errors. Resource classes (``resources/``) only build paths, queries and bodies.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import anyio
import httpx

from st_mcp.servicetitan.auth import TokenSource
from st_mcp.servicetitan.environments import Endpoints
from st_mcp.servicetitan.errors import (
    AuthenticationError,
    RateLimitedError,
    UpstreamUnavailableError,
    error_class_for,
)
from st_mcp.servicetitan.metrics import UpstreamMeter
from st_mcp.servicetitan.ratelimit import SlidingWindowPacer
from st_mcp.servicetitan.retry import RetryPolicy, retrying
from st_mcp.servicetitan.transport import MeteredTransport

QueryValue = str | int | float | bool | datetime | enum.Enum | Sequence[int] | Sequence[str] | None


def format_datetime(value: datetime) -> str:
    """ServiceTitan wants UTC ISO-8601; naive datetimes are taken as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def encode_query(params: Mapping[str, QueryValue]) -> dict[str, str]:
    encoded: dict[str, str] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            encoded[key] = "true" if value else "false"
        elif isinstance(value, datetime):
            encoded[key] = format_datetime(value)
        elif isinstance(value, enum.Enum):
            encoded[key] = str(value.value)
        elif isinstance(value, list | tuple):
            encoded[key] = ",".join(str(item) for item in value)
        else:
            encoded[key] = str(value)
    return encoded


class ServiceTitanHttp:
    def __init__(
        self,
        *,
        tenant_id: int,
        client_id: str,
        client_secret: str,
        app_key: str,
        endpoints: Endpoints,
        transport: httpx.AsyncBaseTransport | None = None,
        meter: UpstreamMeter | None = None,
        requests_per_second: float = 60,
        max_in_flight: int = 50,
        retry_policy: RetryPolicy | None = None,
        timeout_seconds: float = 30.0,
    ) -> None:
        self.tenant_id = tenant_id
        self.endpoints = endpoints
        self.meter = meter or UpstreamMeter()
        self._app_key = app_key
        self._retry_policy = retry_policy or RetryPolicy()
        self.pacer = SlidingWindowPacer(max(1, int(requests_per_second)), sleep=self._retry_policy.sleep)
        # As many requests in flight as pooled connections: more would queue inside httpcore, whose
        # connection assignment costs O(waiting) per request (half the CPU at 200 sessions).
        self._in_flight = anyio.CapacityLimiter(max_in_flight)
        limits = httpx.Limits(max_connections=max_in_flight, max_keepalive_connections=max_in_flight)
        self._client = httpx.AsyncClient(
            transport=MeteredTransport(transport or httpx.AsyncHTTPTransport(limits=limits), self.meter),
            timeout=timeout_seconds,
            trust_env=False,
        )
        self.tokens = TokenSource(self._client, endpoints.auth_url, client_id, client_secret)

    async def aclose(self) -> None:
        await self.tokens.aclose()
        await self._client.aclose()

    def tenant_path(self, module: str, path: str) -> str:
        return f"/{_versioned(module)}/tenant/{self.tenant_id}/{path.lstrip('/')}"

    async def send(
        self,
        method: str,
        module: str,
        path: str,
        *,
        params: Mapping[str, QueryValue] | None = None,
        json: Any = None,
        repeatable: bool | None = None,
    ) -> Any:
        """Send one logical request and return its decoded JSON body (``None`` when empty).

        ``repeatable`` says whether a 5xx/timeout may be retried; it defaults to True for GET only.
        """
        url = f"{self.endpoints.api_base_url}{self.tenant_path(module, path)}"
        operation = f"{method} /{_versioned(module)}/{path.lstrip('/')}"
        query = encode_query(params or {})
        if repeatable is None:
            repeatable = method == "GET"
        async for attempt in retrying(self._retry_policy, repeatable=repeatable):
            with attempt:
                response = await self._send_authenticated(method, url, query, json, operation)
                return _decode(response, operation)
        raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover

    async def _send_authenticated(
        self, method: str, url: str, query: dict[str, str], body: Any, operation: str
    ) -> httpx.Response:
        token = await self.tokens.access_token()
        response = await self._send_once(method, url, query, body, token, operation)
        if response.status_code != 401:
            return response
        # The token may have been revoked early; one fresh token, then give up with a clear reason.
        token = await self.tokens.replace_rejected(token)
        response = await self._send_once(method, url, query, body, token, operation)
        if response.status_code == 401:
            raise AuthenticationError(
                operation,
                401,
                "ServiceTitan refused a freshly issued token; check ST_APP_KEY and that the app is "
                "connected to this tenant",
            )
        return response

    async def _send_once(
        self, method: str, url: str, query: dict[str, str], body: Any, token: str, operation: str
    ) -> httpx.Response:
        headers = {"ST-App-Key": self._app_key, "Authorization": f"Bearer {token}"}
        async with self._in_flight, self.pacer.slot():
            try:
                response = await self._client.request(method, url, params=query, json=body, headers=headers)
            except httpx.TimeoutException:
                raise UpstreamUnavailableError(operation, "timed out") from None
            except httpx.TransportError as exc:
                raise UpstreamUnavailableError(operation, type(exc).__name__) from None
        if response.status_code == 429:
            # Another process on this app key and tenant used the window: everyone here waits it out.
            self.pacer.hold(_retry_after_seconds(response) or 1.0)
        return response


def _decode(response: httpx.Response, operation: str) -> Any:
    if response.is_success:
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            return None
    raise _problem(response, operation)


def _problem(response: httpx.Response, operation: str) -> Exception:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    raw_errors = body.get("errors") or {}
    errors = {
        str(field): [str(m) for m in (msgs if isinstance(msgs, list) else [msgs])]
        for field, msgs in (raw_errors.items() if isinstance(raw_errors, dict) else [])
    }
    title = str(body.get("title") or response.reason_phrase or "error")
    kwargs: dict[str, Any] = {
        "errors": errors,
        "trace_id": body.get("traceId"),
        "problem_type": body.get("type"),
        "data": body.get("data") if isinstance(body.get("data"), dict) else None,
    }
    cls = error_class_for(response.status_code)
    if cls is RateLimitedError:
        kwargs["retry_after"] = _retry_after_seconds(response)
    return cls(operation, response.status_code, title, **kwargs)


def _retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:  # the HTTP-date form
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _versioned(module: str) -> str:
    """``jpm`` → ``jpm/v2``; a module that names its version (telecom's calls are ``telecom/v3``) keeps it."""
    return module if "/" in module else f"{module}/v2"
