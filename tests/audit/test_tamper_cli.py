"""``st-mcp audit verify`` on a real SQLite file tampered with by plain SQL: an edited field, a deleted
record, two swapped records — each named by the first record it breaks; an untouched trail passes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import anyio
import pytest

from st_mcp import cli

from .helpers import audit_log, event, seed, sqlite_url

RECORDS = 30


@pytest.fixture
def trail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A 30-record trail in a SQLite file that ``st-mcp`` finds through ST_MCP_DATABASE_URL."""
    url = sqlite_url(tmp_path)
    anyio.run(seed, url, RECORDS)
    monkeypatch.delenv("ST_MCP_CONFIG", raising=False)
    monkeypatch.setenv("ST_MCP_DATABASE_URL", url)
    return tmp_path / "audit.db"


def tamper(database: Path, *statements: str) -> None:
    with sqlite3.connect(database) as conn:
        for statement in statements:
            conn.execute(statement)


def verify(capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = cli.main(["audit", "verify"])
    return code, capsys.readouterr().out.strip()


def test_an_untouched_trail_verifies(trail: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = verify(capsys)
    assert code == 0
    assert out.startswith(f"audit chain OK: {RECORDS} records")


TAMPERING: dict[str, tuple[list[str], str]] = {
    "edited principal": (
        ["UPDATE audit_events SET principal = 'someone else' WHERE seq = 17"],
        "audit chain BROKEN at record 17: hash does not match its contents (edited?)",
    ),
    "edited outcome": (
        ["UPDATE audit_events SET outcome = 'denied' WHERE seq = 3"],
        "audit chain BROKEN at record 3: hash does not match its contents (edited?)",
    ),
    "edited arguments": (
        ['UPDATE audit_events SET arguments = \'{"text":"nothing to see"}\' WHERE seq = 9'],
        "audit chain BROKEN at record 9: hash does not match its contents (edited?)",
    ),
    "arguments no longer JSON": (
        ["UPDATE audit_events SET arguments = 'not json' WHERE seq = 9"],
        "audit chain BROKEN at record 9: hash does not match its contents (edited?)",
    ),
    "time moved": (
        ["UPDATE audit_events SET at = '2026-05-05 09:00:00.000000' WHERE seq = 12"],
        "audit chain BROKEN at record 12: hash does not match its contents (edited?)",
    ),
    "time no longer a time": (
        ["UPDATE audit_events SET at = 'yesterday' WHERE seq = 12"],
        "audit chain BROKEN at record 12: hash does not match its contents (edited?)",
    ),
    "deleted record": (
        ["DELETE FROM audit_events WHERE seq = 17"],
        "audit chain BROKEN at record 18: follows record 16 (record 17 deleted?)",
    ),
    "deleted first records": (
        ["DELETE FROM audit_events WHERE seq <= 2"],
        "audit chain BROKEN at record 3: the chain starts here, not at record 1 (records 1–2 deleted?)",
    ),
    "swapped records": (
        [
            "UPDATE audit_events SET seq = -1 WHERE seq = 5",
            "UPDATE audit_events SET seq = 5 WHERE seq = 6",
            "UPDATE audit_events SET seq = 6 WHERE seq = -1",
        ],
        "audit chain BROKEN at record 5: holds the contents of record 6 (records reordered?)",
    ),
    "deleted and renumbered": (
        ["DELETE FROM audit_events WHERE seq = 20", "UPDATE audit_events SET seq = seq - 1 WHERE seq > 20"],
        "audit chain BROKEN at record 20: holds the contents of record 21 (records reordered?)",
    ),
}


@pytest.mark.parametrize("case", list(TAMPERING))
def test_tampering_is_found_and_the_first_broken_record_named(
    case: str, trail: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    statements, expected = TAMPERING[case]
    tamper(trail, *statements)
    code, out = verify(capsys)
    assert (code, out) == (1, expected)


def test_a_rewritten_record_with_a_recomputed_hash_breaks_at_the_next(
    trail: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Another first digit, whatever it was ('f' || … was no change at all for one hash in sixteen).
    flipped = "CASE WHEN substr(hash, 1, 1) = 'f' THEN '0' ELSE 'f' END || substr(hash, 2)"
    tamper(trail, f"UPDATE audit_events SET hash = {flipped} WHERE seq = 10")
    code, out = verify(capsys)
    assert code == 1
    # Record 10's own hash no longer matches its contents either; the first problem is named.
    assert out == "audit chain BROKEN at record 10: hash does not match its contents (edited?)"


# ----- an anchor kept elsewhere catches what a chain alone cannot: its newest records gone or redone


def head_of(out: str) -> str:
    assert "; head " in out, out
    return out.rsplit("; head ", 1)[1]


def verify_anchored(capsys: pytest.CaptureFixture[str], anchor: str) -> tuple[int, str]:
    code = cli.main(["audit", "verify", "--anchor", anchor])
    captured = capsys.readouterr()
    return code, (captured.out + captured.err).strip()


def test_the_printed_head_verifies_as_an_anchor(trail: Path, capsys: pytest.CaptureFixture[str]) -> None:
    head = head_of(verify(capsys)[1])
    assert head.startswith(f"{RECORDS}:") and len(head.split(":")[1]) == 64
    assert verify_anchored(capsys, head) == (
        0,
        f"audit chain OK: {RECORDS} records; anchor {RECORDS} matches; head {head}",
    )


def test_deleting_the_newest_records_passes_alone_but_not_against_an_anchor(
    trail: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    head = head_of(verify(capsys)[1])
    tamper(trail, f"DELETE FROM audit_events WHERE seq > {RECORDS - 3}")
    assert verify(capsys)[0] == 0  # a shorter chain is still a chain
    assert verify_anchored(capsys, head) == (
        1,
        f"audit chain BROKEN at record {RECORDS}: the anchored record is gone (newest records deleted?)",
    )


def test_newest_records_rewritten_with_a_valid_chain_differ_from_the_anchor(
    trail: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    head = head_of(verify(capsys)[1])
    tamper(trail, f"DELETE FROM audit_events WHERE seq > {RECORDS - 3}")

    async def forge() -> None:
        async with audit_log(sqlite_url(trail.parent)) as log:
            for n in range(RECORDS - 2, RECORDS + 1):
                await log.append(event(n, principal="nobody"))

    anyio.run(forge)
    assert verify(capsys)[0] == 0  # the forger recomputed every hash
    assert verify_anchored(capsys, head) == (
        1,
        f"audit chain BROKEN at record {RECORDS}: differs from the anchor (chain rewritten up to here?)",
    )


@pytest.mark.parametrize("anchor", ["30", "x:abc", "0:" + "a" * 64, "30:" + "g" * 64, "30:abc"])
def test_a_malformed_anchor_is_a_usage_error(
    trail: Path, capsys: pytest.CaptureFixture[str], anchor: str
) -> None:
    code, out = verify_anchored(capsys, anchor)
    assert code == 2 and out.startswith("st-mcp: --anchor:") and "SEQ:HASH" in out, out


def test_a_missing_database_is_a_usage_error_not_an_empty_trail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ST_MCP_CONFIG", raising=False)
    monkeypatch.setenv("ST_MCP_DATABASE_URL", sqlite_url(tmp_path / "nowhere"))
    assert cli.main(["audit", "verify"]) == 2
    assert "no database at" in capsys.readouterr().err


def test_the_database_password_is_never_shown() -> None:
    from st_mcp.audit_commands import _locate

    url, shown = _locate("postgresql+asyncpg://auditor:hunter2-secret@db.internal:5432/st")
    assert "hunter2" in url and "hunter2" not in shown and "***" in shown
