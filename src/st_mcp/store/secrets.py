"""Server-generated secrets, created once and shared through the database."""

from __future__ import annotations

import secrets

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from st_mcp.store.schema import server_secrets
from st_mcp.store.tenancy import DEFAULT_TENANT


async def shared_secret(engine: AsyncEngine, name: str, *, tenant: str = DEFAULT_TENANT) -> bytes:
    """The named secret of ``tenant``, generated on first use; concurrent first uses agree on one value.
    Each tenant has its own (a slot signed for one tenant is not valid for another)."""
    mine = (server_secrets.c.tenant == tenant) & (server_secrets.c.name == name)
    async with engine.begin() as conn:
        found = (await conn.execute(select(server_secrets.c.value).where(mine))).scalar()
    if found is None:
        try:
            async with engine.begin() as conn:
                await conn.execute(
                    insert(server_secrets).values(tenant=tenant, name=name, value=secrets.token_hex(32))
                )
        except IntegrityError:
            pass  # another process created it first; read theirs
        async with engine.begin() as conn:
            query = select(server_secrets.c.value).where(mine)
            found = (await conn.execute(query)).scalar_one()
    return bytes.fromhex(found)
