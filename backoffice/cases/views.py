"""The cases in the browser: inbox, lists, one case with its actions, start and amend.

Views validate input and call one service; the services decide. A button the page does
not show is refused by the same service when its URL is called anyway.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from backoffice.accounts.queries import get_actor_facts
from backoffice.cases.forms import ActionForm, DelegationForm, PayloadForm
from backoffice.cases.models import Case, Delegation, Process
from backoffice.cases.present import case_out
from backoffice.cases.queries import (
    access_case_by_id,
    available_actions,
    domain_case,
    get_inbox,
    visible_cases,
)
from backoffice.cases.services import (
    do_command,
    do_create_delegation,
    do_end_delegation,
    do_start_case,
)
from backoffice.core.errors import Denied, DomainError, http_status_for
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


def _row(case: Case) -> dict[str, Any]:
    """A list row with why it is there: the step, who acts on it, the amount tier."""
    current = domain_case(case)
    step = current.current_step
    return {
        "case": case,
        "step": step.name if step else "",
        "who": step.who.describe() if step else "",
        "tier": current.tier(step).label if step else "",
        "approvals": (len(current.approvals(step.id)), current.tier(step).approvals)
        if step
        else None,
        "age_days": (timezone.now() - case.created).days,
    }


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    """What I may act on now (oldest first) and what I started that is still open."""
    process = request.GET.get("process", "")
    waiting = [c for c in get_inbox(request.user) if not process or c.process.key == process]
    started = (
        Case.objects.filter(maker=request.user)
        .exclude(status__in=FINAL)
        .select_related("process", "maker__profile")
        .prefetch_related("events")
        .order_by("created")
    )
    if process:
        started = started.filter(process__key=process)
    context = {
        "waiting": [_row(c) for c in waiting],
        "started": [_row(c) for c in started],
        "processes": Process.objects.filter(retired_at__isnull=True),
        "process": process,
    }
    template = "cases/_inbox_tables.html" if request.htmx else "cases/inbox.html"
    return render(request, template, context)


@login_required
def case_list(request: HttpRequest) -> HttpResponse:
    cases = visible_cases(request.user).select_related("process", "maker__profile")
    state, process = request.GET.get("state", ""), request.GET.get("process", "")
    if state:
        cases = cases.filter(status=state)
    if process:
        cases = cases.filter(process__key=process)
    page = Paginator(cases.order_by("-created"), 50).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "state": state,
        "process": process,
        "states": [s.value for s in Status],
        "processes": Process.objects.filter(retired_at__isnull=True),
    }
    template = "cases/_case_table.html" if request.htmx else "cases/case_list.html"
    return render(request, template, context)


def _detail(request: HttpRequest, case: Case, status: int = 200, **extra: Any) -> HttpResponse:
    view = case_out(case, request.user)
    if case.spec.engine == "credit":
        from backoffice.credit.api import credit_case_out

        credit = credit_case_out(case.pk, request.user)
        extra.setdefault("credit", credit)
        extra.setdefault(
            "votes_by_side",
            {
                side: [v for v in credit.votes if v.side == side]
                for side in ("market", "back_office", "board")
            },
        )
        extra.setdefault("ratings", _ratings(case))
        extra.setdefault(
            "sides",
            [
                ("market", _("Market (first vote)")),
                ("back_office", _("Back office (second vote)")),
                ("board", _("Board and committee")),
            ],
        )
    allowed = [a for a in view.actions if a.allowed]
    refused = [a for a in view.actions if not a.allowed and a.on_behalf_of is None]
    context = {
        "case": case,
        "view": view,
        "allowed": allowed,
        "refused": refused,
        "field_specs": case.spec.payload,
        "denial_help": DENIAL_CODES,
        "can_amend": any(a.action == "amend" for a in allowed),
        **extra,
    }
    return render(request, "cases/case_detail.html", context, status=status)


def _ratings(case: Case) -> list[str]:
    from backoffice.core.credit import CreditCase

    current = domain_case(case)
    return list(current.policy.ratings) if isinstance(current, CreditCase) else []


@login_required
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, access_case_by_id(request.user, pk))


def _command(case: Case, data: dict[str, Any]) -> Any:
    """The command the form describes, for the engine of the case's process."""
    if case.spec.engine == "credit":
        from backoffice.core.credit import CreditAction, CreditCommand, Decision

        return CreditCommand(
            CreditAction(data["action"]),
            comment=data["comment"],
            decision=Decision(data["decision"]) if data["decision"] else None,
            rating=data["rating"] or None,
            justification=data["justification"],
            seen_payload_hash=data["payload_hash"] or None,
        )
    if data["action"] not in {k.value for k in CommandKind}:
        raise DomainError("case.wrong_state", f"This case has no action {data['action']!r}.")
    return Command(
        CommandKind(data["action"]),
        comment=data["comment"],
        on_behalf_of=data["on_behalf_of"] or None,
        seen_payload_hash=data["payload_hash"] or None,
    )


