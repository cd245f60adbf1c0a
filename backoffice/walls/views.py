"""Compliance's pages for the Chinese walls, and the restricted list for everyone.

The views check the form and call one service; the services check ``walls.manage`` and
record. Every table links its CSV twin in the API (``/api/v1/walls/….csv``). A list that
grows shows one page and the link to the next (``?after=``, #14).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_http_methods

from backoffice.base.actor import actor_of
from backoffice.base.http import act_and_tell
from backoffice.base.pages import PAGE_SIZE, Page, next_url, page_of
from backoffice.core.errors import DomainError
from backoffice.core.walls import WALL_DENIAL_CODES
from backoffice.walls import reports
from backoffice.walls.forms import ListEntryForm, MemberForm, ReasonForm
from backoffice.walls.models import DealProject, ListEntry
from backoffice.walls.queries import (
    MANAGE_PERMISSION,
    Insider,
    access_walls_admin,
    get_insider_page,
    get_walls,
)
from backoffice.walls.services import (
    LIFT_PROCESS,
    do_add_member,
    do_announce_project,
    do_close_project,
    do_delist,
    do_end_crossing,
    do_list_issuer,
    do_request_lift,
    get_project,
)

__all__ = ["overview", "restricted", "project_detail", "crossings", "denials"]

#: States the templates translate from data (a project's, a crossing's): marked here so
#: that makemessages puts them into the catalogue.
STATE_WORDS = (
    gettext_noop("confidential"),
    gettext_noop("public"),
    gettext_noop("closed"),
    gettext_noop("active"),
    gettext_noop("expired"),
    gettext_noop("ended"),
)


def _insider_page(request: HttpRequest, project: DealProject) -> Page[Insider]:
    """The page of the insider list ``?after=`` asks for (a bad cursor: the first page)."""
    limit = request.GET.get("limit", "")
    size = int(limit) if limit.isdigit() else PAGE_SIZE
    try:
        return get_insider_page(project, request.GET.get("after") or None, size)
    except DomainError:
        return get_insider_page(project, None, size)


def _may_manage(request: HttpRequest) -> bool:
    """Internal audit reads these pages too; only compliance gets the forms."""
    return MANAGE_PERMISSION in actor_of(request).permissions


def _pending_lifts(request: HttpRequest) -> dict[str, Any]:
    """#19: the lift already requested for an issuer, shown instead of a second request."""
    from backoffice.cases.queries import open_cases_on  # cases build on walls' guards

    return open_cases_on(actor_of(request), LIFT_PROCESS, "issuer")


@login_required
@require_http_methods(["GET", "POST"])
def overview(request: HttpRequest) -> HttpResponse:
    """Both lists with their reasons (CW-3, CW-4) and the deal projects."""
    access_walls_admin(actor_of(request), "watch list", read_only=True)
    form = ListEntryForm(request.POST if "add" in request.POST else None)
    status = 200
    if request.method == "POST":
        if "remove" in request.POST:
            reason = ReasonForm(request.POST)
            entry_id = request.POST["remove"]
            if reason.is_valid() and entry_id.isdigit():
                entry = ListEntry.objects.filter(pk=int(entry_id)).first()
                why = reason.cleaned_data["reason"]
                if entry is not None and entry.kind == ListEntry.Kind.RESTRICTED:
                    # four eyes: the lifting waits for a second compliance officer
                    status = act_and_tell(
                        request,
                        lambda: do_request_lift(entry.pk, reason=why, actor=actor_of(request)),
                        _("A second compliance officer must release the lifting (Inbox)."),
                    )
                else:
                    status = act_and_tell(
                        request,
                        lambda: do_delist(int(entry_id), reason=why, actor=actor_of(request)),
                        _("The entry was taken off its list."),
                    )
            else:
                messages.error(request, _("Say why the entry comes off its list."))
                status = 422
        elif form.is_valid():
            data = form.cleaned_data
            status = act_and_tell(
                request,
                lambda: do_list_issuer(
                    data["kind"], data["issuer"], reason=data["reason"], actor=actor_of(request)
                ),
                _("The issuer was put on the list."),
            )
        else:
            status = 422
        if status == 200:
            return redirect("walls:overview")
    sorted_ = reports.PROJECT_SORTING.of(request)  # #19
    projects = page_of(request, reports.projects(), sorted_.order)
    context = {
        **sorted_.context(),
        "entries": [reports.entry_out(e) for e in reports.watch_list()],
        "pending_lifts": _pending_lifts(request),
        "projects": [reports.project_out(p) for p in projects.items],
        "next_url": next_url(request, projects.next),
        "form": form,
        "may_manage": _may_manage(request),
    }
    return render(request, "walls/overview.html", context, status=status)


