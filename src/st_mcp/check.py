"""``st-mcp check``: prove the settings reach ServiceTitan before an operator wires up a client."""

from __future__ import annotations

import sys

from st_mcp.config import Settings
from st_mcp.servicetitan import ServiceTitanError
from st_mcp.upstream import connect_configured


async def run_check(settings: Settings) -> int:
    """Every tenant's ServiceTitan, one line each; 1 if any of them does not answer."""
    failed = 0
    for name, own in settings.tenant_settings().items():
        whose = f"{name}: " if settings.tenants else ""
        failed += await _check_one(own, whose)
    return 1 if failed else 0


async def _check_one(settings: Settings, whose: str) -> int:
    upstream = connect_configured(settings)
    async with upstream.client as st:
        try:
            units = await st.settings.list_business_units(active="True")
            job_types = await st.jpm.list_job_types(active="True")
        except ServiceTitanError as exc:
            print(f"st-mcp: {whose}check failed: {exc}", file=sys.stderr)
            return 1
    print(
        f"ok: {whose}tenant {st.tenant_id} ({settings.servicetitan.environment}) answers; "
        f"{len(units.data)} business units, {len(job_types.data)} job types, "
        f"{st.meter.total_requests} requests"
    )
    return 0
