"""The hash chain: how records are sealed and linked, what the store appends, and how ``verify`` names the
first broken record — checked here on records in memory and on a real SQLite file."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

import st_mcp.store.audit as store_audit
from st_mcp.policy.audit import GENESIS_HASH, AuditRecord, ChainChecker, canonical, seal

from .helpers import T0, audit_log, event, sqlite_url

pytestmark = pytest.mark.anyio


def chain(count: int) -> list[AuditRecord]:
    records: list[AuditRecord] = []
    prev = GENESIS_HASH
    for n in range(1, count + 1):
        records.append(seal(event(n), seq=n, prev_hash=prev))
        prev = records[-1].hash
    return records


def check(records: list[AuditRecord]) -> tuple[bool, int | None, str | None]:
    checker = ChainChecker()
    for record in records:
        if not checker.feed(record):
            break
    result = checker.result()
    return result.ok, result.first_broken_seq, result.problem


def test_canonical_json_is_sorted_compact_and_spells_times_in_utc() -> None:
    from datetime import datetime, timedelta, timezone

    denver = timezone(timedelta(hours=-6))
    value = {"b": 1, "a": [True, None, "é"], "at": datetime(2026, 5, 5, 10, 30, tzinfo=denver)}
    assert canonical(value) == '{"a":[true,null,"é"],"at":"2026-05-05T16:30:00.000000+00:00","b":1}'


def test_each_hash_covers_the_previous_hash_and_every_other_field() -> None:
    first, second = chain(2)
    assert first.prev_hash == GENESIS_HASH == "0" * 64
    assert second.prev_hash == first.hash
    body = {k: v for k, v in first.as_json().items() if k != "hash"}
    assert first.hash == hashlib.sha256((GENESIS_HASH + canonical(body)).encode()).hexdigest()
    assert set(body) == {f.name for f in dataclasses.fields(AuditRecord)} - {"hash"}


def test_an_intact_chain_verifies() -> None:
    assert check(chain(20)) == (True, None, None)


def test_an_edited_field_breaks_the_record_it_is_in() -> None:
    records = chain(20)
    records[16] = dataclasses.replace(records[16], outcome="denied")
    assert check(records) == (False, 17, "record 17: hash does not match its contents (edited?)")


def test_an_edit_with_a_recomputed_hash_breaks_the_next_record() -> None:
    records = chain(20)
    forged = dataclasses.replace(records[16], principal="someone else")
    records[16] = dataclasses.replace(forged, hash=forged.expected_hash())
    ok, seq, problem = check(records)
    assert (ok, seq) == (False, 18)
    assert problem == (
        "record 18: prev_hash does not match the hash of record 17 "
        "(record 17 rewritten, or this record inserted?)"
    )


def test_a_deleted_record_leaves_a_gap() -> None:
    records = chain(20)
    del records[16]
    assert check(records) == (False, 18, "record 18: follows record 16 (record 17 deleted?)")
    records = chain(20)
    del records[0:3]
    assert check(records) == (
        False,
        4,
        "record 4: the chain starts here, not at record 1 (records 1–3 deleted?)",
    )


def test_swapped_records_are_reported_as_reordered() -> None:
    records = chain(20)
    five, six = records[4], records[5]
    records[4] = dataclasses.replace(six, seq=5)
    records[5] = dataclasses.replace(five, seq=6)
    assert check(records) == (False, 5, "record 5: holds the contents of record 6 (records reordered?)")


# -- the store ----------------------------------------------------------------------------------------------
async def test_append_chains_records_in_order_with_contiguous_seqs(tmp_path: Path) -> None:
    async with audit_log(sqlite_url(tmp_path)) as log:
        appended = [await log.append(event(n)) for n in range(1, 6)]
        stored = [record async for record in log.iter_since()]
        assert [r.seq for r in appended] == [1, 2, 3, 4, 5]
        assert stored == appended  # read back exactly as written: times, floats and JSON included
        assert stored[0].prev_hash == GENESIS_HASH
        assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(stored))
        assert (await log.verify()).ok
        assert await log.head() == (5, appended[-1].hash)


async def test_stored_arguments_are_canonical_masked_json(tmp_path: Path) -> None:
    async with audit_log(sqlite_url(tmp_path)) as log:
        await log.append(event(1, arguments={"phone": "(303) 555-0142", "token": "t", "z": 1, "a": 2}))
        async with log._engine.connect() as conn:  # the raw column, on purpose
            raw = (await conn.execute(text("SELECT arguments FROM audit_events"))).scalar_one()
    assert raw == '{"a":2,"phone":"(***) ***-0142","token":"[redacted]","z":1}'


async def test_a_writer_that_loses_the_race_reads_again_and_chains_after_the_winner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The primary key is the backstop: a stale read of the head makes the insert collide, and the
    retry chains after the record that won (as on PostgreSQL without the advisory lock)."""
    async with audit_log(sqlite_url(tmp_path)) as log:
        first, second = await log.append(event(1)), await log.append(event(2))
        real_seal = store_audit.seal
        stale: list[dict[str, Any]] = []

        def seal_after_a_stale_read(ev: Any, *, seq: int, prev_hash: str) -> AuditRecord:
            if not stale:  # the first attempt "read" the head before record 2 was committed
                stale.append({"seq": seq, "prev_hash": prev_hash})
                return real_seal(ev, seq=first.seq + 1, prev_hash=first.hash)
            return real_seal(ev, seq=seq, prev_hash=prev_hash)

        monkeypatch.setattr(store_audit, "seal", seal_after_a_stale_read)
        third = await log.append(event(3))
        assert stale, "the first attempt ran"
        assert (third.seq, third.prev_hash) == (3, second.hash)
        assert [r.seq async for r in log.iter_since()] == [1, 2, 3]
        assert (await log.verify()).ok


async def test_page_is_newest_first_with_filters_and_a_keyset(tmp_path: Path) -> None:
    from datetime import timedelta

    from st_mcp.store.audit import AuditQuery

    async with audit_log(sqlite_url(tmp_path)) as log:
        for n in range(1, 11):
            await log.append(event(n, outcome="blocked" if n in (3, 8) else "ok"))
        newest = await log.page(limit=3)
        assert [r.seq for r in newest] == [10, 9, 8]
        assert [r.seq for r in await log.page(limit=3, before=8)] == [7, 6, 5]
        dana = await log.page(AuditQuery(principal="dana"), limit=100)
        assert [r.seq for r in dana] == [9, 7, 5, 3, 1]
        blocked = await log.page(AuditQuery(outcome="blocked"), limit=100)
        assert [r.seq for r in blocked] == [8, 3]
        window = AuditQuery(since=T0 + timedelta(minutes=4), until=T0 + timedelta(minutes=6))
        assert [r.seq for r in await log.page(window, limit=100)] == [5, 4]
        assert [r.seq async for r in log.iter_since(T0 + timedelta(minutes=9))] == [9, 10]


async def test_export_rows_verify_with_nothing_but_sha256(tmp_path: Path) -> None:
    async with audit_log(sqlite_url(tmp_path)) as log:
        for n in range(1, 4):
            await log.append(event(n))
        lines = [canonical(record.as_json()) async for record in log.iter_since()]
    prev = GENESIS_HASH
    for line in lines:
        row = json.loads(line)
        digest = row.pop("hash")
        assert row["prev_hash"] == prev
        assert hashlib.sha256((prev + canonical(row)).encode()).hexdigest() == digest
        prev = digest
