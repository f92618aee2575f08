"""An httpx transport wrapper that reports every request to the meter, token requests included."""

from __future__ import annotations

import httpx

from st_mcp.servicetitan.metrics import UpstreamCall, UpstreamMeter


class MeteredTransport(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport, meter: UpstreamMeter) -> None:
        self._inner = inner
        self._meter = meter

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        started = self._meter.clock()
        status: int | None = None
        try:
            response = await self._inner.handle_async_request(request)
            status = response.status_code
            return response
        finally:
            elapsed = (self._meter.clock() - started) * 1000
            self._meter.record(UpstreamCall(request.method, request.url.path, status, elapsed, started))

    async def aclose(self) -> None:
        await self._inner.aclose()
