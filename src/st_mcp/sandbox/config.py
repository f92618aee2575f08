"""Knobs of one sandbox tenant, and the tenant's fixed identity."""

from __future__ import annotations

from dataclasses import dataclass

from .clock import SandboxClock

SANDBOX_TENANT_ID: int = 4417001
# The business's local zone: arrival windows, shifts and business hours are wall times in this zone.
SANDBOX_TIMEZONE = "America/Denver"


@dataclass
class SandboxConfig:
    """How the emulator behaves. ``None`` credentials mean "accept any non-empty value"."""

    seed: int = 7
    tenant_id: int = SANDBOX_TENANT_ID
    clock: SandboxClock | None = None
    client_id: str | None = None
    client_secret: str | None = None
    app_key: str | None = None
    # None = every scope the sandbox serves (see scopes.py).
    granted_scopes: frozenset[str] | None = None
    rate_limit_per_second: int = 60
    latency_seconds: float = 0.0
