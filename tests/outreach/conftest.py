"""Speed to Lead tests reuse the interactions fixtures: a real in-memory client per principal. ``web`` is
the server's HTTP app (webhooks) and ``texter`` an agent whose server texts through Twilio; both use the
harness's store and sandbox tenant."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from mcp import Client
from pydantic import SecretStr

from st_mcp.config import Settings
from st_mcp.messaging.settings import MessagingSettings
from st_mcp.server import create_server
from tests.interactions.conftest import Harness
from tests.interactions.conftest import agent as agent
from tests.interactions.conftest import csr as csr
from tests.interactions.conftest import harness as harness
from tests.interactions.conftest import store_url as store_url

SECRET = "whsec-test-0123456789abcdef"
TWILIO_TOKEN = "twilio-token-0123456789abcdef"


def twilio_settings(harness: Harness) -> Settings:
    """The harness's settings (same store, same sandbox tenant) with the Twilio gateway."""
    messaging = MessagingSettings(
        gateway="twilio",
        twilio_account_sid="AC0123456789abcdef0123456789abcdef",
        twilio_auth_token=SecretStr(TWILIO_TOKEN),
        twilio_from_number="+13035550100",
        public_base_url="https://agent.example.com",
        lead_webhook_secret=SecretStr(SECRET),
    )
    return harness.settings.model_copy(update={"messaging": messaging})


@pytest.fixture
async def web(harness: Harness) -> AsyncIterator[httpx.AsyncClient]:
    app = create_server(twilio_settings(harness), upstream=harness.upstream).streamable_http_app(
        host="127.0.0.1"
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        yield client


@pytest.fixture
async def texter(harness: Harness) -> AsyncIterator[Client]:
    """The agent on a server that texts through Twilio (the store is the one ``web`` writes to)."""
    async with Client(create_server(twilio_settings(harness), upstream=harness.upstream)) as connected:
        yield connected
