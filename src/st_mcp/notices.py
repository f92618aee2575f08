"""Notices for whoever is waiting on the current request ("ServiceTitan is busy; retrying in 2 s").

Any layer may ``await notice(...)``; it goes nowhere unless the MCP surface is ``listening`` for the
request in progress (it then sends an MCP log message to that client). A context variable keeps the
adapters free of any MCP knowledge.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from typing import Literal

Level = Literal["debug", "info", "notice", "warning", "error"]
Listener = Callable[[Level, str], Awaitable[None]]

_listener: ContextVar[Listener | None] = ContextVar("st_mcp_notice_listener", default=None)


async def notice(level: Level, message: str) -> None:
    listener = _listener.get()
    if listener is not None:
        await listener(level, message)


@contextlib.contextmanager
def listening(listener: Listener | None) -> Iterator[None]:
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)
