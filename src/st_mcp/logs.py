"""Log records on stderr: JSON Lines for machines (stderr not a terminal), one readable line for people.

Standard ``logging`` throughout; this module only supplies the formatters and the request fields. The
guard sets the fields (request id, session, principal, tool) in a context variable for the request it
runs, so every line logged while serving it — the guard's own, a service's, a traceback — carries them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, TextIO


@dataclass(frozen=True, slots=True)
class RequestFields:
    request_id: str | None = None
    session: str | None = None
    principal: str | None = None
    tool: str | None = None


_NONE = RequestFields()  # frozen: safe to share
_fields: ContextVar[RequestFields] = ContextVar("st_mcp_log_fields", default=_NONE)


@contextlib.contextmanager
def request_fields(fields: RequestFields) -> Iterator[None]:
    token = _fields.set(fields)
    try:
        yield
    finally:
        _fields.reset(token)


def _time(record: logging.LogRecord) -> str:
    return (
        datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the request's fields when set, and the
    traceback as ``exception``."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _time(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({key: value for key, value in asdict(_fields.get()).items() if value is not None})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``time LEVEL logger: message [principal=… tool=…]`` for a person at a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(f"{k}={v}" for k, v in asdict(_fields.get()).items() if v is not None)
        line = f"{_time(record)} {record.levelname:<7} {record.name}: {record.getMessage()}"
        if fields:
            line = f"{line} [{fields}]"
        if record.exc_info:
            line = f"{line}\n{self.formatException(record.exc_info)}"
        return line


def configure_logging(
    level: str = "INFO", stream: TextIO | None = None, *, json_lines: bool | None = None
) -> None:
    """Send every log record to ``stream`` (stderr: stdout is the stdio transport's), as JSON unless it
    is a terminal. Run before the MCP server is built, so the SDK's own set-up (``basicConfig``) finds
    the root logger configured and leaves it alone."""
    stream = stream or sys.stderr
    if json_lines is None:
        json_lines = not stream.isatty()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if json_lines else TextFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level if level in logging.getLevelNamesMapping() else "INFO")
    # httpx logs every request at INFO; the guard's per-call line is what an operator wants.
    logging.getLogger("httpx").setLevel(logging.WARNING)
