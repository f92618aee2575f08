"""Schemathesis over the sandbox: one seeded engine run (every phase, every check) per ServiceTitan
document, restricted to the operations the sandbox serves, in-process over ASGI. Failures are matched
against a reviewed allow-list (schemathesis_allowlist.toml); everything else is reported."""

from __future__ import annotations

import json
import re
import tomllib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import schemathesis
from schemathesis.engine import events, from_schema
from starlette.testclient import TestClient

from st_mcp.sandbox import SANDBOX_TENANT_ID, SandboxClock, SandboxConfig, create_sandbox_app
from st_mcp.sandbox.routes import ENDPOINTS

ALLOWLIST = Path(__file__).with_name("schemathesis_allowlist.toml")
SEED = 20260309
MAX_EXAMPLES = 20
NOW = datetime(2026, 3, 9, 15, 0, tzinfo=UTC)  # a Monday morning in Denver, as the other sandbox tests
# Each module the sandbox serves and the document that describes it.
DOCUMENTS = {
    "/crm/v2": "crm-v2.json",
    "/jpm/v2": "jpm-v2.json",
    "/dispatch/v2": "dispatch-v2.json",
    "/settings/v2": "settings-v2.json",
    "/taskmanagement/v2": "task-management-v2.json",
    "/marketing/v2": "marketing-v2.json",
    "/memberships/v2": "memberships-v2.json",
    "/accounting/v2": "accounting-v2.json",
    "/equipmentsystems/v2": "equipment-systems-v2.json",
    "/sales/v2": "salestech-v2.json",
    "/customer-interactions/v2": "customer-interactions-v2.json",
    "/telecom": "telecom.json",  # its paths carry the version: /v3/tenant/{tenant}/calls
}
# Modules whose document's server is the bare module and whose paths carry the version (telecom's
# "/telecom" + "/v3/tenant/{tenant}/calls"): module → (document, version prefix of its paths).
VERSIONED_DOCUMENTS = {"/telecom/v3": ("telecom.json", "/v3")}


@dataclass(frozen=True)
class Found:
    """One failure Schemathesis reported (deduplicated by Schemathesis within a scenario)."""

    module: str
    operation: str  # "GET /tenant/{tenant}/jobs", or "Stateful tests"
    check: str
    title: str
    message: str
    status: int | None
    body: str
    curl: str

    @property
    def text(self) -> str:
        """What allow-list patterns search: the failure message, the response body, the request (curl)."""
        return f"{self.message}\n{self.body}\n{self.curl}"

    def describe(self) -> str:
        return (
            f"{self.module} {self.operation}: {self.check} — {self.title} (status {self.status})\n"
            f"    {self.message.strip()[:400]}\n    response: {self.body[:300]}\n    {self.curl[:1500]}"
        )


@dataclass(frozen=True)
class Allowed:
    check: str
    operation: re.Pattern[str]
    status: int | None
    text: re.Pattern[str]
    reason: str
    evidence: str

    def matches(self, found: Found) -> bool:
        return (
            found.check == self.check
            and (self.status is None or found.status == self.status)
            and bool(self.operation.search(f"{found.module} {found.operation}"))
            and bool(self.text.search(found.text))
        )


def load_allowlist(path: Path = ALLOWLIST) -> list[Allowed]:
    entries = tomllib.loads(path.read_text(encoding="utf-8"))["allow"]
    allowed = []
    for entry in entries:
        if not entry.get("reason") or not entry.get("evidence"):
            raise AssertionError(f"allow-list entry without reason or evidence: {entry}")
        allowed.append(
            Allowed(
                check=entry["check"],
                operation=re.compile(entry.get("operation", ".")),
                status=entry.get("status"),
                text=re.compile(entry.get("text", "."), re.DOTALL),
                reason=entry["reason"],
                evidence=entry["evidence"],
            )
        )
    return allowed


@dataclass
class RunResult:
    operations: set[str] = field(default_factory=set)
    checks: Counter[str] = field(default_factory=Counter)
    failures: list[Found] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def served_operations() -> set[tuple[str, str]]:
    return {(endpoint.method, endpoint.path) for endpoint in ENDPOINTS}


def run_document(openapi_dir: Path, module: str, result: RunResult, max_examples: int = MAX_EXAMPLES) -> None:
    """Fuzz the sandbox's operations of one module against its document; add to ``result``."""
    document: dict[str, Any] = json.loads((openapi_dir / DOCUMENTS[module]).read_bytes())
    server_path = urlsplit(document["servers"][0]["url"]).path.rstrip("/")
    assert server_path == module, f"{DOCUMENTS[module]} serves {server_path}, not {module}"
    served = served_operations()
    app = create_sandbox_app(
        SandboxConfig(clock=SandboxClock(NOW), rate_limit_per_second=1_000_000_000)  # the fixed clock:
    )  # tokens never expire mid-run, capacity is deterministic; no rate limit: a fuzzer is not a client
    with TestClient(app) as client:
        form = {"grant_type": "client_credentials", "client_id": "fuzz", "client_secret": "fuzz"}
        token = client.post("/connect/token", data=form).json()["access_token"]
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "base-url": f"http://sandbox{module}",
            "headers": {"Authorization": f"Bearer {token}", "ST-App-Key": "ak1.schemathesis"},
            "generation": {"max-examples": max_examples, "database": "none"},
            "parameters": {"tenant": SANDBOX_TENANT_ID},  # another tenant is only ever a 403
            "workers": 1,
            "cache": {"enabled": False},  # a seeded run from scratch each time, and no .schemathesis/ folder
        }
    )
    schema = schemathesis.openapi.from_dict(document, config=config)
    schema.app = app
    schema = schema.include(
        func=lambda ctx: (ctx.operation.method.upper(), module + ctx.operation.path) in served
    )
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            _collect(module, event, result)
        elif isinstance(event, events.NonFatalError | events.FatalError):
            result.errors.append(f"{module}: {getattr(event, 'value', event)!r}")


def _collect(module: str, event: events.ScenarioFinished, result: RunResult) -> None:
    recorder = event.recorder
    if recorder.label != "Stateful tests":
        result.operations.add(f"{module} {recorder.label}")
    for case_id, nodes in recorder.checks.items():
        for node in nodes:
            result.checks[node.name] += 1
            if node.failure_info is None:
                continue
            failure = node.failure_info.failure
            interaction = recorder.interactions.get(case_id)
            response = interaction.response if interaction is not None else None
            body = response.content.decode("utf-8", "replace") if response and response.content else ""
            result.failures.append(
                Found(
                    module=module,
                    operation=failure.operation or recorder.label,
                    check=node.name,
                    title=failure.title,
                    message=failure.message,
                    status=response.status_code if response is not None else None,
                    body=body,
                    curl=node.failure_info.code_sample,
                )
            )


def unexplained(failures: Iterable[Found], allowed: list[Allowed]) -> tuple[list[Found], Counter[int]]:
    """Failures no allow-list entry explains, and how many failures each entry explained."""
    used: Counter[int] = Counter()
    left = []
    for found in failures:
        index = next((i for i, entry in enumerate(allowed) if entry.matches(found)), None)
        if index is None:
            left.append(found)
        else:
            used[index] += 1
    return left, used
