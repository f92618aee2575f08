"""Where each ServiceTitan environment lives."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Environment = Literal["production", "integration", "sandbox"]

# The in-process sandbox is reached through an ASGI transport; this host name only has to be well-formed.
SANDBOX_BASE_URL = "http://sandbox.st-mcp.internal"


@dataclass(frozen=True, slots=True)
class Endpoints:
    api_base_url: str
    auth_url: str


KNOWN_ENDPOINTS: dict[str, Endpoints] = {
    "production": Endpoints("https://api.servicetitan.io", "https://auth.servicetitan.io/connect/token"),
    "integration": Endpoints(
        "https://api-integration.servicetitan.io", "https://auth-integration.servicetitan.io/connect/token"
    ),
    "sandbox": Endpoints(SANDBOX_BASE_URL, f"{SANDBOX_BASE_URL}/connect/token"),
}


def endpoints_for(environment: Environment, api_base_url: str | None, auth_url: str | None) -> Endpoints:
    """The environment's URLs, with either half overridable (e.g. a sandbox served on loopback)."""
    known = KNOWN_ENDPOINTS[environment]
    return Endpoints(
        (api_base_url or known.api_base_url).rstrip("/"),
        auth_url or known.auth_url,
    )
