"""The organisation page: the unit tree by line, members today, separation status."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from backoffice.org.queries import get_organisation

__all__ = ["organisation"]


@login_required
def organisation(request: HttpRequest) -> HttpResponse:
    return render(request, "org/organisation.html", {"view": get_organisation()})
