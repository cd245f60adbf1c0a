"""Access governance pages (#6): the mitigation report (a page at a time) and the what-if.

The services check ``access.risk.read`` and record refusals; the views only show.
"""

from __future__ import annotations

import re

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from backoffice.access.models import Role
from backoffice.access.queries import get_emergency_sessions
from backoffice.access.services import (
    EMERGENCY_SORTING,
    EMERGENCY_STATUSES,
    MITIGATION_SORTING,
    REVIEW_SORTING,
    REVIEW_START_PERMISSION,
    REVIEW_STATUSES,
    RISK_LEVELS,
    EmergencyReport,
    access_risks,
    do_decide_review,
    do_end_emergency,
    do_review_emergency,
    do_start_emergency,
    do_start_review,
    emergency_roles_of,
    get_access_risks,
    get_actual_conflicts,
    get_emergency_log,
    get_emergency_report,
    get_mitigation_report,
    get_review_report,
    get_review_summary,
    get_simulation,
    may_read_access,
    may_see_emergency,
    own_running_sessions,
)
from backoffice.base.actor import actor_of
from backoffice.base.http import act_and_tell
from backoffice.base.pages import MAX_PAGE, PAGE_SIZE, next_url, page_of
from backoffice.core.errors import DomainError, http_status_for
from backoffice.org.queries import display_names

__all__ = [
    "mitigations",
    "simulate",
    "emergency",
    "emergency_session",
    "reviews",
    "review_start",
    "review_decide",
    "review_summary",
    "actual",
    "risks",
]

