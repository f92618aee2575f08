"""Three stateless replicas on one PostgreSQL store behind a round-robin proxy, carrying conversations and
the background work while the leader of that work is killed (issue 16).

The same stack as test_replicas.py (``st-mcp sandbox`` on loopback, three ``st-mcp serve --transport http
--stateless`` on one PostgreSQL database, this test's round-robin proxy in front, now forwarding the
webhooks too), texting through the Twilio gateway to a stub Twilio that records every text it receives
(test_gate_simulation's, without its faults), with the leads poller and the job-events watcher running
every second on every replica under a 3-second leadership lease (ST_MCP_LEADER_TTL_SECONDS).

Agents text leads through the proxy; leads text in through the signed Twilio webhook through the proxy
(some requests replayed with the same MessageSid, a cut-off one sent again, as Twilio retries); one lead
texts STOP and a CSR takes another conversation over. Meanwhile one replica, which reaches ServiceTitan
through an interposer, has its next leads-poller pass and job-watcher pass held mid-pass there — it then
holds both leases, and its watcher has just read the dispatch of a job the server booked (and of another
job after it) but not written it — and is SIGKILLed. Right after, more leads are created in ServiceTitan.

Afterwards, from the database and the stub: every inbound text the proxy answered 200 for is stored once
(and none more than once); every text the stub received is in a thread and counted, and every text an
agent was told was sent reached the stub exactly once; 0 texts after the STOP, after the takeover, in quiet
hours or beyond a state's cap (test_gate_simulation's replay of the rules); each ServiceTitan lead, from
before and after the kill, is exactly one interaction; the dispatched job is one "on the way" text; both
jobs were taken over no sooner than the dead leader's lease ran out and within ttl + 2 intervals (+ slack);
and the audit chain the replicas wrote verifies.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import signal
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from mcp import Client
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from st_mcp import cli
from st_mcp.config import SANDBOX_APP_KEY, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET
from st_mcp.messaging.signatures import twilio_signature
from st_mcp.sandbox import SANDBOX_TENANT_ID, SandboxConfig, create_sandbox_app
from st_mcp.server.auth import hash_key
from st_mcp.store.schema import interactions, job_events, leases
from tests.outreach.test_gate_simulation import (
    AGENT_KEY,
    CSR_KEY,
    LEADS,
    PUBLIC,
    TOKEN,
    Lead,
    StubTwilio,
    read_store,
    session,
    violations,
)
from tests.outreach.test_gate_simulation import serving as serving_in_thread
from tests.postgres import needs_postgres

from .conftest import Spawned, explained, free_port
from .test_booking_two_processes import denver_customers, stack
from .test_replicas import HOP_HEADERS, round_robin_proxy, serving

pytestmark = [pytest.mark.slow, pytest.mark.anyio, needs_postgres]
REPLICAS = 3
INTERVAL = 1  # seconds between passes of the leads poller and the job watcher, on every replica
LEADER_TTL = 3  # seconds a dead leader's lease lasts
# Leads taken in after the kill: the dead leader's lease expires, then the next pass of another replica.
TAKEOVER_BOUND = LEADER_TTL + 2 * INTERVAL + 6  # the rest: the passes' own work on a loaded machine
AGENTS = 3
SEED = 20261216
STOPPED, TAKEN, BOOKED = LEADS[9], LEADS[11], LEADS[10]  # Cleo Boulder, Ana Cal, Cy Aurora
TWILIO_NUMBER = "+13035550100"


@dataclass
class Tally:
    outcomes: dict[str, int] = field(default_factory=dict)
    sent_ids: list[str] = field(default_factory=list)  # message ids an agent was told were sent
    inbound: dict[str, str] = field(default_factory=dict)  # MessageSid → body, every text a lead sent
    acked: set[str] = field(default_factory=set)  # MessageSids the proxy answered 200 for
    replays: int = 0
    retried: int = 0  # a request cut off (502) sent again, as Twilio retries
    stopped_at: float | None = None
    killed_at: float | None = None
    taken_in_after_kill: float | None = None  # seconds from the kill until every lead was in
    told_after_kill: float | None = None  # seconds from the kill until the dispatched job's text was sent
    lease_left: dict[str, float] = field(default_factory=dict)  # what the dead leader's leases had left
    errors: list[str] = field(default_factory=list)

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


def outcome_of(text: str) -> str:
    for word, name in (
        ("opted out", "opt_out"),
        ("taken over", "takeover"),
        ("touches in the last 24 hours", "touch_cap"),
        ("quiet", "quiet_hours"),
    ):
        if word in text:
            return name
    return "other: " + text[:160]


# -- ServiceTitan (the sandbox), and the doomed replica's way to it -------------------------------------
@dataclass
class Interposer:
    """Between the doomed replica and ServiceTitan: passes every request on, except that once armed it
    holds the replica's next leads read — made only by a leads-poller pass, so only while that replica holds
    the poller's lease — and cuts its next job-watcher pass off between the feeds: the appointments feed's
    read waits for the test to dispatch a job and then reads it (the dispatch), the jobs feed's read right
    after is held. The replica is killed while both are held: it dies the leader of both jobs, its leases
    left in the database, the dispatch read but not yet recorded."""

    target: str = ""
    armed: threading.Event = field(default_factory=threading.Event)
    at_appointments: threading.Event = field(default_factory=threading.Event)  # a watcher pass is there
    dispatched: threading.Event = field(default_factory=threading.Event)  # the test dispatched the job
    held: set[str] = field(default_factory=set)  # leads, jobs
    holding: threading.Event = field(default_factory=threading.Event)  # both held
    released: threading.Event = field(default_factory=threading.Event)

    async def forward(self, request: Request) -> Response:
        path = request.url.path
        if self.armed.is_set() and request.method == "GET":
            polling = path.endswith("/export/leads")  # the poller's read
            if polling and "leads" not in self.held:
                return await self.hold("leads")
            if path.endswith("/export/appointments") and not self.at_appointments.is_set():
                self.at_appointments.set()
                await asyncio.to_thread(self.dispatched.wait, 60)  # then read on: the pass sees the dispatch
            elif path.endswith("/export/jobs") and self.at_appointments.is_set() and "jobs" not in self.held:
                return await self.hold("jobs")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_HEADERS}
        query = f"?{request.url.query}" if request.url.query else ""
        async with httpx.AsyncClient(timeout=60) as client:
            answer = await client.request(
                request.method, self.target + request.url.path + query, content=await request.body(),
                headers=headers,
            )  # fmt: skip
        kept = {
            k: v for k, v in answer.headers.items() if k.lower() not in HOP_HEADERS | {"content-encoding"}
        }
        return Response(answer.content, answer.status_code, kept)

    async def hold(self, what: str) -> Response:
        self.held.add(what)
        if self.held == {"leads", "jobs"}:
            self.holding.set()
        await asyncio.to_thread(self.released.wait, 60)  # set from the test's thread
        return Response(status_code=503)

    def app(self) -> Starlette:
        return Starlette(
            routes=[Route("/{path:path}", self.forward, methods=["GET", "POST", "PATCH", "DELETE"])]
        )


async def sandbox_api(base: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base, timeout=30)
    form = {"grant_type": "client_credentials", "client_id": SANDBOX_CLIENT_ID,
            "client_secret": SANDBOX_CLIENT_SECRET}  # fmt: skip
    token = (await client.post("/connect/token", data=form)).json()["access_token"]
    client.headers.update({"Authorization": f"Bearer {token}", "ST-App-Key": SANDBOX_APP_KEY})
    return client


async def create_leads(api: httpx.AsyncClient, campaign: int, numbers: range) -> list[int]:
    ids = []
    for n in numbers:
        body = {"campaignId": campaign, "summary": "AC not cooling", "leadCustomerName": f"Poll Lead {n}",
                "leadPhone": f"720555{n:04d}", "leadZip": "80210", "leadState": "CO"}  # fmt: skip
        answer = await api.post(f"/crm/v2/tenant/{SANDBOX_TENANT_ID}/leads", json=body)
        assert answer.status_code == 200, answer.text
        ids.append(int(answer.json()["id"]))
    return ids


async def interactions_of(engine: AsyncEngine, lead_ids: list[int]) -> dict[int, int]:
    """How many interactions each ServiceTitan lead became."""
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(interactions.c.servicetitan_lead_id).where(
                    interactions.c.servicetitan_lead_id.in_(lead_ids)
                )
            )
        ).scalars()
        found = list(rows)
    return {lead: found.count(lead) for lead in lead_ids}


async def until(check: Any, seconds: float, what: str) -> None:
    """Wait for ``check()`` to hold, looking every 0.2 s; fail naming ``what`` after ``seconds``."""
    give_up = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < give_up, f"{what}: not after {seconds:.0f} s"
        await anyio.sleep(0.2)


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# -- the run -------------------------------------------------------------------------------------------
async def conversation(client: Client, tool: str, arguments: dict[str, Any]) -> tuple[bool, Any]:
    result = await client.call_tool(tool, arguments)
    text = " ".join(getattr(block, "text", "") for block in result.content or [])
    return (not result.is_error, result.structured_content if not result.is_error else text)


async def run(
    sandbox_base: str,
    upstreams: list[str],
    doomed: Spawned,
    interposer: Interposer,
    pg_url: str,
    state: Path,
) -> dict[str, Any]:
    tenant = create_sandbox_app(SandboxConfig(state=state)).state.sandbox
    campaign = tenant.campaign_named("Virtual Agent").id
    customer, location = denver_customers(tenant)[0]
    other_job = next(
        a.job_id
        for a in sorted(tenant.appointments.values(), key=lambda a: a.id)
        if a.status == "Scheduled" and tenant.jobs[a.job_id].status == "Scheduled"
    )
    engine = create_async_engine(pg_url)
    api = await sandbox_api(sandbox_base)
    tally = Tally()
    rng = random.Random(SEED)
    sids = itertools.count(1)
    try:
        async with serving(round_robin_proxy(upstreams)) as url:
            proxy = url.removesuffix("/mcp")
            before = await create_leads(api, campaign, range(201, 204))  # leads in ServiceTitan

            async def all_in(leads: list[int]) -> bool:
                return all(n >= 1 for n in (await interactions_of(engine, leads)).values())

            # The first pass also takes in the seed's open leads of the last day: slower on a busy machine.
            await until(lambda: all_in(before), 60, "the leads before the kill are taken in")

            # The conversations, and a job booked for one of them (dispatched after the kill).
            ids: dict[str, str] = {}
            async with session(proxy, AGENT_KEY) as agent:
                for lead in LEADS:
                    done, taken = await conversation(
                        agent, "ingest_lead", {"name": lead.name, "phone": lead.phone, "zip": "80210"}
                    )
                    assert done, taken
                    ids[lead.phone] = taken["interaction_id"]
                where = {"job_type": "Heating Repair", "zip": "80210", "max_slots": 3}
                done, offer = await conversation(agent, "get_available_slots", where)
                assert done, offer
                slot = offer["slots"][0]["slot_id"]
                args = {"customer_id": customer, "location_id": location, "slot_id": slot,
                        "summary": "No heat", "interaction_id": ids[BOOKED.phone]}  # fmt: skip
                done, booked = await conversation(agent, "book_job", args)
                assert done, booked
            job_id = int(booked["job_id"])
            started = time.monotonic()
            finished = anyio.Event()

            async def texting(index: int) -> None:
                mine = random.Random(SEED * 100 + index)
                count = itertools.count(1)
                while not finished.is_set():
                    try:
                        async with session(proxy, AGENT_KEY) as agent:
                            while not finished.is_set():
                                lead = mine.choice(LEADS)
                                words = f"Hi {lead.name}, agent {index} text {next(count)}"
                                args = {"interaction_id": ids[lead.phone], "text": words}
                                done, answer = await conversation(agent, "send_message", args)
                                if done:
                                    tally.count("sent")
                                    tally.sent_ids.append(answer["message_id"])
                                else:
                                    tally.count(outcome_of(answer))
                                await anyio.sleep(0.15)
                    except Exception as exc:  # the replica died under the call: a new session, as a client
                        tally.count("cut off")
                        tally.errors.append(f"agent {index}: {type(exc).__name__}: {exc}")
                        await anyio.sleep(0.1)

            async def text_in(web: httpx.AsyncClient, lead: Lead, body: str, copies: int = 1) -> None:
                sid = f"SMrep{next(sids):029d}"
                form = {"From": lead.phone, "To": TWILIO_NUMBER, "Body": body, "MessageSid": sid}
                signature = twilio_signature(TOKEN, f"{PUBLIC}/webhooks/sms/twilio", form)
                tally.inbound[sid] = body
                sent = 0
                for _ in range(copies + 5):  # a 502 (the replica died with it) is sent again
                    response = await web.post(
                        f"{proxy}/webhooks/sms/twilio", data=form, headers={"X-Twilio-Signature": signature}
                    )
                    if response.status_code == 200:
                        tally.acked.add(sid)
                        sent += 1
                        if sent == copies:
                            return
                        tally.replays += 1
                    else:
                        assert response.status_code == 502, response.text
                        tally.retried += 1

            async def leads_texting() -> None:
                count = itertools.count(1)
                async with httpx.AsyncClient(timeout=60) as web:
                    while not finished.is_set():
                        lead = rng.choice([x for x in LEADS if x is not STOPPED])
                        copies = 2 if rng.random() < 0.25 else 1  # Twilio's retry, or a replay
                        await text_in(web, lead, f"Question {next(count)} from {lead.name}", copies)
                        await anyio.sleep(0.1)

            async def scripted() -> None:
                async with httpx.AsyncClient(timeout=60) as web, session(proxy, CSR_KEY) as csr:
                    await anyio.sleep(1.0)
                    await text_in(web, STOPPED, "STOP")
                    tally.stopped_at = time.monotonic() - started
                    await anyio.sleep(1.0)
                    done, answer = await conversation(
                        csr, "takeover_interaction", {"interaction_id": ids[TAKEN.phone]}
                    )
                    assert done, answer
                # The doomed replica's next leads-poller and job-watcher passes are held mid-pass, the
                # watcher's after it read the dispatch of the booked job; it is killed there.
                interposer.armed.set()

                async def at_appointments() -> bool:
                    return interposer.at_appointments.is_set()

                async def held() -> bool:
                    return interposer.holding.is_set()

                await until(at_appointments, 40, "the doomed replica's watcher pass at the appointments feed")
                # Our job dispatched, then another (not ours): the feed's place moves past our dispatch.
                for dispatched in (job_id, other_job):
                    progress = await api.post(
                        f"/_sandbox/jobs/{dispatched}/progress", json={"status": "Dispatched"}
                    )
                    assert progress.status_code == 200, progress.text
                interposer.dispatched.set()
                await until(held, 40, "the doomed replica's poller and watcher passes held")
                doomed.process.send_signal(signal.SIGKILL)
                killed = time.monotonic()
                tally.killed_at = killed - started
                async with engine.connect() as conn:
                    found = dict((await conn.execute(select(leases.c.name, leases.c.expires_at))).all())
                for job in ("leads-poller", "job-watcher"):
                    expiry = next((at for name, at in found.items() if name.startswith(f"{job}:")), None)
                    assert expiry is not None, f"the doomed replica held the {job} lease: {found}"
                    tally.lease_left[job] = (aware(expiry) - datetime.now(UTC)).total_seconds()
                after = await create_leads(api, campaign, range(204, 207))  # more leads, after the kill
                await until(lambda: all_in(after), TAKEOVER_BOUND + 10, "the leads after the kill")
                tally.taken_in_after_kill = time.monotonic() - killed

                async def told() -> bool:
                    async with engine.connect() as conn:
                        rows = (
                            (await conn.execute(select(job_events).where(job_events.c.job_id == job_id)))
                            .mappings()
                            .all()
                        )
                    return any(r["event"] == "dispatched" and r["text_status"] == "sent" for r in rows)

                await until(told, TAKEOVER_BOUND + 10, "the dispatched job's text")
                tally.told_after_kill = time.monotonic() - killed
                result["leads"] = before + after
                await anyio.sleep(1.0)  # the conversations go on a little after the takeover
                finished.set()

            result: dict[str, Any] = {"job_id": job_id, "ids": ids}
            with anyio.fail_after(120):
                async with anyio.create_task_group() as tasks:
                    tasks.start_soon(scripted)
                    tasks.start_soon(leads_texting)
                    for index in range(AGENTS):
                        tasks.start_soon(texting, index)
            await anyio.sleep(2 * INTERVAL)  # one more pass each: nothing may happen twice late either
    finally:
        interposer.released.set()
        await api.aclose()
        await engine.dispose()
    result["tally"] = tally
    return result


def auth_settings() -> str:
    return (
        "[[auth.api_keys]]\n"
        f'principal = "replica-agent"\nrole = "virtual_agent"\nsha256 = "{hash_key(AGENT_KEY)}"\n'
        "[[auth.api_keys]]\n"
        f'principal = "Dana Whitfield"\nrole = "csr"\nsha256 = "{hash_key(CSR_KEY)}"\n'
    )


def test_three_replicas_carry_conversations_and_background_work_once_with_the_leader_killed(
    tmp_path: Path, pg_url: str
) -> None:
    stub = StubTwilio(SEED, faults=False)
    twilio_port = free_port()
    environ = {
        "ST_MCP_GATEWAY": "twilio",
        "TWILIO_ACCOUNT_SID": "AC" + "5" * 32,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_FROM_NUMBER": TWILIO_NUMBER,
        "TWILIO_BASE_URL": f"http://127.0.0.1:{twilio_port}",
        "ST_MCP_WEBHOOK_BASE_URL": PUBLIC,
        "ST_MCP_POLL_LEADS_SECONDS": str(INTERVAL),
        "ST_MCP_WATCH_JOBS_SECONDS": str(INTERVAL),
        "ST_MCP_LEADER_TTL_SECONDS": str(LEADER_TTL),
    }
    sandbox_port, interposer_port = free_port(), free_port()
    interposer = Interposer(f"http://127.0.0.1:{sandbox_port}")
    # The last replica reaches ServiceTitan through the interposer (its token still straight from it).
    doomed_environ = {"ST_API_BASE_URL": f"http://127.0.0.1:{interposer_port}"}
    with (
        serving_in_thread(stub.app(), twilio_port),
        serving_in_thread(interposer.app(), interposer_port),
        stack(
            tmp_path,
            servers=REPLICAS,
            database_url=pg_url,
            stateless=True,
            settings=auth_settings(),
            environ=environ,
            sandbox_port=sandbox_port,
            server_environ={REPLICAS - 1: doomed_environ},
        ) as (sandbox_base, upstreams, processes),
        explained(*processes),
    ):
        doomed = processes[-1]
        state = tmp_path / "tenant.db"
        result = anyio.run(run, sandbox_base, upstreams, doomed, interposer, pg_url, state)
        assert doomed.process.poll() is not None, "the replica was killed mid-run"
    tally: Tally = result["tally"]
    store = anyio.run(read_store, pg_url)
    summary = (
        f"killed the leader at {tally.killed_at:.1f} s, its leases left for {tally.lease_left} s; "
        f"sends {tally.outcomes}; stub received "
        f"{len(stub.received)}; {len(tally.inbound)} texts from leads ({len(tally.acked)} answered 200, "
        f"{tally.replays} replayed, {tally.retried} sent again after a 502); leads after the kill in "
        f"{tally.taken_in_after_kill:.1f} s, the job's text in {tally.told_after_kill:.1f} s; "
        f"errors: {tally.errors[:5]}"
    )
    print(summary)

    # Rules, and every text the stub received in a thread and counted (the simulation's replay).
    problems = violations(store, stub)
    # 0 lost messages: every text a lead sent that was answered 200 is stored once, and none twice.
    stored = [row["text"] for row in store["messages"] if row["direction"] == "inbound"]
    for sid, body in tally.inbound.items():
        copies = stored.count(body)
        if copies > 1 or (sid in tally.acked and copies != 1):
            problems.append(f"inbound {sid} ({body!r}, answered 200: {sid in tally.acked}) stored {copies}x")
    # Every text an agent was told was sent reached Twilio exactly once; Twilio never got one twice.
    received = [text.message_id for text in stub.received]
    if len(received) != len(set(received)):
        problems.append("the stub received a text twice")
    problems += [f"sent {m} never reached the stub" for m in set(tally.sent_ids) - set(received)]
    # Each ServiceTitan lead, before and after the kill, is one interaction; no lead is in two.
    taken_in = [row["servicetitan_lead_id"] for row in store["interactions"] if row["servicetitan_lead_id"]]
    for lead in result["leads"]:
        if taken_in.count(lead) != 1:
            problems.append(f"ServiceTitan lead {lead} became {taken_in.count(lead)} interactions")
    problems += [f"lead {lead} taken in twice" for lead in set(taken_in) if taken_in.count(lead) > 1]
    # The dispatched job: one event, one "on the way" text in the thread and at Twilio.
    booked_thread = result["ids"][BOOKED.phone]
    on_the_way = [row for row in store["messages"]
                  if row["interaction_id"] == booked_thread and "on the way" in row["text"]]  # fmt: skip
    at_twilio = [text for text in stub.received if text.to == BOOKED.phone and "on the way" in text.body]
    if len(on_the_way) != 1 or len(at_twilio) != 1:
        problems.append(f"{len(on_the_way)} 'on the way' texts in the thread, {len(at_twilio)} at Twilio")
    assert problems == [], f"{summary}\n" + "\n".join(problems[:40])

    # Taken over within the bound, and not before the dead leader's lease ran out (no two leaders).
    for job, after_kill in (
        ("leads-poller", tally.taken_in_after_kill),
        ("job-watcher", tally.told_after_kill),
    ):
        assert after_kill is not None and after_kill <= TAKEOVER_BOUND, f"{job}: {summary}"
        assert after_kill >= tally.lease_left[job] - 0.5, (
            f"{job} ran while the dead leader held it: {summary}"
        )
    # The run exercised what it claims to.
    for outcome in ("sent", "opt_out", "takeover"):
        assert tally.outcomes.get(outcome, 0) > 0, f"no {outcome}: {summary}"
    assert not [name for name in tally.outcomes if name.startswith("other")], summary
    assert tally.replays > 0 and len(tally.acked) >= 20, summary

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ST_MCP_DATABASE_URL", pg_url)
        assert cli.main(["audit", "verify"]) == 0, "the replicas wrote one unbroken audit chain"
