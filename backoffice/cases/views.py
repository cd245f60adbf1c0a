"""The cases in the browser: inbox, lists, one case with its actions, start and amend.

Views validate input and call one service; the services decide. A button the page does
not show is refused by the same service when its URL is called anyway.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from backoffice.base.actor import actor_of
from backoffice.base.effects import get_effect
from backoffice.base.pages import next_url, page_of
from backoffice.cases.engines import engine_for
from backoffice.cases.forms import ActionForm, DelegationForm, PayloadForm
from backoffice.cases.models import AGE_LABELS, ALL_STATUS_LABELS, Case
from backoffice.cases.present import CREDIT_STAGE_NAMES, case_out, inbox_row
from backoffice.cases.queries import (
    CASE_SORTING,
    DELEGATION_SORTING,
    INBOX_PAGE,
    access_case_by_id,
    available_actions,
    delegations_of,
    field_picks,
    get_inbox,
    inbox_count,
    inbox_extras,
    listed_cases,
    live_processes,
    payload_field_errors,
    with_history,
)
from backoffice.cases.schemas import CaseOut
from backoffice.cases.services import (
    do_command,
    do_create_delegation,
    do_end_delegation,
    do_start_case,
    pending_on_object,
)
from backoffice.core.errors import FORM_ERRORS, Denied, DomainError, http_status_for
from backoffice.core.four_eyes import DENIAL_CODES, Command, CommandKind, Status, who_matches

__all__ = [
    "inbox",
    "case_list",
    "case_detail",
    "case_act",
    "process_choose",
    "case_start",
    "case_edit",
    "delegations",
]

FINAL = [s.value for s in Status if s.is_final]


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    """What I may act on now (oldest first) and what I started that is still open."""
    process = request.GET.get("process", "")
    after = request.GET.get("after", "")
    actor = actor_of(request)
    page = get_inbox(
        actor, int(after) if after.isdigit() else None, process=process or None, not_yet=True
    )
    started = with_history(
        Case.objects.filter(maker_id=actor.pk).exclude(status__in=FINAL).order_by("pk")
    )
    if process:
        started = started.filter(process__key=process)
    mine = list(started[: INBOX_PAGE + 1])
    query = request.GET.copy()
    query.pop("after", None)
    context = {
        **inbox_extras(actor),  # #15: overdue access reviews, from the access app
        "waiting": [
            {
                **inbox_row(c, actor.facts),
                "not_yet": c.pk in page.not_yet,
                "refusal": page.not_yet.get(c.pk),
            }
            for c in page.cases
        ],
        "waiting_total": inbox_count(actor),
        "next_after": page.next_cursor,
        "query": query.urlencode(),
        "started": [inbox_row(c, actor.facts) for c in mine[:INBOX_PAGE]],
        "started_more": len(mine) > INBOX_PAGE,
        "processes": list(live_processes().values()),
        "process": process,
    }
    template = "cases/_inbox_tables.html" if request.htmx else "cases/inbox.html"
    return render(request, template, context)


@login_required
def case_list(request: HttpRequest) -> HttpResponse:
    """Every case I may see, newest first unless a header sorts it (#19), one page at a
    time (keyset: no count, no offset)."""
    state, process = request.GET.get("state", ""), request.GET.get("process", "")
    age = request.GET.get("age", "")  # #19: the dashboard's age chart links here
    age = age if age in AGE_LABELS else ""
    maker = request.GET.get("maker", "")
    sorted_ = CASE_SORTING.of(request)
    cases = listed_cases(
        actor_of(request),
        state=state or None,
        process=process or None,
        age=age or None,
        maker=maker or None,
    )
    page = page_of(request, cases, sorted_.order)
    context = {
        **sorted_.context(),
        "maker": maker,
        "cases": page.items,
        "next_url": next_url(request, page.next),
        "first_url": _first_url(request),
        "state": state,
        "process": process,
        "age": age,
        "ages": list(AGE_LABELS.items()),
        "states": list(ALL_STATUS_LABELS.items()),
        "processes": list(live_processes().values()),
    }
    template = "cases/_case_table.html" if request.htmx else "cases/case_list.html"
    return render(request, template, context)


def _first_url(request: HttpRequest) -> str | None:
    """The first page of the same list, when this is a later one."""
    if "after" not in request.GET:
        return None
    query = request.GET.copy()
    query.pop("after")
    return f"{request.path}?{query.urlencode()}" if query else request.path


#: the case page's field a form error belongs to (#19)
FORM_ERROR_FIELDS = {
    "comment.required": "comment",
    "credit.rationale_required": "comment",
    "credit.decision_required": "decision",
    "credit.rating_required": "rating",
    "credit.justification_required": "justification",
}


def _step_labels(case: Case, view: CaseOut) -> dict[str, Any]:
    """#19: the policy's step and tier labels, which the page shows in the reader's language."""
    steps = {s.id: s for s in case.spec.steps}
    current = steps.get(view.approvals.step) if view.approvals else None
    tier = (
        next(
            (t.label for t in current.tiers if view.approvals and t.label == view.approvals.tier),
            None,
        )
        if current
        else None
    )
    return {
        # a credit case's events name its stage ("votes"), a four-eyes case's its step
        "step_names": {**CREDIT_STAGE_NAMES, **{key: step.name for key, step in steps.items()}},
        "next_step": current,
        "next_tier": tier,
    }


def _detail(request: HttpRequest, case: Case, status: int = 200, **extra: Any) -> HttpResponse:
    actor = actor_of(request)
    options = available_actions(actor, case)
    view = case_out(case, actor, options)
    allowed = [a for a in view.actions if a.allowed]
    refused = [a for a in view.actions if not a.allowed and a.on_behalf_of is None]
    context = {
        "case": case,
        "view": view,
        "allowed": allowed,
        "refused": refused,
        "field_specs": case.spec.payload,
        **_step_labels(case, view),
        "denial_help": DENIAL_CODES,
        "can_amend": any(a.action == "amend" for a in allowed),
        **engine_for(case.spec).page_context(case, actor, options),
        **extra,
    }
    return render(request, "cases/case_detail.html", context, status=status)


@login_required
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, access_case_by_id(actor_of(request), pk))


