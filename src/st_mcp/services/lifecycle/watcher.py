"""The job-events watcher: follows ServiceTitan's export feeds (jobs, appointments, appointment
assignments) from the continuation token it keeps in the store, notices scheduled → dispatched → working →
completed / canceled for the jobs this server booked or that a conversation links to, writes each event once
into that conversation's history, and sends the texts it calls for through the compliance gate:

- the day before the visit, a reminder;
- when the technician is dispatched, "on the way" with the tracking link;
- when the job is completed, the post-job follow-up (survey.py);
- in booking mode, when the office converted a requested booking into a job, the lead's confirmation
  (revenue/conversions.py, called on each pass).

A text the gate holds (quiet hours) stays pending until its window opens — and is dropped if by then it no
longer makes sense (the technician already arrived; too long after the event). One watcher works at a time
per tenant (a lease in the database), so replicas sharing a database do not send twice; each event row is
written once (its key), so even an overlap could not.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy import select

from st_mcp.config import PersonaSettings
from st_mcp.config_lifecycle import LifecycleSettings
from st_mcp.policy.identity import SYSTEM_ROLE, Principal
from st_mcp.services.errors import Blocked, UserInputError
from st_mcp.services.feeds import drain, feed_date
from st_mcp.services.interactions.service import Interactions
from st_mcp.services.lifecycle.jobs import first_name
from st_mcp.services.lifecycle.survey import GOAL, PostJobSurvey
from st_mcp.services.outreach.service import Outreach
from st_mcp.services.periodic import LEADER_TTL_SECONDS, repeat
from st_mcp.services.revenue.conversions import BookingConversions
from st_mcp.servicetitan import ApiError, ServiceTitanClient
from st_mcp.servicetitan.models.lifecycle import ExportPage
from st_mcp.store import Store
from st_mcp.store.leases import LeaseTimeout, lease
from st_mcp.store.lifecycle import EXPIRED, PENDING, SENDING, SENT, SKIPPED, JobEvent, LifecycleRecords
from st_mcp.store.schema import bookings, interactions
from st_mcp.store.times import as_utc
from st_mcp.store.transaction import reading

log = logging.getLogger("st_mcp.lifecycle")
WATCHER = Principal("job-events watcher", SYSTEM_ROLE, ai=True)  # its texts: held to the agent's rules
APPOINTMENT_EVENTS = {"Dispatched": "dispatched", "Working": "working"}  # a cancel is the job's
JOB_EVENTS = {"Completed": "completed", "Canceled": "canceled"}
EVENT_WORDS = {
    "reminder": "reminder due: the visit is tomorrow",
    "dispatched": "technician dispatched (on the way)",
    "working": "technician arrived and is working",
    "completed": "job completed",
    "canceled": "canceled",
}
M = TypeVar("M")


class WatchResult(BaseModel):
    events: list[str]  # "job 30042: dispatched"
    texts_sent: int
    texts_held: int  # pending: the gate holds them (quiet hours)
    texts_dropped: int  # expired or skipped
    skipped_poll: bool = False  # another process is polling this tenant
    bookings_converted: int = 0  # booking mode: requests the office turned into jobs (their leads told)


class JobWatcher:
    def __init__(
        self,
        st: ServiceTitanClient,
        store: Store,
        records: LifecycleRecords,
        interactions_service: Interactions,
        outreach: Outreach,
        survey: PostJobSurvey,
        settings: LifecycleSettings,
        persona: PersonaSettings,
        zone: ZoneInfo,
        clock: Callable[[], datetime],
        *,
        conversions: BookingConversions | None = None,
        leader_ttl: float = LEADER_TTL_SECONDS,
    ) -> None:
        self._conversions = conversions
        self._st = st
        self._store = store
        self._records = records
        self._interactions = interactions_service
        self._outreach = outreach
        self._survey = survey
        self._settings = settings
        self._persona = persona
        self._zone = zone
        self._now = clock
        self._leader_ttl = leader_ttl

    async def poll_once(self) -> WatchResult:
        result = WatchResult(events=[], texts_sent=0, texts_held=0, texts_dropped=0)
        try:
            watcher = f"job-watcher:{self._records.tenant}"
            async with lease(
                self._store.engine, watcher, tenant=self._store.tenant, ttl=self._leader_ttl, wait=0.5
            ):
                await self._notice(result)
                await self._reminders(result)
                await self._flush(result)
        except LeaseTimeout:
            result.skipped_poll = True
            return result
        if self._conversions is not None:  # booking mode: the office's conversions are job events too
            result.bookings_converted = len((await self._conversions.check_once()).converted)
        return result

    # ------------------------------------------------------------------ feeds → events
    async def _notice(self, result: WatchResult) -> None:
        appointments, appointments_next = await self._drain(
            "jpm/export/appointments", self._st.exports.appointments
        )
        jobs, jobs_next = await self._drain("jpm/export/jobs", self._st.exports.jobs)
        # Assignments change who comes; the watcher reads them when it needs a name, so it only keeps the
        # feed's place (a reader that never advances would re-read the whole feed every poll).
        _, assignments_next = await self._drain(
            "dispatch/export/appointment-assignments", self._st.exports.appointment_assignments
        )
        for appointment in appointments:
            event = APPOINTMENT_EVENTS.get(appointment.status)
            if event:
                await self._record(appointment.jobId, appointment.id, event, result)
        for job in jobs:
            event = JOB_EVENTS.get(job.jobStatus)
            if event:
                await self._record(job.id, 0, event, result)
        # Each feed's place moves on only now that what it said is written: a pass cut off midway (its replica
        # killed, ServiceTitan failing on a later feed) leaves the next pass to read it again — and the event
        # rows (one per key) make the re-read harmless — instead of losing a dispatch nobody recorded.
        for feed, token in (
            ("jpm/export/appointments", appointments_next),
            ("jpm/export/jobs", jobs_next),
            ("dispatch/export/appointment-assignments", assignments_next),
        ):
            if token:
                await self._records.save_token(feed, token, self._now())

    async def _drain(
        self, feed: str, read: Callable[[str | None], Awaitable[ExportPage[Any]]]
    ) -> tuple[list[Any], str | None]:
        """The feed's rows since its kept place, and the place after them (kept by the caller)."""
        token = await self._records.token(feed)
        if token is None:  # the first watch: from a recent moment (a custom date string), not all history
            token = feed_date(self._now() - timedelta(hours=self._settings.first_watch_lookback_hours))
        return await drain(read, token)

    async def _record(self, job_id: int, appointment_id: int, event: str, result: WatchResult) -> None:
        ours, interaction_id = await self._linked(job_id)
        if not ours or await self._records.seen(job_id, appointment_id, event):
            return
        text_kind = {"dispatched": "on_the_way", "completed": "survey", "reminder": "reminder"}.get(event)
        if text_kind == "on_the_way" and (not self._settings.on_the_way_text or interaction_id is None):
            text_kind = None
        if text_kind == "survey" and not self._settings.survey_on_completion:
            text_kind = None
        now = self._now()
        added = await self._records.add(
            JobEvent(
                tenant=self._records.tenant,
                job_id=job_id,
                appointment_id=appointment_id,
                event=event,
                interaction_id=interaction_id,
                seen_at=now,
                text_kind=text_kind,
                text_status=PENDING if text_kind else None,
                due_at=now if text_kind else None,
            )
        )
        if not added:
            return
        number = await self._job_number(job_id)
        result.events.append(f"job {number}: {event}")
        if interaction_id is not None:
            try:
                await self._interactions.record_event(
                    WATCHER, interaction_id, f"Job {number}: {EVENT_WORDS[event]}"
                )
            except UserInputError as exc:  # changed under us: the event row stands, the line is skipped
                log.info("job event not written to %s: %s", interaction_id, exc)

    async def _linked(self, job_id: int) -> tuple[bool, str | None]:
        """Whether the job is ours (booked here, or linked to a conversation), and its conversation."""
        async with reading(self._store.engine) as conn:
            found = (
                await conn.execute(
                    select(interactions.c.id)
                    .where(
                        interactions.c.tenant == self._store.tenant,
                        interactions.c.job_id == job_id,
                        interactions.c.goal != GOAL,
                    )
                    .order_by(interactions.c.received_at.desc())
                    .limit(1)
                )
            ).scalar()
            if found:
                return True, str(found)
            booked = (
                await conn.execute(
                    select(bookings.c.interaction_id)
                    .where(bookings.c.tenant == self._store.tenant, bookings.c.job_id == job_id)
                    .limit(1)
                )
            ).first()
        if booked is None:
            return False, None
        return True, booked[0]

    async def _job_number(self, job_id: int) -> str:
        try:
            return (await self._st.jpm.get_job(job_id)).jobNumber
        except ApiError:
            return str(job_id)

    # ------------------------------------------------------------------ reminders
    async def _reminders(self, result: WatchResult) -> None:
        """Visits of our jobs that start tomorrow (the business's local day) get their reminder once."""
        if not self._settings.reminder_text:
            return
        now = self._now()
        tomorrow = (now.astimezone(self._zone) + timedelta(days=1)).date()
        async with reading(self._store.engine) as conn:
            rows = (
                await conn.execute(
                    select(bookings.c.job_id, bookings.c.appointment_id, bookings.c.interaction_id).where(
                        bookings.c.tenant == self._store.tenant,
                        bookings.c.status == "booked",
                        bookings.c.interaction_id.is_not(None),
                        bookings.c.window_start > as_utc(now),
                        bookings.c.window_start < as_utc(now + timedelta(days=3)),
                    )
                )
            ).all()
        for job_id, appointment_id, _interaction in rows:
            if job_id is None or appointment_id is None:
                continue
            try:
                appointment = await self._st.jpm.get_appointment(int(appointment_id))
            except ApiError:
                continue
            if (
                appointment.status == "Scheduled"
                and appointment.start.astimezone(self._zone).date() == tomorrow
            ):
                await self._record(int(job_id), int(appointment_id), "reminder", result)

    # ------------------------------------------------------------------ texts
    async def _flush(self, result: WatchResult) -> None:
        now = self._now()
        for event in await self._records.due(now):
            await self._send(event, now, result)

    async def _send(self, event: JobEvent, now: datetime, result: WatchResult) -> None:
        kind = event.text_kind or ""
        window = timedelta(hours=self._settings.relevant_for_hours.get(kind, 24.0))
        if now - event.seen_at > window:
            await self._drop(event, EXPIRED, f"no longer relevant {window} after the event", result)
            return
        try:
            prepared = await self._prepare(event)
        except ApiError as exc:
            log.warning("lifecycle text %s for job %s not prepared: %s", kind, event.job_id, exc)
            return  # try again next poll
        except UserInputError as exc:  # no phone on file, the conversation is gone: nothing to send
            await self._drop(event, SKIPPED, str(exc), result)
            return
        if isinstance(prepared, str):
            await self._drop(event, EXPIRED, prepared, result)
            return
        interaction_id, text = prepared
        if not await self._claim(event, interaction_id, text, now):
            return
        try:
            if kind == "survey":
                sent, opens_at, why = await self._survey.send(interaction_id, text)
                if not sent:
                    raise _Held(opens_at, why)
            else:
                await self._outreach.send_message(WATCHER, interaction_id=interaction_id, text=text)
        except (_Held, Blocked) as exc:
            opens_at = exc.opens_at if isinstance(exc, _Held) else exc.details.get("opens_at")
            if opens_at is None:  # opted out, taken over: not later either
                await self._drop(event, SKIPPED, str(exc), result)
                return
            # A survey keeps the conversation it opened, so the retry does not open a second one.
            held = f"survey:{interaction_id} held: {exc}" if kind == "survey" else f"held: {exc}"
            await self._records.settle(event, PENDING, due_at=opens_at, detail=held[:500])
            result.texts_held += 1
            return
        except UserInputError as exc:
            await self._drop(event, SKIPPED, str(exc), result)
            return
        await self._records.settle(event, SENT, detail=f"sent on {interaction_id}")
        result.texts_sent += 1

    async def _claim(self, event: JobEvent, interaction_id: str, text: str, now: datetime) -> bool:
        """Mark the text as being sent, with its digest, before it goes to the gate. A pass cut off after the
        claim (its replica killed, the database gone) leaves the row "sending": the next pass sends it only if
        the thread holds no text with that digest since the claim — so a watcher that dies between the send
        and the record never texts twice (and one that dies before the send still texts)."""
        if event.text_status == SENDING:
            assert event.due_at is not None  # the claim's moment
            claimed = (event.detail or "").rsplit(" ", 1)[-1]
            texts = await self._interactions.outbound_texts_since(interaction_id, event.due_at)
            if any(_digest(sent) == claimed for sent in texts):
                found = f"sent on {interaction_id} (found in the thread)"
                await self._records.settle(event, SENT, detail=found)
                return False
        # A survey's detail keeps the conversation it opened, so a retry does not open a second one.
        survey = event.text_kind == "survey"
        where = f"survey:{interaction_id} sending" if survey else f"sending on {interaction_id}"
        return await self._records.settle(event, SENDING, due_at=now, detail=f"{where} {_digest(text)}")

    async def _prepare(self, event: JobEvent) -> tuple[str, str] | str:
        """(interaction, text) to send now, or why it is no longer worth sending."""
        if event.text_kind == "survey":
            job = await self._st.jpm.get_job(event.job_id)
            if job.jobStatus != "Completed":
                return f"job is {job.jobStatus} now"
            if event.detail and event.detail.startswith("survey:"):
                interaction_id = event.detail.split(":", 1)[1].split()[0]
                row = await self._interactions.row(interaction_id)
                return interaction_id, self._survey_text(row.name)
            row, text, _tech = await self._survey.open(event.job_id, WATCHER)
            if await self._interactions.touched(row.id):
                return f"already asked on the job's follow-up {row.id}"
            await self._records.settle(event, PENDING, due_at=event.due_at, detail=f"survey:{row.id}")
            return row.id, text
        assert event.interaction_id is not None
        appointment = await self._st.jpm.get_appointment(event.appointment_id)
        row = await self._interactions.row(event.interaction_id)
        name = first_name(row.name) or "there"
        start = appointment.arrivalWindowStart or appointment.start
        end = appointment.arrivalWindowEnd or appointment.end
        if event.text_kind == "reminder":
            if appointment.status != "Scheduled":
                return f"the appointment is {appointment.status} now"
            text = str(self._settings.reminder_text).format(
                first_name=name, company=self._persona.company_name, window=_window(start, end, self._zone)
            )
            return row.id, text
        if appointment.status != "Dispatched":
            return f"the appointment is {appointment.status} now (the technician is no longer on the way)"
        assigned = await self._st.dispatch.list_appointment_assignments(appointment_ids=[appointment.id])
        active = [a for a in assigned.data if a.active]
        tracking = ""
        if active:
            link = await self._st.dispatch.technician_tracking(active[0].technicianId, appointment.id)
            tracking = link.technicianTrackingUrl
        text = str(self._settings.on_the_way_text).format(
            first_name=name,
            company=self._persona.company_name,
            technician=first_name(active[0].technicianName) if active else "Your technician",
            eta=f", arriving by {_clock(end, self._zone)}",
            tracking_url=tracking,
        )
        return row.id, text

    def _survey_text(self, name: str | None) -> str:
        return self._settings.survey_text.format(
            first_name=first_name(name) or "there",
            company=self._persona.company_name,
            technician="your technician",
        )

    async def _drop(self, event: JobEvent, status: str, why: str, result: WatchResult) -> None:
        await self._records.settle(event, status, detail=why[:500])
        result.texts_dropped += 1


class _Held(Exception):
    def __init__(self, opens_at: datetime | None, why: str) -> None:
        super().__init__(why)
        self.opens_at = opens_at


def _digest(text: str) -> str:
    return hashlib.sha256(text.strip().encode()).hexdigest()[:16]


def _clock(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%-I:%M %p").replace(":00 ", " ")


def _window(start: datetime, end: datetime, zone: ZoneInfo) -> str:
    local = start.astimezone(zone)
    return f"{local.strftime('%a %b')} {local.day}, {_clock(start, zone)}–{_clock(end, zone)}"


async def watch_forever(watcher: JobWatcher, interval_seconds: int) -> None:
    async def once() -> str | None:
        result = await watcher.poll_once()
        if not (result.events or result.texts_sent):
            return None
        return f"{len(result.events)} event(s), {result.texts_sent} text(s) sent"

    await repeat("job watcher", interval_seconds, once)
