"""A record (an open estimate, a member's due tune-up) is taken in as a follow-up once across processes —
and a claim its process never finished (killed between the claim and the take-in) does not lose it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from st_mcp.store import Store
from st_mcp.store.revenue import ABANDONED_AFTER, UNUSABLE, FollowUpClaims

pytestmark = pytest.mark.anyio
T0 = datetime(2026, 5, 5, 16, 30, tzinfo=UTC)


@pytest.fixture
async def claims(store_url: str) -> AsyncIterator[FollowUpClaims]:
    store = await Store.open(store_url)
    try:
        yield FollowUpClaims(store.engine, "4417001", "estimate")
    finally:
        await store.close()


async def test_a_record_is_claimed_once(claims: FollowUpClaims) -> None:
    assert await claims.claim(30001, T0)
    assert not await claims.claim(30001, T0 + timedelta(seconds=5)), "another process is taking it in"
    await claims.link(30001, "int-1")
    assert not await claims.claim(30001, T0 + timedelta(days=2)), "taken in: never again"


async def test_a_claim_its_process_never_finished_is_taken_again(claims: FollowUpClaims) -> None:
    assert await claims.claim(30002, T0)  # ... and the replica dies before the conversation is made
    assert not await claims.claim(30002, T0 + ABANDONED_AFTER - timedelta(seconds=1))
    assert await claims.claim(30002, T0 + ABANDONED_AFTER + timedelta(seconds=1)), "abandoned: taken again"
    assert not await claims.claim(30002, T0 + ABANDONED_AFTER + timedelta(seconds=2))


async def test_a_record_that_cannot_be_taken_in_is_not_retried(claims: FollowUpClaims) -> None:
    assert await claims.claim(30003, T0)
    await claims.link(30003, UNUSABLE)  # no phone on the customer
    assert not await claims.claim(30003, T0 + timedelta(days=2))
