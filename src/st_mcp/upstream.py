"""Building the ServiceTitan client the settings describe, the embedded sandbox included."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from starlette.applications import Starlette

from st_mcp.config import ServiceTitanSettings, Settings
from st_mcp.servicetitan import ServiceTitanClient, UpstreamMeter, endpoints_for

if TYPE_CHECKING:  # the sandbox is imported only by a server that uses it (not on a real tenant)
    from st_mcp.sandbox import SandboxConfig


@dataclass(slots=True)
class Upstream:
    client: ServiceTitanClient
    # The in-process sandbox app when the settings chose it (the demo and tests look inside it).
    sandbox_app: Starlette | None = None


def connect_configured(settings: Settings) -> Upstream:
    """The client the whole settings describe: on the embedded sandbox, the tenant of ``[sandbox]``
    (by default the state file beside the store, shared with every process on the same folder)."""
    st = settings.servicetitan
    if not st.uses_embedded_sandbox:
        return connect_servicetitan(st)
    return connect_servicetitan(st, sandbox_config=embedded_sandbox_config(settings))


def embedded_sandbox_config(settings: Settings) -> SandboxConfig:
    from st_mcp.sandbox import SandboxClock, SandboxConfig
    from st_mcp.sandbox.faults import load_fault_rules

    st, options = settings.servicetitan, settings.sandbox
    start = st.sandbox_clock
    faults = Path(options.faults).expanduser() if options.faults else None
    return SandboxConfig(
        seed=options.seed,
        tenant_id=st.credentials()[0],
        clock=SandboxClock.starting_at(start) if start is not None else None,
        latency_seconds=options.latency_ms / 1000,
        state=options.state_path(settings.database_url),
        faults=load_fault_rules(faults) if faults is not None else [],
    )


def connect_servicetitan(
    settings: ServiceTitanSettings,
    *,
    sandbox_config: SandboxConfig | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    meter: UpstreamMeter | None = None,
) -> Upstream:
    """A client for the configured tenant; with no credentials, one wired to an in-process sandbox (in
    memory unless ``sandbox_config`` names a state file; see ``connect_configured``)."""
    tenant_id, client_id, client_secret, app_key = settings.credentials()
    assert settings.environment is not None  # resolved by ServiceTitanSettings validation
    sandbox_app: Starlette | None = None
    if settings.uses_embedded_sandbox and transport is None:
        from st_mcp.sandbox import SandboxClock, SandboxConfig, create_sandbox_app

        if sandbox_config is None:
            start = settings.sandbox_clock
            clock = SandboxClock.starting_at(start) if start is not None else None
            sandbox_config = SandboxConfig(tenant_id=tenant_id, clock=clock)
        sandbox_app = create_sandbox_app(sandbox_config)
        transport = httpx.ASGITransport(app=sandbox_app)
    client = ServiceTitanClient(
        tenant_id=tenant_id,
        client_id=client_id,
        client_secret=client_secret,
        app_key=app_key,
        endpoints=endpoints_for(settings.environment, settings.api_base_url, settings.auth_url),
        transport=transport,
        meter=meter,
        requests_per_second=settings.requests_per_second,
        max_in_flight=settings.max_in_flight,
        timeout_seconds=settings.timeout_seconds,
    )
    return Upstream(client, sandbox_app)
