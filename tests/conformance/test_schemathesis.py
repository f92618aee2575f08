"""Schemathesis, a tool nobody here wrote, against the sandbox: every operation it serves, every check,
every phase, a bounded seeded run per ServiceTitan document. Failures that the real ServiceTitan shows too
are in schemathesis_allowlist.toml, each with its reason and evidence; any other failure fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from .fuzz import (
    DOCUMENTS,
    MAX_EXAMPLES,
    SEED,
    RunResult,
    load_allowlist,
    run_document,
    served_operations,
    unexplained,
)

pytestmark = pytest.mark.slow


def test_schemathesis_finds_nothing_unexplained(
    openapi_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    allowed = load_allowlist()
    result = RunResult()
    for module in DOCUMENTS:
        run_document(openapi_dir, module, result)
    left, used = unexplained(result.failures, allowed)
    with capsys.disabled():
        print(
            f"\nschemathesis (seed {SEED}, {MAX_EXAMPLES} examples per operation, every phase): "
            f"{len(result.operations)} operations, {sum(result.checks.values())} checks "
            f"({len(result.checks)} kinds: {', '.join(sorted(result.checks))}); "
            f"{len(result.failures)} failures, {len(result.failures) - len(left)} explained by "
            f"{len(used)} of {len(allowed)} allow-list entries, {len(left)} unexplained"
        )
    assert result.errors == []
    assert len(result.operations) == len(served_operations())  # every served operation was exercised
    assert not left, "Schemathesis found failures no allow-list entry explains:\n" + "\n".join(
        found.describe() for found in left
    )
