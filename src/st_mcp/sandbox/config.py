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
# The client id st-mcp sends to a sandbox tenant when none is configured (st_mcp.config keeps the same
# value without importing the sandbox). Other tenants of a multi-tenant sandbox add "-<tenant id>".
SANDBOX_CLIENT_ID = "sandbox-client"


def sandbox_client_id(tenant_id: int, base: str = SANDBOX_CLIENT_ID) -> str:
    """The client id a sandbox tenant's token is asked with: the plain one for the default tenant (as
    before), ``<base>-<tenant id>`` for any other, so one sandbox process can tell its tenants apart."""
    return base if tenant_id == SANDBOX_TENANT_ID else f"{base}-{tenant_id}"


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
    # Set by create_multi_sandbox_app: more client ids this tenant answers to, and the signing key all
    # its tenants share.
    client_aliases: tuple[str, ...] = ()
    signing_key: bytes | None = None


def tenant_state_path(state: Path, tenant_id: int) -> Path:
    """One tenant's own file of a multi-tenant sandbox: ``sandbox-<id>.db`` in a folder, else the given
    file's name with the tenant id before its suffix (``state.db`` → ``state-3101.db``)."""
    if state.is_dir():
        return state / f"{Path(STATE_FILE_NAME).stem}-{tenant_id}{Path(STATE_FILE_NAME).suffix}"
    return state.with_name(f"{state.stem}-{tenant_id}{state.suffix}")


def state_path(value: str | Path | None) -> Path | None:
    """A ``--state`` / ``ST_MCP_SANDBOX_STATE`` value as a path; "memory" (or nothing) means none."""
    if value is None or str(value).strip().lower() in ("", MEMORY):
        return None
    return Path(value).expanduser()
