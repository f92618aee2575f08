"""Reference data that barely changes, cached for minutes (DESIGN §10) and resolved by name or id.

Each list is fetched once however many tool calls ask at the same time, loaded at start
(``prefetch``), and replaced in the background once it is older than its TTL — the caller gets the
list it has meanwhile — so after start no tool call waits for job types, zones or campaigns. Only a
list nobody asked for in ``STALE_FACTOR`` TTLs is fetched again on the caller's path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import anyio

from st_mcp.servicetitan import ServiceTitanClient
from st_mcp.servicetitan.models.dispatch import Zone
from st_mcp.servicetitan.models.jpm import JobCancelReason, JobType
from st_mcp.servicetitan.models.marketing import Campaign
from st_mcp.servicetitan.models.settings import BusinessUnit, TagType, Technician
from st_mcp.servicetitan.models.tasks import TaskClientData

REFERENCE_TTL_SECONDS = 300.0
STALE_FACTOR = 4  # how many TTLs an old list may still answer while its replacement loads
_Named = TypeVar("_Named", Campaign, TagType)
T = TypeVar("T")
log = logging.getLogger(__name__)


class KeptList(Generic[T]):
    """One reference list: single-flight loads, stale-while-refreshing, ``cache_clear`` for tests."""

    def __init__(
        self,
        load: Callable[[], Awaitable[T]],
        ttl_seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,  # tests move it instead of sleeping
    ) -> None:
        self._load = load
        self._ttl = ttl_seconds
        self._clock = clock
        self._value: T | None = None
        self._loaded_at = -math.inf
        self._lock = anyio.Lock()
        self._refreshing: asyncio.Task[None] | None = None

    async def __call__(self) -> T:
        age = self._clock() - self._loaded_at
        if age < self._ttl:
            return self._value  # type: ignore[return-value]  # loaded: age is finite
        if age < self._ttl * STALE_FACTOR:
            self.refresh_in_background()
            return self._value  # type: ignore[return-value]
        async with self._lock:
            if self._clock() - self._loaded_at < self._ttl:
                return self._value  # type: ignore[return-value]  # another caller just loaded it
            return await self._reload()

    async def _reload(self) -> T:
        value = await self._load()
        self._value, self._loaded_at = value, self._clock()
        return value

    def refresh_in_background(self) -> None:
        if self._refreshing is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not on asyncio: the next caller past the stale limit loads it inline
            return
        self._refreshing = loop.create_task(self._refresh())

    async def _refresh(self) -> None:
        try:
            async with self._lock:
                if self._clock() - self._loaded_at >= self._ttl:
                    await self._reload()
        except Exception as exc:  # the old list keeps answering; a later caller tries again
            log.warning("reference data refresh failed: %s", type(exc).__name__)
        finally:
            self._refreshing = None

    def cache_clear(self) -> None:
        self._value, self._loaded_at = None, -math.inf

    async def aclose(self) -> None:
        task, self._refreshing = self._refreshing, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


class ReferenceData:
    def __init__(self, st: ServiceTitanClient, ttl_seconds: float = REFERENCE_TTL_SECONDS) -> None:
        self._st = st
        self.job_types = KeptList(self._job_types, ttl_seconds)
        self.business_units = KeptList(self._business_units, ttl_seconds)
        self.campaigns = KeptList(self._campaigns, ttl_seconds)
        self.tag_types = KeptList(self._tag_types, ttl_seconds)
        self.technicians = KeptList(self._technicians, ttl_seconds)
        self.zones = KeptList(self._zones, ttl_seconds)
        self.cancel_reasons = KeptList(self._cancel_reasons, ttl_seconds)
        self.task_data = KeptList(self._task_data, ttl_seconds)
        # What the booking flow reads: loaded at start so the first call does not wait for them.
        self._booking_flow = (self.job_types, self.zones, self.campaigns, self.tag_types)

    def _all(self) -> tuple[KeptList, ...]:  # type: ignore[type-arg]
        return (
            self.job_types,
            self.business_units,
            self.campaigns,
            self.tag_types,
            self.technicians,
            self.zones,
            self.cancel_reasons,
            self.task_data,
        )

    def prefetch(self) -> None:
        """Start loading the booking flow's lists in the background (a server's start)."""
        for kept in self._booking_flow:
            kept.refresh_in_background()

    def clear(self) -> None:
        for kept in self._all():
            kept.cache_clear()

    async def aclose(self) -> None:
        for kept in self._all():
            await kept.aclose()

    async def _job_types(self) -> list[JobType]:
        return [t async for t in self._st.jpm.iter_job_types() if t.active]

    async def _business_units(self) -> list[BusinessUnit]:
        return (await self._st.settings.list_business_units(active="True")).data

    async def _campaigns(self) -> list[Campaign]:
        return (await self._st.marketing.list_campaigns(active="True")).data

    async def _tag_types(self) -> list[TagType]:
        return (await self._st.settings.list_tag_types(active="True")).data

    async def _technicians(self) -> list[Technician]:
        return (await self._st.settings.list_technicians(active="Any")).data

    async def _zones(self) -> list[Zone]:
        return (await self._st.dispatch.list_zones(active="True")).data

    async def _cancel_reasons(self) -> list[JobCancelReason]:
        return (await self._st.jpm.list_job_cancel_reasons()).data

    async def _task_data(self) -> TaskClientData:
        return await self._st.tasks.client_data()

    async def campaign(self, name_or_id: str) -> Campaign | None:
        return _by_name_or_id(await self.campaigns(), name_or_id)

    async def tag_type(self, name_or_id: str) -> TagType | None:
        return _by_name_or_id(await self.tag_types(), name_or_id)

    async def technician_names(self) -> dict[int, str]:
        return {t.id: t.name for t in await self.technicians()}

    async def service_area_zips(self) -> set[str]:
        return {z for zone in await self.zones() for z in (zone.zips or [])}


def _by_name_or_id(items: list[_Named], name_or_id: str) -> _Named | None:
    wanted = name_or_id.strip().casefold()
    for item in items:
        if str(item.id) == wanted or item.name.casefold() == wanted:
            return item
    return None
