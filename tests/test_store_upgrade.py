"""A store created by an older version opens under the new schema: added columns are added in place."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from st_mcp.store import open_engine
from st_mcp.store.schema import SCHEMA_VERSION, schema_version

pytestmark = pytest.mark.anyio

# The deliveries table as schema version 3 created it, with a row in it.
VERSION_3_DELIVERIES = (
    "CREATE TABLE deliveries (message_id VARCHAR(40) NOT NULL PRIMARY KEY, gateway VARCHAR(16) NOT NULL, "
    "provider_message_id VARCHAR(64), status VARCHAR(16) NOT NULL)",
    "INSERT INTO deliveries VALUES ('msg_1', 'twilio', 'SM1', 'queued')",
)


async def test_an_older_deliveries_table_gains_error_code_and_keeps_its_rows(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/old.db"
    old = create_async_engine(url)
    async with old.begin() as conn:
        for statement in VERSION_3_DELIVERIES:
            await conn.execute(text(statement))
    await old.dispose()

    for _ in range(2):  # a second start finds nothing left to add
        engine = await open_engine(url)
        async with engine.connect() as conn:
            columns = await conn.run_sync(
                lambda c: [col["name"] for col in inspect(c).get_columns("deliveries")]
            )
            rows = (await conn.execute(text("SELECT status, error_code FROM deliveries"))).all()
            versions = (await conn.execute(select(schema_version.c.version))).scalars().all()
        await engine.dispose()
        assert columns[-1] == "error_code"
        assert [tuple(row) for row in rows] == [("queued", None)]
        assert versions == [SCHEMA_VERSION]
