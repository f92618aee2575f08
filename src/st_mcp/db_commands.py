"""``st-mcp db upgrade`` and ``st-mcp db current``: the store's schema revision, for operators.

Every start upgrades the store too; the command is for upgrading ahead of a deployment (one job before
the replicas roll) and for seeing where a store stands.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from st_mcp.store import migrate
from st_mcp.store.engine import create_engine, default_database_url

EXIT_OK, EXIT_FAILED = 0, 1
T = TypeVar("T")


async def upgrade(database_url: str | None) -> int:
    url = database_url or default_database_url()
    result = await _on_store(url, "upgrade", migrate.upgrade)
    if result is None:
        return EXIT_FAILED
    if result.changed:
        print(f"store upgraded: {result.before or 'empty'} -> {result.after} ({_shown(url)})")
    else:
        print(f"store already at the newest revision {result.after} ({_shown(url)})")
    return EXIT_OK


async def current(database_url: str | None) -> int:
    url = database_url or default_database_url()
    found = await _on_store(url, "read", _revision)
    if found is None:
        return EXIT_FAILED
    revision, head = found[0], migrate.head_revision()
    state = "up to date" if revision == head else f"behind: run st-mcp db upgrade to reach {head}"
    print(f"store revision {revision or 'none'}, newest {head}: {state}")
    return EXIT_OK


async def _revision(engine: AsyncEngine) -> tuple[str | None]:
    return (await migrate.current_revision(engine),)  # a tuple: None is a revision here, not a failure


async def _on_store(url: str, what: str, work: Callable[[AsyncEngine], Awaitable[T]]) -> T | None:
    """Run ``work`` on the store at ``url``; None (and one line on stderr) when the store fails."""
    engine = create_engine(url)
    try:
        return await work(engine)
    except (SQLAlchemyError, OSError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0][:200]
        print(f"st-mcp: cannot {what} the store at {_shown(url)}: {reason}", file=sys.stderr)
        return None
    finally:
        await engine.dispose()


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)
