"""Fault rules: error status, reset and timeout, before or after the write, by count or probability, from
code, from a TOML file and from ``/_sandbox/faults``."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from st_mcp.config import ConfigError, load_settings
from st_mcp.sandbox import SandboxConfig, SandboxTenant, create_sandbox_app
from st_mcp.sandbox.faults import FaultRule, FaultsFileError, load_fault_rules

from .conftest import MONDAY_9AM, api_path, auth_headers, problem
from .test_jobs import job_body

pytestmark = pytest.mark.anyio

JOBS = api_path("jpm", "jobs")
JOBS_PATTERN = r"/jpm/v2/tenant/\d+/jobs$"
FAULTS = "/_sandbox/faults"


async def test_502_before_the_write_creates_nothing(api: httpx.AsyncClient, tenant: SandboxTenant) -> None:
    before = len(tenant.jobs)
    tenant.faults.add("POST", JOBS_PATTERN, 502)
    problem(await api.post(JOBS, json=job_body(tenant)), 502)
    assert len(tenant.jobs) == before


async def test_502_after_the_write_leaves_the_job(api: httpx.AsyncClient, tenant: SandboxTenant) -> None:
    before = set(tenant.jobs)
    tenant.faults.add("POST", JOBS_PATTERN, 502, when="after", retry_after=3)
    response = await api.post(JOBS, json=job_body(tenant))
    problem(response, 502)
    assert response.headers["Retry-After"] == "3"
    created = set(tenant.jobs) - before
    assert len(created) == 1  # served, stored — only the answer was lost
    assert (await api.get(f"{JOBS}/{created.pop()}")).status_code == 200


async def test_reset_before_and_after_the_write(api: httpx.AsyncClient, tenant: SandboxTenant) -> None:
    before = len(tenant.jobs)
    tenant.faults.add("POST", JOBS_PATTERN, "reset")
    with pytest.raises(httpx.ReadError):
        await api.post(JOBS, json=job_body(tenant))
    assert len(tenant.jobs) == before
    tenant.faults.add("POST", JOBS_PATTERN, "reset", when="after")
    with pytest.raises(httpx.ReadError):
        await api.post(JOBS, json=job_body(tenant))
    assert len(tenant.jobs) == before + 1


async def test_timeout_holds_then_gives_no_answer(api: httpx.AsyncClient, tenant: SandboxTenant) -> None:
    before = len(tenant.jobs)
    fault = tenant.faults.add("POST", JOBS_PATTERN, "timeout", delay_seconds=0.01, when="after")
    with pytest.raises(httpx.ReadTimeout):
        await api.post(JOBS, json=job_body(tenant))
    assert len(tenant.jobs) == before + 1 and fault.hits == 1
    assert (await api.post(JOBS, json=job_body(tenant))).status_code == 200  # times=1: spent


async def test_probability_fires_some_of_the_time_repeatably(clock) -> None:  # type: ignore[no-untyped-def]
    async def statuses() -> list[int]:
        app = create_sandbox_app(SandboxConfig(clock=clock, rate_limit_per_second=1000))
        app.state.sandbox.faults.add("GET", r"/business-hours$", 503, times=None, probability=0.3)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as http:
            headers = await auth_headers(http)
            path = api_path("dispatch", "business-hours")
            return [(await http.get(path, headers=headers)).status_code for _ in range(40)]

    first = await statuses()
    assert 0 < first.count(503) < 40 and set(first) == {200, 503}
    assert await statuses() == first  # the injector's random source is seeded


async def test_admin_endpoint_arms_lists_and_clears(api: httpx.AsyncClient, tenant: SandboxTenant) -> None:
    armed = await api.post(FAULTS, json={"method": "post", "path": JOBS_PATTERN, "status": 503, "times": 2})
    assert armed.status_code == 201
    assert armed.json()["faults"][0] | {"hits": 0} == {
        "method": "POST", "path": JOBS_PATTERN, "status": 503, "when": "before", "remaining": 2,
        "probability": 1.0, "retryAfter": None, "delayMs": 0, "hits": 0,
    }  # fmt: skip
    problem(await api.post(JOBS, json=job_body(tenant)), 503)
    listed = (await api.get(FAULTS)).json()["faults"]
    assert [(f["remaining"], f["hits"]) for f in listed] == [(1, 1)]
    assert (await api.delete(FAULTS)).status_code == 204
    assert tenant.faults.faults == []
    assert (await api.post(JOBS, json=job_body(tenant))).status_code == 200


async def test_admin_endpoint_refuses_bad_rules(api: httpx.AsyncClient) -> None:
    bad = await api.post(FAULTS, json=[{"path": "/jobs", "status": 200}])
    assert problem(bad, 400)["errors"] == {"status": ["give an error status 400-599, 'reset' or 'timeout'"]}
    nothing = await api.post(FAULTS, json={"path": "/jobs"})
    assert "a fault needs a status" in problem(nothing, 400)["errors"][""][0]
    problem(await api.post(FAULTS, content=b"{"), 400)


async def test_admin_endpoint_answers_only_this_machine() -> None:
    app = create_sandbox_app(SandboxConfig())
    transport = httpx.ASGITransport(app=app, client=("192.0.2.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as http:
        problem(await http.post(FAULTS, json={"path": "/jobs", "status": 500}), 403)
    assert app.state.sandbox.faults.faults == []


async def test_faults_never_hit_the_admin_endpoint(api: httpx.AsyncClient, tenant: SandboxTenant) -> None:
    tenant.faults.add("*", r".", 500, times=None)
    assert (await api.delete(FAULTS)).status_code == 204  # a catch-all rule can still be disarmed


def test_faults_file(tmp_path: Path) -> None:
    path = tmp_path / "faults.toml"
    path.write_text(
        """