@login_required
@require_POST
def case_act(request: HttpRequest, pk: int) -> HttpResponse:
    """One action from the case page; refused actions come back with the reason (403/409)."""
    form = ActionForm(request.POST)
    if not form.is_valid():
        return _detail(
            request,
            access_case_by_id(request.user, pk),
            422,
            action_error=_("The action could not be read."),
        )
    data = form.cleaned_data
    case = access_case_by_id(request.user, pk)
    outcome = do_command(pk, _command(case, data), request.user)
    if outcome.denied is not None:
        case = access_case_by_id(request.user, pk)
        return _detail(request, case, http_status_for(outcome.denied.code), denied=outcome.denied)
    messages.success(request, _("Done: %(action)s.") % {"action": _(data["action"])})
    url = reverse("cases:detail", args=[pk])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@login_required
def process_choose(request: HttpRequest) -> HttpResponse:
    facts = get_actor_facts(request.user)
    processes = [
        p
        for p in Process.objects.filter(retired_at__isnull=True)
        if who_matches(p.spec.starter, facts)
    ]
    return render(request, "cases/process_choose.html", {"processes": processes})


def _form_page(
    request: HttpRequest, form: PayloadForm, title: str, status: int = 200, case: Case | None = None
) -> HttpResponse:
    return render(
        request,
        "cases/case_form.html",
        {"form": form, "spec": form.spec, "title": title, "case": case},
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
    process = Process.objects.filter(key=key, retired_at__isnull=True).first()
    if process is None:
        raise DomainError("process.unknown", f"There is no process {key!r}.")
    spec = process.spec
    title = _("Start: %(process)s") % {"process": spec.name}
    if request.method == "GET":
        return _form_page(request, PayloadForm(spec), title)
    form = PayloadForm(spec, request.POST)
    if not form.is_valid():
        return _form_page(request, form, title, 422)
    try:
        outcome = do_start_case(
            key,
            form.payload(),
            request.user,
            submit="submit" in request.POST,
            comment=form.cleaned_data["comment"],
        )
    except DomainError as exc:
        _apply_denial(form, exc)
        return _form_page(request, form, title, http_status_for(exc.code))
    if outcome.denied is not None:
        _apply_denial(form, outcome.denied)
        return _form_page(request, form, title, http_status_for(outcome.denied.code))
    assert outcome.case is not None
    messages.success(request, _("Case %(id)s was created.") % {"id": outcome.case.pk})
    return redirect("cases:detail", pk=outcome.case.pk)


@login_required
@require_http_methods(["GET", "POST"])
def case_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The maker corrects a draft or a returned case; earlier approvals no longer count."""
    case = access_case_by_id(request.user, pk)
    title = _("Correct case %(id)s") % {"id": case.pk}
    amend = next(a for a in available_actions(case, request.user) if a.action == "amend")
    if not amend.allowed:
        assert amend.code is not None
        raise DomainError(amend.code, amend.reason)
    if request.method == "GET":
        return _form_page(
            request, PayloadForm(case.spec, initial_payload=case.payload), title, case=case
        )
    form = PayloadForm(case.spec, request.POST)
    if not form.is_valid():
        return _form_page(request, form, title, 422, case)
    outcome = do_command(
        pk, Command(CommandKind.AMEND, form.cleaned_data["comment"], form.payload()), request.user
    )
    if outcome.denied is not None:
        _apply_denial(form, outcome.denied)
        return _form_page(request, form, title, http_status_for(outcome.denied.code), case)
    if "submit" in request.POST:
        do_command(pk, Command(CommandKind.SUBMIT), request.user)
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
            do_end_delegation(int(request.POST["end"]), actor=request.user)
            messages.success(request, _("The delegation was ended."))
            return redirect("cases:delegations")
        except (DomainError, ValueError) as exc:
            messages.error(request, str(exc))
    elif request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            do_create_delegation(
                request.user,
                data["substitute"],
                data["valid_from"],
                data["valid_to"],
                reason=data["reason"],
                actor=request.user,
            )
            messages.success(request, _("Your substitute was named."))
            return redirect("cases:delegations")
        except DomainError as exc:
            form.add_error(None, exc.message)
            status = http_status_for(exc.code)
    elif request.method == "POST":
        status = 422
    rows = Delegation.objects.filter(principal=request.user) | Delegation.objects.filter(
        substitute=request.user
    )
    context = {
        "form": form,
        "delegations": rows.select_related("principal__profile", "substitute__profile"),
        "today": timezone.localdate(),
    }
    return render(request, "cases/delegations.html", context, status=status)
