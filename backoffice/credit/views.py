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
from django.utils.translation import gettext as _

from backoffice.base.actor import actor_of
from backoffice.base.pages import next_url, page_of
from backoffice.base.pdf import pdf_download
from backoffice.core.errors import DomainError, http_status_for
from backoffice.credit import queries
from backoffice.credit.services import do_note_risk_report_export

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
    """CR-4 escalations; ``?month=2026-12`` (#19: the dashboard's chart) those of a month."""
    month = queries.parse_month(request.GET.get("month"))
    try:
        report = queries.get_escalations(actor_of(request), month)
    except DomainError as exc:
        return _refused(request, exc)
    csv_path = "/api/v1/credit/escalations?format=csv"
    if month is not None:
        csv_path += f"&month={month:%Y-%m}"
    return _page(request, report, csv_path)


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
    if request.GET.get("format") == "pdf":  # #19: checked and refused as the page is
        return _risk_report_pdf(request, report, start, end)
    csv_path = f"/api/v1/credit/risk-report?format=csv&start={start}&end={end}"
    return _page(
        request,
        report,
        csv_path,
        period={"start": start, "end": end},
        action=reverse("credit:risk_report"),
        pdf_url=f"{reverse('credit:risk_report')}?format=pdf&start={start}&end={end}",
    )


def _risk_report_pdf(
    request: HttpRequest, report: queries.Report[Any], start: date, end: date
) -> HttpResponse:
    """The CR-6 risk report as a PDF: the page's rows, all of them, in the reader's language;
    the export is on the audit trail."""
    do_note_risk_report_export(actor_of(request), start, end, "pdf")
    context = {
        "title": _("Risk report"),
        "columns": report.columns,
        "rows": list(report.all_rows()),
        "period": {"start": start, "end": end},
    }
    return pdf_download(
        request, "credit/report_print.html", context, f"risk-report-{start}-{end}.pdf"
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
