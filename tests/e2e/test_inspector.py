"""An independent client drives the real server: the MCP Inspector CLI (Node), pinned, over streamable
HTTP and stdio — tools/list (with its schema-portability check), every prompt, every resource, and over
HTTP one call of every tool. Any protocol error, a non-zero exit or anything on the Inspector's stderr
fails the test. The principal is a manager, who may open every door."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from st_mcp.server.tools.registry import TOOLS

from .conftest import SANDBOX_NOTICE, explained, free_port, server_env, spawn, wait_for_port
from .inspector import Inspector, Run, inspector  # noqa: F401 - the fixture

pytestmark = pytest.mark.slow

PROMPTS = {
    "csr_daily_triage",
    "interaction_overview_summary",
    "speed_to_lead_sms",
    "speed_to_lead_voice",
    "inbound_receptionist",
    "post_job_follow_up",
    "maintenance_reminder",
    "estimate_follow_up",
}
JOB_TYPES, INTERACTION = "servicetitan://job-types", "interaction://{interaction_id}"
JOB_TYPE = "servicetitan://job-types/{job_type}"
LEAD_QUEUE = "lead-queue://now"
JORDAN_PHONE = "3035550142"


# A stdio server's stderr passes through the Inspector's: its start-up notice and its one line per
# successful request are not complaints; anything else (an Inspector error or warning, a failed
# request, a traceback) is.
# Those lines are JSON (stderr is not a terminal), so the message is matched inside the record.
SERVER_LINE = re.compile(
    r"^(tool|resource|prompt|completion)=\S+ outcome=ok upstream=\d+ round_trips=\d+ ms=[\d.]+$"
)


def _server_line(line: str) -> bool:
    try:
        record = json.loads(line)
    except ValueError:
        return False
    return (
        isinstance(record, dict)
        and record.get("level") == "INFO"
        and bool(SERVER_LINE.match(str(record.get("message", ""))))
    )


def answered(run: Run) -> Any:
    complaints = [
        line
        for line in run.stderr.splitlines()
        if line.strip() and SANDBOX_NOTICE not in line and not _server_line(line.strip())
    ]
    assert run.code == 0 and not complaints, run.explain()
    return run.json()


class Session:
    """Inspector invocations against one server target (a URL, or a command it spawns)."""

    def __init__(self, cli: Inspector, target: list[str]) -> None:
        self.cli, self.target = cli, target

    def call(self, *args: str) -> Any:
        return answered(self.cli.run(self.target, *args))

    def tool(self, tool_name: str, /, **arguments: Any) -> dict[str, Any]:
        args = ["--method", "tools/call", "--tool-name", tool_name]
        if arguments:
            args += ["--tool-arg", *(f"{key}={value}" for key, value in arguments.items())]
        result = self.call(*args)
        assert result.get("isError") is False and "structuredContent" in result, (tool_name, result)
        return dict(result["structuredContent"])

    def lists(self) -> None:
        tools = self.call("--method", "tools/list", "--strict")  # exit 6 on a schema portability error
        assert {tool["name"] for tool in tools["tools"]} == {spec.name for spec in TOOLS}
        assert {p["name"] for p in self.call("--method", "prompts/list")["prompts"]} == PROMPTS
        listed = {r["uri"] for r in self.call("--method", "resources/list")["resources"]}
        assert listed == {JOB_TYPES, LEAD_QUEUE}
        templates = self.call("--method", "resources/templates/list")["resourceTemplates"]
        assert {t["uriTemplate"] for t in templates} == {INTERACTION, JOB_TYPE}

    def new_lead(self) -> str:
        lead = self.tool("ingest_lead", name="Ann Lee", phone="3035550188", zip=80210, source="Website")
        return str(lead["interaction_id"])

    def reads(self, interaction_id: str) -> list[Callable[[], None]]:
        """One check per prompt and per resource; independent of each other, so they may run at once."""

        def prompt(name: str) -> Callable[[], None]:
            def check() -> None:
                args = (
                    []
                    if name == "csr_daily_triage"
                    else ["--prompt-args", f"interaction_id={interaction_id}"]
                )
                got = self.call("--method", "prompts/get", "--prompt-name", name, *args)
                assert got["messages"] and got["messages"][0]["content"]["text"].strip(), (name, got)

            return check

        def resource(uri: str, expected: str) -> Callable[[], None]:
            def check() -> None:
                got = self.call("--method", "resources/read", "--uri", uri)
                assert expected in got["contents"][0]["text"], (uri, got)

            return check

        return [
            *(prompt(name) for name in sorted(PROMPTS)),
            resource(JOB_TYPES, "Heating Repair"),
            resource("servicetitan://job-types/no%20heat", "Heating Repair"),
            resource(f"interaction://{interaction_id}", "Ann Lee"),
        ]

    def every_tool(self, interaction_id: str) -> set[str]:
        """Each tool once, chained on what the previous ones returned; the names called."""
        found = self.tool("lookup_customer", phone=JORDAN_PHONE)
        customer = found["customers"][0]
        location = next(loc for loc in customer["locations"] if loc["in_service_area"])
        self.tool(
            "create_customer", name="Casey Jordan", phone="303-555-0111", street="77 S Gaylord St",
            city="Denver", state="CO", zip=80209,
        )  # fmt: skip
        slots = self.tool("get_available_slots", job_type="Heating Repair", zip=80210, max_slots=3)["slots"]
        self.tool("get_lead_queue")
        self.tool("log_message", interaction_id=interaction_id, direction="inbound", text="No heat since 6am")
        self.tool(
            "send_message", interaction_id=interaction_id,
            text="Hi Ann, this is Sam, the automated assistant of Peak Home Services. Reply STOP to opt out.",
        )  # fmt: skip
        self.tool(
            "log_call", interaction_id=interaction_id, direction="outbound", transcript="Agent: hello",
            duration_seconds=30,
        )  # fmt: skip
        self.tool("update_interaction", interaction_id=interaction_id, summary="Ann has no heat.")
        booked = self.tool(
            "book_job", customer_id=customer["customer_id"], location_id=location["location_id"],
            slot_id=slots[0]["slot_id"], summary="Furnace blowing cold air (Inspector test).",
        )  # fmt: skip
        self.tool("get_job_status", job_id=booked["job_id"])
        # After the booking (lifecycle) and the revenue conversations.
        self.tool("add_job_note", job_id=booked["job_id"], text="Gate code 4411, dog in the yard")
        self.tool("get_technician_eta", job_id=booked["job_id"])
        past = self.tool("get_customer_history", customer_id=customer["customer_id"])["jobs"]
        self.tool("emergency_triage", description="I smell gas in the basement")
        self.tool("request_callback", interaction_id=interaction_id, reason="Wants to talk about a furnace")
        done = next(job for job in past if job["status"] == "Completed")
        self.tool("survey_post_job", job_id=done["job_id"])
        self.tool("request_invoice", job_id=done["job_id"])
        self.tool("upsell_membership", customer_id=customer["customer_id"])
        self.tool("record_membership_interest", customer_id=customer["customer_id"], note="Asked about plans")
        self.tool("book_maintenance_visit", customer_id=customer["customer_id"])
        self.tool("get_open_estimates", customer_id=customer["customer_id"])
        self.tool("reschedule_job", job_id=booked["job_id"], slot_id=slots[-1]["slot_id"])
        self.tool("cancel_job", job_id=booked["job_id"], reason="Customer fixed it themselves")
        self.tool("list_interactions")
        self.tool("get_interaction", interaction_id=interaction_id)
        self.tool("interaction_stats")
        self.tool(
            "escalate_to_dispatcher", interaction_id=interaction_id, reason="human_request", note="Asks"
        )
        self.tool("takeover_interaction", interaction_id=interaction_id)
        self.tool("dismiss_interaction", interaction_id=interaction_id, reason="Handled by phone")
        self.tool("get_audit_log", limit=5)
        return {
            "lookup_customer", "create_customer", "get_available_slots", "ingest_lead", "get_lead_queue",
            "log_message", "send_message", "log_call", "update_interaction", "book_job", "get_job_status",
            "reschedule_job", "cancel_job", "list_interactions", "get_interaction", "interaction_stats",
            "escalate_to_dispatcher", "takeover_interaction", "dismiss_interaction", "get_audit_log",
            "add_job_note", "get_technician_eta", "get_customer_history", "emergency_triage",
            "request_callback", "survey_post_job", "request_invoice", "upsell_membership",
            "record_membership_interest", "book_maintenance_visit", "get_open_estimates",
        }  # fmt: skip


def run_all(checks: Sequence[Callable[[], None]], workers: int) -> None:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for future in [pool.submit(check) for check in checks]:
            future.result()


def test_inspector_over_streamable_http(inspector: Inspector, tmp_path: Path) -> None:  # noqa: F811
    port = free_port()
    args = ["serve", "--transport", "http", "--host", "127.0.0.1", "--port", str(port)]
    env = server_env(tmp_path, ST_MCP_ROLE="manager")
    with spawn("st-mcp serve --transport http", args, env, tmp_path) as server, explained(server):
        wait_for_port(server, port)
        session = Session(inspector, [f"http://127.0.0.1:{port}/mcp"])
        session.lists()
        interaction_id = session.new_lead()
        run_all(session.reads(interaction_id), workers=2)
        assert session.every_tool(interaction_id) == {spec.name for spec in TOOLS}
        assert session.call("--method", "logging/setLevel", "--log-level", "warning") == {}
        assert "Traceback" not in server.stderr


def test_inspector_over_stdio(inspector: Inspector, tmp_path: Path) -> None:  # noqa: F811
    # Each invocation starts its own server process on the same store, as a desktop client would.
    env = server_env(tmp_path, ST_MCP_ROLE="manager")
    target = [sys.executable, "-m", "st_mcp", "--cwd", str(tmp_path)]
    for key, value in env.items():
        target += ["-e", f"{key}={value}"]
    session = Session(inspector, target)
    session.lists()
    interaction_id = session.new_lead()
    run_all(session.reads(interaction_id), workers=2)
