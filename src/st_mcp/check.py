"""``st-mcp check``: prove the settings reach ServiceTitan before an operator wires up a client."""

from __future__ import annotations

import sys

from st_mcp.config import Settings
from st_mcp.servicetitan import ServiceTitanError
from st_mcp.upstream import connect_configured


async def run_check(settings: Settings) -> int:
    upstream = connect_configured(settings)
    async with upstream.client as st:
        try:
            units = await st.settings.list_business_units(active="True")
            job_types = await st.jpm.list_job_types(active="True")
        except ServiceTitanError as exc:
            print(f"st-mcp: check failed: {exc}", file=sys.stderr)
            return 1
    print(
        f"ok: tenant {st.tenant_id} ({settings.servicetitan.environment}) answers; "
        f"{len(units.data)} business units, {len(job_types.data)} job types, "
        f"{st.meter.total_requests} requests"
    )
    return 0
