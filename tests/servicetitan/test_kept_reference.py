"""Reference lists load once, at start, and are replaced in the background — never on a caller's path
once loaded (counts, not timings: the stale list is what the caller gets while the new one loads)."""

from __future__ import annotations

import anyio
import pytest

from st_mcp.services.reference import STALE_FACTOR, KeptList

pytestmark = pytest.mark.anyio


class Loader:
    def __init__(self) -> None:
        self.loads = 0
        self.gate = anyio.Event()

    async def __call__(self) -> list[int]:
        self.loads += 1
        if self.loads > 1:
            await self.gate.wait()  # a refresh takes as long as the test says
        return [self.loads]


class Clock:
    """The lists' clock, moved by the test: a stalled event loop on a busy machine cannot age a list."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_an_old_list_answers_while_its_replacement_loads() -> None:
    loader, clock = Loader(), Clock()
    kept = KeptList(loader, ttl_seconds=60, clock=clock)
    assert await kept() == [1]
    assert await kept() == [1] and loader.loads == 1

    clock.now += 61  # past the TTL, well inside STALE_FACTOR TTLs
    assert await kept() == [1], "the caller is answered from the old list at once"
    await anyio.sleep(0.001)  # let the refresh start
    assert await kept() == [1] and loader.loads == 2, "one refresh, started by the first caller"
    loader.gate.set()
    for _ in range(100):
        if await kept() == [2]:
            break
        await anyio.sleep(0.001)
    assert await kept() == [2]
    await kept.aclose()


async def test_prefetch_loads_once_and_callers_share_it() -> None:
    loader = Loader()
    kept = KeptList(loader, ttl_seconds=60)
    kept.refresh_in_background()
    results = []

    async def ask() -> None:
        results.append(await kept())

    async with anyio.create_task_group() as tg:
        for _ in range(20):
            tg.start_soon(ask)
    assert results == [[1]] * 20
    assert loader.loads == 1


async def test_a_list_unused_for_many_ttls_is_loaded_on_the_callers_path() -> None:
    loader, clock = Loader(), Clock()
    loader.gate.set()
    kept = KeptList(loader, ttl_seconds=60, clock=clock)
    await kept()
    clock.now += 60 * STALE_FACTOR + 1
    assert await kept() == [2], "too old to answer with: loaded again first"
