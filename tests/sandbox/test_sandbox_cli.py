"""``st-mcp sandbox reset`` and the sandbox command's refusals: one line on stderr, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from st_mcp.cli import main
from st_mcp.sandbox import SandboxConfig, create_sandbox_app


def test_reset_replaces_the_stored_tenant(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "state" / "sandbox.db"
    assert main(["sandbox", "reset", "--state", str(path), "--seed", "3"]) == 0
    assert capsys.readouterr().err.strip() == f"st-mcp: sandbox tenant in {path} reset (seed 3)"
    stored = create_sandbox_app(SandboxConfig(seed=7, state=path)).state.sandbox
    assert stored.seed == 3  # the stored tenant wins over the app's own seed
    # Given before "reset" as well as after it.
    assert main(["sandbox", "--state", str(path), "reset"]) == 0
    assert create_sandbox_app(SandboxConfig(seed=3, state=path)).state.sandbox.seed == 7


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["sandbox", "reset", "--state", "memory"], "the state is 'memory'; there is nothing to reset"),
        (["sandbox", "reset", "--state", "/proc/st-mcp/sandbox.db"], "sandbox reset: cannot write"),
        (["sandbox", "--state", "/proc/st-mcp/sandbox.db"], "sandbox: cannot open the state file"),
        (["sandbox", "--faults", "/nonexistent/faults.toml"], "--faults: /nonexistent/faults.toml: "),
        (["sandbox", "reset", "--clock", "yesterday"], "ST_MCP_CLOCK: give an ISO 8601 time"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
