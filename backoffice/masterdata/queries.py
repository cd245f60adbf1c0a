"""#16: master data and the retailer's work lists, read a page at a time or whole (CSV).

Who may read: those with ``reports.read`` (the controller, the managing directors, internal
audit) — vendor bank accounts and salaries' context are not for everyone; a refusal is
recorded. The work lists read the cases of the processes the retail policy names (by
process id); a policy without them simply has empty lists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db.models import (
    CharField,
    Count,
    DateField,
    DecimalField,
    Exists,
    OuterRef,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, TruncMonth
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backoffice.audit.services import do_refuse
from backoffice.base.actor import Actor
from backoffice.base.pages import RecordPages
from backoffice.base.sorting import Sorted, Sorting
from backoffice.cases.models import Case, CaseEvent
from backoffice.core.payload import money_of
from backoffice.masterdata.models import Customer, Employee, Item, StockLocation, Vendor

__all__ = [
    "Table",
    "MASTER_KINDS",
    "REPORTS",
    "REPORT_TITLES",
    "column_label",
    "get_master_data",
    "get_report",
]

READ_PERMISSION = "reports.read"


@dataclass
class Table(RecordPages):
    """A titled list: ``columns`` in order, for the page, the API and the CSV."""

    title: Any
    description: Any
    columns: tuple[str, ...]
    records: QuerySet[Any]
    order: tuple[str, ...]
    row: Callable[[Any], dict[str, Any]]

    #: #19: the columns the page (and its download) may sort by; None: a fixed order
    sorting: Sorting | None = None

    def cells(self) -> Any:
        for row in self.all_rows():
            yield [row[c] for c in self.columns]

    def sorted_by(self, text: str, query: QueryDict | None = None) -> tuple[Table, Sorted | None]:
        """This table in the order ``?sort=`` names (the page and its download alike);
        ``query``: the page's, which the header links keep."""
        if self.sorting is None:
            return self, None
        sorted_ = self.sorting.parse(text, query)
        return replace(self, order=sorted_.order), sorted_


def _fields(*names: str) -> Callable[[Any], dict[str, Any]]:
    return lambda o: {n: getattr(o, n) for n in names}


#: kind -> (title, model, columns, order)
MASTER_KINDS: dict[str, tuple[Any, Any, tuple[str, ...], tuple[str, ...]]] = {
    "vendors": (
        _("Vendors"),
        Vendor,
        ("number", "name", "iban", "address", "payment_terms_days", "last_updated"),
        ("number", "pk"),
    ),
    "customers": (
        _("Customers"),
        Customer,
        ("number", "name", "iban", "address", "credit_limit", "last_updated"),
        ("number", "pk"),
    ),
    "items": (
        _("Items"),
        Item,
        ("number", "name", "unit", "unit_price", "last_updated"),
        ("number", "pk"),
    ),
    "locations": (
        _("Stock locations"),
        StockLocation,
        ("code", "name", "kind", "unit", "last_updated"),
        ("code", "pk"),
    ),
    "employees": (
        _("Employees"),
        Employee,
        (
            "number",
            "person",
            "name",
            "location",
            "position",
            "hired",
            "leaving_date",
            "iban",
            "address",
            "monthly_salary",
            "salary_effective",
            "last_updated",
        ),
        ("number", "pk"),
    ),
}


def _sortable(model: Any, columns: tuple[str, ...], order: tuple[str, ...]) -> Sorting:
    """#19: a master data table sorts by each of its columns that is never empty (NULL)."""
    fields = {f.name: f for f in model._meta.concrete_fields}
    sortable = {c: (c,) for c in columns if c in fields and not fields[c].null}
    return Sorting(model, sortable, order, descending_first=frozenset({"last_updated"}))


#: kind -> its sortable columns
MASTER_SORTINGS = {
    kind: _sortable(model, columns, order)
    for kind, (_title, model, columns, order) in MASTER_KINDS.items()
}


def _may_read(actor: Actor, what: str) -> None:
    if READ_PERMISSION not in actor.facts.permissions:
        do_refuse(
            "reports.forbidden",
            "Master data and the work lists are for finance, the board and internal audit "
            "(permission reports.read).",
            action="masterdata.read_denied",
            user=actor.user,
            object_type="masterdata",
            object_id=what,
        )


