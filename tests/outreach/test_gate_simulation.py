"""The compliance gate under fire: a randomized simulation, reproducible from its seed (issue 10).

Two ``st-mcp serve --transport http`` processes share one store (SQLite file; PostgreSQL where the tests
have one) and text through the Twilio gateway, pointed at a stub Twilio on loopback that records every text
it receives — and, at random, refuses a text (it never leaves) or takes it and never answers (the text
left, the answer is lost). Twenty concurrent agent sessions, spread over both processes, try more than a
thousand sends to a dozen leads, while leads text STOP, START and questions through the signed Twilio
webhook of either process, a CSR takes conversations over, and the servers' clock runs 600 times as fast
as real time (ST_MCP_CLOCK_RATE), across quiet-hour edges in four time zones and a night.

Then every text the stub received is replayed against the rules, independently of the gate's code:
0 texts in a lead's quiet hours (every place its ZIP or phone names), 0 after an opt-out and before the
opt-in, 0 after a takeover, 0 beyond Florida's, Oklahoma's and Maryland's 3 per 24 hours (counting texts
whose answer was lost); and every text the stub received is in a thread, counted as a touch.

``ST_MCP_SIM_SEED`` replays another seed.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import random
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import anyio
import httpx
import httpx2
import pytest
import uvicorn
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from st_mcp.messaging.signatures import twilio_signature
from st_mcp.server.auth import hash_key
from st_mcp.store.schema import deliveries, interactions, messages, status_history
from tests.e2e.conftest import Spawned, explained, free_port, server_env, spawn, wait_for_port
from tests.postgres import needs_postgres

pytestmark = [pytest.mark.slow]

SEED = int(os.environ.get("ST_MCP_SIM_SEED", "20261130"))
TASKS = 20
ROUNDS = 70  # per task: ≈ 75 % of them are sends → > 1,000 send attempts
DENVER = ZoneInfo("America/Denver")
# A Friday at 5:45 PM in Denver: Florida and Maryland close at 6:00 PM Denver time, Oklahoma at 7:00,
# Texas at 8:00, Colorado at 9:00, California at 10:00; the run crosses each edge.
START = datetime(2026, 3, 13, 17, 45, tzinfo=DENVER)
RATE = 600  # ten simulated minutes per real second
TWILIO_TIMEOUT = 0.3  # the servers' wait for Twilio's answer; the stub's "lost answer" outlasts it
TOKEN = "sim-twilio-token-0123456789abcdef"
PUBLIC = "https://agent.example.com"
AGENT_KEY, CSR_KEY = "sim-agent-key-0123456789abcdef", "sim-csr-key-0123456789abcdef"
CAP = 3

# Independent of policy/quiet_hours.py: (open, close) local hours per state, by weekday (Mon = 0).
DEFAULT_HOURS = (8, 21)
STATE_HOURS = {"FL": (8, 20), "OK": (8, 20), "MD": (8, 20)}
CAPPED = {"FL", "OK", "MD"}


def hours(state: str, day: int) -> tuple[int, int]:
    if state == "TX":
        return (12, 21) if day == 6 else (9, 21)
    return STATE_HOURS.get(state, DEFAULT_HOURS)


@dataclass(frozen=True)
class Lead:
    name: str
    phone: str  # E.164
    places: tuple[tuple[str, str], ...]  # (state, zone): the Denver ZIP, and the phone's area code

    @property
    def capped(self) -> bool:
        return any(state in CAPPED for state, _ in self.places)


CO = ("CO", "America/Denver")
LEADS = [
    Lead("Fran Tampa", "+18135550101", (CO, ("FL", "America/New_York"))),
    Lead("Flo Miami", "+13055550102", (CO, ("FL", "America/New_York"))),
    Lead("Fay Orlando", "+14075550103", (CO, ("FL", "America/New_York"))),
    Lead("Otto Okc", "+14055550104", (CO, ("OK", "America/Chicago"))),
    Lead("Oona Tulsa", "+19185550105", (CO, ("OK", "America/Chicago"))),
    Lead("Mo Baltimore", "+14105550106", (CO, ("MD", "America/New_York"))),
    Lead("Tex Dallas", "+12145550107", (CO, ("TX", "America/Chicago"))),
    Lead("Tia Houston", "+17135550108", (CO, ("TX", "America/Chicago"))),
    Lead("Cole Denver", "+13035550109", (CO,)),
    Lead("Cleo Boulder", "+17205550110", (CO,)),
    Lead("Cy Aurora", "+13035550111", (CO,)),
    Lead("Ana Cal", "+14155550112", (CO, ("CA", "America/Los_Angeles"))),
]


# -- the stub Twilio -----------------------------------------------------------------------------------
@dataclass
class Received:
    message_id: str
    to: str
    body: str
    answered: bool  # False: the text left but the answer never reached the server


@dataclass
class StubTwilio:
    """``POST /2010-04-01/Accounts/{sid}/Messages.json`` as Twilio answers it, with faults at random."""

    seed: int
    faults: bool = True  # False: every text is taken and answered
    received: list[Received] = field(default_factory=list)
    refused: int = 0
    asked: int = 0

    def __post_init__(self) -> None:
        self._fate = random.Random(self.seed)
        self._sids = itertools.count(1)

    async def messages(self, request: Request) -> Response:
        form = await request.form()
        callback = str(form.get("StatusCallback", ""))
        [message_id] = parse_qs(urlsplit(callback).query)["message_id"]
        self.asked += 1
        # The first text is refused and the second's answer lost, whatever the seed; then at random.
        fate = {1: 0.0, 2: 0.1}.get(self.asked, self._fate.random()) if self.faults else 1.0
        if fate < 0.08:  # Twilio refuses: the text never leaves
            self.refused += 1
            return JSONResponse({"code": 21211, "message": "not a valid phone number"}, status_code=400)
        lost = fate < 0.18
        self.received.append(Received(message_id, str(form["To"]), str(form["Body"]), not lost))
        if lost:  # taken and sent, but the answer is lost (the server times out first)
            await asyncio.sleep(TWILIO_TIMEOUT * 3)
        return JSONResponse({"sid": f"SM{next(self._sids):032d}", "status": "queued"}, status_code=201)

    def app(self) -> Starlette:
        return Starlette(
            routes=[Route("/2010-04-01/Accounts/{sid}/Messages.json", self.messages, methods=["POST"])]
        )


@contextlib.contextmanager
def serving(app: Starlette, port: int) -> Iterator[None]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the stub Twilio did not start"
        time.sleep(0.02)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)


# -- the servers ---------------------------------------------------------------------------------------
def write_config(folder: Path) -> Path:
    config = folder / "st-mcp.toml"
    config.write_text(
        "[[auth.api_keys]]\n"
        f'principal = "sim-agent"\nrole = "virtual_agent"\nsha256 = "{hash_key(AGENT_KEY)}"\n'
        "[[auth.api_keys]]\n"
        f'principal = "Dana Whitfield"\nrole = "csr"\nsha256 = "{hash_key(CSR_KEY)}"\n',
        encoding="utf-8",
    )
    return config


@contextlib.contextmanager
def two_servers(folder: Path, database_url: str, twilio_port: int) -> Iterator[list[tuple[Spawned, str]]]:
    config = write_config(folder)
    env = server_env(
        folder,
        ST_MCP_DATABASE_URL=database_url,
        ST_MCP_CONFIG=str(config),
        ST_MCP_CLOCK=START.isoformat(),
        ST_MCP_CLOCK_RATE=str(RATE),
        ST_MCP_GATEWAY="twilio",
        TWILIO_ACCOUNT_SID="AC" + "5" * 32,
        TWILIO_AUTH_TOKEN=TOKEN,
        TWILIO_FROM_NUMBER="+13035550100",
        TWILIO_BASE_URL=f"http://127.0.0.1:{twilio_port}",
        TWILIO_TIMEOUT_SECONDS=str(TWILIO_TIMEOUT),
        ST_MCP_WEBHOOK_BASE_URL=PUBLIC,
    )
    ports = [free_port(), free_port()]
    with contextlib.ExitStack() as stack:
        servers = []
        for n, port in enumerate(ports):
            args = ["serve", "--transport", "http", "--port", str(port)]
            servers.append((stack.enter_context(spawn(f"server-{n}", args, env, folder)), port))
        for server, port in servers:
            wait_for_port(server, port, timeout=40)
        yield [(server, f"http://127.0.0.1:{port}") for server, port in servers]


@contextlib.asynccontextmanager
async def session(base: str, key: str) -> AsyncIterator[Client]:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=60) as http,
        Client(streamable_http_client(f"{base}/mcp", http_client=http), read_timeout_seconds=60) as client,
    ):
        yield client


# -- the simulation ------------------------------------------------------------------------------------
@dataclass
class Tally:
    sends: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    inbound: int = 0  # distinct texts the leads sent (each MessageSid once)
    replays: int = 0  # the same signed requests sent again, to either process


def outcome_of(text: str) -> str:
    for word, name in (
        ("quiet", "quiet_hours"),
        ("allows texts", "quiet_hours"),
        ("opted out", "opt_out"),
        ("taken over", "takeover"),
        ("touches in the last 24 hours", "touch_cap"),
        ("may or may not have been delivered", "unknown"),
        ("was not sent", "gateway_refused"),
        ("does not message closed", "closed"),
    ):
        if word in text:
            return name
    return "other: " + text[:120]


async def run_simulation(bases: list[str], stub: StubTwilio) -> Tally:
    rng = random.Random(SEED)
    tally = Tally()
    async with session(bases[0], AGENT_KEY) as agent:
        ids: dict[str, str] = {}
        for lead in LEADS:
            result = await agent.call_tool(
                "ingest_lead", {"name": lead.name, "phone": lead.phone, "zip": "80210", "source": "Angi"}
            )
            assert not result.is_error, result.content
            ids[lead.phone] = result.structured_content["interaction_id"]  # type: ignore[index]
    taken_over: set[str] = set()
    sids = itertools.count(1)

    async def inbound(web: httpx.AsyncClient, lead: Lead, text: str) -> None:
        form = {
            "From": lead.phone,
            "To": "+13035550100",
            "Body": text,
            "MessageSid": f"SMin{next(sids):030d}",
        }
        signature = twilio_signature(TOKEN, f"{PUBLIC}/webhooks/sms/twilio", form)
        tally.inbound += 1
        # Twilio retries, and an attacker replays a captured request: either process may get it again.
        copies = 2 if rng.random() < 0.15 else 1
        tally.replays += copies - 1
        for _ in range(copies):
            base = rng.choice(bases)
            response = await web.post(
                f"{base}/webhooks/sms/twilio", data=form, headers={"X-Twilio-Signature": signature}
            )
            assert response.status_code == 200, response.text

    async def worker(index: int) -> None:
        mine = random.Random(SEED * 1000 + index)
        base = bases[index % len(bases)]
        async with (
            session(base, AGENT_KEY) as agent,
            session(base, CSR_KEY) as csr,
            # A fresh connection per webhook, as Twilio makes them (a pooled one idle past the server's
            # keep-alive can be closed under the next request: a ReadError that is no gate's doing).
            httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_keepalive_connections=0)) as web,
        ):
            for _ in range(ROUNDS):
                lead = mine.choice(LEADS)
                roll = mine.random()
                if roll < 0.75:
                    await send(agent, lead, f"{roll:.4f}")
                elif roll < 0.79:
                    await inbound(web, lead, "STOP")
                elif roll < 0.87:
                    await inbound(web, lead, "START")
                elif roll < 0.97:
                    await inbound(web, lead, "Does Tuesday morning work?")
                elif len(taken_over) < 4 and lead.phone not in taken_over:
                    taken_over.add(lead.phone)
                    await csr.call_tool("takeover_interaction", {"interaction_id": ids[lead.phone]})

    async def send(agent: Client, lead: Lead, words: str) -> str:
        tally.sends += 1
        arguments = {"interaction_id": ids[lead.phone], "text": f"Hi {lead.name}, {words}"}
        result = await agent.call_tool("send_message", arguments)
        text = " ".join(getattr(block, "text", "") for block in result.content or [])
        outcome = "sent" if not result.is_error else outcome_of(text)
        tally.outcomes[outcome] += 1
        return outcome

    async def prologue() -> None:
        """Every rule refuses at least once whatever the randomness does: Oklahoma's cap (open until
        7 PM Denver time), an opt-out and a takeover, each met by a send right after."""
        capped, stopped, taken = LEADS[3], LEADS[9], LEADS[10]
        async with session(bases[0], AGENT_KEY) as agent, session(bases[1], CSR_KEY) as csr:
            async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_keepalive_connections=0)) as web:
                for _ in range(12):
                    if await send(agent, capped, "prologue") == "touch_cap":
                        break
                await inbound(web, stopped, "STOP")
                await send(agent, stopped, "prologue")
            taken_over.add(taken.phone)
            await csr.call_tool("takeover_interaction", {"interaction_id": ids[taken.phone]})
            await send(agent, taken, "prologue")

    with anyio.fail_after(600):
        await prologue()
        async with anyio.create_task_group() as tasks:
            for index in range(TASKS):
                tasks.start_soon(worker, index)
    return tally


# -- the replay against the rules ----------------------------------------------------------------------
async def read_store(url: str) -> dict[str, Any]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            rows = {
                "messages": (await conn.execute(select(messages))).mappings().all(),
                "deliveries": (await conn.execute(select(deliveries))).mappings().all(),
                "interactions": (await conn.execute(select(interactions))).mappings().all(),
                "history": (await conn.execute(select(status_history))).mappings().all(),
            }
    finally:
        await engine.dispose()
    return {name: [dict(row) for row in found] for name, found in rows.items()}


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=ZoneInfo("UTC"))


def violations(store: dict[str, Any], stub: StubTwilio) -> list[str]:
    phone_of = {row["id"]: row["phone"] for row in store["interactions"]}
    lead_of = {lead.phone: lead for lead in LEADS}
    status = {row["message_id"]: row["status"] for row in store["deliveries"]}
    outbound = {row["id"]: row for row in store["messages"] if row["direction"] == "outbound"}
    problems = []

    # Every text the stub received is in a thread, to that phone, and counted (not "failed").
    for text in stub.received:
        row = outbound.get(text.message_id)
        if row is None:
            problems.append(f"received text {text.message_id} is in no thread")
        elif phone_of[row["interaction_id"]] != text.to or row["text"] != text.body:
            problems.append(f"received text {text.message_id} differs from its thread entry")
        elif status.get(text.message_id) == "failed":
            problems.append(f"received text {text.message_id} is marked failed (not counted as a touch)")

    # The lead's own STOP/START (opt-out state over time) and the takeovers.
    consent: dict[str, list[tuple[datetime, str]]] = {}
    for row in store["messages"]:
        if row["direction"] == "inbound" and row["text"] in ("STOP", "START"):
            consent.setdefault(phone_of[row["interaction_id"]], []).append(
                (aware(row["created_at"]), row["text"])
            )
    taken = {
        row["interaction_id"]: aware(row["at"]) for row in store["history"] if row["to_status"] == "Takeover"
    }
    touches: dict[str, list[datetime]] = {}
    for row in outbound.values():
        if status.get(row["id"]) != "failed":
            touches.setdefault(phone_of[row["interaction_id"]], []).append(aware(row["created_at"]))

    conversation = [
        row
        for row in outbound.values()
        if row["text"].startswith("Hi ") and status.get(row["id"]) != "failed"
    ]
    for row in conversation:
        at, phone = aware(row["created_at"]), phone_of[row["interaction_id"]]
        lead = lead_of[phone]
        for state, zone in lead.places:
            local = at.astimezone(ZoneInfo(zone))
            opens, closes = hours(state, local.weekday())
            if not opens <= local.hour + local.minute / 60 < closes:
                problems.append(f"{row['id']} to {lead.name} at {local:%a %H:%M} in {state}: quiet hours")
        earlier = [word for when, word in sorted(consent.get(phone, [])) if when < at]
        if earlier and earlier[-1] == "STOP":
            problems.append(f"{row['id']} to {lead.name} at {at:%H:%M:%S}: after an opt-out")
        if row["interaction_id"] in taken and at > taken[row["interaction_id"]]:
            problems.append(f"{row['id']} to {lead.name}: after the takeover")
        if lead.capped:
            window = [t for t in touches[phone] if at - timedelta(hours=24) < t <= at]
            if len(window) > CAP:
                problems.append(f"{row['id']} to {lead.name}: touch {len(window)} in 24 h (cap {CAP})")
    return problems


def simulate(tmp_path: Path, database_url: str) -> None:
    stub = StubTwilio(SEED)
    twilio_port = free_port()
    with (
        serving(stub.app(), twilio_port),
        two_servers(tmp_path, database_url, twilio_port) as servers,
        explained(*(server for server, _ in servers)),
    ):
        tally = anyio.run(run_simulation, [base for _, base in servers], stub)
    store = anyio.run(read_store, database_url)
    problems = violations(store, stub)
    stored_inbound = sum(1 for row in store["messages"] if row["direction"] == "inbound")
    if stored_inbound != tally.inbound:
        problems.append(
            f"{tally.inbound} texts from leads ({tally.replays} replayed) stored {stored_inbound} times"
        )
    summary = (
        f"seed {SEED}: {tally.sends} sends {dict(tally.outcomes)}; stub received {len(stub.received)}; "
        f"{tally.inbound} texts from leads, {tally.replays} replayed"
    )
    print(summary)
    assert problems == [], f"{summary}\n" + "\n".join(problems[:40])
    # The run exercised every rule and every fault, or it proves little.
    assert tally.sends >= 1000, summary
    for outcome in ("sent", "quiet_hours", "opt_out", "touch_cap", "takeover", "unknown", "gateway_refused"):
        assert tally.outcomes[outcome] > 0, f"no {outcome} in this run: {summary}"
    assert not [name for name in tally.outcomes if name.startswith("other")], summary
    assert any(not text.answered for text in stub.received) and tally.replays > 0, summary


def test_the_gate_holds_across_two_processes_on_sqlite(tmp_path: Path) -> None:
    simulate(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'st-mcp.db'}")


@needs_postgres
def test_the_gate_holds_across_two_processes_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    simulate(tmp_path, pg_url)
