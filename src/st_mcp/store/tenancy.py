"""Tenants: one store holds the records of several ServiceTitan tenants, each row naming its own.

Every store class is scoped to one tenant (``tenant=``, keyword-only) and reads, writes, counts and locks
only that tenant's rows. A single-tenant deployment never names one: its rows carry ``DEFAULT_TENANT``
(migration 0007 moved the rows stored before tenants existed there).
"""

from __future__ import annotations

from st_mcp.config_tenants import DEFAULT_TENANT as DEFAULT_TENANT  # one name, the settings' and the rows'

TENANT_LENGTH = 64  # the width of every ``tenant`` column
