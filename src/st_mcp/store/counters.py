"""The Interactions counters read from the rollup (``interaction_counts``, ``speed_to_lead_counts``).

The rollup is kept per UTC day and per UTC month by triggers (migration 0004). A period ``[since,
until)`` is read as its whole months and the whole days around them from the rollup, plus its partial
edge days exactly from the rows (``ix_interactions_received``): months + at most ~60 days of rollup rows
and the rows of at most two days, never the whole table. (UTC days, because the stored times are UTC and
a day must mean the same thing to every reader; a period in local time is still exact — its edges are.)

Speed to lead is kept as a histogram of fixed buckets (``bucket_of``), and the median is read from it:
it is the median of the bucket lower bounds — exact to the second below 2 minutes, to 10 s below 10
minutes, to a minute below an hour, to 15 minutes below a day, to an hour beyond.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, and_, case, exists, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from st_mcp.store.schema import interaction_counts, interactions, messages, speed_to_lead_counts
from st_mcp.store.tenancy import DEFAULT_TENANT
from st_mcp.store.times import as_utc
from st_mcp.store.transaction import reading

# (first touch − received) in whole seconds, never negative: what the triggers of migration 0004 bucket.
# SQLite keeps times as 'YYYY-MM-DD HH:MM:SS.ffffff' text (UTC): seconds by strftime, microseconds exactly.
_SQLITE_MICROS = (
    "(CAST(strftime('%s', substr({c}, 1, 19)) AS INTEGER) * 1000000 + CAST(substr({c}, 21, 6) AS INTEGER))"
)
_DELAY_SECONDS = {
    "sqlite": "max(({} - {}) / 1000000, 0)".format(
        _SQLITE_MICROS.format(c="interactions.first_outbound_at"),
        _SQLITE_MICROS.format(c="interactions.received_at"),
    ),
    "postgresql": "GREATEST(floor(extract(epoch FROM "
    "(interactions.first_outbound_at - interactions.received_at))), 0)::bigint",
}
# Conversations about a job already booked (a post-job follow-up links the job it follows up): counted as
# conversations, but neither as conversions nor in speed to lead.
FOLLOW_UP_GOALS = ("Post-Job Follow-up",)
_SECOND = timedelta(seconds=1)
_BUCKETS = ((120, 1), (600, 10), (3600, 60), (86400, 900))  # (below this many seconds, bucket width)


def bucket_of(delay: timedelta) -> int:
    """The histogram bucket of a first-touch delay: its lower bound in whole seconds (as the triggers)."""
    s = max(delay // _SECOND, 0)
    for below, width in _BUCKETS:
        if s < below:
            return s - s % width
    return s - s % 3600


def median_of(histogram: Counter[int]) -> float | int | None:
    """The median of the bucket values, as ``statistics.median`` of the expanded list, in O(buckets)."""
    n = sum(histogram.values())
    if n == 0:
        return None
    wanted = [(n - 1) // 2, n // 2]  # the middle rank(s), 0-based
    found: list[int] = []
    seen = 0
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        while wanted and wanted[0] < seen:
            found.append(bucket)
            wanted.pop(0)
    return statistics.median(found)


@dataclass(slots=True)
class Tally:
    """What the counters are made of, for one filter and period."""

    by_status: Counter[str] = field(default_factory=Counter)
    contacted: int = 0
    responded: int = 0
    converted: int = 0
    histogram: Counter[int] = field(default_factory=Counter)

    @property
    def conversations(self) -> int:
        return sum(self.by_status.values())


@dataclass(frozen=True, slots=True)
class Filter:
    since: datetime | None = None
    until: datetime | None = None
    goal: str | None = None
    channel: str | None = None
    type: str | None = None
    statuses: Sequence[str] | None = None


Span = tuple[date | None, date | None]  # [first, end) of day or month starts; None: unbounded


@dataclass(frozen=True, slots=True)
class Split:
    """A period as whole months, whole days and partial edges (times ``[start, end)``)."""

    months: Span | None = None
    days: tuple[Span, ...] = ()
    edges: tuple[tuple[datetime | None, datetime | None], ...] = ()


def split(since: datetime | None, until: datetime | None) -> Split:
    since = as_utc(since) if since else None
    until = as_utc(until) if until else None
    first = (
        None if since is None else since.date() + (timedelta(0) if _midnight(since) else timedelta(days=1))
    )
    end = None if until is None else until.date()
    if first is not None and end is not None and first >= end:
        return Split(edges=((since, until),))
    edges = []
    if since is not None and first is not None and not _midnight(since):
        edges.append((since, _start(first)))
    if until is not None and end is not None and not _midnight(until):
        edges.append((_start(end), until))
    month_first = None if first is None else _month_ceil(first)
    month_end = None if end is None else end.replace(day=1)
    if month_first is not None and month_end is not None and month_first >= month_end:
        return Split(days=((first, end),), edges=tuple(edges))
    days = []
    if first is not None and month_first is not None and first < month_first:
        days.append((first, month_first))
    if end is not None and month_end is not None and month_end < end:
        days.append((month_end, end))
    return Split(months=(month_first, month_end), days=tuple(days), edges=tuple(edges))


class Counters:
    """One tenant's counters: its rollup rows (the triggers key them by the interaction's tenant) and, at
    the edges, its rows."""

    def __init__(self, engine: AsyncEngine, *, tenant: str = DEFAULT_TENANT) -> None:
        self._engine = engine
        self.tenant = tenant

    async def tally(self, where: Filter, *, histogram: bool = True) -> Tally:
        period = split(where.since, where.until)
        tally = Tally()
        ranges = [("day", span) for span in period.days]
        if period.months is not None:
            ranges.append(("month", period.months))
        async with reading(self._engine) as conn:
            for grain, span in ranges:
                await _add_counted(conn, self.tenant, tally, where, grain, span, histogram=histogram)
            for start, end in period.edges:
                await _add_rows(conn, self.tenant, tally, where, start, end, histogram=histogram)
        return tally

    async def count(self, where: Filter) -> int:
        return (await self.tally(where, histogram=False)).conversations

    async def high_activity(
        self, where: Filter, *, open_statuses: Sequence[str], threshold: int, window_end: datetime
    ) -> int:
        """Open interactions of the period with at least ``threshold`` inbound messages in the 24 hours
        up to ``window_end`` (inclusive at both ends): the recent messages first, by their index."""
        end = as_utc(window_end)
        busy = (
            select(messages.c.interaction_id)
            .where(
                messages.c.tenant == self.tenant,
                messages.c.direction == "inbound",
                messages.c.created_at >= end - timedelta(hours=24),
                messages.c.created_at <= end,
            )
            .group_by(messages.c.interaction_id)
            .having(func.count() >= threshold)
            .subquery()
        )
        # Driven by the few busy conversations, each looked up by its key: a join would let the planner
        # walk the whole period's rows instead (a year's worth, for a long period).
        period = Filter(where.since, where.until, where.goal, where.channel, where.type, tuple(open_statuses))
        counted = exists().where(
            interactions.c.id == busy.c.interaction_id, *_row_conditions(self.tenant, period)
        )
        query = select(func.count()).select_from(busy).where(counted)
        async with reading(self._engine) as conn:
            return int((await conn.execute(query)).scalar_one())


async def _add_counted(
    conn: AsyncConnection,
    tenant: str,
    tally: Tally,
    where: Filter,
    grain: str,
    span: Span,
    *,
    histogram: bool,
) -> None:
    d = interaction_counts.c
    converted = case((d.goal.in_(FOLLOW_UP_GOALS), 0), else_=d.converted)
    sums = [func.sum(d.conversations), func.sum(d.contacted), func.sum(d.responded), func.sum(converted)]
    query = _span_conditions(
        select(d.status, *sums).group_by(d.status), interaction_counts, tenant, where, grain, span
    )
    if where.type is not None:
        query = query.where(d.type == where.type)
    if where.statuses is not None:
        query = query.where(d.status.in_(list(where.statuses)))
    for status, conversations, contacted, responded, converted in await conn.execute(query):
        if conversations:
            tally.by_status[status] += int(conversations)
        tally.contacted += int(contacted or 0)
        tally.responded += int(responded or 0)
        tally.converted += int(converted or 0)
    if histogram:
        # The histogram has no status or type: the stats filter by goal (and channel) only.
        assert where.statuses is None and where.type is None, "the histogram is kept per goal and channel"
        h = speed_to_lead_counts.c
        query = (
            select(h.bucket, func.sum(h.interactions))
            .where(h.goal.not_in(FOLLOW_UP_GOALS))
            .group_by(h.bucket)
        )
        for bucket, count in await conn.execute(
            _span_conditions(query, speed_to_lead_counts, tenant, where, grain, span)
        ):
            if count:
                tally.histogram[int(bucket)] += int(count)


def _span_conditions(
    query: Select[Any], table: Any, tenant: str, where: Filter, grain: str, span: Span
) -> Select[Any]:
    query = query.where(table.c.tenant == tenant, table.c.grain == grain)
    if span[0] is not None:
        query = query.where(table.c.starts >= span[0])
    if span[1] is not None:
        query = query.where(table.c.starts < span[1])
    if where.goal is not None:
        query = query.where(table.c.goal == where.goal)
    if where.channel is not None:
        query = query.where(table.c.channel == where.channel)
    return query


async def _add_rows(
    conn: AsyncConnection,
    tenant: str,
    tally: Tally,
    where: Filter,
    start: datetime | None,
    end: datetime | None,
    *,
    histogram: bool,
) -> None:
    c = interactions.c
    contacted = c.first_outbound_at.is_not(None)
    edge = Filter(start, end, where.goal, where.channel, where.type, where.statuses)
    query = (
        select(
            c.status,
            func.count(),
            func.sum(case((contacted, 1), else_=0)),
            func.sum(case((and_(contacted, c.inbound_count > 0), 1), else_=0)),
            func.sum(case((and_(c.job_id.is_not(None), c.goal.not_in(FOLLOW_UP_GOALS)), 1), else_=0)),
        )
        .where(*_row_conditions(tenant, edge))
        .group_by(c.status)
    )
    for status, conversations, n_contacted, responded, converted in await conn.execute(query):
        tally.by_status[status] += int(conversations)
        tally.contacted += int(n_contacted or 0)
        tally.responded += int(responded or 0)
        tally.converted += int(converted or 0)
    if histogram:  # the database counts the delays per whole second; the buckets are few
        seconds = literal_column(_DELAY_SECONDS[conn.dialect.name])
        counted = (*_row_conditions(tenant, edge), contacted, c.goal.not_in(FOLLOW_UP_GOALS))
        delays = select(seconds, func.count()).where(*counted).group_by(seconds)
        for delay, count in await conn.execute(delays):
            tally.histogram[bucket_of(timedelta(seconds=int(delay)))] += int(count)


def _row_conditions(tenant: str, where: Filter) -> list[Any]:
    c = interactions.c
    conditions: list[Any] = [c.tenant == tenant]
    if where.since is not None:
        conditions.append(c.received_at >= as_utc(where.since))
    if where.until is not None:
        conditions.append(c.received_at < as_utc(where.until))
    for column, value in ((c.goal, where.goal), (c.channel, where.channel), (c.type, where.type)):
        if value is not None:
            conditions.append(column == value)
    if where.statuses is not None:
        conditions.append(c.status.in_(list(where.statuses)))
    return conditions


def _midnight(moment: datetime) -> bool:
    return moment.timetz().replace(tzinfo=None) == time(0)


def _month_ceil(day: date) -> date:
    if day.day == 1:
        return day
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def _start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)
