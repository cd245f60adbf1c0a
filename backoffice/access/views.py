"""Access governance pages (#6): the mitigation report (a page at a time) and the what-if.

The services check ``access.risk.read`` and record refusals; the views only show.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_GET

from backoffice.access.models import Role
from backoffice.access.services import (
    MITIGATION_ORDER,
    access_risks,
    get_actual_conflicts,
    get_mitigation_report,
    get_simulation,
)
from backoffice.base.actor import actor_of
from backoffice.base.pages import MAX_PAGE, PAGE_SIZE, next_url, page_of
from backoffice.core.errors import DomainError, http_status_for

__all__ = ["actual", "mitigations", "simulate"]

STATUSES = ("all", "expiring", "expired", "active")
#: Words the templates translate from data (risk levels, mitigation states).
DATA_WORDS = (
    gettext_noop("critical"),
    gettext_noop("high"),
    gettext_noop("medium"),
    gettext_noop("low"),
    gettext_noop("expiring"),
    gettext_noop("future"),
)


@login_required
@require_GET
def mitigations(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "all")
    status = status if status in STATUSES else "all"
    report = get_mitigation_report(actor_of(request), status)  # refusals: the error middleware
    page = report.shown(page_of(request, report.records, MITIGATION_ORDER))
    context = {
        "rows": page.items,
        "next_url": next_url(request, page.next),
        "status": status,
        "statuses": STATUSES,
    }
    return render(request, "access/mitigations.html", context)


@login_required
@require_GET
def actual(request: HttpRequest) -> HttpResponse:
    """Actual conflicts for compliance (#15), a page at a time (a bad cursor: the first)."""
    report = get_actual_conflicts(actor_of(request))  # refusals: the error middleware
    limit = request.GET.get("limit", "")
    size = min(int(limit), MAX_PAGE) if limit.isdigit() and int(limit) > 0 else PAGE_SIZE
    try:
        page = report.page(request.GET.get("after") or None, size)
    except DomainError:
        page = report.page(None, size)
    context = {"rows": page.items, "next_url": next_url(request, page.next), "window_days": 30}
    return render(request, "access/actual.html", context)


class SimulateForm(forms.Form):
    person = forms.CharField(label=_("Person"), max_length=150)
    add_roles = forms.MultipleChoiceField(label=_("Add roles"), required=False)
    remove_roles = forms.MultipleChoiceField(label=_("Remove roles"), required=False)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        roles = [
            (r.key, f"{r.name} ({r.key})") for r in Role.objects.filter(retired_at__isnull=True)
        ]
        for name in ("add_roles", "remove_roles"):
            field = self.fields[name]
            assert isinstance(field, forms.MultipleChoiceField)
            field.choices = roles


@login_required
@require_GET
def simulate(request: HttpRequest) -> HttpResponse:
    """A what-if asked with GET: it changes nothing, and the answer can be linked."""
    access_risks(actor_of(request), "access simulations")
    form = SimulateForm(request.GET if "person" in request.GET else None)
    result, status = None, 200
    if form.is_valid():
        data = form.cleaned_data
        try:
            result = get_simulation(
                actor_of(request), data["person"], data["add_roles"], data["remove_roles"]
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
            status = http_status_for(exc.code)
    return render(request, "access/simulate.html", {"form": form, "result": result}, status=status)
