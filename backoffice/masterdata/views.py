"""#16: master data and the retailer's work lists as pages (the same queries as the API)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from backoffice.base.actor import actor_of
from backoffice.base.pages import next_url, page_of
from backoffice.core.errors import DomainError, http_status_for
from backoffice.masterdata import queries

__all__ = ["master_data", "report"]


def _show(request: HttpRequest, table: queries.Table, csv_url: str) -> HttpResponse:
    table, sorted_ = table.sorted_by(request.GET.get("sort", ""), request.GET)
    page = table.shown(page_of(request, table.records, table.order))
    columns = [(c, queries.column_label(c)) for c in table.columns]
    if sorted_ is not None:  # #19: the download comes in the page's order
        csv_url = sorted_.with_sort(csv_url)
    context = {
        "sorted": sorted_,
        "table": table,
        "rows": [[row[c] for c, _ in columns] for row in page.items],
        "columns": columns,
        "next_url": next_url(request, page.next),
        "csv_url": csv_url,
        "kinds": [(k, v[0]) for k, v in queries.MASTER_KINDS.items()],
        "reports": queries.REPORT_TITLES,
    }
    return render(request, "masterdata/table.html", context)


def _refused(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return render(
        request,
        "masterdata/refused.html",
        {"message": exc.message},
        status=http_status_for(exc.code),
    )


@login_required
def master_data(request: HttpRequest, kind: str) -> HttpResponse:
    try:
        table = queries.get_master_data(actor_of(request), kind)
    except DomainError as exc:
        return _refused(request, exc)
    return _show(request, table, f"/api/v1/masterdata/{kind}?format=csv")


@login_required
def report(request: HttpRequest, name: str) -> HttpResponse:
    try:
        table = queries.get_report(actor_of(request), name)
    except DomainError as exc:
        return _refused(request, exc)
    return _show(request, table, f"/api/v1/masterdata/reports/{name}?format=csv")
