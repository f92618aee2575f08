"""The after-the-booking services, built together (one field on the AppContext)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from st_mcp.config import Settings
from st_mcp.services.availability import Availability
from st_mcp.services.escalation import Escalations
from st_mcp.services.interactions.service import Interactions
from st_mcp.services.lifecycle.callbacks import Callbacks
from st_mcp.services.lifecycle.history import CustomerHistories
from st_mcp.services.lifecycle.jobs import JobLifecycle
from st_mcp.services.lifecycle.survey import PostJobSurvey
from st_mcp.services.lifecycle.triage import Triage
from st_mcp.services.lifecycle.watcher import JobWatcher
from st_mcp.services.outreach.service import Outreach
from st_mcp.services.reference import ReferenceData
from st_mcp.services.revenue.conversions import BookingConversions
from st_mcp.servicetitan import ServiceTitanClient
from st_mcp.store import Store
from st_mcp.store.lifecycle import LifecycleRecords


@dataclass(slots=True)
class LifecycleServices:
    jobs: JobLifecycle
    callbacks: Callbacks
    history: CustomerHistories
    triage: Triage
    survey: PostJobSurvey
    watcher: JobWatcher
    records: LifecycleRecords


def build_lifecycle(
    settings: Settings,
    *,
    st: ServiceTitanClient,
    store: Store,
    reference: ReferenceData,
    availability: Availability,
    interactions: Interactions,
    outreach: Outreach,
    escalations: Escalations,
    conversions: BookingConversions,
    clock: Callable[[], datetime],
) -> LifecycleServices:
    records = LifecycleRecords(store.engine, str(st.tenant_id))
    survey = PostJobSurvey(
        st, interactions, outreach, escalations, settings.lifecycle, settings.persona, clock
    )
    watcher = JobWatcher(
        st,
        store,
        records,
        interactions,
        outreach,
        survey,
        settings.lifecycle,
        settings.persona,
        ZoneInfo(settings.booking.business_timezone),
        clock,
        conversions=conversions,
        leader_ttl=settings.leader_ttl_seconds,
    )
    return LifecycleServices(
        jobs=JobLifecycle(st, availability),
        callbacks=Callbacks(st, reference, interactions, settings.lifecycle, settings.escalation, clock),
        history=CustomerHistories(st, reference, availability, clock),
        triage=Triage(settings.triage),
        survey=survey,
        watcher=watcher,
        records=records,
    )
