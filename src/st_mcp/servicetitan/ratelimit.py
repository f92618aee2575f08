"""Client-side pacing so this process stays under ServiceTitan's per-tenant limit (60 requests/s)."""

from __future__ import annotations

from aiolimiter import AsyncLimiter


def tenant_limiter(requests_per_second: float) -> AsyncLimiter:
    # aiolimiter is a leaky bucket: bursts up to the rate, then smooth pacing.
    return AsyncLimiter(max_rate=requests_per_second, time_period=1.0)