@login_required
@require_POST
def case_act(request: HttpRequest, pk: int) -> HttpResponse:
    """One action from the case page; refused actions come back with the reason (403/409)."""
    actor = actor_of(request)
    case = access_case_by_id(actor, pk)
    form = ActionForm(request.POST)
    if not form.is_valid():
        return _detail(request, case, 422, action_error=_("The action could not be read."))
    data = form.cleaned_data
    outcome = do_command(actor, case, engine_for(case.spec).command_from_form(data))
    if outcome.denied is not None and outcome.denied.code in FORM_ERRORS:
        # #19: incomplete input is shown at its field, with what was typed; no refusal
        field = FORM_ERROR_FIELDS.get(outcome.denied.code, "comment")
        return _detail(
            request,
            case,
            422,
            form_error={"field": field, "message": outcome.denied.message},
            typed=data,
        )
    if outcome.denied is not None:
        return _detail(request, case, http_status_for(outcome.denied.code), denied=outcome.denied)
    messages.success(request, _("Done: %(action)s.") % {"action": _(data["action"])})
    url = reverse("cases:detail", args=[pk])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@login_required
def process_choose(request: HttpRequest) -> HttpResponse:
    facts = actor_of(request).facts
    processes = [p for p in live_processes().values() if who_matches(p.spec.starter, facts)]
    return render(request, "cases/process_choose.html", {"processes": processes})


def _form_page(
    request: HttpRequest,
    form: PayloadForm,
    title: str,
    status: int = 200,
    case: Case | None = None,
    pending: Case | None = None,
) -> HttpResponse:
    return render(
        request,
        "cases/case_form.html",
        {"form": form, "spec": form.spec, "title": title, "case": case, "pending": pending},
        status=status,
    )


def _apply_denial(form: PayloadForm, denied: Denied | DomainError) -> None:
    details = (
        list(denied.details)
        if isinstance(denied, Denied)
        else [(e.get("field", ""), e.get("message", "")) for e in denied.errors]
    )
    if details:
        form.add_payload_errors(details)
    else:
        form.add_error(None, denied.message)


