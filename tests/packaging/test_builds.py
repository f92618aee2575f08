"""The builds CI makes (slow): the wheel from exactly the Docker build context, installed into a clean venv
and answering tools/list; the MCPB bundle checked by the official validator (@anthropic-ai/mcpb, pinned,
from npm); the Docker image where Docker is installed."""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters

import st_mcp

from ..e2e.conftest import AGENT_TOOLS, READ_TIMEOUT, TEST_TIMEOUT, server_env
from ..e2e.inspector import npm_command, unavailable
from .test_files import REPO, mcpb

pytestmark = pytest.mark.slow

MCPB_PACKAGE = "@anthropic-ai/mcpb@2.1.2"
INSTALL_TIMEOUT = 600  # seconds: pip fetches st-mcp's dependencies into the clean venv
QUIET = {"PYTHONWARNINGS": "ignore:Editable installation,ignore:Package 'st_mcp.store.migrations"}


def docker_context(target: Path) -> Path:
    """The files ``docker build .`` would send (the .dockerignore's allow-list), copied to ``target``."""
    patterns = [p for p in (REPO / ".dockerignore").read_text().splitlines() if p and not p.startswith("#")]
    allowed = [p[1:] for p in patterns if p.startswith("!")]
    dropped = [p.removeprefix("**/") for p in patterns if not p.startswith("!") and p != "*"]
    for name in allowed:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns(*dropped))
        else:
            shutil.copy2(source, target / name)
    assert not any(fnmatch.fnmatch(p.name, "*.db") for p in target.rglob("*"))
    return target


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    context = docker_context(tmp_path_factory.mktemp("docker-context"))
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--disable-pip-version-check",
         "-w", str(out), str(context)],
        check=True, timeout=INSTALL_TIMEOUT, env={**os.environ, **QUIET},
    )  # fmt: skip
    (built,) = out.glob("st_mcp-*.whl")
    assert built.name == f"st_mcp-{st_mcp.__version__}-py3-none-any.whl"
    with zipfile.ZipFile(built) as archive:
        names = set(archive.namelist())
    assert "st_mcp/prompt_files/speed_to_lead_sms.md" in names  # the prompts ship
    assert any(name.startswith("st_mcp/store/migrations/versions/") for name in names)
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names)
    return built


def test_the_wheel_installs_into_a_clean_venv_and_answers_tools_list(wheel: Path, tmp_path: Path) -> None:
    where = tmp_path / "venv"
    venv.create(where, with_pip=True)
    python = where / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(wheel)],
        check=True, timeout=INSTALL_TIMEOUT,
    )  # fmt: skip
    version = subprocess.run(
        [str(where / "bin" / "st-mcp"), "--version"], capture_output=True, text=True, check=True, timeout=60
    )
    assert version.stdout.strip() == f"st-mcp {st_mcp.__version__}"
    env = server_env(tmp_path / "server")
    env.pop("PYTHONPATH", None)  # only the installed wheel, never this checkout
    params = StdioServerParameters(command=str(where / "bin" / "st-mcp"), args=[], env=env, cwd=str(tmp_path))

    async def list_tools() -> set[str]:
        with anyio.fail_after(TEST_TIMEOUT):
            async with Client(params, read_timeout_seconds=READ_TIMEOUT) as client:
                return {tool.name for tool in (await client.list_tools()).tools}

    assert anyio.run(list_tools) >= AGENT_TOOLS


@pytest.fixture(scope="module")
def validator(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = Path(os.environ.get("ST_MCP_MCPB_CACHE", REPO / ".ci" / "mcpb"))
    cache.mkdir(parents=True, exist_ok=True)
    try:
        return npm_command(cache, MCPB_PACKAGE, "mcpb")
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        unavailable(f"the MCPB validator ({MCPB_PACKAGE})", exc)


def test_the_mcpb_bundle_passes_the_official_validator(wheel: Path, validator: Path, tmp_path: Path) -> None:
    bundle = mcpb.build(wheel, tmp_path)
    with zipfile.ZipFile(bundle) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        assert manifest["server"]["entry_point"] in archive.namelist()  # the wheel it starts is inside
        archive.extract("manifest.json", tmp_path / "unpacked")
    assert manifest["server"]["mcp_config"]["args"] == [
        "--from", f"${{__dirname}}/{manifest['server']['entry_point']}", "st-mcp",
    ]  # fmt: skip
    checked = subprocess.run(
        [str(validator), "validate", str(tmp_path / "unpacked" / "manifest.json")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert checked.returncode == 0 and "validation passes" in checked.stdout, checked.stdout + checked.stderr
    info = subprocess.run([str(validator), "info", str(bundle)], capture_output=True, text=True, timeout=120)
    assert info.returncode == 0, info.stdout + info.stderr
    # The validator is live: a manifest missing its server is refused.
    del manifest["server"]
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(manifest))
    refused = subprocess.run(
        [str(validator), "validate", str(broken)], capture_output=True, text=True, timeout=120
    )
    assert refused.returncode != 0