def get_master_data(actor: Actor, kind: str) -> Table:
    """One kind of master data, by its number (code)."""
    _may_read(actor, kind)
    title, model, columns, order = MASTER_KINDS[kind]
    description = _("Imported with `backoffice masterdata import %(kind)s FILE`.") % {"kind": kind}
    return Table(
        title,
        description,
        columns,
        model.objects.all(),
        order,
        _fields(*columns),
        MASTER_SORTINGS[kind],
    )


# -- work lists over the retailer's cases -------------------------------------------------

_LIVE = ("submitted", "returned", "released")


def _cases(process: str) -> QuerySet[Case]:
    return Case.objects.filter(process__key=process).select_related("maker")


def _money(value: Any) -> str:
    money = money_of(value)
    return f"{money.amount:.2f}" if money else ""


def _base(case: Case) -> dict[str, Any]:
    return {
        "case": case.pk,
        "status": case.status,
        "step": case.current_step,
        "maker": case.maker.get_username(),
        "created": case.created.date(),
    }


def _open_orders() -> Table:
    invoiced = (
        _cases("invoice-match").filter(status="released").values_list("payload__order", flat=True)
    )
    records = _cases("purchase-order").filter(status__in=_LIVE).exclude(pk__in=list(invoiced))
    return Table(
        _("Open purchase orders"),
        _("Orders waiting for approval or approved, with no released invoice yet."),
        ("case", "vendor", "item", "quantity", "amount", "status", "maker", "created"),
        records,
        ("-pk",),
        lambda c: (
            _base(c)
            | {
                "vendor": c.payload.get("vendor"),
                "item": c.payload.get("item"),
                "quantity": c.payload.get("quantity"),
                "amount": _money(c.payload.get("amount")),
            }
        ),
    )


def _invoices() -> Table:
    records = _cases("invoice-match").filter(status__in=("submitted", "returned"))
    return Table(
        _("Invoices waiting for match or mismatched"),
        _(
            "Vendor invoices not yet released: those at the mismatch step failed the "
            "three-way match and wait for the head of finance."
        ),
        ("case", "invoice_number", "vendor", "amount", "mismatch", "step", "maker", "created"),
        records,
        ("-pk",),
        lambda c: (
            _base(c)
            | {
                "invoice_number": c.payload.get("invoice_number"),
                "vendor": c.payload.get("vendor"),
                "amount": _money(c.payload.get("amount")),
                "mismatch": "yes" if c.current_step == "mismatch" else "",
            }
        ),
    )


def _write_offs() -> Table:
    """Totals per stock location and month, one grouped query however many cases: what is
    released is booked; what still waits for approval is shown beside it."""
    amount = Cast(KT("payload__amount__amount"), DecimalField(max_digits=18, decimal_places=2))
    booked, waiting = Q(status="released"), Q(status__in=("submitted", "returned"))
    grouped = (
        _cases("stock-write-off")
        .filter(status__in=_LIVE)
        .annotate(
            # a plain text column, so the page's cursor compares it as text (not JSON)
            location=Cast(KT("payload__location"), CharField(max_length=64)),
            month=TruncMonth("created", output_field=DateField()),
        )
        .values("location", "month")
        .annotate(
            booked_count=Count("pk", filter=booked),
            booked_amount=Sum(amount, filter=booked),
            waiting_count=Count("pk", filter=waiting),
            waiting_amount=Sum(amount, filter=waiting),
        )
    )

    def total(value: Decimal | None) -> str:
        return f"{value or Decimal(0):.2f}"

    return Table(
        _("Write-offs by location and month"),
        _(
            "Stock write-offs summed per stock location and month: the released ones are "
            "booked, the others still wait for approval."
        ),
        (
            "location",
            "month",
            "booked_count",
            "booked_amount",
            "waiting_count",
            "waiting_amount",
        ),
        grouped,
        ("location", "-month"),
        lambda r: {
            "location": r["location"],
            "month": r["month"].strftime("%Y-%m"),
            "booked_count": r["booked_count"],
            "booked_amount": total(r["booked_amount"]),
            "waiting_count": r["waiting_count"],
            "waiting_amount": total(r["waiting_amount"]),
        },
    )