@login_required
def restricted(request: HttpRequest) -> HttpResponse:
    """The restricted list, for everyone: no research, no personal or own-account trades."""
    sorted_ = reports.RESTRICTED_SORTING.of(request)  # #19
    page = page_of(request, reports.restricted_list(), sorted_.order)
    context = {
        **sorted_.context(),
        "csv_url": sorted_.with_sort(reverse("api:restricted_list_csv")),
        "entries": [reports.restricted_out(i) for i in page.items],
        "next_url": next_url(request, page.next),
    }
    return render(request, "walls/restricted.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def project_detail(request: HttpRequest, key: str) -> HttpResponse:
    """A deal project's insider list (who, since when, why), and compliance's actions."""
    access_walls_admin(actor_of(request), "deal projects", read_only=True)
    project = get_project(key)
    member_form = MemberForm(request.POST if "member" in request.POST else None)
    status = 200
    if request.method == "POST":
        reason = ReasonForm(request.POST)
        if "member" in request.POST and member_form.is_valid():
            data = member_form.cleaned_data
            status = act_and_tell(
                request,
                lambda: do_add_member(
                    key, data["person"], reason=data["reason"], actor=actor_of(request)
                ),
                _("The person was added to the deal team."),
            )
        elif request.POST.get("action") in ("announce", "close") and reason.is_valid():
            service = (
                do_announce_project if request.POST["action"] == "announce" else do_close_project
            )
            status = act_and_tell(
                request,
                lambda: service(key, reason=reason.cleaned_data["reason"], actor=actor_of(request)),
                _("The project was changed."),
            )
        else:
            messages.error(request, _("Say why."))
            status = 422
        if status == 200:
            return redirect("walls:project", key=key)
        project = get_project(key)
    insiders = _insider_page(request, project)
    now = timezone.now()
    context = {
        "project": reports.project_out(project),
        "insiders": [reports.insider_out(i, now) for i in insiders.items],
        "next_url": next_url(request, insiders.next),
        "member_form": member_form,
        "area": get_walls().area_name(project.area),
        "may_manage": _may_manage(request),
    }
    return render(request, "walls/project.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def crossings(request: HttpRequest) -> HttpResponse:
    """Every wall crossing, running and past (CW-2); compliance may end one early."""
    access_walls_admin(actor_of(request), "wall crossings", read_only=True)
    status = 200
    if request.method == "POST":
        reason = ReasonForm(request.POST)
        if reason.is_valid() and request.POST.get("end", "").isdigit():
            crossing = int(request.POST["end"])
            status = act_and_tell(
                request,
                lambda: do_end_crossing(
                    crossing, reason=reason.cleaned_data["reason"], actor=actor_of(request)
                ),
                _("The wall crossing was ended."),
            )
        else:
            messages.error(request, _("Say why the crossing ends early."))
            status = 422
        if status == 200:
            return redirect("walls:crossings")
    sorted_ = reports.CROSSING_SORTING.of(request)  # #19
    page = page_of(request, reports.crossings(), sorted_.order)
    now = timezone.now()
    context = {
        **sorted_.context(),
        "csv_url": sorted_.with_sort(reverse("api:crossings_csv")),
        "crossings": [reports.crossing_out(c, now) for c in page.items],
        "next_url": next_url(request, page.next),
        "may_manage": _may_manage(request),
    }
    return render(request, "walls/crossings.html", context, status=status)


@login_required
def denials(request: HttpRequest) -> HttpResponse:
    """Refused reads and actions of the walls, from the audit trail, newest first."""
    access_walls_admin(actor_of(request), "refused access attempts", read_only=True)
    sorted_ = reports.DENIAL_SORTING.of(request)  # #19
    page = page_of(request, reports.denials(), sorted_.order)
    context = {
        **sorted_.context(),
        "csv_url": sorted_.with_sort(reverse("api:denials_csv")),
        "denials": [reports.denial_out(e) for e in page.items],
        "next_url": next_url(request, page.next),
        "codes": WALL_DENIAL_CODES,
    }
    return render(request, "walls/denials.html", context)
