"""``list_interactions search=`` through the search index on SQLite (FTS5 trigram) and PostgreSQL (pg_trgm):
the same substring answers on both, kept current as rows change, and keyset paging through the matches."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, update

from st_mcp.store.engine import open_engine
from st_mcp.store.interactions import InteractionRecords, ListFilter
from st_mcp.store.schema import interactions, status_history

pytestmark = pytest.mark.anyio
NOW = datetime(2026, 5, 5, 16, 30, tzinfo=UTC)


@pytest.fixture
async def records(store_url: str) -> AsyncIterator[InteractionRecords]:
    engine = await open_engine(store_url)
    records = InteractionRecords(engine)
    people = [
        ("a", "Karen Whitmore", "+17205550193", "Loud bang from the furnace", None, "Angi"),
        ("b", "Derek O'Hara", "+13035550111", "Dishwasher leaking", "JOB-4411", "Google LSA"),
        ("c", "Priya Nair", "+17205550777", 'Said "ASAP" twice', None, "Website"),
        ("d", "Tom Xu", None, None, None, None),
    ]
    for n, (key, name, phone, request, job, source) in enumerate(people):
        at = NOW - timedelta(minutes=n)
        await records.create(
            {
                "id": key,
                "goal": "Speed to Lead",
                "channel": "SMS Agent",
                "type": "Lead",
                "status": "Started",
                "name": name,
                "phone": phone,
                "request": request,
                "job_number": job,
                "source": source,
                "received_at": at,
                "last_activity_at": at,
                "inbound_count": 0,
                "outbound_count": 0,
            },
            actor="test",
            reason=None,
        )
    yield records
    await engine.dispose()


async def found(records: InteractionRecords, text: str) -> set[str]:
    where = ListFilter(search=text)
    rows = await records.page(where, limit=50, after=None)
    assert await records.count(where) == len(rows)
    return {row.id for row in rows}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("whitmore", {"a"}),
        ("KAREN WHIT", {"a"}),
        ("0193", {"a"}),
        ("(720) 555-0193", {"a"}),
        ("555-0", {"a", "b", "c"}),
        ("furnace", {"a"}),
        ("job-44", {"b"}),
        ("o'hara", {"b"}),
        ('"asap"', {"c"}),
        ("google lsa", {"b"}),
        ("xu", {"d"}),  # two characters: no trigram, scanned
        ("nobody", set()),
    ],
)
async def test_substrings_match_on_both_engines(
    records: InteractionRecords, text: str, expected: set[str]
) -> None:
    assert await found(records, text) == expected


async def test_the_index_follows_updates_and_deletes(records: InteractionRecords) -> None:
    async with records.engine.begin() as conn:
        await conn.execute(
            update(interactions).where(interactions.c.id == "a").values(summary="Booked a tune-up")
        )
        await conn.execute(update(interactions).where(interactions.c.id == "b").values(name="Derek Smith"))
        await conn.execute(delete(status_history).where(status_history.c.interaction_id == "c"))
        await conn.execute(delete(interactions).where(interactions.c.id == "c"))
    assert await found(records, "tune-up") == {"a"}
    assert await found(records, "o'hara") == set()
    assert await found(records, "smith") == {"b"}
    assert await found(records, "priya") == set()


async def test_paging_through_matches_with_the_cursor(records: InteractionRecords) -> None:
    where = ListFilter(search="555")
    seen: list[str] = []
    after = None
    while True:
        page = await records.page(where, limit=1, after=after)
        if not page:
            break
        seen += [row.id for row in page]
        after = (page[-1].last_activity_at, page[-1].id)
    assert seen == ["a", "b", "c"]  # newest activity first, each once
