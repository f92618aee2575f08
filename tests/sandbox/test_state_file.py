"""The tenant kept in a state file: every app (process) on one file sees one tenant, ids never repeat, the
clock anchor travels with it, and concurrent writers stay consistent."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import anyio
import anyio.lowlevel
import httpx
import pytest
from starlette.applications import Starlette

from st_mcp.sandbox import SandboxClock, SandboxConfig, SandboxTenant, create_sandbox_app, snapshot
from st_mcp.sandbox.statefile import StateFile

from .conftest import MONDAY_9AM, api_path, auth_headers
from .test_jobs import job_body

pytestmark = pytest.mark.anyio

JOBS = api_path("jpm", "jobs")


def state_app(path: Path, seed: int = 7, clock: SandboxClock | None = None) -> Starlette:
    return create_sandbox_app(SandboxConfig(seed=seed, clock=clock or SandboxClock(MONDAY_9AM), state=path))


@asynccontextmanager
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox") as http:
        http.headers.update(await auth_headers(http))
        yield http


def tenant_of(app: Starlette) -> SandboxTenant:
    return app.state.sandbox  # type: ignore[no-any-return]


async def create_job(http: httpx.AsyncClient, tenant: SandboxTenant) -> int:
    response = await http.post(JOBS, json=job_body(tenant))
    assert response.status_code == 200, response.text
    return int(response.json()["id"])


def test_every_part_round_trips(tenant: SandboxTenant) -> None:
    other = create_sandbox_app(SandboxConfig(seed=3, clock=SandboxClock(MONDAY_9AM + timedelta(days=9))))
    copy = tenant_of(other)
    assert copy.fingerprint() != tenant.fingerprint()
    for name, body in snapshot.dump(tenant).items():
        snapshot.restore(copy, name, body)
    for name in snapshot.RECORDS:
        assert getattr(copy, name) == getattr(tenant, name), name
    assert copy.new_id("job") == tenant.new_id("job") and copy.new_job_number() == tenant.new_job_number()
    assert copy.now() == tenant.now() and copy.seed == tenant.seed


async def test_a_second_app_on_the_file_sees_the_first_ones_job(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.db"
    first = state_app(path)
    async with client(first) as http:
        job_id = await create_job(http, tenant_of(first))

    # A later "process", seeded differently and on another clock: the stored tenant and its clock win.
    second = state_app(path, seed=11, clock=SandboxClock(MONDAY_9AM + timedelta(days=30)))
    assert tenant_of(second).now() == MONDAY_9AM
    async with client(second) as http:
        fetched = await http.get(f"{JOBS}/{job_id}")
        assert fetched.status_code == 200 and fetched.json()["id"] == job_id
        again = await create_job(http, tenant_of(second))
    assert again > job_id  # the id sequence travelled with the tenant


async def test_running_apps_pick_up_each_others_writes(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.db"
    a, b = state_app(path), state_app(path)
    async with client(a) as http_a, client(b) as http_b:
        job_a = await create_job(http_a, tenant_of(a))
        job_b = await create_job(http_b, tenant_of(b))  # b caught up before writing: no id reuse
        assert job_b != job_a
        listed = (await http_a.get(JOBS, params={"ids": f"{job_a},{job_b}"})).json()["data"]
        assert sorted(job["id"] for job in listed) == sorted([job_a, job_b])
        assert job_a in tenant_of(b).jobs and job_b in tenant_of(a).jobs


async def test_concurrent_writers_never_lose_a_booking(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.db"
    apps = [state_app(path), state_app(path)]
    ids: list[int] = []
    async with client(apps[0]) as http_a, client(apps[1]) as http_b:

        async def book(http: httpx.AsyncClient, app: Starlette) -> None:
            for _ in range(4):
                ids.append(await create_job(http, tenant_of(app)))

        async with anyio.create_task_group() as group:
            group.start_soon(book, http_a, apps[0])
            group.start_soon(book, http_b, apps[1])
    assert len(set(ids)) == 8
    fresh = tenant_of(state_app(path))
    assert set(ids) <= set(fresh.jobs)


async def test_only_changed_parts_are_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.db"
    app = state_app(path)
    async with client(app) as http:
        await create_job(http, tenant_of(app))
        await http.get(JOBS)  # a read writes nothing
    with sqlite3.connect(path) as db:
        versions = dict(db.execute("SELECT name, version FROM sandbox_parts").fetchall())
    latest = max(versions.values())
    assert latest == 2
    assert {name for name, version in versions.items() if version == latest} == {
        "jobs", "appointments", "assignments", "invoices", "counters",
    }  # fmt: skip


async def test_replace_starts_running_apps_afresh(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.db"
    app = state_app(path)
    async with client(app) as http:
        job_id = await create_job(http, tenant_of(app))
        fresh = create_sandbox_app(SandboxConfig(clock=SandboxClock(MONDAY_9AM))).state.sandbox
        StateFile(path).replace(fresh)
        assert (await http.get(f"{JOBS}/{job_id}")).status_code == 404
        assert await create_job(http, tenant_of(app)) == job_id  # afresh: the sequence starts over


async def test_a_failed_request_leaves_the_stored_tenant(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "sandbox.db"
    app = state_app(path)
    tenant = tenant_of(app)
    before = len(tenant.jobs)

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    async with client(app) as http:
        monkeypatch.setattr(StateFile, "save", explode)
        with pytest.raises(RuntimeError):
            await http.post(JOBS, json=job_body(tenant))
    assert len(tenant.jobs) == before  # the half-made change was put back from the file


async def test_a_waiting_writer_does_not_block_the_event_loop(tmp_path: Path) -> None:
    """Two apps on one file in one loop (one per MCP session): while one holds the write lock and awaits,
    the other waits without stopping the loop, then writes."""
    path = tmp_path / "sandbox.db"
    tenant = tenant_of(state_app(path))
    first, second = StateFile(path), StateFile(path)
    order: list[str] = []

    async def write_second() -> None:
        async with second.writing():
            order.append("second wrote")

    async with anyio.create_task_group() as group, first.writing():
        group.start_soon(write_second)
        for _ in range(20):  # the loop keeps running: this task is scheduled again and again
            await anyio.lowlevel.checkpoint()
        order.append("first still holds the lock")
        first.save(tenant)
    assert order == ["first still holds the lock", "second wrote"]


def test_a_running_clock_keeps_its_anchor(tmp_path: Path) -> None:
    """A clock started at ST_MCP_CLOCK runs on from there in the next process too, not from its start."""
    path = tmp_path / "sandbox.db"
    started = SandboxClock.starting_at(MONDAY_9AM, since=MONDAY_9AM - timedelta(days=400))
    create_sandbox_app(SandboxConfig(clock=started, state=path))
    later = tenant_of(state_app(path, clock=SandboxClock()))  # a process on real time, same file
    assert not later.clock.is_fixed
    assert abs(later.now() - started.now()) < timedelta(minutes=5)  # both read ~400 days after Monday
    assert later.now() > MONDAY_9AM + timedelta(days=399)
