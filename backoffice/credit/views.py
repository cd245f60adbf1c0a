"""The credit registers and the risk report as pages (the same queries as the API).

Server-rendered, no inline styles or scripts (a strict CSP is coming); each page shows one
page of rows with a link to the next and offers the whole report as CSV from the API.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from backoffice.base.actor import actor_of
from backoffice.base.pages import next_url, page_of
from backoffice.core.errors import DomainError, http_status_for
from backoffice.credit import queries

__all__ = [
    "register",
    "escalations",
    "risk_report",
    "overdue_reviews",
    "borrowers",
    "borrower_detail",
]


def _page(
    request: HttpRequest, report: queries.Report[Any], csv_path: str, **extra: object
) -> HttpResponse:
    """One page of the report (``?after=``), the link to the next, and the CSV of all."""
    page = report.shown(page_of(request, report.records, report.order))
    context = {
        "report": report,
        "rows": page.items,
        "next_url": next_url(request, page.next),
        "csv_url": csv_path,
        "columns": report.columns,
    }
    return render(request, "credit/report.html", context | extra)


def _refused(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return render(
        request, "credit/refused.html", {"message": exc.message}, status=http_status_for(exc.code)
    )


@login_required
def register(request: HttpRequest) -> HttpResponse:
    try:
        report = queries.get_decision_register(actor_of(request))
    except DomainError as exc:
        return _refused(request, exc)
    return _page(request, report, "/api/v1/credit/register?format=csv")


@login_required
def escalations(request: HttpRequest) -> HttpResponse:
    try:
        report = queries.get_escalations(actor_of(request))
    except DomainError as exc:
        return _refused(request, exc)
    return _page(request, report, "/api/v1/credit/escalations?format=csv")


def _day(text: str | None, default: date) -> date:
    try:
        return date.fromisoformat(text) if text else default
    except ValueError:
        return default


@login_required
def risk_report(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    start = _day(request.GET.get("start"), today.replace(month=1, day=1))
    end = _day(request.GET.get("end"), today)
    try:
        report = queries.get_risk_report(actor_of(request), start, end)
    except DomainError as exc:
        return _refused(request, exc)
    csv_path = f"/api/v1/credit/risk-report?format=csv&start={start}&end={end}"
    return _page(
        request,
        report,
        csv_path,
        period={"start": start, "end": end},
        action=reverse("credit:risk_report"),
    )


@login_required
def overdue_reviews(request: HttpRequest) -> HttpResponse:
    try:
        report = queries.get_overdue_reviews(actor_of(request))
    except DomainError as exc:
        return _refused(request, exc)
    return _page(request, report, "/api/v1/credit/reviews/overdue?format=csv")


@login_required
def borrowers(request: HttpRequest) -> HttpResponse:
    """#19: the borrower register for those who work on credits: search by number, name or
    group, one page at a time."""
    text = request.GET.get("q", "")[:100]
    try:
        found = queries.search_borrowers(actor_of(request), text)
    except DomainError as exc:
        return _refused(request, exc)
    sorted_ = queries.BORROWER_SORTING.of(request)
    page = page_of(request, found, sorted_.order)
    context = {
        "borrowers": page.items,
        "next_url": next_url(request, page.next),
        "q": text,
        **sorted_.context(),
    }
    return render(request, "credit/borrowers.html", context)


@login_required
def borrower_detail(request: HttpRequest, key: str) -> HttpResponse:
    """#19: one borrower: group, the group's exposure, credit cases and booked credits."""
    try:
        found = queries.get_borrower(actor_of(request), key)
    except DomainError as exc:
        return _refused(request, exc)
    return render(request, "credit/borrower.html", found)
