"""Marketing module: campaigns (lead-source attribution)."""

from __future__ import annotations

from datetime import datetime

from st_mcp.servicetitan.models.common import StModel


class CampaignCategory(StModel):
    id: int
    name: str
    active: bool = True


class Campaign(StModel):
    id: int
    name: str
    active: bool
    isDefaultCampaign: bool | None = None
    category: CampaignCategory | None = None
    source: str | None = None
    medium: str | None = None
    businessUnit: str | None = None
    campaignPhoneNumbers: list[str] | None = None
    createdOn: datetime | None = None
    modifiedOn: datetime | None = None
