"""The client's transport rules, checked against respx-mocked ServiceTitan answers."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import anyio
import httpx
import pytest
import respx

from st_mcp.servicetitan import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    ServerError,
    ServiceTitanClient,
    TokenError,
    UpstreamUnavailableError,
)
from st_mcp.servicetitan.http import encode_query
from st_mcp.servicetitan.models.jpm import AppointmentInput, CreateJobRequest
from tests.servicetitan.conftest import (
    API,
    APP_KEY,
    SECRET,
    TENANT,
    TOKEN_URL,
    RecordingSleep,
    page,
    token_body,
)

pytestmark = pytest.mark.anyio

BUSINESS_UNITS = f"{API}/settings/v2/tenant/{TENANT}/business-units"
JOBS = f"{API}/jpm/v2/tenant/{TENANT}/jobs"
BU = {"id": 7, "active": True, "name": "HVAC"}


def job_request() -> CreateJobRequest:
    start = datetime(2026, 3, 16, 16, tzinfo=UTC)
    return CreateJobRequest(
        customerId=1,
        locationId=2,
        businessUnitId=3,
        jobTypeId=4,
        priority="Normal",
        campaignId=5,
        appointments=[AppointmentInput(start=start, end=start.replace(hour=18))],
    )


@respx.mock
async def test_one_token_for_a_hundred_concurrent_calls(client: ServiceTitanClient) -> None:
    token = respx.post(TOKEN_URL).mock(return_value=httpx.Response(200, json=token_body()))
    api = respx.get(BUSINESS_UNITS).mock(return_value=httpx.Response(200, json=page([BU])))

    async with anyio.create_task_group() as tg:
        for _ in range(100):
            tg.start_soon(client.settings.list_business_units)

    assert token.call_count == 1
    assert api.call_count == 100
    sent = api.calls.last.request
    assert sent.headers["ST-App-Key"] == APP_KEY
    assert sent.headers["Authorization"] == "Bearer tok-1"
    form = token.calls.last.request.content.decode()
    assert "grant_type=client_credentials" in form and "client_id=cid.example" in form


@respx.mock
async def test_token_is_refreshed_before_it_expires(client: ServiceTitanClient) -> None:
    token = respx.post(TOKEN_URL).mock(
        side_effect=[
            httpx.Response(200, json=token_body("tok-1")),
            httpx.Response(200, json=token_body("tok-2")),
        ]
    )
    api = respx.get(BUSINESS_UNITS).mock(return_value=httpx.Response(200, json=page([BU])))

    await client.settings.list_business_units()
    await client.settings.list_business_units()
    assert token.call_count == 1

    # 30 s left of the 900 s lifetime: inside the 60 s leeway, so the next call refreshes first.
    client.http.tokens.token["expires_at"] = int(time.time()) + 30
    await client.settings.list_business_units()

    assert token.call_count == 2
    assert api.calls.last.request.headers["Authorization"] == "Bearer tok-2"


@respx.mock
async def test_a_401_gets_one_fresh_token_then_succeeds(client: ServiceTitanClient) -> None:
    token = respx.post(TOKEN_URL).mock(
        side_effect=[httpx.Response(200, json=token_body("old")), httpx.Response(200, json=token_body("new"))]
    )
    api = respx.get(BUSINESS_UNITS).mock(
        side_effect=[httpx.Response(401), httpx.Response(200, json=page([BU]))]
    )

    result = await client.settings.list_business_units()

    assert result.data[0].name == "HVAC"
    assert token.call_count == 2
    assert [c.request.headers["Authorization"] for c in api.calls] == ["Bearer old", "Bearer new"]


@respx.mock
async def test_a_second_401_is_a_clear_error_without_secrets(client: ServiceTitanClient) -> None:
    token = respx.post(TOKEN_URL).mock(return_value=httpx.Response(200, json=token_body()))
    api = respx.get(BUSINESS_UNITS).mock(return_value=httpx.Response(401))

    with pytest.raises(AuthenticationError) as caught:
        await client.settings.list_business_units()

    assert token.call_count == 2
    assert api.call_count == 2
    message = str(caught.value)
    assert "ST_APP_KEY" in message
    assert SECRET not in message and APP_KEY not in message


@respx.mock
async def test_token_endpoint_refusal_names_the_settings_not_the_secret(client: ServiceTitanClient) -> None:
    respx.post(TOKEN_URL).mock(return_value=httpx.Response(400, json={"error": "invalid_client"}))

    with pytest.raises(TokenError) as caught:
        await client.settings.list_business_units()

    assert "invalid_client" in str(caught.value)
    assert "ST_CLIENT_SECRET" in str(caught.value)
    assert SECRET not in str(caught.value)


@respx.mock
async def test_429_waits_for_retry_after(client: ServiceTitanClient, sleeps: RecordingSleep) -> None:
    respx.post(TOKEN_URL).mock(return_value=httpx.Response(200, json=token_body()))
    limited = httpx.Response(
        429, headers={"Retry-After": "3"}, json={"title": "Too many requests", "status": 429}
    )
    api = respx.get(BUSINESS_UNITS).mock(side_effect=[limited, httpx.Response(200, json=page([BU]))])

    await client.settings.list_business_units()

    assert api.call_count == 2
    # The retry waits Retry-After; the pacer holds every other request for the same time (the sleep
    # here is recorded, not slept, so the retry's own admission sees the hold too).
    assert sleeps.waits[0] == 3.0
    assert len(sleeps.waits) == 2 and 2.5 < sleeps.waits[1] <= 3.0


@respx.mock
async def test_429_on_a_create_is_retried_because_it_was_never_processed(
    client: ServiceTitanClient, sleeps: RecordingSleep
) -> None:
    respx.post(TOKEN_URL).mock(return_value=httpx.Response(200, json=token_body()))
    created = {
        "id": 900, "jobNumber": "900", "customerId": 1, "locationId": 2, "jobStatus": "Scheduled",
        "businessUnitId": 3, "jobTypeId": 4, "priority": "Normal", "campaignId": 5, "appointmentCount": 1,
        "firstAppointmentId": 901, "lastAppointmentId": 901, "createdOn": "2026-03-14T00:00:00Z",
        "modifiedOn": "2026-03-14T00:00:00Z",
    }  # fmt: skip
    api = respx.post(JOBS).mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "1"}), httpx.Response(200, json=created)]
    )

    job = await client.jpm.create_job(job_request())

    assert job.id == 900
    assert api.call_count == 2
    assert sleeps.waits[0] == 1.0


@respx.mock
async def test_reads_retry_5xx_with_capped_backoff(
    client: ServiceTitanClient, sleeps: RecordingSleep
) -> None:
    respx.post(TOKEN_URL).mock(return_value=httpx.Response(200, json=token_body()))
    api = respx.get(BUSINESS_UNITS).mock(
        side_effect=[httpx.Response(503), httpx.Response(502), httpx.Response(200, json=page([BU]))]
    )

    await client.settings.list_business_units()

    assert api.call_count == 3
    assert len(sleeps.waits) == 2
    assert all(0 < wait <= 4.0 for wait in sleeps.waits)


@respx.mock
async def test_reads_give_up_after_max_attempts(client: ServiceTitanClient) -> None:
    respx.post(TOKEN_URL).mock(return_value=httpx.Response(200, json=token_body()))
    api = respx.get(BUSINESS_UNITS).mock(return_value=httpx.Response(500, json={"title": "Boom"}))

    with pytest.raises(ServerError, match="Boom"):
        await client.settings.list_business_units()
    assert api.call_count == 4


@respx.mock
async def test_reads_retry_timeouts(client: ServiceTitanClient) -> None:
    respx.post(TOKEN_URL).mock(return_value=httpx.Response(200, json=token_body()))
    api = respx.get(BUSINESS_UNITS).mock(
        side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200, json=page([BU]))]
    )

    await client.settings.list_business_units()
    assert api.call_count == 2


@respx.mock
async def test_creates_are_not_retried_on_5xx(client: ServiceTitanClient, sleeps: RecordingSleep) -> None:
    respx.post(TOKEN_URL).mock(return_value=httpx.Response(200, json=token_body()))
    api = respx.post(JOBS).mock(return_value=httpx.Response(503))

    with pytest.raises(ServerError):
        await client.jpm.create_job(job_request())
    assert api.call_count == 1
    assert sleeps.waits == []


@respx.mock
async def test_creates_are_not_retried_on_timeout(client: ServiceTitanClient) -> None:
    respx.post(TOKEN_URL).mock(return_value=httpx.Response(200, json=token_body()))
    api = respx.post(JOBS).mock(side_effect=httpx.ReadTimeout("slow"))

    with pytest.raises(UpstreamUnavailableError, match="timed out"):
        await client.jpm.create_job(job_request())
    assert api.call_count == 1


@respx.mock
async def test_problem_details_become_typed_errors(client: ServiceTitanClient) -> None:
    respx.post(TOKEN_URL).mock(return_value=httpx.Response(200, json=token_body()))
    problem = {
        "type": "https://tools.ietf.org/html/rfc7231#section-6.5.1",
        "title": "One or more validation errors occurred.",
        "status": 400,
        "traceId": "00-abc-def-00",
        "errors": {"appointments": ["The Appointments field is required."]},
        "data": {},
    }
    respx.post(JOBS).mock(return_value=httpx.Response(400, json=problem))
    respx.get(f"{JOBS}/77").mock(
        return_value=httpx.Response(404, json={**problem, "status": 404, "errors": {}})
    )
    respx.put(f"{JOBS}/78/cancel").mock(return_value=httpx.Response(409, json={**problem, "status": 409}))

    with pytest.raises(BadRequestError) as bad:
        await client.jpm.create_job(job_request())
    assert bad.value.status == 400
    assert bad.value.errors == {"appointments": ["The Appointments field is required."]}
    assert bad.value.trace_id == "00-abc-def-00"
    assert "appointments" in str(bad.value)

    with pytest.raises(NotFoundError):
        await client.jpm.get_job(77)

    from st_mcp.servicetitan.models.jpm import CancelJobRequest

    with pytest.raises(ConflictError):
        await client.jpm.cancel_job(78, CancelJobRequest(reasonId=1, memo="customer asked"))


@respx.mock
async def test_iteration_walks_every_page(client: ServiceTitanClient) -> None:
    respx.post(TOKEN_URL).mock(return_value=httpx.Response(200, json=token_body()))
    leads_url = f"{API}/crm/v2/tenant/{TENANT}/leads"

    def lead(lead_id: int) -> dict[str, object]:
        return {
            "id": lead_id, "status": "Open", "priority": "Normal", "campaignId": 1,
            "createdOn": "2026-03-14T00:00:00Z", "modifiedOn": "2026-03-14T00:00:00Z",
        }  # fmt: skip

    def answer(request: httpx.Request) -> httpx.Response:
        number = int(request.url.params["page"])
        ids = {1: [1, 2], 2: [3, 4], 3: [5]}[number]
        return httpx.Response(200, json=page([lead(i) for i in ids], number=number, has_more=number < 3))

    route = respx.get(leads_url).mock(side_effect=answer)

    seen = [lead.id async for lead in client.crm.iter_leads(status="Open")]

    assert seen == [1, 2, 3, 4, 5]
    assert route.call_count == 3
    assert [c.request.url.params["page"] for c in route.calls] == ["1", "2", "3"]
    assert all(c.request.url.params["status"] == "Open" for c in route.calls)


@respx.mock
async def test_meter_counts_requests_per_scope(client: ServiceTitanClient) -> None:
    respx.post(TOKEN_URL).mock(return_value=httpx.Response(200, json=token_body()))
    respx.get(BUSINESS_UNITS).mock(return_value=httpx.Response(200, json=page([BU])))

    async def two_calls(results: list[int]) -> None:
        with client.meter.measure() as recording:
            await client.settings.list_business_units()
            await client.settings.list_business_units()
        results.append(recording.count)

    with client.meter.measure() as outer:
        counts: list[int] = []
        async with anyio.create_task_group() as tg:
            tg.start_soon(two_calls, counts)
            tg.start_soon(two_calls, counts)

    # Each scope sees its own two API calls (plus, for one of them, the single token fetch).
    assert sorted(counts) in ([2, 3], [3, 3])
    assert outer.count == 5
    assert outer.count_path("/connect/token") == 1
    assert all(call.duration_ms >= 0 for call in outer.calls)


def test_query_encoding() -> None:
    encoded = encode_query(
        {
            "createdOnOrAfter": datetime(2026, 3, 14, 23, 30, tzinfo=UTC),
            "ids": [1, 2, 3],
            "includeTotal": True,
            "name": None,
        }
    )
    assert encoded == {"createdOnOrAfter": "2026-03-14T23:30:00Z", "ids": "1,2,3", "includeTotal": "true"}
