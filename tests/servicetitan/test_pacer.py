"""The client's pacer against ServiceTitan's own rule: never more than the limit in any rolling window.

The sandbox's ``SlidingWindowLimiter`` is the referee: every request's arrival, placed anywhere between
when the pacer admitted it and when its answer came back, is counted as the sandbox counts requests.
"""

from __future__ import annotations

import random
import time

import anyio
import httpx
import pytest
import respx

from st_mcp.config import load_settings
from st_mcp.sandbox.ratelimit import SlidingWindowLimiter
from st_mcp.servicetitan import Endpoints, ServiceTitanClient
from st_mcp.servicetitan.ratelimit import SlidingWindowPacer
from st_mcp.upstream import connect_servicetitan
from tests.servicetitan.conftest import API, TENANT, TOKEN_URL, page, token_body

pytestmark = pytest.mark.anyio


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


async def test_the_request_past_the_limit_waits_a_full_window_after_the_oldest_answer() -> None:
    fake = FakeTime()
    pacer = SlidingWindowPacer(3, 1.0, clock=fake.clock, sleep=fake.sleep)
    for _ in range(3):
        async with pacer.slot():
            fake.now += 0.25  # each answer takes a quarter second
    assert fake.now == 0.75 and fake.slept == []
    async with pacer.slot():
        pass
    # The oldest answered at 0.25, so it may have arrived as late as that: wait until 1.25.
    assert fake.now == 1.25
    assert fake.slept == [0.5]


async def test_a_request_waits_for_the_oldest_still_in_flight() -> None:
    fake = FakeTime()
    pacer = SlidingWindowPacer(1, 1.0, clock=fake.clock, sleep=fake.sleep)
    order: list[str] = []

    async def first() -> None:
        async with pacer.slot():
            order.append("first sent")
            await anyio.sleep(0.05)  # in flight: its arrival time is unknown
            fake.now = 2.0
            order.append("first answered")

    async def second() -> None:
        await anyio.sleep(0.01)
        async with pacer.slot():
            order.append("second sent")

    async with anyio.create_task_group() as tg:
        tg.start_soon(first)
        tg.start_soon(second)
    assert order == ["first sent", "first answered", "second sent"]
    assert fake.now == 3.0  # a full window after the first one's answer


async def test_hold_stops_everyone_until_retry_after_has_passed() -> None:
    fake = FakeTime()
    pacer = SlidingWindowPacer(60, 1.0, clock=fake.clock, sleep=fake.sleep)
    pacer.hold(4.0)
    async with pacer.slot():
        pass
    assert fake.now == 4.0


async def test_no_rolling_window_at_servicetitan_ever_holds_more_than_the_limit() -> None:
    """Many concurrent callers, answers of random latency, arrivals anywhere in between: the sandbox's
    limiter, replaying the arrivals in order, refuses none of them."""
    limit, window = 8, 0.2
    pacer = SlidingWindowPacer(limit, window)
    arrivals: list[float] = []
    rng = random.Random(7)

    async def request() -> None:
        latency = rng.uniform(0.0, 0.03)
        async with pacer.slot():
            admitted = time.monotonic()
            await anyio.sleep(latency)
            answered = time.monotonic()
            arrivals.append(rng.uniform(admitted, answered))

    async with anyio.create_task_group() as tg:
        for _ in range(60):
            tg.start_soon(request)

    referee_now = [0.0]
    referee = SlidingWindowLimiter(limit, window, now=lambda: referee_now[0])
    refused = 0
    for arrival in sorted(arrivals):
        referee_now[0] = arrival
        refused += referee.acquire("tenant") is not None
    assert len(arrivals) == 60
    assert refused == 0


async def test_a_burst_beyond_the_limit_is_paced_not_refused_by_the_sandbox() -> None:
    """Through the real client and the embedded sandbox, which answers 429 past 60 in a rolling second
    (the leaky bucket used before let 60 through, then 60 more a second later, and drew 429s)."""
    upstream = connect_servicetitan(load_settings(environ={}).servicetitan)
    st = upstream.client
    async with st:
        with st.meter.measure() as recording:
            async with anyio.create_task_group() as tg:
                for _ in range(100):
                    tg.start_soon(st.settings.list_business_units)
    assert recording.count_path("business-units") == 100
    assert [call.status for call in recording.calls if call.status == 429] == []


@respx.mock
async def test_a_token_near_its_end_is_replaced_in_the_background() -> None:
    token = respx.post(TOKEN_URL).mock(
        side_effect=[
            httpx.Response(200, json=token_body("tok-1")),
            httpx.Response(200, json=token_body("tok-2")),
        ]
    )
    api = respx.get(f"{API}/settings/v2/tenant/{TENANT}/business-units").mock(
        return_value=httpx.Response(200, json=page([{"id": 7, "active": True, "name": "HVAC"}]))
    )
    st = ServiceTitanClient(
        tenant_id=TENANT, client_id="cid", client_secret="s", app_key="k", endpoints=Endpoints(API, TOKEN_URL)
    )
    async with st:
        await st.settings.list_business_units()
        # 2 minutes left: still valid, but inside the refresh-ahead margin.
        st.http.tokens.token["expires_at"] = int(time.time()) + 120
        async with anyio.create_task_group() as tg:
            for _ in range(20):
                tg.start_soon(st.settings.list_business_units)
        # Those calls went out with the old token; one replacement was fetched beside them.
        assert {c.request.headers["Authorization"] for c in api.calls[1:21]} == {"Bearer tok-1"}
        for _ in range(50):
            if token.call_count == 2:
                break
            await anyio.sleep(0.01)
        await st.settings.list_business_units()
    assert token.call_count == 2
    assert api.calls.last.request.headers["Authorization"] == "Bearer tok-2"
