"""Shapes shared by every ServiceTitan module.

Field names are exactly the OpenAPI ones (camelCase), so a model reads like the documentation and
round-trips without alias tables. Response models keep unknown fields (``extra="allow"``): a new
field ServiceTitan adds must not break parsing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict

T = TypeVar("T")

Priority = Literal["Low", "Normal", "High", "Urgent"]
ActiveFilter = Literal["True", "Any", "False"]


class StModel(BaseModel):
    """A ServiceTitan response object."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class StRequest(BaseModel):
    """A ServiceTitan request body; serialized without the fields left unset."""

    model_config = ConfigDict(extra="forbid")

    def to_body(self) -> dict[str, object]:
        return self.model_dump(mode="json", exclude_none=True)


class Page(StModel, Generic[T]):
    """The paged list envelope ``{page, pageSize, hasMore, totalCount, data}``."""

    page: int
    pageSize: int
    hasMore: bool
    totalCount: int | None = None
    data: list[T]


class Address(StModel):
    street: str
    unit: str | None = None
    city: str
    state: str
    zip: str
    country: str
    latitude: float | None = None
    longitude: float | None = None


class AddressInput(StRequest):
    street: str
    unit: str | None = None
    city: str
    state: str
    zip: str
    country: str = "USA"
    latitude: float | None = None
    longitude: float | None = None


class CustomField(StModel):
    typeId: int
    name: str | None = None
    value: str | None = None


class ExternalDataItem(StModel):
    key: str
    value: str


class ExternalDataEntry(StRequest):
    key: str
    value: str


class ExternalDataInput(StRequest):
    """App-scoped key/value data attached to an entity (how we find our own jobs after a crash)."""

    applicationGuid: str
    externalData: list[ExternalDataEntry]


class Note(StModel):
    id: int | None = None
    text: str
    isPinned: bool = False
    createdById: int | None = None
    createdOn: datetime | None = None
    modifiedOn: datetime | None = None


class NoteInput(StRequest):
    text: str
    pinToTop: bool | None = None
