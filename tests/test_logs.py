"""Log lines: JSON when stderr is not a terminal, readable text when it is; the request's fields on both."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from st_mcp.logs import RequestFields, configure_logging, request_fields


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def restore_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_lines_when_not_a_terminal() -> None:
    stream = io.StringIO()
    configure_logging("INFO", stream)
    with request_fields(RequestFields("7", "abc123", "dana", "book_job")):
        logging.getLogger("st_mcp.tools").info("tool=%s outcome=%s", "book_job", "ok")
    logging.getLogger("st_mcp.tools").warning("outside a request")
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "tool=book_job outcome=ok" and first["level"] == "INFO"
    assert first["logger"] == "st_mcp.tools" and first["time"].endswith("Z")
    assert (first["request_id"], first["session"], first["principal"], first["tool"]) == (
        "7", "abc123", "dana", "book_job",
    )  # fmt: skip
    assert "principal" not in second and second["level"] == "WARNING"


def test_tracebacks_stay_inside_the_json_line() -> None:
    stream = io.StringIO()
    configure_logging("INFO", stream)
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("st_mcp").exception("failed")
    (line,) = stream.getvalue().splitlines()
    assert "ValueError: boom" in json.loads(line)["exception"]


def test_text_on_a_terminal_and_a_bad_level_falls_back_to_info() -> None:
    stream = Terminal()
    configure_logging("LOUD", stream)
    with request_fields(RequestFields(principal="dana", tool="book_job")):
        logging.getLogger("st_mcp.tools").info("hello")
    logging.getLogger("st_mcp").debug("not shown at INFO")
    (line,) = stream.getvalue().splitlines()
    assert not line.startswith("{") and "INFO" in line and "st_mcp.tools: hello" in line
    assert line.endswith("[principal=dana tool=book_job]")