def _till_differences() -> Table:
    booked = CaseEvent.objects.filter(case_id=OuterRef("pk"), kind="approved", step="difference")
    records = _cases("till-cash-up").filter(
        Q(current_step="difference") | Exists(booked), status__in=_LIVE
    )

    def row(c: Case) -> dict[str, Any]:
        expected, counted = money_of(c.payload.get("expected")), money_of(c.payload.get("counted"))
        difference = (counted.amount - expected.amount) if expected and counted else Decimal(0)
        return _base(c) | {
            "shop": c.payload.get("shop"),
            "till": c.payload.get("till"),
            "business_day": c.payload.get("business_day"),
            "expected": _money(c.payload.get("expected")),
            "counted": _money(c.payload.get("counted")),
            "difference": difference,
        }

    return Table(
        _("Till differences"),
        _("Till cash-ups whose count differs from the expected cash."),
        ("case", "shop", "till", "business_day", "expected", "counted", "difference", "status"),
        records,
        ("-pk",),
        row,
    )


#: how far back a vendor change makes its payments worth a second look
RECENT_DAYS = 30


def _recent_vendor_payments() -> Table:
    since = timezone.now() - timedelta(days=RECENT_DAYS)
    changed = list(
        _cases("vendor-master")
        .filter(status__in=_LIVE, created__gte=since)
        .values_list("payload__vendor", flat=True)
        .distinct()
    )
    records = _cases("payment-run").filter(status__in=_LIVE, payload__vendor__in=changed)
    return Table(
        _("Payments to vendors whose master data changed recently"),
        _("Payments to a vendor whose master data was changed in the last 30 days."),
        ("case", "vendor", "iban", "amount", "value_date", "status", "maker", "created"),
        records,
        ("-pk",),
        lambda c: (
            _base(c)
            | {
                "vendor": c.payload.get("vendor"),
                "iban": c.payload.get("iban"),
                "amount": _money(c.payload.get("amount")),
                "value_date": c.payload.get("value_date"),
            }
        ),
    )


REPORTS: dict[str, Callable[[], Table]] = {
    "open-purchase-orders": _open_orders,
    "invoices-waiting": _invoices,
    "write-offs": _write_offs,
    "till-differences": _till_differences,
    "recent-vendor-payments": _recent_vendor_payments,
}


def get_report(actor: Actor, name: str) -> Table:
    """One of the retailer's work lists (``REPORTS``)."""
    _may_read(actor, name)
    return REPORTS[name]()


#: the work lists' names and titles, for the pages' navigation
REPORT_TITLES: list[tuple[str, Any]] = [
    ("open-purchase-orders", _("Open purchase orders")),
    ("invoices-waiting", _("Invoices waiting for match or mismatched")),
    ("write-offs", _("Write-offs by location and month")),
    ("till-differences", _("Till differences")),
    ("recent-vendor-payments", _("Payments to vendors whose master data changed recently")),
]

_COLUMN_LABELS: dict[str, Any] = {
    "number": _("Number"),
    "name": _("Name"),
    "iban": _("IBAN"),
    "address": _("Address"),
    "payment_terms_days": _("Payment terms (days)"),
    "last_updated": _("Last changed"),
    "credit_limit": _("Credit limit"),
    "unit": _("Unit"),
    "unit_price": _("Unit price"),
    "code": _("Code"),
    "kind": _("Kind"),
    "person": _("Login"),
    "location": _("Location"),
    "case": _("Case"),
    "vendor": _("Vendor"),
    "item": _("Item"),
    "quantity": _("Quantity"),
    "amount": _("Amount"),
    "status": _("Status"),
    "maker": _("Maker"),
    "created": _("Created"),
    "invoice_number": _("Invoice number"),
    "mismatch": _("Mismatch"),
    "step": _("Step"),
    "month": _("Month"),
    "reason": _("Reason"),
    "shop": _("Shop"),
    "till": _("Till"),
    "business_day": _("Business day"),
    "expected": _("Expected"),
    "counted": _("Counted"),
    "difference": _("Difference"),
    "value_date": _("Value date"),
    "position": _("Position"),
    "hired": _("Hired"),
    "leaving_date": _("Leaving date"),
    "monthly_salary": _("Monthly salary"),
    "salary_effective": _("Salary effective from"),
    "booked_count": _("Booked write-offs"),
    "booked_amount": _("Booked amount"),
    "waiting_count": _("Waiting write-offs"),
    "waiting_amount": _("Waiting amount"),
}


def column_label(column: str) -> Any:
    """A column's title on the page, in the reader's language."""
    return _COLUMN_LABELS.get(column, column)
