"""Server-generated secrets, created once and shared through the database."""

from __future__ import annotations

import secrets

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from st_mcp.store.schema import server_secrets


async def shared_secret(engine: AsyncEngine, name: str) -> bytes:
    """The named secret, generated on first use; concurrent first uses agree on one value."""
    async with engine.begin() as conn:
        found = (
            await conn.execute(select(server_secrets.c.value).where(server_secrets.c.name == name))
        ).scalar()
    if found is None:
        try:
            async with engine.begin() as conn:
                await conn.execute(insert(server_secrets).values(name=name, value=secrets.token_hex(32)))
        except IntegrityError:
            pass  # another process created it first; read theirs
        async with engine.begin() as conn:
            query = select(server_secrets.c.value).where(server_secrets.c.name == name)
            found = (await conn.execute(query)).scalar_one()
    return bytes.fromhex(found)
