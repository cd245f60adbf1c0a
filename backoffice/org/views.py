"""The organisation page: the unit tree by line, members today, separation status."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from backoffice.base.actor import actor_of
from backoffice.org.queries import get_organisation, pick_people

__all__ = ["organisation", "people"]


@login_required
def organisation(request: HttpRequest) -> HttpResponse:
    return render(request, "org/organisation.html", {"view": get_organisation()})


@login_required
def people(request: HttpRequest) -> JsonResponse:
    """#19: the person picker's answers (``?q=`` name or login): at most a few people, each
    with the login a filter matches exactly and the name the picker shows."""
    found, more = pick_people(actor_of(request).permissions, request.GET.get("q", ""))
    return JsonResponse({"people": [{"id": i, "name": n} for i, n in found], "more": more})
