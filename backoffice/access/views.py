"""Access governance pages (#6): the mitigation report (a page at a time) and the what-if.

The services check ``access.risk.read`` and record refusals; the views only show.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_GET, require_POST

from backoffice.access.models import Role
from backoffice.access.services import (
    MITIGATION_ORDER,
    REVIEW_ORDER,
    REVIEW_START_PERMISSION,
    REVIEW_STATUSES,
    access_risks,
    do_decide_review,
    do_start_review,
    get_mitigation_report,
    get_review_report,
    get_review_summary,
    get_simulation,
    may_read_access,
)
from backoffice.base.actor import actor_of
from backoffice.base.pages import next_url, page_of
from backoffice.core.errors import DomainError, http_status_for

__all__ = ["mitigations", "simulate", "reviews", "review_start", "review_decide", "review_summary"]

STATUSES = ("all", "expiring", "expired", "active")
#: Words the templates translate from data (risk levels, mitigation states).
DATA_WORDS = (
    gettext_noop("critical"),
    gettext_noop("high"),
    gettext_noop("medium"),
    gettext_noop("low"),
    gettext_noop("expiring"),
    gettext_noop("future"),
    # #15 recertification: review states and role classes
    gettext_noop("open"),
    gettext_noop("overdue"),
    gettext_noop("kept"),
    gettext_noop("revoked"),
    gettext_noop("decided"),
    gettext_noop("privileged"),
    gettext_noop("material"),
    gettext_noop("other"),
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


# -- #15 recertification -------------------------------------------------------------------


@login_required
@require_GET
def reviews(request: HttpRequest) -> HttpResponse:
    """The items I review and the overdue ones of people I manage (``scope=mine``), or all
    of them for compliance and audit (``scope=all``)."""
    actor = actor_of(request)
    status = request.GET.get("status", "open")
    status = status if status in REVIEW_STATUSES else "open"
    scope = "all" if request.GET.get("scope") == "all" else "mine"
    report = get_review_report(actor, status, mine=scope == "mine")
    page = page_of(request, report.records, REVIEW_ORDER)
    context = {
        "rows": [report.row(item) for item in page.items],
        "next_url": next_url(request, page.next),
        "status": status,
        "statuses": REVIEW_STATUSES,
        "scope": scope,
        "may_read_all": may_read_access(actor),
        "may_start": REVIEW_START_PERMISSION in actor.permissions,
        "me": actor.person,
    }
    return render(request, "access/reviews.html", context)


@login_required
@require_POST
def review_start(request: HttpRequest) -> HttpResponse:
    started = do_start_review(actor_of(request))  # refusals: the error middleware
    messages.success(
        request,
        _("The access review started: %(items)s item(s).") % {"items": started.items},
    )
    for name in started.unassigned:
        messages.warning(request, _("Nobody may review %(name)s.") % {"name": name})
    return redirect(f"{reverse('access:reviews')}?scope=all")


@login_required
@require_POST
def review_decide(request: HttpRequest, item_id: int) -> HttpResponse:
    decision = request.POST.get("decision", "")
    try:
        do_decide_review(actor_of(request), item_id, decision, request.POST.get("reason", ""))
    except DomainError as exc:
        if http_status_for(exc.code) == 403:
            raise
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Kept.") if decision == "keep" else _("Revoked: a role-revoke case was started."),
        )
    return redirect("access:reviews")


@login_required
@require_GET
def review_summary(request: HttpRequest) -> HttpResponse:
    summary = get_review_summary(actor_of(request))
    return render(request, "access/review_summary.html", {"summary": summary})
