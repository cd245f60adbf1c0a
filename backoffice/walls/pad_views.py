"""#17 pages: research drafts and their fact checks (RES-2); one's own personal orders and
attestation (everyone); compliance's view of all orders with the clearance of one blocked
order (PAD-3); the quarterly attestation report. The views read the form and call one
service; the services decide and record."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from backoffice.base.actor import actor_of
from backoffice.base.http import act_and_tell
from backoffice.base.pages import next_url, page_of
from backoffice.core.research import FACT_CHECK_WITHHELD
from backoffice.walls import reports
from backoffice.walls.forms import ReasonForm
from backoffice.walls.models import Issuer
from backoffice.walls.pad import (
    ATTESTATION_ORDER,
    attestation_report,
    current_quarter,
    do_attest,
    do_place_order,
    do_request_clearance,
    get_orders,
)
from backoffice.walls.queries import MANAGE_PERMISSION, access_walls_admin
from backoffice.walls.research import DRAFT_ORDER, do_send_fact_check, research_drafts

__all__ = ["my_orders", "all_orders", "attestations", "research_drafts_page"]


class OrderForm(forms.Form):
    issuer = forms.ChoiceField(label=gettext_lazy("Issuer"), choices=[])
    side = forms.ChoiceField(
        label=gettext_lazy("Side"),
        choices=[("buy", gettext_lazy("buy")), ("sell", gettext_lazy("sell"))],
    )
    quantity = forms.IntegerField(label=gettext_lazy("Quantity"), min_value=1)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        issuers = Issuer.objects.filter(retired_at__isnull=True).order_by("name")
        self.fields["issuer"].choices = [(i.key, i.name) for i in issuers]  # type: ignore[attr-defined]


class QuarterForm(forms.Form):
    year = forms.IntegerField(label=gettext_lazy("Year"), min_value=2000, max_value=2100)
    quarter = forms.IntegerField(label=gettext_lazy("Quarter"), min_value=1, max_value=4)


@login_required
@require_http_methods(["GET", "POST"])
def my_orders(request: HttpRequest) -> HttpResponse:
    """Place one's own order (pre-cleared at once) and attest a quarter."""
    actor = actor_of(request)
    form = OrderForm(request.POST if "place" in request.POST else None)
    year, quarter = current_quarter()
    status = 200
    if request.method == "POST":
        if "attest" in request.POST:
            status = act_and_tell(
                request,
                lambda: do_attest(actor, year, quarter),
                _("You attested your personal orders of the quarter."),
            )
        elif form.is_valid():
            data = form.cleaned_data
            status = act_and_tell(
                request,
                lambda: do_place_order(
                    actor, issuer=data["issuer"], side=data["side"], quantity=data["quantity"]
                ),
                _("The order was pre-cleared; its outcome is in the list."),
            )
        else:
            status = 422
        if status == 200:
            return redirect("walls:pad")
    page = page_of(request, get_orders(actor), reports.PAD_ORDER)
    context = {
        "orders": [reports.pad_order_out(o) for o in page.items],
        "next_url": next_url(request, page.next),
        "form": form,
        "year": year,
        "quarter": quarter,
    }
    return render(request, "walls/pad.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def all_orders(request: HttpRequest) -> HttpResponse:
    """Every employee's orders; compliance asks to clear one blocked order (PAD-3)."""
    actor = actor_of(request)
    rows = get_orders(actor, everyone=True)
    status = 200
    if request.method == "POST":
        reason = ReasonForm(request.POST)
        order = request.POST.get("clear", "")
        if reason.is_valid() and order.isdigit():
            why = reason.cleaned_data["reason"]
            status = act_and_tell(
                request,
                lambda: do_request_clearance(int(order), reason=why, actor=actor),
                _("A second compliance officer must release the clearance (Inbox)."),
            )
        else:
            status = 422
        if status == 200:
            return redirect("walls:pad_all")
    page = page_of(request, rows, reports.PAD_ORDER)
    context = {
        "orders": [reports.pad_order_control_out(o) for o in page.items],
        "next_url": next_url(request, page.next),
        "may_manage": MANAGE_PERMISSION in actor.permissions,
    }
    return render(request, "walls/pad_all.html", context, status=status)


@login_required
def attestations(request: HttpRequest) -> HttpResponse:
    """The attestation report of a quarter: every employee, their orders, their attestation."""
    access_walls_admin(actor_of(request), "attestation report", read_only=True)
    year, quarter = current_quarter()
    form = QuarterForm(request.GET if "year" in request.GET else None)
    if form.is_valid():
        year, quarter = form.cleaned_data["year"], form.cleaned_data["quarter"]
    page = page_of(request, attestation_report(year, quarter), ATTESTATION_ORDER)
    context = {
        "rows": [reports.attestation_out(u, year, quarter) for u in page.items],
        "next_url": next_url(request, page.next),
        "year": year,
        "quarter": quarter,
        "form": form,
    }
    return render(request, "walls/attestations.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def research_drafts_page(request: HttpRequest) -> HttpResponse:
    """Research's drafts; send one to its issuer for a fact check (RES-2): the system's
    version without rating, price target and valuation, nothing else."""
    actor = actor_of(request)
    rows = research_drafts(actor)
    status = 200
    if request.method == "POST":
        case = request.POST.get("fact_check", "")
        if case.isdigit():
            status = act_and_tell(
                request,
                lambda: do_send_fact_check(actor, int(case)),
                _("The issuer got the version without rating, price target and valuation."),
            )
        else:
            status = 422
        if status == 200:
            return redirect("walls:research")
    page = page_of(request, rows, DRAFT_ORDER)
    context = {
        "drafts": [
            {
                "id": c.pk,
                "issuer": c.payload.get("issuer", ""),
                "headline": c.payload.get("headline", ""),
                "author": c.maker.get_username(),
                "status": c.status,
                "sent": c.sent,
                "last_sent": c.last_sent,
                "withheld": [f for f in FACT_CHECK_WITHHELD if c.payload.get(f)],
            }
            for c in page.items
        ],
        "next_url": next_url(request, page.next),
    }
    return render(request, "walls/research.html", context, status=status)
