"""Typed async client for the ServiceTitan v2 REST API."""

from st_mcp.servicetitan.client import ServiceTitanClient
from st_mcp.servicetitan.environments import Endpoints, Environment, endpoints_for
from st_mcp.servicetitan.errors import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
    ServiceTitanError,
    TokenError,
    TokenUnavailableError,
    UnprocessableError,
    UpstreamUnavailableError,
)
from st_mcp.servicetitan.metrics import UpstreamCall, UpstreamMeter, UpstreamRecording
from st_mcp.servicetitan.retry import RetryPolicy

__all__ = [
    "ApiError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "Endpoints",
    "Environment",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitedError",
    "RetryPolicy",
    "ServerError",
    "ServiceTitanClient",
    "ServiceTitanError",
    "TokenError",
    "TokenUnavailableError",
    "UnprocessableError",
    "UpstreamCall",
    "UpstreamMeter",
    "UpstreamRecording",
    "UpstreamUnavailableError",
    "endpoints_for",
]
