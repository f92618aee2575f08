"""Accounting: invoices (one per job; money as strings)."""

from __future__ import annotations

from .. import filters
from ..entities import Invoice
from ..paging import ListOptions, paged
from ..query import Query
from ..routing import Call, Router
from ..views import business as v

router = Router()
ACC = "/accounting/v2/tenant/{tenant}"
INVOICES = ListOptions(
    sort_fields={"Id": "id", "CreatedOn": "created_on", "ModifiedOn": "modified_on"},
    active_default=None,  # invoices use activeState instead
    order_by=True,
)
COMPARERS = ("Equals", "NotEquals", "Greater", "Less")
REVIEW_STATUSES = (
    "NeedsReview",
    "OnHold",
    "Reviewed",
    "PendingApproval",
    "Rejected",
    "ReadyForBilling",
    "Invoiced",
)
CONFIGURATIONS = (
    "JobInvoice",
    "ProjectInvoice",
    "CounterSales",
    "MembershipInvoice",
    "InterestChargeInvoice",
    "ARImportInvoice",
)


# customField.*: the sandbox's invoices have no custom fields to match.
@router.get(f"{ACC}/invoices", refuses=("customField.Fields", "customField.Operator"))
async def list_invoices(call: Call) -> dict:
    q, tenant = call.query, call.tenant
    state = q.enum("activeState", ("ActiveOnly", "InactiveOnly", "All")) or "ActiveOnly"
    statuses = q.enum_list("statuses", ("Pending", "Posted", "Exported"))
    number = q.str("number") or q.str("jobNumber")  # job invoices carry the job number
    greater, less = q.float("totalGreater"), q.float("totalLess")
    reviews = q.enum_list("reviewStatuses", REVIEW_STATUSES)
    configurations = q.enum_list("invoiceConfigurations", CONFIGURATIONS)
    # No invoice of the sandbox is in a batch, adjusts another or is assigned to anyone (the views say
    # null): these filters, bound and checked, match nothing.
    unmatched = (
        q.int("batchId"),
        q.int("batchNumber"),
        q.int("adjustmentToId"),
        q.int_values("assignedToIds"),
    )
    rows = filters.apply(
        tenant.invoices.values(),
        [
            (lambda i: i.active == (state == "ActiveOnly")) if state != "All" else None,
            (lambda i: i.status in statuses) if statuses else None,
            *filters.equal_ints(
                q, {"jobId": "job_id", "customerId": "customer_id", "businessUnitId": "business_unit_id"}
            ),
            (lambda i: i.reference_number == number) if number else None,
            *filters.time_range(q, "invoicedOnOrAfter", "invoicedOnBefore", "invoice_date"),
            *filters.time_range(q, "dueDateOnOrAfter", "dueDateBefore", "due_date"),
            (lambda i: i.total >= greater) if greater is not None else None,
            (lambda i: i.total <= less) if less is not None else None,
            _balance_filter(q),
            (lambda i: v.invoice_review_status(i) in reviews) if reviews else None,
            (lambda i: _configuration(i) in configurations) if configurations else None,
            (lambda i: False) if any(value is not None for value in unmatched) else None,
        ],
    )
    return paged(q, rows, lambda i: v.invoice(i, tenant), INVOICES)


def _configuration(invoice: Invoice) -> str:
    return "MembershipInvoice" if invoice.membership_id is not None else "JobInvoice"


def _balance_filter(q: Query) -> filters.Predicate | None:
    amount, comparer = q.float("balanceFilter.Balance"), q.enum("balanceFilter.Comparer", COMPARERS)
    if amount is None or comparer is None:
        return None
    compare = {
        "Equals": lambda b: b == amount,
        "NotEquals": lambda b: b != amount,
        "Greater": lambda b: b > amount,
        "Less": lambda b: b < amount,
    }[comparer]
    return lambda invoice: compare(invoice.balance)
