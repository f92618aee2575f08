"""``st-mcp audit verify`` and ``st-mcp audit export``: the audit trail for operators, from the shell.

Both read the store named by the settings (``ST_MCP_DATABASE_URL``). Neither prints the database URL's
password nor anything the records do not already hold (and records are masked when written).

Each tenant has its own chain. ``--tenant NAME`` picks one; without it every tenant with records is
verified (or exported), each on its own. A store holding only the default tenant's chain reads exactly as
before tenants existed; with others, each line of ``verify`` names its tenant and each exported record
carries a ``tenant`` field (outside the hash: remove it before checking a record's hash).
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from st_mcp.policy.audit import VerifyResult, canonical
from st_mcp.store.audit import AuditLog, audit_tenants
from st_mcp.store.engine import default_database_url, open_engine
from st_mcp.store.tenancy import DEFAULT_TENANT

EXIT_OK, EXIT_BROKEN, EXIT_USAGE = 0, 1, 2
_HASH = re.compile(r"[0-9a-fA-F]{64}")


class _StoreUnavailable(Exception):
    pass


async def verify(database_url: str | None, anchor: str | None = None, *, tenant: str | None = None) -> int:
    """Walk each chain; with ``anchor`` ("SEQ:HASH", a head printed by an earlier run and kept elsewhere)
    also prove that record is still there unchanged — the one thing a chain cannot show on its own,
    since deleting or rewriting its newest records leaves a shorter chain that is still intact. An anchor
    belongs to one chain: with several tenants it needs ``tenant``."""
    try:
        anchored = _anchor(anchor) if anchor else None
    except ValueError as exc:
        print(f"st-mcp: --anchor: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        async with _engine(database_url) as engine:
            tenants = await _tenants(engine, tenant)
            if anchored is not None and len(tenants) > 1:
                print("st-mcp: --anchor: an anchor is one tenant's; name it with --tenant", file=sys.stderr)
                return EXIT_USAGE
            results = []
            for name in tenants:
                audit = AuditLog(engine, tenant=name)
                result = await audit.verify()
                anchor_hash = await audit.hash_at(anchored[0]) if anchored and result.ok else None
                results.append((name, result, anchor_hash))
    except _StoreUnavailable as exc:
        print(f"st-mcp: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except SQLAlchemyError as exc:
        print(f"st-mcp: cannot read the audit trail ({type(exc).__name__})", file=sys.stderr)
        return EXIT_USAGE
    # One default chain reads as before tenants existed; otherwise each line names its tenant.
    named = tenants != [DEFAULT_TENANT]
    worst = EXIT_OK
    for name, result, anchor_hash in results:
        code, line = _verdict(result, anchored, anchor_hash)
        print(f"tenant {name}: {line}" if named else line)
        worst = max(worst, code)
    return worst


def _verdict(
    result: VerifyResult, anchored: tuple[int, str] | None, anchor_hash: str | None
) -> tuple[int, str]:
    """The exit code and the line ``verify`` prints for one chain."""
    if not result.ok:
        problem = result.problem or "broken"
        problem = problem.removeprefix(f"record {result.first_broken_seq}: ")
        return EXIT_BROKEN, f"audit chain BROKEN at record {result.first_broken_seq}: {problem}"
    if anchored is not None:
        seq, expected = anchored
        if anchor_hash is None:
            return (
                EXIT_BROKEN,
                f"audit chain BROKEN at record {seq}: the anchored record is gone (newest records deleted?)",
            )
        if anchor_hash != expected:
            return (
                EXIT_BROKEN,
                f"audit chain BROKEN at record {seq}: differs from the anchor (chain rewritten up to here?)",
            )
    head = f"; head {result.last_seq}:{result.last_hash}" if result.last_seq else ""
    matched = f"; anchor {anchored[0]} matches" if anchored else ""
    return EXIT_OK, f"audit chain OK: {result.checked} records{matched}{head}"


async def _tenants(engine: AsyncEngine, tenant: str | None) -> list[str]:
    """The chains to read: the one named, else every tenant with records (the default one, when none)."""
    if tenant is not None:
        return [tenant]
    return await audit_tenants(engine) or [DEFAULT_TENANT]


def _anchor(text: str) -> tuple[int, str]:
    """'1234:<64 hex digits>' → (1234, hash); the shape ``verify`` prints as the head."""
    seq, _, digest = text.strip().partition(":")
    if not seq.isdigit() or int(seq) < 1 or not _HASH.fullmatch(digest):
        raise ValueError(f"'{text}' is not SEQ:HASH as 'audit verify' prints its head, e.g. 42:9f86d0…")
    return int(seq), digest.lower()


async def export(
    database_url: str | None, *, since: str | None, output: str | None, tenant: str | None = None
) -> int:
    try:
        start = _moment(since) if since else None
    except ValueError:
        print(
            f"st-mcp: --since: '{since}' is not an ISO 8601 time, e.g. 2026-05-05T00:00:00Z", file=sys.stderr
        )
        return EXIT_USAGE
    try:
        async with _engine(database_url) as engine:
            tenants = await _tenants(engine, tenant)
            named = tenants != [DEFAULT_TENANT]
            with _destination(output) as out:
                written = 0
                for name in tenants:  # one chain after another, each oldest first
                    async for record in AuditLog(engine, tenant=name).iter_since(start):
                        row: dict[str, Any] = record.as_json()
                        if named:
                            row["tenant"] = name
                        out.write(canonical(row) + "\n")
                        written += 1
    except _StoreUnavailable as exc:
        print(f"st-mcp: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except SQLAlchemyError as exc:
        print(f"st-mcp: cannot read the audit trail ({type(exc).__name__})", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        raise  # the reader stopped reading (`| head`): the command line ends quietly, not an error
    except OSError as exc:
        print(f"st-mcp: cannot write {output}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    if output:
        print(f"st-mcp: wrote {written} audit records to {output}", file=sys.stderr)
    return EXIT_OK


def _locate(database_url: str | None) -> tuple[str, str]:
    """The URL to open and how to show it (password hidden); a SQLite file must exist already."""
    url = database_url or default_database_url()
    parsed = make_url(url)
    shown = parsed.render_as_string(hide_password=True)
    database = parsed.database
    is_file = parsed.get_backend_name() == "sqlite" and database not in (None, "", ":memory:")
    if is_file and not Path(str(database)).is_file():
        raise _StoreUnavailable(f"no database at {shown}; set ST_MCP_DATABASE_URL")
    return url, shown


@contextlib.asynccontextmanager
async def _engine(database_url: str | None) -> AsyncIterator[AsyncEngine]:
    url, shown = _locate(database_url)
    try:
        engine = await open_engine(url)
    except (SQLAlchemyError, OSError) as exc:
        raise _StoreUnavailable(f"cannot open the store at {shown} ({type(exc).__name__})") from None
    try:
        yield engine
    except SQLAlchemyError as exc:
        raise _StoreUnavailable(f"cannot read the audit trail at {shown} ({type(exc).__name__})") from None
    finally:
        await engine.dispose()


@contextlib.contextmanager
def _destination(output: str | None) -> Iterator[TextIO]:
    if not output:
        yield sys.stdout
        sys.stdout.flush()
        return
    with open(output, "w", encoding="utf-8", newline="\n") as handle:
        yield handle


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text.strip())
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
