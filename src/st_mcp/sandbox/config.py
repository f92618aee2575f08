"""Knobs of one sandbox tenant, and the tenant's fixed identity."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .clock import SandboxClock
from .faults import FaultRule

SANDBOX_TENANT_ID: int = 4417001
# The business's local zone: arrival windows, shifts and business hours are wall times in this zone.
SANDBOX_TIMEZONE = "America/Denver"
STATE_FILE_NAME = "sandbox.db"
MEMORY = "memory"


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
    # Where the tenant lives: None (or "memory") = this process only, re-seeded each time; a path = a
    # SQLite file every process opening it shares (its stored tenant, clock included, wins over seed/clock).
    state: Path | None = None
    faults: list[FaultRule] = field(default_factory=list)  # armed at start (e.g. from --faults FILE)


def state_path(value: str | Path | None) -> Path | None:
    """A ``--state`` / ``ST_MCP_SANDBOX_STATE`` value as a path; "memory" (or nothing) means none."""
    if value is None or str(value).strip().lower() in ("", MEMORY):
        return None
    return Path(value).expanduser()
