"""The post-job follow-up: a text asking for a 1–5 rating once a job is completed; the reply becomes the
conversation's outcome and a technician rating in ServiceTitan; 4–5 get the review link, 1–2 go to a
manager as Negative Sentiment. Every text passes the compliance gate, like any other."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime

from pydantic import BaseModel

from st_mcp.config import PersonaSettings
from st_mcp.config_lifecycle import LifecycleSettings
from st_mcp.policy.identity import SYSTEM_ROLE, Principal
from st_mcp.services.errors import Blocked, NotFound, Refused, UserInputError
from st_mcp.services.escalation import Escalations
from st_mcp.services.interactions.models import MessageResult
from st_mcp.services.interactions.service import Interactions
from st_mcp.services.lifecycle.jobs import first_name
from st_mcp.services.outreach.service import Outreach
from st_mcp.servicetitan import ApiError, NotFoundError, ServiceTitanClient
from st_mcp.servicetitan.models.jpm import Job
from st_mcp.servicetitan.models.lifecycle import TechnicianRatingRequest
from st_mcp.store.interactions import InteractionRow

log = logging.getLogger("st_mcp.lifecycle")
GOAL = "Post-Job Follow-up"
# The server's own follow-up texts: held to the agent's rules (a takeover stops them) like an AI.
SURVEYOR = Principal("post-job follow-up", SYSTEM_ROLE, ai=True)
# The number a reply opens with ("5", "5/5", "4 stars", "1. He was late"); else the one digit 1–5 standing
# alone in it ("I'd give it a 4"); "10", "45" or "4.5" are not ratings.
_LEADING = re.compile(r"^\W*([1-5])(?!\d|\.\d)")
_ALONE = re.compile(r"(?<![\d.])([1-5])(?!\d|\.\d)")
_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}


class SurveyResult(BaseModel):
    interaction_id: str
    goal: str
    status: str
    job_id: int
    job_number: str
    technician_first_name: str | None
    text: str
    sent: bool
    opens_at: datetime | None = None  # when the gate lets the text out, if it held it
    note: str


def parse_rating(text: str) -> int | None:
    """The 1–5 rating in a reply (the number it opens with wins), or None when there is none or the digits
    in it disagree ("I'd say 3, maybe 4")."""
    folded = text.casefold().strip()
    if leading := _LEADING.match(folded):
        return int(leading.group(1))
    digits = {int(d) for d in _ALONE.findall(folded)}
    if digits:
        return digits.pop() if len(digits) == 1 else None
    if len(folded.split()) <= 4:  # "five", "a four" — a short answer in words
        words = {value for word, value in _WORDS.items() if re.search(rf"\b{word}\b", folded)}
        return words.pop() if len(words) == 1 else None
    return None


class PostJobSurvey:
    def __init__(
        self,
        st: ServiceTitanClient,
        interactions: Interactions,
        outreach: Outreach,
        escalations: Escalations,
        settings: LifecycleSettings,
        persona: PersonaSettings,
        clock: Callable[[], datetime],
    ) -> None:
        self._st = st
        self._interactions = interactions
        self._outreach = outreach
        self._escalations = escalations
        self._settings = settings
        self._persona = persona
        self._now = clock
        interactions.on_inbound.append(self.on_reply)

    # ------------------------------------------------------------ ask
    async def open(self, job_id: int, principal: Principal) -> tuple[InteractionRow, str, str | None]:
        """The job's follow-up conversation — the one already opened for it, or a new one — and its text
        (not sent yet). One per job: asking twice, by hand or on completion, reuses it."""
        job = await self._job(job_id)
        if job.jobStatus != "Completed":
            raise Refused(f"Job {job.jobNumber} is {job.jobStatus}; the follow-up is for completed jobs.")
        linked = await self._interactions.of_job(job.id)
        customer = await self._st.crm.get_customer(job.customerId)
        technician = await self.technician(job)
        tech_first = first_name(technician[1]) if technician else None
        text = self._settings.survey_text.format(
            first_name=first_name(customer.name) or "there",
            company=self._persona.company_name,
            technician=tech_first or "your technician",
        )
        opened = next((row for row in linked if row.goal == GOAL), None)
        if opened is not None:
            return opened, text, tech_first
        # The number the customer talked to us from (the conversation that booked the job) before the ones
        # ServiceTitan holds, which may be a landline.
        phone = next((row.phone for row in linked if row.phone), None) or await self._phone_on_file(job)
        if not phone:
            raise UserInputError(f"{customer.name} has no phone number on file to text.")
        location = await self._st.crm.get_location(job.locationId)
        address = location.address
        created = await self._interactions.ingest_lead(
            principal,
            name=customer.name,
            phone=phone,
            street=address.street,
            city=address.city,
            state=address.state,
            zip_code=address.zip,
            summary=f"Post-job follow-up for job {job.jobNumber}",
            goal=GOAL,
            kind="Customer",
            dedupe=False,
            links={
                "customer_id": job.customerId,
                "location_id": job.locationId,
                "job_id": job.id,
                "job_number": job.jobNumber,
            },
            reason=f"job {job.jobNumber} completed",
        )
        return await self._interactions.row(created.interaction_id), text, tech_first

    async def _phone_on_file(self, job: Job) -> str | None:
        contacts = (await self._st.crm.list_customer_contacts(job.customerId)).data
        return next((c.value for c in contacts if c.type == "MobilePhone"), None) or next(
            (c.value for c in contacts if c.type == "Phone"), None
        )

    async def start(self, job_id: int, principal: Principal) -> SurveyResult:
        """``survey_post_job``: open the follow-up and send the rating question now (if the gate allows)."""
        row, text, tech = await self.open(job_id, principal)
        if await self._interactions.touched(row.id):
            sent, opens_at = False, None
            note = (
                "Already asked: the rating question went out on this job's follow-up earlier, so nothing was "
                "sent again. The customer's reply is recorded by the server."
            )
        else:
            sent, opens_at, why = await self.send(row.id, text)
            note = (
                "Sent. The customer's reply (1–5) is recorded by the server: the rating goes to ServiceTitan."
                if sent
                else f"Not sent yet: {why} Call survey_post_job again when the window opens (the same "
                "conversation is used)."
            )
        fresh = await self._interactions.row(row.id)
        return SurveyResult(
            interaction_id=row.id,
            goal=GOAL,
            status=fresh.status,
            job_id=int(fresh.job_id or job_id),
            job_number=str(fresh.job_number),
            technician_first_name=tech,
            text=text,
            sent=sent,
            opens_at=opens_at,
            note=note,
        )

    async def send(self, interaction_id: str, text: str) -> tuple[bool, datetime | None, str]:
        """Through the gate, as the server's follow-up principal: (sent, when the window opens, why not)."""
        try:
            await self._outreach.send_message(SURVEYOR, interaction_id=interaction_id, text=text)
        except Blocked as exc:
            return False, exc.details.get("opens_at"), str(exc)
        return True, None, ""

    # ----------------------------------------------------------- reply
    async def on_reply(self, row: InteractionRow, body: str, result: MessageResult) -> None:
        """A text on a follow-up that is still waiting for its rating (other texts are left alone)."""
        if row.goal != GOAL or row.outcome or result.opted_out or row.job_id is None:
            return
        try:
            await self._take_rating(row, body)
        except Exception:  # the text itself is committed; the rating waits for a person
            log.exception("post-job rating on %s not recorded; a CSR can read the reply", row.id)

    async def _take_rating(self, row: InteractionRow, body: str) -> None:
        rating = parse_rating(body)
        if rating is None:
            return  # not a rating: the agent (or a CSR) answers it like any other reply
        job = await self._job(int(row.job_id))
        technician = await self.technician(job)
        rated = ""
        if technician is not None:
            try:
                await self._st.customer_interactions.rate_technician(
                    TechnicianRatingRequest(technicianId=technician[0], jobId=job.id, rating=rating)
                )
                rated = f" for {first_name(technician[1])}"
            except ApiError as exc:  # the rating stays on the conversation; the office can enter it
                log.warning("technician rating for job %s not stored: %s", job.id, exc)
        outcome = f"Rated {rating}/5{rated} (job {job.jobNumber})"
        await self._interactions.record_event(
            SURVEYOR,
            row.id,
            outcome,
            values={"outcome": outcome, "summary": f"Post-job follow-up: {outcome}."},
        )
        name = first_name(row.name) or "there"
        if rating >= 4:
            link = self._settings.review_url
            text = (
                self._settings.thanks_text.format(first_name=name, review_url=link)
                if link
                else self._settings.thanks_text_without_link.format(first_name=name)
            )
        elif rating <= 2:
            await self._escalations.escalate(
                reason="negative_sentiment",
                note=f'Post-job follow-up: the customer rated job {job.jobNumber} {rating}/5: "{body[:300]}"',
                interaction_id=row.id,
                phone=None,
                lead_id=None,
                principal=SURVEYOR,
            )
            text = self._settings.sorry_text.format(first_name=name)
        else:
            text = self._settings.neutral_text.format(first_name=name)
        sent, _opens, why = await self.send(row.id, text)
        if not sent:
            log.info("post-job answer to %s held by the gate: %s", row.id, why)

    # ---------------------------------------------------------- helpers
    async def technician(self, job: Job) -> tuple[int, str] | None:
        """(id, name) of the technician on the job's last appointment."""
        found = await self._st.dispatch.list_appointment_assignments(job_id=job.id)
        rows = [a for a in found.data if a.appointmentId == job.lastAppointmentId] or found.data
        active = [a for a in rows if a.active] or rows
        return (active[0].technicianId, active[0].technicianName) if active else None

    async def _job(self, job_id: int) -> Job:
        try:
            return await self._st.jpm.get_job(job_id)
        except NotFoundError:
            raise NotFound(f"No job with id {job_id}.") from None
