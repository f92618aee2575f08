"""Two tenants on one database, on SQLite and PostgreSQL: each store class sees, counts, searches, updates
and locks only its own tenant's rows; the same natural key lives in both tenants independently; each
tenant's audit chain is its own. And a store at revision 0006 with rows reaches 0007 with every row in
the default tenant, the rollup triggers still counting (per tenant), and goes back down."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import pytest
from alembic import command
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from st_mcp import audit_commands
from st_mcp.policy.audit import audit_event
from st_mcp.store import BookingRecord, EscalationRecord, Store, migrate
from st_mcp.store.audit import AuditLog, audit_tenants
from st_mcp.store.counters import Filter
from st_mcp.store.deliveries import PENDING, DeliveryRecords
from st_mcp.store.engine import create_engine, open_engine
from st_mcp.store.interactions import (
    CallRow,
    DeliveryRow,
    InteractionRecords,
    ListFilter,
    MessageRow,
    StaleStatus,
    StatusChange,
)
from st_mcp.store.leases import LeaseTimeout, lease
from st_mcp.store.receipts import AlreadyReceived, Receipt, take_receipt
from st_mcp.store.schema import (
    audit_events,
    escalations,
    interaction_counts,
    metadata,
    speed_to_lead_counts,
)
from st_mcp.store.secrets import shared_secret
from st_mcp.store.suppressions import OptChange, SuppressionList
from st_mcp.store.tenancy import DEFAULT_TENANT
from st_mcp.store.transaction import serialized
from st_mcp.store.watermarks import Watermarks
from tests.postgres import needs_postgres

pytestmark = pytest.mark.anyio

A, B = "acme", "bravo"
T0 = datetime(2026, 5, 5, 15, 0, tzinfo=UTC)
PHONE = "+17205550193"


@pytest.fixture
async def stores(store_url: str) -> AsyncIterator[tuple[Store, Store]]:
    """Tenant A's store and B's, scoped from it: one engine, one database."""
    a = await Store.open(store_url, tenant=A)
    try:
        yield a, a.scoped(B)
    finally:
        await a.close()


def _interaction(n: int, **values: Any) -> dict[str, Any]:
    return {
        "id": f"int_{n:04d}",
        "goal": "Speed to Lead",
        "channel": "SMS Agent",
        "type": "Lead",
        "status": "New",
        "name": "Maria Smithson",
        "phone": PHONE,
        "request": "furnace makes a banging noise",
        "servicetitan_lead_id": 501,
        "customer_id": 77,
        "received_at": T0,
        "last_activity_at": T0,
        "inbound_count": 0,
        "outbound_count": 0,
        **values,
    }


async def _conversation(records: InteractionRecords, n: int) -> str:
    """An interaction with a first touch, a reply, a call and a delivery: every row kind it owns."""
    row = _interaction(n)
    await records.create(row, actor="test", reason=None)
    out = MessageRow(f"msg_{n}_1", row["id"], "outbound", "sms", "agent", None, "Hi Maria", T0)
    await records.add_message(
        out,
        {"first_outbound_at": T0 + timedelta(seconds=40), "outbound_count": 1},
        expected_status="New",
        change=StatusChange("Contacted", None, "agent"),
        delivery=DeliveryRow(out.id, "twilio", f"SM{n}", PENDING),
    )
    reply = MessageRow(f"msg_{n}_2", row["id"], "inbound", "sms", "lead", None, "yes please", T0)
    await records.add_message(
        reply, {"inbound_count": 1, "last_inbound_at": T0}, expected_status="Contacted", change=None
    )
    call = CallRow(f"call_{n}", row["id"], "outbound", "hello", None, 30, None, "agent", None, T0)
    await records.add_call(call, {"last_activity_at": T0}, expected_status="Contacted", change=None)
    return str(row["id"])


# -- interactions, messages, calls, deliveries, the rollup and search --------------------------------------
async def test_one_tenants_interactions_are_invisible_to_the_other(stores: tuple[Store, Store]) -> None:
    a, b = stores
    mine = await _conversation(a.interactions, 1)
    everything = ListFilter()
    day = ListFilter(since=T0.replace(hour=0), until=T0.replace(hour=0) + timedelta(days=1))

    # A sees its conversation through every read ...
    assert (await a.interactions.get(mine)) is not None
    assert [r.id for r in await a.interactions.page(everything, limit=10, after=None)] == [mine]
    assert await a.interactions.count(everything) == 1  # the rollup's months
    assert await a.interactions.count(day) == 1  # a whole day of the rollup
    assert await a.interactions.count(ListFilter(since=T0 - timedelta(hours=1))) == 1  # an edge: the rows
    assert [r.id for r in await a.interactions.matching(ListFilter(search="smithson"))] == [mine]
    assert [r.id for r in await a.interactions.matching(ListFilter(search="0193"))] == [mine]
    tally = await a.interactions.counters.tally(Filter())
    assert (tally.conversations, tally.contacted, tally.responded, sum(tally.histogram.values())) == (
        1,
        1,
        1,
        1,
    )

    # ... and B through none of them.
    assert await b.interactions.get(mine) is None
    assert await b.interactions.page(everything, limit=10, after=None) == []
    assert await b.interactions.count(everything) == 0
    assert await b.interactions.count(day) == 0
    assert await b.interactions.count(ListFilter(since=T0 - timedelta(hours=1))) == 0
    assert await b.interactions.count(ListFilter(search="smithson")) == 0
    assert await b.interactions.matching(ListFilter(search="0193")) == []
    tally = await b.interactions.counters.tally(Filter())
    assert (tally.conversations, tally.contacted, tally.responded, tally.histogram) == (0, 0, 0, {})
    assert (await b.interactions.counters.tally(Filter(since=T0 - timedelta(hours=1)))).conversations == 0
    high = {"open_statuses": ["Contacted"], "threshold": 1, "window_end": T0 + timedelta(hours=1)}
    assert await a.interactions.counters.high_activity(Filter(), **high) == 1
    assert await b.interactions.counters.high_activity(Filter(), **high) == 0
    assert await b.interactions.exists_for_lead(501) is False
    assert await b.interactions.in_statuses(["Contacted"], limit=10) == []
    assert await b.interactions.latest_open_for_phone(PHONE, ["Contacted"]) is None
    assert await b.interactions.linked(lead_id=501, customer_id=77, phones=[PHONE]) == []
    assert await b.interactions.messages(mine) == []
    assert await b.interactions.calls(mine) == []
    assert await b.interactions.history(mine) == []
    assert await b.interactions.deliveries(mine) == {}
    assert await b.interactions.touches_by_interaction([mine]) == {mine: []}
    assert await b.interactions.outbound_times([mine], T0 - timedelta(days=1)) == []
    assert await b.interactions.last_inbound_texts([mine]) == {}
    assert await b.interactions.inbound_counts_since(T0 - timedelta(days=1), T0 + timedelta(days=1)) == {}
    # Nor can B change it: the guarded update finds no row of B's (the not-found path).
    with pytest.raises(StaleStatus):
        await b.interactions.update(mine, {"summary": "B was here"}, expected_status="Contacted", at=T0)
    reply = MessageRow("msg_b", mine, "inbound", "sms", "lead", None, "from B", T0)
    with pytest.raises(StaleStatus):
        await b.interactions.add_message(
            reply, {"inbound_count": 2}, expected_status="Contacted", change=None
        )
    assert (await a.interactions.get(mine)).summary is None  # type: ignore[union-attr]
    assert len(await a.interactions.messages(mine)) == 2

    # B's own conversation (same phone, same lead) is counted for B alone.
    theirs = await _conversation(b.interactions, 2)
    assert [r.id for r in await b.interactions.matching(ListFilter(search="0193"))] == [theirs]
    assert await a.interactions.count(everything) == 1 and await b.interactions.count(everything) == 1
    assert (await a.interactions.latest_open_for_phone(PHONE, ["Contacted"])).id == mine  # type: ignore[union-attr]


# -- deliveries and webhook receipts ---------------------------------------------------------------------
async def test_deliveries_move_only_for_their_tenant(stores: tuple[Store, Store]) -> None:
    a, b = stores
    mine = await _conversation(a.interactions, 1)
    a_deliveries = DeliveryRecords(a.engine, tenant=A)
    b_deliveries = DeliveryRecords(b.engine, tenant=B)
    await b_deliveries.settle("msg_1_1", "sent")  # B's settle finds no row of B's
    assert (await a.interactions.deliveries(mine))["msg_1_1"].status == PENDING
    assert await b_deliveries.advance("twilio", "SM1", "delivered", None, over=[PENDING, "sent"]) is None
    assert (await a.interactions.deliveries(mine))["msg_1_1"].status == PENDING
    tracked = await a_deliveries.advance("twilio", "SM1", "delivered", None, over=[PENDING, "sent"])
    assert tracked is not None and tracked.advanced and tracked.phone == PHONE


async def test_the_same_webhook_sid_is_taken_in_once_per_tenant(stores: tuple[Store, Store]) -> None:
    a, _ = stores
    async with a.engine.begin() as conn:
        await take_receipt(conn, Receipt(A, "twilio.inbound", "SM123"), T0)
        await take_receipt(conn, Receipt(B, "twilio.inbound", "SM123"), T0)  # the other tenant's: new
    with pytest.raises(AlreadyReceived):
        async with a.engine.begin() as conn:
            await take_receipt(conn, Receipt(A, "twilio.inbound", "SM123"), T0)


# -- suppressions -----------------------------------------------------------------------------------------
def _opt(kind: str, at: datetime = T0) -> OptChange:
    return OptChange(kind, PHONE, at, "int_x", "sms", "STOP")  # type: ignore[arg-type]


async def test_an_opt_out_suppresses_the_phone_for_its_tenant_only(stores: tuple[Store, Store]) -> None:
    a, b = stores
    a_list, b_list = SuppressionList(a.engine, tenant=A), SuppressionList(b.engine, tenant=B)
    await a_list.suppress(_opt("out"))
    assert (await a_list.active(PHONE)) is not None
    assert await b_list.active(PHONE) is None
    assert await b_list.active_phones([PHONE]) == set()
    assert await b_list.claim_confirmation(PHONE, T0, timedelta(minutes=5)) is False  # not B's row
    assert await a_list.claim_confirmation(PHONE, T0, timedelta(minutes=5)) is True
    # The same phone in B: its own row, its own confirmation; an opt-in in A leaves B's alone.
    await b_list.suppress(_opt("out", T0 + timedelta(minutes=1)))
    assert await b_list.claim_confirmation(PHONE, T0 + timedelta(minutes=1), timedelta(minutes=5)) is True
    await a_list.suppress(_opt("in"))
    assert await a_list.active(PHONE) is None
    assert await b_list.active_phones([PHONE]) == {PHONE}


# -- bookings, escalations --------------------------------------------------------------------------------
def _booking(key: str, interaction_id: str) -> BookingRecord:
    return BookingRecord(
        key, "pending", "f" * 64, 1, 2, 3, 4, T0, T0 + timedelta(hours=2), interaction_id, None, None, None
    )


async def test_the_same_idempotency_key_books_once_in_each_tenant(stores: tuple[Store, Store]) -> None:
    a, b = stores
    assert await a.bookings.start(_booking("key-1", "int_a"), "agent") is True
    assert await a.bookings.start(_booking("key-1", "int_a"), "agent") is False  # a replay in A
    assert await b.bookings.get("key-1") is None
    assert await b.bookings.pending_in_window(4, T0) == []
    assert await b.bookings.start(_booking("key-1", "int_b"), "agent") is True  # B's own
    await b.bookings.complete("key-1", job_id=9, job_number="J9", appointment_id=10)
    await b.bookings.abandon("key-1")  # B's is booked now: nothing to abandon; A's is not B's to touch
    got_a, got_b = await a.bookings.get("key-1"), await b.bookings.get("key-1")
    assert got_a is not None and (got_a.status, got_a.interaction_id, got_a.job_id) == (
        "pending",
        "int_a",
        None,
    )
    assert got_b is not None and (got_b.status, got_b.interaction_id, got_b.job_id) == ("booked", "int_b", 9)
    assert [r.idempotency_key for r in await a.bookings.pending_in_window(4, T0)] == ["key-1"]
    await a.bookings.abandon("key-1")
    assert await a.bookings.get("key-1") is None and await b.bookings.get("key-1") is not None


async def test_an_escalation_is_stored_in_its_tenant(stores: tuple[Store, Store]) -> None:
    a, b = stores
    await b.escalations.add(EscalationRecord("esc_1", None, None, PHONE, "other", "note", None, None, None))
    async with a.engine.connect() as conn:
        rows = (await conn.execute(select(escalations.c.id, escalations.c.tenant))).all()
    assert [tuple(r) for r in rows] == [("esc_1", B)]


# -- watermarks, secrets, leases, locks -------------------------------------------------------------------
async def test_watermarks_of_one_name_are_kept_per_tenant(stores: tuple[Store, Store]) -> None:
    a, b = stores
    a_marks, b_marks = Watermarks(a.engine, tenant=A), Watermarks(b.engine, tenant=B)
    assert await a_marks.first("leads", T0) == T0
    assert await b_marks.get("leads") is None
    assert await b_marks.first("leads", T0 + timedelta(days=1)) == T0 + timedelta(days=1)
    await a_marks.advance("leads", T0 + timedelta(hours=1))
    assert await a_marks.get("leads") == T0 + timedelta(hours=1)
    assert await b_marks.get("leads") == T0 + timedelta(days=1)


async def test_each_tenant_has_its_own_secret_of_a_name(stores: tuple[Store, Store]) -> None:
    a, b = stores
    mine = await shared_secret(a.engine, "slot-signing", tenant=A)
    theirs = await shared_secret(b.engine, "slot-signing", tenant=B)
    assert mine != theirs
    assert await shared_secret(a.engine, "slot-signing", tenant=A) == mine  # stable within a tenant


async def test_two_tenants_leases_of_one_name_do_not_block_each_other(stores: tuple[Store, Store]) -> None:
    a, _ = stores
    async with lease(a.engine, "window:4:1778000000", tenant=A, ttl=30):
        with anyio.fail_after(5):  # B's lease of the same name is B's: taken at once
            async with lease(a.engine, "window:4:1778000000", tenant=B, ttl=30, wait=2):
                pass
        with pytest.raises(LeaseTimeout):  # A's own is held
            async with lease(a.engine, "window:4:1778000000", tenant=A, ttl=30, wait=0.3):
                pass


@needs_postgres
async def test_two_tenants_serialize_the_same_phone_independently(pg_url: str) -> None:
    """On PostgreSQL a lead's lock is its tenant's (on SQLite every writer shares the one write lock)."""
    engine = await open_engine(pg_url)
    entered = anyio.Event()
    release = anyio.Event()

    async def hold(tenant: str) -> None:
        async with serialized(engine, f"lead:{PHONE}", tenant=tenant):
            entered.set()
            await release.wait()

    async def enter(tenant: str) -> bool:
        with anyio.move_on_after(1):
            async with serialized(engine, f"lead:{PHONE}", tenant=tenant):
                return True
        return False

    try:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(hold, A)
            await entered.wait()
            assert await enter(B) is True  # the other tenant's phone: not blocked
            assert await enter(A) is False  # the same tenant's phone: waits for the holder
            release.set()
    finally:
        await engine.dispose()


# -- the audit chain --------------------------------------------------------------------------------------
def _event(n: int) -> Any:
    return audit_event(
        at=T0 + timedelta(minutes=n),
        kind="tool_call",
        principal="dana",
        role="csr",
        transport="memory",
        tool="log_message",
        arguments={"text": f"message {n}"},
        outcome="ok",
        interaction_id=None,
        upstream_requests=0,
        duration_ms=1.0,
    )


async def _tamper(engine: AsyncEngine, tenant: str, seq: int) -> None:
    async with engine.begin() as conn:
        postgres = conn.dialect.name == "postgresql"
        if postgres:  # the append-only trigger refuses edits: an owner who disables it can still make one
            await conn.execute(
                text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_or_delete")
            )
        await conn.execute(
            update(audit_events)
            .where(audit_events.c.tenant == tenant, audit_events.c.seq == seq)
            .values(principal="someone else")
        )
        if postgres:
            await conn.execute(
                text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update_or_delete")
            )


async def test_each_tenant_has_its_own_audit_chain(
    stores: tuple[Store, Store], store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    a, _ = stores
    a_log, b_log = AuditLog(a.engine, tenant=A), AuditLog(a.engine, tenant=B)
    for n in range(1, 6):
        await a_log.append(_event(n))
        if n <= 3:
            await b_log.append(_event(n))
    assert [r.seq for r in await a_log.page(limit=10)] == [5, 4, 3, 2, 1]
    assert [r.seq for r in await b_log.page(limit=10)] == [3, 2, 1]  # its own sequence, its own genesis
    assert (await a_log.count(), await b_log.count()) == (5, 3)
    assert (await a_log.verify()).ok and (await b_log.verify()).ok
    assert await audit_tenants(a.engine) == [A, B]
    b_head = await b_log.head()
    assert b_head is not None and b_head[0] == 3 and await b_log.hash_at(3) == b_head[1]
    assert await b_log.hash_at(5) is None  # A's record 5 is not B's

    await _tamper(a.engine, A, 2)
    broken = await a_log.verify()
    assert not broken.ok and broken.first_broken_seq == 2
    assert (await b_log.verify()).ok

    capsys.readouterr()
    assert await audit_commands.verify(store_url) == 1  # every tenant, each reported
    lines = capsys.readouterr().out.splitlines()
    assert (
        lines[0] == f"tenant {A}: audit chain BROKEN at record 2: hash does not match its contents (edited?)"
    )
    assert lines[1].startswith(f"tenant {B}: audit chain OK: 3 records; head 3:")
    assert await audit_commands.verify(store_url, tenant=B) == 0
    assert await audit_commands.verify(store_url, f"3:{b_head[1]}", tenant=B) == 0
    assert await audit_commands.verify(store_url, f"3:{b_head[1]}") == 2  # whose record 3?
    capsys.readouterr()
    assert await audit_commands.export(store_url, since=None, output=None, tenant=B) == 0
    exported = capsys.readouterr().out.splitlines()
    assert len(exported) == 3 and all(f'"tenant":"{B}"' in line for line in exported)


@needs_postgres  # on SQLite every writer shares the database's one write lock: nothing to show there
async def test_one_tenants_audit_head_lock_does_not_hold_up_another(pg_url: str) -> None:
    a = await Store.open(pg_url, tenant=A)
    try:
        a_log, b_log = AuditLog(a.engine, tenant=A), AuditLog(a.engine, tenant=B)
        async with a_log._writing():  # A's head lock held, as while a batch is written
            with anyio.fail_after(5):
                await b_log.append(_event(1))
        assert (await b_log.verify()).checked == 1
    finally:
        await a.close()


# -- migration 0007 ---------------------------------------------------------------------------------------
def _to(revision: str, down: bool = False) -> Any:
    def run(conn: Connection) -> None:
        (command.downgrade if down else command.upgrade)(migrate._config(conn), revision)

    return run


OLD_ROWS = [
    "INSERT INTO suppressions (phone, active, opted_out_at, channel, reason) "
    "VALUES ('+17205550193', true, '2026-05-05 15:00:00.000000', 'sms', 'STOP')",
    "INSERT INTO watermarks (name, value) VALUES ('leads', '2026-05-05 15:00:00.000000')",
    "INSERT INTO server_secrets (name, value) VALUES ('slot-signing', 'ab')",
    "INSERT INTO leases (name, holder, expires_at) VALUES ('window:1', 'h', '2026-05-05 15:00:00.000000')",
    "INSERT INTO interactions (id, goal, channel, type, status, phone, received_at, last_activity_at, "
    "first_outbound_at, inbound_count, outbound_count) VALUES ('int_old', 'Speed to Lead', 'SMS Agent', "
    "'Lead', 'New', '+17205550193', '2026-05-05 15:00:00.000000', '2026-05-05 15:00:00.000000', "
    "'2026-05-05 15:00:30.000000', 0, 1)",
    "INSERT INTO messages (id, interaction_id, direction, channel, sender, text, created_at) "
    "VALUES ('msg_old', 'int_old', 'outbound', 'sms', 'agent', 'hi', '2026-05-05 15:00:30.000000')",
]


async def test_a_store_at_0006_moves_to_the_default_tenant_and_back(store_url: str) -> None:
    engine = create_engine(store_url)
    try:
        async with engine.connect() as conn:
            await conn.run_sync(_to("0006"))
            await conn.commit()
        async with engine.begin() as conn:
            if conn.dialect.name == "postgresql":  # the rows' times are UTC, whatever the server's zone
                await conn.execute(text("SET LOCAL TIME ZONE 'UTC'"))
            for statement in OLD_ROWS:  # the rollup counts int_old under tenant '' (0004's triggers)
                await conn.execute(text(statement))
            old_counts = (await conn.execute(select(interaction_counts.c.tenant).distinct())).scalars().all()
        assert old_counts == [""]
        async with engine.connect() as conn:
            await conn.run_sync(_to("0007"))
            await conn.commit()

        async with engine.connect() as conn:  # every row is the default tenant's
            for table in metadata.sorted_tables:
                if "tenant" in table.c:
                    tenants = (await conn.execute(select(table.c.tenant).distinct())).scalars().all()
                    assert set(tenants) <= {DEFAULT_TENANT}, table.name
        default = Store.on(engine)
        assert await default.interactions.get("int_old") is not None
        assert await SuppressionList(engine).active("+17205550193") is not None
        assert await Watermarks(engine).get("leads") == datetime(2026, 5, 5, 15, tzinfo=UTC)
        assert await default.interactions.count(ListFilter()) == 1  # the moved rollup rows

        # The triggers still roll up, now per the row's tenant.
        await default.interactions.create(_interaction(2), actor="test", reason=None)
        other = default.scoped(A)
        await other.interactions.create(_interaction(3), actor="test", reason=None)
        await default.interactions.update(
            "int_old", {}, expected_status="New", change=StatusChange("Contacted", None, "t"), at=T0
        )
        assert await default.interactions.count(ListFilter()) == 2
        assert await default.interactions.count(ListFilter(statuses=["Contacted"])) == 1
        assert await other.interactions.count(ListFilter()) == 1
        async with engine.connect() as conn:
            histogram = (
                await conn.execute(
                    select(speed_to_lead_counts.c.tenant).where(speed_to_lead_counts.c.interactions > 0)
                )
            ).scalars()
            assert set(histogram) == {DEFAULT_TENANT}

        # Down again refuses while another tenant has rows (it would merge them), then works.
        with pytest.raises(RuntimeError, match="tenant 'acme'"):
            async with engine.connect() as conn:
                await conn.run_sync(_to("0006", down=True))
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM status_history WHERE tenant = 'acme'"))
            await conn.execute(text("DELETE FROM interactions WHERE tenant = 'acme'"))
        async with engine.connect() as conn:
            await conn.run_sync(_to("0006", down=True))
            await conn.commit()
        async with engine.begin() as conn:
            assert (await conn.execute(select(interaction_counts.c.tenant).distinct())).scalars().all() == [
                ""
            ]
            await conn.execute(
                text("UPDATE interactions SET status = 'Booked' WHERE id = 'int_0002'")
            )  # 0004's triggers are back
            booked = (
                await conn.execute(
                    text(
                        "SELECT sum(conversations) FROM interaction_counts "
                        "WHERE grain = 'day' AND status = 'Booked'"
                    )
                )
            ).scalar()
            assert booked == 1
            assert "tenant" not in {c["name"] for c in await conn.run_sync(_columns, "bookings")}
        async with engine.connect() as conn:
            await conn.run_sync(_to("0007"))  # and up once more
            await conn.commit()
        assert await Store.on(engine).interactions.count(ListFilter()) == 2
        async with engine.connect() as conn:
            assert (
                await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision()) == "0007"
            )
    finally:
        await engine.dispose()


def _columns(conn: Connection, table: str) -> list[Any]:
    return list(inspect(conn).get_columns(table))
