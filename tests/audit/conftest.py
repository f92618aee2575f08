"""Fixtures for the audit tests: the server harness of ``tests/server`` (real ``MCPServer``, real in-memory
``Client``, embedded sandbox pinned to Tuesday 2026-05-05 10:30 Denver, a SQLite file per test), plus
clients connected as other roles and a way to read the audit table independently of the server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from mcp import Client

from st_mcp.config import AccessSettings, IdentitySettings
from st_mcp.policy.audit import AuditRecord
from st_mcp.server import create_server
from st_mcp.store.audit import AuditLog
from tests.server.conftest import FIXED_NOW, Harness, ok, refused
from tests.server.conftest import harness as harness  # the fixture, re-exported
from tests.server.conftest import store_url as store_url

__all__ = ["FIXED_NOW", "Harness", "audit_records", "connect_as", "ok", "refused"]


def connect_as(harness: Harness, role: str, principal: str, **access: Any) -> Client:
    """A client of a second server on the harness's store and sandbox, with this identity."""
    settings = harness.settings.model_copy(
        update={
            "identity": IdentitySettings(role=role, principal=principal),
            "access": AccessSettings(**{"roles": harness.settings.access.roles, **access}),
        }
    )
    return Client(create_server(settings, upstream=harness.upstream))


async def audit_records(harness: Harness) -> list[AuditRecord]:
    """Every audit record, oldest first, read straight from the database file."""
    return [record async for record in AuditLog(harness.engine).iter_since()]


@pytest.fixture
async def agent(harness: Harness) -> AsyncIterator[Client]:
    async with harness.connect() as connected:
        yield connected
