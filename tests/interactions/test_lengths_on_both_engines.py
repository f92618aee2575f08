"""Every string a lead or a call brings is bounded by the store's columns before anything is written, so
PostgreSQL (which refuses an over-long value) and SQLite (which would keep it) answer alike: the longest
value that fits is stored on both, one character more is a clear refusal on both (issue 11)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from mcp import Client
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from st_mcp.config import load_settings
from st_mcp.sandbox import SandboxClock, SandboxConfig
from st_mcp.server import create_server
from st_mcp.store.schema import interactions
from st_mcp.upstream import connect_servicetitan
from tests.server.conftest import FIXED_NOW, ok, refused

pytestmark = pytest.mark.anyio
LIMITS = {"name": 200, "email": 200, "street": 200, "city": 100, "source": 100}


@pytest.fixture
async def agent(store_url: str) -> AsyncIterator[Client]:
    settings = load_settings(environ={"ST_MCP_DATABASE_URL": store_url})
    upstream = connect_servicetitan(
        settings.servicetitan, sandbox_config=SandboxConfig(clock=SandboxClock(fixed=FIXED_NOW))
    )
    try:
        async with Client(create_server(settings, upstream=upstream)) as client:
            yield client
    finally:
        await upstream.client.aclose()


async def stored(url: str) -> int:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(interactions))).scalar_one())
    finally:
        await engine.dispose()


def lead(phone: str, **fields: Any) -> dict[str, Any]:
    return {"name": "Ana Ruiz", "phone": phone, "zip": "80210", **fields}


@pytest.mark.parametrize(("field", "limit"), list(LIMITS.items()))
async def test_the_longest_value_fits_and_one_more_is_refused(
    agent: Client, store_url: str, field: str, limit: int
) -> None:
    fits = "a" * (limit - len("@example.com")) + "@example.com" if field == "email" else "a" * limit
    await ok(agent, "ingest_lead", lead("3035550150", **{field: fits}))
    before = await stored(store_url)
    text = await refused(agent, "ingest_lead", lead("3035550151", **{field: fits + "a"}))
    assert f"at most {limit}" in text and len(text) < 300, text
    assert await stored(store_url) == before


async def test_a_call_recording_link_and_outcome_are_bounded(agent: Client) -> None:
    key = (await ok(agent, "ingest_lead", lead("3035550152")))["interaction_id"]
    call = {"interaction_id": key, "direction": "inbound", "transcript": "Lead: hi", "duration_seconds": 5}
    text = await refused(agent, "log_call", {**call, "recording_url": "https://r.example/" + "a" * 500})
    assert "recording_url" in text and "at most 500" in text
    text = await refused(agent, "log_call", {**call, "outcome": "o" * 101})
    assert "outcome" in text and "at most 100" in text
    await ok(agent, "log_call", {**call, "recording_url": "https://r.example/x.mp3", "outcome": "o" * 100})
