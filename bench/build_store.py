"""Build a store of N interactions for the counters benchmark (not committed: it is hundreds of MB).

    python -m bench.build_store /tmp/st-1m.db --rows 1000000
    python -m bench.build_store postgresql+asyncpg://postgres@127.0.0.1:55432/st_bench_1m --rows 1000000
    python -m bench.build_store /tmp/st-1m-30d.db --rows 1000000 --days 30    # the same, in one month

A path is a SQLite file; a PostgreSQL URL names a database that is created if missing. The store is
migrated to head first, then filled by bulk inserts (10,000 rows a statement batch) through the same
triggers that keep the rollup and the search index in the server — so the build also shows what those
triggers cost on write. ``--days`` of leads (two years by default) end at ``END``; the last three days'
conversations are still open and carry replies (High Activity, the lead queue); older ones mostly closed.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
from sqlalchemy import insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from st_mcp.services.interactions import statuses as s
from st_mcp.store.engine import open_engine
from st_mcp.store.schema import interactions, messages

END = datetime(2026, 5, 5, 16, 30, tzinfo=UTC)
BATCH = 10_000
FIRST = [
    "Karen",
    "Derek",
    "Priya",
    "Tom",
    "Maria",
    "James",
    "Aisha",
    "Luis",
    "Chen",
    "Olivia",
    "Noah",
    "Fatima",
]
LAST = [
    "Whitmore",
    "O'Hara",
    "Nair",
    "Xu",
    "Garcia",
    "Smith",
    "Khan",
    "Lopez",
    "Wang",
    "Brown",
    "Novak",
    "Reyes",
]
REQUESTS = [
    "Furnace making a loud bang",
    "AC not cooling upstairs",
    "Water heater leaking",
    "Dishwasher drain clogged",
    "Breaker keeps tripping",
    "Garage door stuck half open",
    "Annual tune-up",
]
SOURCES = ["Angi", "Google LSA", "Website", "Thumbtack", "Yelp", "Referral"]
GOALS = [
    ("Speed to Lead", "SMS Agent", 0.6),
    ("Inbound SMS", "SMS Agent", 0.25),
    ("Inbound Voice", "Voice Agent", 0.15),
]
OPEN = [x for x in s.ALL_STATUSES if s.group_of(x) in s.OPEN_GROUPS]
CLOSED = [x for x in s.ALL_STATUSES if x not in OPEN]


def target_url(target: str) -> str:
    return target if "://" in target else f"sqlite+aiosqlite:///{target}"


async def ensure_database(url: str) -> None:
    """A PostgreSQL database is created when missing (on the same server, as the same user)."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("postgresql"):
        return
    admin = create_async_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            exists = (
                await conn.execute(
                    text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": parsed.database}
                )
            ).first()
            if not exists:
                await conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    finally:
        await admin.dispose()


def interaction(rng: random.Random, n: int, total: int, span: timedelta) -> dict[str, Any]:
    received = END - span * (1 - (n + rng.random()) / total)  # spread evenly, oldest first
    goal, channel = rng.choices([g[:2] for g in GOALS], weights=[g[2] for g in GOALS])[0]
    recent = END - received < timedelta(days=3)
    status = rng.choice(OPEN if recent and rng.random() < 0.7 else CLOSED)
    contacted = rng.random() < 0.85
    delay = timedelta(seconds=min(rng.lognormvariate(4, 1.2), 3 * 86400))
    first = FIRST[n % len(FIRST)]
    last = LAST[(n // len(FIRST)) % len(LAST)]
    return {
        "id": f"int_{n:08d}",
        "goal": goal,
        "channel": channel,
        "type": "Lead" if rng.random() < 0.8 else "Customer",
        "status": status,
        "name": f"{first} {last} {n}",
        "phone": f"+1{7200000000 + n}",
        "request": rng.choice(REQUESTS),
        "source": rng.choice(SOURCES),
        "summary": None,
        "job_id": 10_000 + n if s.group_of(status) == s.CONVERTED else None,
        "job_number": f"J{10_000 + n}" if s.group_of(status) == s.CONVERTED else None,
        "received_at": received,
        "first_outbound_at": received + delay if contacted else None,
        "last_activity_at": received + delay if contacted else received,
        "inbound_count": rng.choice([0, 1, 2, 4]) if contacted else 0,
        "outbound_count": 1 if contacted else 0,
    }


def replies(rng: random.Random, row: dict[str, Any]) -> list[dict[str, Any]]:
    """Recent conversations get their messages (older ones' threads do not matter to the counters)."""
    out = []
    if row["first_outbound_at"] is not None:
        out.append(_message(row, "outbound", row["first_outbound_at"], 0))
        for k in range(row["inbound_count"]):
            at = row["first_outbound_at"] + timedelta(minutes=rng.uniform(1, 600))
            out.append(_message(row, "inbound", min(at, END), k + 1))
    return out


def _message(row: dict[str, Any], direction: str, at: datetime, k: int) -> dict[str, Any]:
    return {
        "id": f"msg_{row['id'][4:]}_{k}",
        "interaction_id": row["id"],
        "direction": direction,
        "channel": "sms",
        "sender": "agent" if direction == "outbound" else "lead",
        "sender_name": None,
        "text": "On my way" if direction == "outbound" else "Sounds good",
        "created_at": at,
    }


async def build(target: str, rows: int, seed: int = 17, days: int = 730) -> None:
    url = target_url(target)
    await ensure_database(url)
    engine = await open_engine(url)
    rng = random.Random(seed)
    started = time.perf_counter()
    try:
        async with engine.connect() as conn:
            have = (await conn.execute(text("SELECT count(*) FROM interactions"))).scalar_one()
        if have:
            raise SystemExit(f"{target} already holds {have} interactions; build into an empty store")
        for start in range(0, rows, BATCH):
            batch = [
                interaction(rng, n, rows, timedelta(days=days))
                for n in range(start, min(start + BATCH, rows))
            ]
            thread = [
                m for row in batch if END - row["received_at"] < timedelta(days=3) for m in replies(rng, row)
            ]
            async with engine.begin() as conn:
                await conn.execute(insert(interactions), batch)
                if thread:
                    await conn.execute(insert(messages), thread)
        async with engine.begin() as conn:
            await conn.execute(text("ANALYZE"))
    finally:
        await engine.dispose()
    elapsed = time.perf_counter() - started
    print(
        f"built {rows} interactions ({days} days) in {target} in {elapsed:.1f} s "
        f"({rows / elapsed:,.0f} rows/s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", help="a SQLite file path, or a postgresql+asyncpg:// URL")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--days", type=int, default=730, help="the leads arrive over this many days")
    arguments = parser.parse_args()
    anyio.run(build, arguments.target, arguments.rows, arguments.seed, arguments.days)


if __name__ == "__main__":
    main()
