"""Settings module: technicians, business units, tag types."""

from __future__ import annotations

from datetime import datetime

from st_mcp.servicetitan.models.common import StModel


class NamedRef(StModel):
    id: int
    name: str | None = None


class Technician(StModel):
    id: int
    userId: int | None = None
    name: str
    businessUnitId: int | None = None
    mainZoneId: int | None = None
    zoneIds: list[int] | None = None
    email: str | None = None
    phoneNumber: str | None = None
    active: bool = True
    status: str | None = None
    skills: list[NamedRef] | None = None
    createdOn: datetime | None = None
    modifiedOn: datetime | None = None


class BusinessUnit(StModel):
    id: int
    active: bool
    name: str
    officialName: str | None = None
    phoneNumber: str | None = None
    trade: NamedRef | None = None
    createdOn: datetime | None = None
    modifiedOn: datetime | None = None


class TagType(StModel):
    id: int
    name: str
    color: str | None = None
    code: str | None = None
    active: bool = True