#: #19: "due" (expiring or expired) is the start page's tile
STATUSES = ("all", "due", "expiring", "expired", "active")
#: Words the templates translate from data (risk levels, mitigation states).
DATA_WORDS = (
    gettext_noop("critical"),
    gettext_noop("high"),
    gettext_noop("medium"),
    gettext_noop("low"),
    gettext_noop("expiring"),
    gettext_noop("due"),
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
    within = _within(request.GET.get("within", ""))  # #19: the dashboard's 30/60/90 days
    # refusals: the error middleware
    report = get_mitigation_report(actor_of(request), status, within=within)
    sorted_ = MITIGATION_SORTING.of(request)  # #19
    page = report.shown(page_of(request, report.records, sorted_.order))
    context = {
        **sorted_.context(),
        "rows": page.items,
        "next_url": next_url(request, page.next),
        "status": status,
        "statuses": STATUSES,
        "within": within,
    }
    return render(request, "access/mitigations.html", context)


#: the furthest ahead ``?within=`` looks, in days
MAX_WITHIN = 366  # as the API's ``within``


def _within(text: str) -> int | None:
    """``?within=60``: expiring within that many days (1 to ``MAX_WITHIN``); else None."""
    return int(text) if text.isdigit() and 0 < int(text) <= MAX_WITHIN else None


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


@login_required
@require_GET
def risks(request: HttpRequest) -> HttpResponse:
    """#19: the access risks people hold today, a page at a time; ``?level=`` one level (the
    dashboard's chart links here, and the page counts what its bar counts)."""
    level = request.GET.get("level", "")
    level = level if level in RISK_LEVELS else ""
    report = get_access_risks(actor_of(request)).of_level(level or None)  # refusals: middleware
    try:
        page = report.page(request.GET.get("after") or None, PAGE_SIZE)
    except DomainError:
        page = report.page(None, PAGE_SIZE)
    context = {
        "rows": page.items,
        "next_url": next_url(request, page.next),
        "level": level,
        "levels": RISK_LEVELS,
    }
    return render(request, "access/risks.html", context)


class SimulateForm(forms.Form):
    #: #19: a name picker (the browser's list of people), and a login typed works as well
    person = forms.CharField(
        label=_("Person"),
        max_length=250,
        help_text=_("Type a name or a login and pick the person from the list."),
        widget=forms.TextInput(attrs={"list": "people", "autocomplete": "off"}),
    )
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

    def clean_person(self) -> str:
        """ "Lena Schulz (lena.schulz)" as the list offers it, a name, or a login."""
        text = str(self.cleaned_data["person"]).strip()
        match = re.fullmatch(r".*\(([^()]+)\)", text)
        if match:
            return match.group(1).strip()
        by_name = {name.casefold(): login for login, name in display_names().items()}
        return by_name.get(text.casefold(), text)


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
    people = sorted(display_names().items(), key=lambda item: item[1])
    context = {"form": form, "result": result, "people": people}
    return render(request, "access/simulate.html", context, status=status)


# -- #15 part 2: emergency access (break-glass, firefighter) ---------------------------------

EMERGENCY_WORDS = (
    gettext_noop("active"),
    gettext_noop("unreviewed"),
    gettext_noop("overdue"),
    gettext_noop("reviewed"),
)


class EmergencyStartForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"))
    minutes = forms.IntegerField(label=_("Minutes"), min_value=1, max_value=24 * 60)
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea)

    def __init__(self, roles: list[str], *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["role"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(r, r) for r in roles]


class EmergencyReviewForm(forms.Form):
    note = forms.CharField(label=_("What the log showed"), max_length=2000, widget=forms.Textarea)


@login_required
@require_http_methods(["GET", "POST"])
def emergency(request: HttpRequest) -> HttpResponse:
    """Take emergency access (listed people), end one's own session; controllers see the
    sessions by status, overdue reviews included (EMERG-1, -4)."""
    actor = actor_of(request)
    roles = emergency_roles_of(actor)
    form = EmergencyStartForm(roles, request.POST if "start" in request.POST else None)
    status = 200
    if request.method == "POST":
        if "end" in request.POST and request.POST["end"].isdigit():
            session_id = int(request.POST["end"])
            status = act_and_tell(
                request,
                lambda: do_end_emergency(actor, session_id),
                _("The emergency session has ended."),
            )
        elif form.is_valid():
            data = form.cleaned_data
            status = act_and_tell(
                request,
                lambda: do_start_emergency(actor, data["role"], data["minutes"], data["reason"]),
                _("You hold the role until the session ends."),
            )
        else:
            status = 422
        if status == 200:
            return redirect("access:emergency")
    context: dict[str, object] = {
        "form": form,
        "roles": roles,
        "running": own_running_sessions(actor),
        "may_see": may_see_emergency(actor),
    }
    if context["may_see"]:
        state = request.GET.get("status", "unreviewed")
        state = state if state in EMERGENCY_STATUSES else "unreviewed"
        report = get_emergency_report(actor, state)
        sorted_ = EMERGENCY_SORTING.of(request)  # #19
        page = report.shown(page_of(request, report.records, sorted_.order))
        context |= {
            **sorted_.context(),
            "rows": page.items,
            "next_url": next_url(request, page.next),
            "status": state,
            "statuses": EMERGENCY_STATUSES,
        }
    return render(request, "access/emergency.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def emergency_session(request: HttpRequest, session_id: int) -> HttpResponse:
    """One session and what was done under it; a controller reviews it here (EMERG-4)."""
    actor = actor_of(request)
    session, events = get_emergency_log(actor, session_id)  # refusals: the error middleware
    form = EmergencyReviewForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            note = form.cleaned_data["note"]
            status = act_and_tell(
                request,
                lambda: do_review_emergency(actor, session.pk, note),
                _("The review is on record."),
            )
            if status == 200:
                return redirect("access:emergency_session", session_id=session.pk)
        else:
            status = 422
    row = EmergencyReport(get_emergency_sessions("all"), timezone.now()).row(session)
    context = {"session": row, "events": events, "form": form}
    return render(request, "access/emergency_session.html", context, status=status)


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
    sorted_ = REVIEW_SORTING.of(request)  # #19
    page = page_of(request, report.records, sorted_.order)
    context = {
        **sorted_.context(),
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
