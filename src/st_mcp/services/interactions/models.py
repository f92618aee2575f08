"""What the interaction tools return (pydantic, so clients get outputSchema + structuredContent)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

Goal = Literal[
    "Speed to Lead",
    "Inbound SMS",
    "Inbound Voice",
    "Post-Job Follow-up",
    "Estimate Follow-up",
    "Maintenance Reminder",
]
Channel = Literal["SMS Agent", "Voice Agent"]
InteractionType = Literal["Lead", "Customer"]
Direction = Literal["inbound", "outbound"]
MessageChannel = Literal["sms", "voice"]
Outcome = Literal["dismissed", "abandoned", "failed", "terminated"]


class IngestResult(BaseModel):
    interaction_id: str
    status: str
    duplicate: bool
    duplicate_of: str | None = None
    in_service_area: bool | None = None
    campaign_id: int | None = None
    note: str


class MessageResult(BaseModel):
    interaction_id: str
    message_id: str
    direction: Direction
    status: str
    opted_out: bool = False
    opted_in: bool = False
    # The lead texted HELP: the carriers' required answer, to send as is (the server sends it itself
    # when it delivers texts through a gateway).
    help_text: str | None = None
    note: str


class CallResult(BaseModel):
    interaction_id: str
    call_id: str
    status: str
    opted_out: bool = False
    note: str


class StatusResult(BaseModel):
    interaction_id: str
    status: str
    previous_status: str
    note: str


class InteractionRowView(BaseModel):
    interaction_id: str
    status: str
    goal: str
    channel: str
    type: str
    name: str | None
    phone: str | None  # masked in lists
    source: str | None
    last_activity_at: datetime
    summary: str


class InteractionList(BaseModel):
    items: list[InteractionRowView]
    next_cursor: str | None = None
    total_matching: int


class ThreadItem(BaseModel):
    at: datetime
    kind: Literal["message", "call"]
    direction: Direction
    sender: str  # "agent", "lead", or the name of the person
    text: str
    recording_url: str | None = None
    duration_seconds: int | None = None
    outcome: str | None = None
    delivery_status: str | None = Field(
        default=None,
        description="Texts sent through a gateway: how far it got (queued, sent, delivered, undelivered, "
        "failed, …), as the provider last reported",
    )
    delivery_error: str | None = Field(
        default=None, description="The provider's error code when delivery failed, e.g. Twilio's '30007'"
    )


class HistoryItem(BaseModel):
    at: datetime
    from_status: str | None
    to_status: str
    actor: str
    reason: str | None


class InteractionLinks(BaseModel):
    servicetitan_lead_id: int | None
    customer_id: int | None
    location_id: int | None
    job_id: int | None
    job_number: str | None


class InteractionDetail(BaseModel):
    interaction_id: str
    status: str
    goal: str
    channel: str
    type: str
    name: str | None
    phone: str | None
    email: str | None
    address: str | None
    source: str | None
    request: str | None
    received_at: datetime
    last_activity_at: datetime
    taken_over_by: str | None
    links: InteractionLinks
    overview_summary: str
    summary_written_by: Literal["agent", "generated"]
    thread: list[ThreadItem]
    status_history: list[HistoryItem]
    hidden: str | None = None


class InteractionStats(BaseModel):
    since: datetime
    until: datetime
    goal: str | None
    conversations: int
    escalated: int
    high_activity: int
    response_rate: float | None
    conversion_rate: float | None
    median_speed_to_lead_seconds: float | None
    counts_by_status: dict[str, int]
    definitions: dict[str, str]