@login_required
@require_http_methods(["GET", "POST"])
def case_start(request: HttpRequest, key: str) -> HttpResponse:
    process = live_processes().get(key)
    if process is None:
        raise DomainError("process.unknown", f"There is no process {key!r}.")
    spec = process.spec
    title = _("Start: %(process)s") % {"process": spec.name.text(get_language())}
    picks = field_picks(actor_of(request), spec)
    if request.method == "GET":
        initial = getattr(get_effect(spec.effect), "initial", None)  # e.g. the live policy
        form = PayloadForm(spec, initial_payload=initial() if initial else None, picks=picks)
        return _form_page(request, form, title)
    form = PayloadForm(spec, request.POST, picks=picks)
    if not form.is_valid():
        form.add_missed_errors(payload_field_errors(spec, form.payload()))
        return _form_page(request, form, title, 422)
    try:
        outcome = do_start_case(
            actor_of(request),
            key,
            form.payload(),
            submit="submit" in request.POST,
            comment=form.cleaned_data["comment"],
        )
    except DomainError as exc:
        _apply_denial(form, exc)
        return _form_page(request, form, title, http_status_for(exc.code))
    if outcome.denied is not None:
        _apply_denial(form, outcome.denied)
        pending = None
        if outcome.denied.code == "case.pending":  # #19: show the request already open
            pending = pending_on_object(actor_of(request), process, form.payload())[1]
        status = http_status_for(outcome.denied.code)
        return _form_page(request, form, title, status, pending=pending)
    assert outcome.case is not None
    messages.success(request, _("Case %(id)s was created.") % {"id": outcome.case.pk})
    return redirect("cases:detail", pk=outcome.case.pk)


@login_required
@require_http_methods(["GET", "POST"])
def case_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The maker corrects a draft or a returned case; earlier approvals no longer count."""
    actor = actor_of(request)
    case = access_case_by_id(actor, pk)
    title = _("Correct case %(id)s") % {"id": case.pk}
    amend = next(a for a in available_actions(actor, case) if a.action == "amend")
    if not amend.allowed:
        assert amend.code is not None
        raise DomainError(amend.code, amend.reason)
    picks = field_picks(actor, case.spec)
    if request.method == "GET":
        form = PayloadForm(case.spec, initial_payload=case.payload, picks=picks)
        return _form_page(request, form, title, case=case)
    form = PayloadForm(case.spec, request.POST, picks=picks)
    if not form.is_valid():
        form.add_missed_errors(payload_field_errors(case.spec, form.payload()))
        return _form_page(request, form, title, 422, case)
    amend_command = Command(CommandKind.AMEND, form.cleaned_data["comment"], form.payload())
    outcome = do_command(actor, case, amend_command)
    if outcome.denied is not None:
        _apply_denial(form, outcome.denied)
        return _form_page(request, form, title, http_status_for(outcome.denied.code), case)
    if "submit" in request.POST:
        do_command(actor, case, Command(CommandKind.SUBMIT))
    messages.success(request, _("Case %(id)s was corrected.") % {"id": pk})
    return redirect("cases:detail", pk=pk)


@login_required
@require_http_methods(["GET", "POST"])
def delegations(request: HttpRequest) -> HttpResponse:
    """Name a substitute while I am away; see whom I stand in for."""
    form = DelegationForm(request.POST or None)
    status = 200
    if request.method == "POST" and "end" in request.POST:
        try:
            do_end_delegation(actor_of(request), int(request.POST["end"]))
            messages.success(request, _("The delegation was ended."))
            return redirect("cases:delegations")
        except (DomainError, ValueError) as exc:
            messages.error(request, str(exc))
    elif request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            do_create_delegation(
                actor_of(request),
                data["substitute"],
                data["valid_from"],
                data["valid_to"],
                reason=data["reason"],
            )
            messages.success(request, _("Your substitute was named."))
            return redirect("cases:delegations")
        except DomainError as exc:
            form.add_error(None, exc.message)
            status = http_status_for(exc.code)
    elif request.method == "POST":
        status = 422
    sorted_ = DELEGATION_SORTING.of(request)
    page = page_of(request, delegations_of(actor_of(request)), sorted_.order)
    context = {
        **sorted_.context(),
        "form": form,
        "delegations": page.items,
        "next_url": next_url(request, page.next),
        "today": timezone.localdate(),
    }
    return render(request, "cases/delegations.html", context, status=status)
