"""``st-mcp db upgrade`` and ``st-mcp db current``: the store's schema revision, for operators.

Every start upgrades the store too; the command is for upgrading ahead of a deployment (one job before
the replicas roll) and for seeing where a store stands.
"""

from __future__ import annotations

import sys

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from st_mcp.store import migrate
from st_mcp.store.engine import create_engine, default_database_url

EXIT_OK, EXIT_FAILED = 0, 1


async def upgrade(database_url: str | None) -> int:
    url = database_url or default_database_url()
    engine = create_engine(url)
    try:
        result = await migrate.upgrade(engine)
    except (SQLAlchemyError, OSError) as exc:
        print(f"st-mcp: cannot upgrade the store at {_shown(url)}: {_first_line(exc)}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        await engine.dispose()
    if result.changed:
        print(f"store upgraded: {result.before or 'empty'} -> {result.after} ({_shown(url)})")
    else:
        print(f"store already at the newest revision {result.after} ({_shown(url)})")
    return EXIT_OK


async def current(database_url: str | None) -> int:
    url = database_url or default_database_url()
    engine = create_engine(url)
    try:
        revision = await migrate.current_revision(engine)
    except (SQLAlchemyError, OSError) as exc:
        print(f"st-mcp: cannot read the store at {_shown(url)}: {_first_line(exc)}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        await engine.dispose()
    head = migrate.head_revision()
    state = "up to date" if revision == head else f"behind: run st-mcp db upgrade to reach {head}"
    print(f"store revision {revision or 'none'}, newest {head}: {state}")
    return EXIT_OK


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _first_line(exc: Exception) -> str:
    return str(exc.orig if getattr(exc, "orig", None) is not None else exc).splitlines()[0][:200]
