"""Conversations moving opposite ways at once never deadlock on the rollup rows (PostgreSQL).

The rollup trigger moves a conversation out of its old rows and into its new ones. Twenty conversations
go Opt-out → Active: Hot while twenty go the other way, over and over, each move its own transaction on
its own connection — the crosswise pattern that deadlocked when the trigger took the rows in the order of
the move (a 500 on Twilio's inbound webhook in the gate simulation). Not one move may fail, and the
rollup still adds up to the conversations as they are.
"""

from __future__ import annotations

from datetime import UTC, datetime

import anyio
import pytest
from sqlalchemy import func, insert, select, update

from st_mcp.store import Store
from st_mcp.store.schema import interaction_counts, interactions
from tests.postgres import needs_postgres

pytestmark = [pytest.mark.anyio, needs_postgres]

STATUSES = ("Opt-out", "Active: Hot")
CONVERSATIONS = 40
MOVES = 12  # per conversation


async def test_opposite_moves_at_once_never_deadlock_and_the_rollup_adds_up(pg_url: str) -> None:
    store = await Store.open(pg_url)  # migrated to head
    try:
        now = datetime(2026, 3, 14, 15, 0, tzinfo=UTC)
        start = {f"int_{n:016d}": STATUSES[n % 2] for n in range(CONVERSATIONS)}
        row = {
            "goal": "Speed to Lead", "channel": "SMS Agent", "type": "Lead", "received_at": now,
            "last_activity_at": now, "first_outbound_at": now, "inbound_count": 1, "outbound_count": 1,
        }  # fmt: skip
        async with store.engine.begin() as conn:
            await conn.execute(
                insert(interactions), [{**row, "id": id_, "status": s} for id_, s in start.items()]
            )

        async def move(interaction_id: str, status: str) -> None:
            for _ in range(MOVES):
                status = STATUSES[1 - STATUSES.index(status)]
                async with store.engine.begin() as conn:
                    await conn.execute(
                        update(interactions).where(interactions.c.id == interaction_id).values(status=status)
                    )

        async with anyio.create_task_group() as moves:
            for interaction_id, status in start.items():
                moves.start_soon(move, interaction_id, status)

        async with store.engine.connect() as conn:
            actual = dict(
                (
                    await conn.execute(
                        select(interactions.c.status, func.count()).group_by(interactions.c.status)
                    )
                ).all()
            )
            rolled = dict(
                (
                    await conn.execute(
                        select(interaction_counts.c.status, func.sum(interaction_counts.c.conversations))
                        .where(interaction_counts.c.grain == "day")
                        .group_by(interaction_counts.c.status)
                    )
                ).all()
            )
        assert {status: int(count) for status, count in rolled.items() if count} == actual
    finally:
        await store.close()
