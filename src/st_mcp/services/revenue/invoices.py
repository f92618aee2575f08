"""An invoice read back in plain words: number, date, total, balance and what was billed.

Only these fields leave the service (the result model names them), so nothing else ServiceTitan holds
about payments can reach the model; a copy goes to the customer only as a text through send_message,
where the compliance gate applies.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from st_mcp.services.errors import NotFound, UserInputError
from st_mcp.services.revenue.money import dollars
from st_mcp.servicetitan import ServiceTitanClient
from st_mcp.servicetitan.models.accounting import Invoice, InvoiceItem


class InvoiceLine(BaseModel):
    description: str
    quantity: float
    total: float
    words: str  # "Precision tune-up — $149.00"


class InvoiceResult(BaseModel):
    invoice_id: int
    number: str | None
    date: datetime | None
    due_date: datetime | None
    job_id: int | None
    job_number: str | None
    customer_id: int | None
    total: float
    balance: float
    paid_in_full: bool
    items: list[InvoiceLine]
    summary: str  # the invoice in one or two sentences, ready to say or to text
    note: str


class Invoices:
    def __init__(self, st: ServiceTitanClient, zone: ZoneInfo) -> None:
        self._st = st
        self._zone = zone

    async def read(self, *, job_id: int | None, invoice_id: int | None) -> InvoiceResult:
        if (job_id is None) == (invoice_id is None):
            raise UserInputError("Give exactly one of job_id or invoice_id.")
        if invoice_id is not None:
            found = (await self._st.accounting.list_invoices(ids=[invoice_id], page_size=1)).data
            what = f"invoice {invoice_id}"
        else:
            found = (await self._st.accounting.list_invoices(job_id=job_id, page_size=5)).data
            what = f"job {job_id}"
        if not found:
            raise NotFound(f"No invoice for {what}. Check the id with get_job_status or the customer.")
        return self._result(found[0])

    def _result(self, invoice: Invoice) -> InvoiceResult:
        total, balance = _amount(invoice.total), _amount(invoice.balance)
        lines = [_line(item) for item in invoice.items or []]
        when = (
            invoice.invoiceDate.astimezone(self._zone).strftime("%b %-d, %Y") if invoice.invoiceDate else None
        )
        number = invoice.referenceNumber or str(invoice.id)
        summary = f"Invoice {number}" + (f" from {when}" if when else "") + f": total {dollars(total)}, "
        summary += "paid in full." if balance <= 0 else f"balance due {dollars(balance)}."
        if lines:
            summary += " Items: " + "; ".join(line.words for line in lines) + "."
        return InvoiceResult(
            invoice_id=invoice.id,
            number=invoice.referenceNumber,
            date=invoice.invoiceDate,
            due_date=invoice.dueDate,
            job_id=invoice.job.id if invoice.job else None,
            job_number=invoice.job.number if invoice.job else None,
            customer_id=invoice.customer.id if invoice.customer else None,
            total=total,
            balance=balance,
            paid_in_full=balance <= 0,
            items=lines,
            summary=summary,
            note=(
                "Read the summary to the customer. To text them a copy, use send_message with this summary "
                "(the compliance gate applies). Never ask for, repeat or accept card numbers: payments go "
                "through the office or the invoice's own payment link."
            ),
        )


def _amount(text: str | None) -> float:
    try:
        return round(float(text or 0), 2)
    except ValueError:
        return 0.0


def _line(item: InvoiceItem) -> InvoiceLine:
    description = item.description or item.skuName or "Item"
    quantity, total = _amount(item.quantity) or 1.0, _amount(item.total)
    count = f"{quantity:g} × " if quantity != 1 else ""
    return InvoiceLine(
        description=description,
        quantity=quantity,
        total=total,
        words=f"{count}{description} — {dollars(total)}",
    )
