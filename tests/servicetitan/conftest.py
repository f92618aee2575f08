from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from st_mcp.servicetitan import Endpoints, RetryPolicy, ServiceTitanClient

API = "https://api.example.test"
TOKEN_URL = "https://auth.example.test/connect/token"
TENANT = 1234
SECRET = "cs1.super-secret-value"
APP_KEY = "ak1.app-key-value"


class RecordingSleep:
    """Stands in for anyio.sleep so retry waits are observed, not slept."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleeps() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
async def client(sleeps: RecordingSleep) -> AsyncIterator[ServiceTitanClient]:
    st = ServiceTitanClient(
        tenant_id=TENANT,
        client_id="cid.example",
        client_secret=SECRET,
        app_key=APP_KEY,
        endpoints=Endpoints(API, TOKEN_URL),
        retry_policy=RetryPolicy(max_attempts=4, sleep=sleeps),
        requests_per_second=1000,
    )
    async with st:
        yield st


def token_body(token: str = "tok-1") -> dict[str, object]:
    return {"access_token": token, "expires_in": 900, "token_type": "Bearer", "scope": "tn.crm.customers:r"}


def page(data: list[dict[str, object]], *, number: int = 1, has_more: bool = False) -> dict[str, object]:
    return {"page": number, "pageSize": 50, "hasMore": has_more, "totalCount": None, "data": data}
