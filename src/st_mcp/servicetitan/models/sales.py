"""Sales (salestech) module: estimates a technician presented."""

from __future__ import annotations

from datetime import datetime

from st_mcp.servicetitan.models.common import StModel


class EstimateStatus(StModel):
    value: int
    name: str


class EstimateSku(StModel):
    id: int
    name: str
    displayName: str | None = None
    type: str | None = None


class EstimateItem(StModel):
    id: int
    sku: EstimateSku
    description: str
    qty: float
    unitRate: float
    total: float


class Estimate(StModel):
    id: int
    jobId: int | None = None
    locationId: int | None = None
    customerId: int | None = None
    name: str | None = None
    jobNumber: str | None = None
    status: EstimateStatus | None = None
    summary: str | None = None
    createdOn: datetime
    modifiedOn: datetime
    soldOn: datetime | None = None
    soldBy: int | None = None
    active: bool
    items: list[EstimateItem] | None = None
    subtotal: float
    tax: float
    businessUnitName: str | None = None

    @property
    def total(self) -> float:
        return round(self.subtotal + self.tax, 2)
