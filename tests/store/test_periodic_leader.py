"""Background work that repeats runs once across replicas: a pass needs the job's lease in the shared
store, on both engines — and a dead holder's lease is taken over once it expires."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import anyio
import pytest
from sqlalchemy import insert, select

from st_mcp.config import load_settings
from st_mcp.services.periodic import Leader, repeat
from st_mcp.store import Store
from st_mcp.store.schema import leases

pytestmark = pytest.mark.anyio


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    opened = await Store.open(store_url)
    try:
        yield opened
    finally:
        await opened.close()


class Work:
    """A pass that takes a while and notes how many passes ran at the same moment."""

    def __init__(self) -> None:
        self.running = 0
        self.most_at_once = 0
        self.passes = 0

    async def once(self) -> str | None:
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        try:
            await anyio.sleep(0.05)
            self.passes += 1
        finally:
            self.running -= 1
        return None


async def replicas(work: Work, leader: Leader | None, *, count: int = 3, seconds: float = 0.8) -> None:
    with anyio.move_on_after(seconds):
        async with anyio.create_task_group() as tg:
            for _ in range(count):
                tg.start_soon(lambda: repeat("test job", 0.01, work.once, leader=leader))


async def test_three_replicas_never_run_a_pass_at_the_same_time(store: Store) -> None:
    work = Work()
    await replicas(work, Leader(store.engine, "test-job:1"))
    assert work.passes >= 2, "the work still gets done"
    assert work.most_at_once == 1

    unguarded = Work()
    await replicas(unguarded, None)
    assert unguarded.most_at_once == 3, "without the lease every replica runs it (the test can fail)"


async def test_a_dead_holders_lease_is_taken_over_when_it_expires(store: Store) -> None:
    async with store.engine.begin() as conn:  # a replica that died mid-pass: its lease ends in 0.3 s
        expires = datetime.now(UTC) + timedelta(seconds=0.3)
        await conn.execute(insert(leases).values(name="test-job:1", holder="dead", expires_at=expires))
    work = Work()
    await replicas(work, Leader(store.engine, "test-job:1"), count=1, seconds=0.2)
    assert work.passes == 0, "held by the dead replica until it expires"
    await replicas(work, Leader(store.engine, "test-job:1"), count=1, seconds=0.6)
    assert work.passes >= 1


async def test_the_lease_lasts_the_leaders_ttl(store: Store) -> None:
    """A short [leader_ttl_seconds] (replicas in a test, or an operator who wants a fast takeover) is the
    lease a pass writes, so a dead holder blocks the job for that long, not the default minute."""
    seen: list[float] = []

    async def once() -> str | None:
        async with store.engine.connect() as conn:
            [expires] = (await conn.execute(select(leases.c.expires_at))).scalars().all()
        seen.append((aware(expires) - datetime.now(UTC)).total_seconds())
        return None

    with anyio.move_on_after(0.3):
        await repeat("test job", 1, once, leader=Leader(store.engine, "test-job:1", ttl=3))
    assert len(seen) == 1 and 2 < seen[0] <= 3
    assert load_settings(environ={"ST_MCP_LEADER_TTL_SECONDS": "3"}).leader_ttl_seconds == 3
    assert load_settings(environ={}).leader_ttl_seconds == 60


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
