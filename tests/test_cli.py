"""The command line: one version, help on every command and flag with its default, a clean end when the
reader of its output goes away."""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

import st_mcp
from st_mcp import cli

from .audit.helpers import seed, sqlite_url

REPO = Path(__file__).resolve().parents[1]


def test_version_from_one_place(capsys: pytest.CaptureFixture[str]) -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "st_mcp.__version__"}
    assert importlib.metadata.version("st-mcp") == st_mcp.__version__
    with pytest.raises(SystemExit) as done:
        cli.main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"st-mcp {st_mcp.__version__}"


def _parsers(
    parser: argparse.ArgumentParser, path: str = "st-mcp"
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, f"{path} {name}")


def test_every_command_and_flag_has_help_and_shows_its_default() -> None:
    top = cli._parser()
    commands = dict(_parsers(top))
    assert {"st-mcp serve", "st-mcp demo", "st-mcp check", "st-mcp leads poll", "st-mcp audit export"} <= set(
        commands
    )
    assert "The ``st-mcp`` command line" not in (top.description or "")
    for path, parser in commands.items():
        assert parser.description and "\n" not in parser.description.strip(), path  # a one-line summary
        assert isinstance(parser.formatter_class, type) and issubclass(
            parser.formatter_class, argparse.ArgumentDefaultsHelpFormatter
        ), path
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                assert all(choice.help for choice in action._choices_actions), path
                continue
            assert action.help, f"{path} {action.option_strings} has no help"
    serve_help = commands["st-mcp serve"].format_help()
    assert "(default: 8000)" in serve_help and "(default: stdio)" in serve_help
    assert "(default: None)" not in serve_help


@pytest.mark.slow
def test_a_closed_pipe_ends_the_export_quietly(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    anyio.run(seed, url, 300)  # ~150 KB of JSON Lines: more than a pipe holds
    env = {**os.environ, "ST_MCP_DATABASE_URL": url}
    env.pop("ST_MCP_CONFIG", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "st_mcp", "audit", "export"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert process.stdout is not None and process.stderr is not None
    first = process.stdout.readline()  # what `| head -1` reads, then it goes away
    process.stdout.close()
    stderr = process.stderr.read().decode()
    code = process.wait(timeout=60)
    assert first.startswith(b'{"')
    assert "Broken pipe" not in stderr and "Traceback" not in stderr, stderr
    assert stderr == "" and code == 0
