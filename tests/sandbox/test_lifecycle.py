"""The sandbox after the booking: export feeds with continuation tokens (the documents' semantics), the
job progress admin route and CLI, and technician ratings as an upsert."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from st_mcp.cli import main
from st_mcp.sandbox import SandboxClock, SandboxConfig, SandboxTenant, create_sandbox_app, exports
from st_mcp.sandbox.progress import advance_job

from .conftest import MONDAY_9AM, api_path, auth_headers, errors_of

pytestmark = pytest.mark.anyio


@pytest.fixture
async def sandbox() -> AsyncIterator[tuple[httpx.AsyncClient, SandboxTenant]]:
    app = create_sandbox_app(SandboxConfig(clock=SandboxClock(fixed=MONDAY_9AM), rate_limit_per_second=10**6))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        http.headers.update(await auth_headers(http))
        yield http, app.state.sandbox


async def feed(http: httpx.AsyncClient, token: str | None, **extra: Any) -> dict[str, Any]:
    params = {"from": token, **extra} if token else extra
    response = await http.get(api_path("jpm", "export/appointments"), params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def read_to_end(http: httpx.AsyncClient, token: str | None = None) -> tuple[list[dict[str, Any]], str]:
    rows: list[dict[str, Any]] = []
    while True:
        page = await feed(http, token)
        rows += page["data"]
        token = page["continueFrom"]
        if not page["hasMore"]:
            return rows, token


def scheduled_job(tenant: SandboxTenant) -> int:
    return next(
        j.id
        for j in tenant.jobs.values()
        if j.status == "Scheduled" and any(a.status == "Scheduled" for a in tenant.job_appointments(j))
    )


async def test_the_feed_continues_from_its_token(
    sandbox: tuple[httpx.AsyncClient, SandboxTenant], monkeypatch: pytest.MonkeyPatch
) -> None:
    http, tenant = sandbox
    monkeypatch.setattr(exports, "EXPORT_CHUNK", 50)  # several chunks: hasMore and the token carry on
    first = await feed(http, None)
    assert first["hasMore"] and len(first["data"]) == 50
    everything, token = await read_to_end(http)
    assert sorted(r["id"] for r in everything) == sorted(tenant.appointments)  # each once, none lost
    nothing = await feed(http, token)
    assert nothing == {"hasMore": False, "continueFrom": token, "data": []}

    tenant.clock.advance(60)
    job_id = scheduled_job(tenant)
    advance_job(tenant, job_id, "Dispatched")
    changed = await feed(http, token)
    assert [(r["jobId"], r["status"]) for r in changed["data"]] == [(job_id, "Dispatched")]
    assert (await feed(http, changed["continueFrom"]))["data"] == []


async def test_recent_changes_repeat_the_same_instant(
    sandbox: tuple[httpx.AsyncClient, SandboxTenant],
) -> None:
    """With a frozen clock, a record changed again in the instant the reader stopped at is not missed when
    the reader asks with includeRecentChanges (it may see rows again, as the document warns)."""
    http, tenant = sandbox
    _rows, token = await read_to_end(http)
    job_id = scheduled_job(tenant)
    advance_job(tenant, job_id, "Dispatched")
    first = await feed(http, token)
    advance_job(tenant, job_id, "Working")  # the same instant: the clock is fixed
    strict = await feed(http, first["continueFrom"])
    assert strict["data"] == []  # strictly after the token: the change of the same instant is not there
    recent = await feed(http, first["continueFrom"], includeRecentChanges="true")
    assert [r["status"] for r in recent["data"] if r["jobId"] == job_id] == ["Working"]


async def test_a_date_starts_the_feed_there_and_a_bad_token_is_a_400(
    sandbox: tuple[httpx.AsyncClient, SandboxTenant],
) -> None:
    http, _tenant = sandbox
    since = await feed(http, "2026-03-09T14:00:00Z")
    assert all(r["modifiedOn"] >= "2026-03-09T14:00:00Z" for r in since["data"])
    response = await http.get(api_path("jpm", "export/appointments"), params={"from": "not a token"})
    assert "from" in errors_of(response, 400)


async def test_ratings_are_one_per_technician_and_job(
    sandbox: tuple[httpx.AsyncClient, SandboxTenant],
) -> None:
    http, tenant = sandbox
    assignment = next(a for a in tenant.assignments.values() if a.active)
    path = "/customer-interactions/v2/tenant/4417001/technician-ratings"
    body = {"technicianId": assignment.technician_id, "jobId": assignment.job_id, "rating": 2}
    assert (await http.post(path, json=body)).status_code == 200
    assert (await http.post(path, json={**body, "rating": 4})).json()["rating"] == 4
    listed = (await http.get(path, params={"jobId": assignment.job_id})).json()["data"]
    assert [r["rating"] for r in listed] == [4]
    stranger = next(t for t in tenant.technicians if t != assignment.technician_id)
    refused = await http.post(path, json={**body, "technicianId": stranger})
    assert "technicianId" in errors_of(refused, 400)
    assert "rating" in errors_of(await http.post(path, json={**body, "rating": 9}), 400)


async def test_the_progress_route_moves_a_job(sandbox: tuple[httpx.AsyncClient, SandboxTenant]) -> None:
    http, tenant = sandbox
    job_id = scheduled_job(tenant)
    for status, job_status in (
        ("Dispatched", "Dispatched"),
        ("Working", "InProgress"),
        ("Completed", "Completed"),
    ):
        answer = await http.post(f"/_sandbox/jobs/{job_id}/progress", json={"status": status})
        assert answer.status_code == 200, answer.text
        assert answer.json()["jobStatus"] == job_status == tenant.jobs[job_id].status
    again = await http.post(f"/_sandbox/jobs/{job_id}/progress", json={"status": "Working"})
    assert "Completed" in errors_of(again, 400)["status"][0]
    assert (await http.post("/_sandbox/jobs/1/progress", json={"status": "Dispatched"})).status_code == 400


def test_the_cli_moves_a_stored_job(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "sandbox.db"
    clock = "2026-03-09T09:00:00-06:00"
    assert main(["sandbox", "reset", "--state", str(path), "--clock", clock]) == 0
    stored = create_sandbox_app(SandboxConfig(state=path)).state.sandbox
    job_id = scheduled_job(stored)
    capsys.readouterr()
    assert main(["sandbox", "progress", str(job_id), "Dispatched", "--state", str(path)]) == 0
    assert json.loads(capsys.readouterr().out) == {"jobId": job_id, "jobStatus": "Dispatched"}
    reread = create_sandbox_app(SandboxConfig(state=path)).state.sandbox
    assert reread.jobs[job_id].status == "Dispatched"
    assert reread.appointment_technician_ids(reread.jobs[job_id].appointment_ids[0])
    assert main(["sandbox", "progress", "1", "Working", "--state", str(path)]) == 2
    assert "no job 1" in capsys.readouterr().err


async def test_the_leads_feed_follows_a_lead_through_its_changes(
    sandbox: tuple[httpx.AsyncClient, SandboxTenant],
) -> None:
    """crm export/leads: every lead from a date, a new one after the token, its dismissal as a repeat."""
    http, tenant = sandbox
    path = api_path("crm", "export/leads")

    async def leads(token: str, **extra: Any) -> dict[str, Any]:
        response = await http.get(path, params={"from": token, **extra})
        assert response.status_code == 200, response.text
        return dict(response.json())

    everything = await leads("2000-01-01")
    assert sorted(r["id"] for r in everything["data"]) == sorted(tenant.leads)
    assert all("active" in r and r["modifiedOn"] >= r["createdOn"] for r in everything["data"])
    token = everything["continueFrom"]
    assert (await leads(token))["data"] == []

    tenant.clock.advance(60)
    campaign = next(iter(tenant.campaigns))
    body = {"campaignId": campaign, "summary": "Water heater leaking", "leadPhone": "3035550111"}
    created = (await http.post(api_path("crm", "leads"), json=body)).json()
    new = await leads(token, includeRecentChanges="true")
    *repeated, last = new["data"]
    assert (last["id"], last["status"]) == (created["id"], "Open")
    assert repeated == [
        r for r in everything["data"] if r["modifiedOn"] == everything["data"][-1]["modifiedOn"]
    ]
    tenant.clock.advance(60)
    dismissed = await http.post(
        api_path("crm", f"leads/{created['id']}/dismiss"), json={"dismissingReasonId": 3}
    )
    assert dismissed.status_code == 200, dismissed.text
    again = await leads(new["continueFrom"])  # strictly after the token: the dismissal alone
    assert [(r["id"], r["status"]) for r in again["data"]] == [(created["id"], "Dismissed")]
    assert "from" in errors_of(await http.get(path, params={"from": "not a token"}), 400)
