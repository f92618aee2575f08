"""Accounting module: invoices (job history totals)."""

from __future__ import annotations

from datetime import datetime

from st_mcp.servicetitan.models.common import StModel


class InvoiceJobRef(StModel):
    id: int
    number: str | None = None
    type: str | None = None


class InvoiceRef(StModel):
    id: int
    name: str | None = None


class InvoiceItem(StModel):
    id: int
    description: str | None = None
    skuName: str | None = None
    type: str | None = None
    quantity: str | None = None  # money and quantities as strings, like the invoice's totals
    price: str | None = None
    total: str | None = None


class Invoice(StModel):
    id: int
    referenceNumber: str | None = None
    invoiceDate: datetime | None = None
    dueDate: datetime | None = None
    # ServiceTitan sends money as strings such as "125.00".
    subTotal: str | None = None
    salesTax: str | None = None
    total: str | None = None
    balance: str | None = None
    customer: InvoiceRef | None = None
    location: InvoiceRef | None = None
    businessUnit: InvoiceRef | None = None
    job: InvoiceJobRef | None = None
    summary: str | None = None
    items: list[InvoiceItem] | None = None
    active: bool = True
    createdOn: datetime | None = None
    modifiedOn: datetime | None = None
