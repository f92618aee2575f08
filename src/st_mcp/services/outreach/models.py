"""What the Speed to Lead tools return (pydantic, so clients get an outputSchema)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class LeadContext(BaseModel):
    name: str | None
    phone: str | None = Field(description="Masked; send with interaction_id, never by number")
    source: str | None
    request: str | None = Field(description="What the lead asked for, as received")
    city: str | None
    state: str | None
    zip: str | None
    customer_id: int | None
    received_at: datetime
    lead_local_time: str = Field(description="The time now where the lead is, e.g. '7:46 PM Sat Mar 14'")
    last_reply: str | None = Field(description="The lead's latest message, when there is one")


class LeadQueueItem(BaseModel):
    interaction_id: str
    status: str
    action: Literal["reply", "first_touch", "follow_up"]
    touch_number: int = Field(description="Which outbound touch this would be (1 = the first text)")
    due_at: datetime
    can_send_now: bool
    send_window_opens_at: datetime | None = Field(
        description="When a text is next allowed (quiet hours or touch cap), in the lead's time zone"
    )
    waiting: str | None = Field(description="Why it cannot be sent now, when it cannot")
    lead: LeadContext


class LeadQueue(BaseModel):
    items: list[LeadQueueItem]
    abandoned: list[str] = Field(description="Interactions the cadence just ended without a reply")
    upcoming: int = Field(description="Follow-ups scheduled later (not due yet)")
    next_due_at: datetime | None
    note: str


class SendResult(BaseModel):
    interaction_id: str
    message_id: str
    status: str
    gateway: str = Field(description="sandbox, twilio, or none (your platform delivers the text)")
    provider_message_id: str | None
    delivery_status: str
    sent_at: datetime
    note: str
