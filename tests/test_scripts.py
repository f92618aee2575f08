"""``scripts/install`` (which ``./scripts/demo`` and ``./scripts/test`` run) installs once and again only
when pyproject.toml changes, with setuptools' informational boxes filtered out.

pip is replaced by a stand-in ``.venv/bin/python`` that records how it was called, so the script's own
decisions are tested without a network or a real install."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
STAND_IN = """#!/usr/bin/env bash
echo "$* | $PYTHONWARNINGS" >> "$(dirname "$0")/../calls.log"
"""


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    (tmp_path / "scripts").mkdir()
    shutil.copy(REPO / "scripts" / "install", tmp_path / "scripts" / "install")
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    python = tmp_path / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(STAND_IN)
    python.chmod(0o755)
    return tmp_path


def install(checkout: Path, *args: str) -> list[str]:
    """Run the script; the pip calls it made."""
    log = checkout / ".venv" / "calls.log"
    log.unlink(missing_ok=True)
    done = subprocess.run(
        ["bash", str(checkout / "scripts" / "install"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": os.environ.get("PATH", os.defpath), "HOME": str(checkout)},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and done.stderr == ""
    return log.read_text().splitlines() if log.exists() else []


def test_installs_once_and_again_when_pyproject_changes(checkout: Path) -> None:
    (first,) = install(checkout)
    assert first.startswith("-m pip install --quiet --disable-pip-version-check -e .")
    assert install(checkout) == []  # nothing changed: no pip at all
    (with_tests,) = install(checkout, "test")
    assert "-e .[test]" in with_tests
    assert install(checkout) == [] and install(checkout, "test") == []  # the test extras cover both
    with (checkout / "pyproject.toml").open("a") as pyproject:
        pyproject.write("\n# a new dependency\n")
    assert len(install(checkout)) == 1


def test_the_packaging_notices_are_filtered(checkout: Path) -> None:
    (call,) = install(checkout)
    filters = call.split(" | ", 1)[1]
    # What setuptools emits during an editable install, under the filters the script exports.
    emit = (
        "import warnings\n"
        "warnings.warn('Editable installation.\\n!!\\n****', UserWarning)\n"
        "warnings.warn(\"Package 'st_mcp.store.migrations.versions' is absent\", UserWarning)\n"
        "warnings.warn('Something else', UserWarning)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", emit], capture_output=True, text=True, env={"PYTHONWARNINGS": filters}
    )
    assert "Editable installation" not in done.stderr and "migrations" not in done.stderr
    assert "Something else" in done.stderr  # other warnings still show