[[fault]]
method = "POST"
path = '/jpm/v2/tenant/\\d+/jobs$'
status = 502
when = "after"

[[fault]]
path = "/capacity$"
status = "timeout"
delay_ms = 2500
probability = 0.1

[[fault]]
path = "/customers"
status = 429
retryAfter = 9
times = 3
""",
        encoding="utf-8",
    )
    rules = load_fault_rules(path)
    assert [(r.method, r.status, r.when, r.times, r.probability) for r in rules] == [
        ("POST", 502, "after", None, None),
        ("*", "timeout", "before", None, 0.1),
        ("*", 429, "before", 3, None),
    ]
    app = create_sandbox_app(SandboxConfig(faults=rules))
    faults = app.state.sandbox.faults.faults
    assert [(f.remaining, f.delay_seconds, f.retry_after) for f in faults] == [
        (1, 0.0, None),
        (None, 2.5, None),
        (3, 0.0, 9),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[fault]]\npath = "/x"\nstatus = "explode"\n', "fault #1: status"),
        ('[[fault]]\npath = "("\nstatus = 500\n', "fault #1: path: Value error, not a regular expression"),
        ('[[fault]]\npath = "/x"\nstatus = 500\ncolour = "red"\n', "fault #1: colour: Extra inputs"),
        ('[faults]\npath = "/x"\n', "unknown table 'faults'"),
        ("[[fault]\n", "faults.toml: "),
    ],
)
def test_faults_file_errors_name_the_rule(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "faults.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FaultsFileError, match=message.replace("(", r"\(")):
        load_fault_rules(path)


def test_sandbox_settings_in_toml(tmp_path: Path) -> None:
    faults = tmp_path / "faults.toml"
    faults.write_text('[[fault]]\npath = "/jobs"\nstatus = "reset"\n', encoding="utf-8")
    config = tmp_path / "st-mcp.toml"
    config.write_text(
        f'[sandbox]\nstate = "memory"\nseed = 3\nlatency_ms = 40\nfaults = "{faults}"\n', encoding="utf-8"
    )
    settings = load_settings(config, environ={})
    assert (settings.sandbox.seed, settings.sandbox.latency_ms) == (3, 40)
    assert settings.sandbox.state_path(None) is None
    env = load_settings(environ={"ST_MCP_SANDBOX_STATE": str(tmp_path / "t.db")})
    assert env.sandbox.state_path(None) == tmp_path / "t.db"
    default = load_settings(environ={"ST_MCP_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/st.db"})
    assert default.sandbox.state_path(default.database_url) == tmp_path.resolve() / "sandbox.db"

    faults.write_text('[[fault]]\npath = "/jobs"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="a fault needs a status"):
        load_settings(config, environ={})


def test_rule_model_accepts_both_spellings() -> None:
    rule = FaultRule.model_validate({"path": "/x", "status": 503, "retry_after": 1, "delayMs": 5})
    assert (rule.retry_after, rule.delay_ms) == (1, 5)


def test_clock_fixture_is_monday(tenant: SandboxTenant) -> None:
    assert tenant.now() == MONDAY_9AM


def test_the_readme_example_is_a_valid_faults_file(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    example = next(block for block in readme.split("```toml\n")[1:] if block.startswith("[[fault]]"))
    path = tmp_path / "faults.toml"
    path.write_text(example.split("```")[0], encoding="utf-8")
    (rule,) = load_fault_rules(path)
    assert (rule.method, rule.status, rule.when, rule.times, rule.retry_after) == ("POST", 502, "after", 1, 5)
