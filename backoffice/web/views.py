"""The start page (what needs attention), personal settings, login and lock-outs."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from backoffice.accounts.queries import get_actor_facts
from backoffice.cases.models import Case
from backoffice.cases.queries import get_inbox, visible_cases
from backoffice.core.errors import DomainError, http_status_for
from backoffice.org.queries import get_organisation, get_person_overview
from backoffice.web.auth import LoginForm
from backoffice.web.services import access_lockouts, do_lift_lockout, get_lockouts

__all__ = ["home", "reports", "settings_page", "lockouts", "BackofficeLoginView"]


class BackofficeLoginView(LoginView):
    """Django's login; django-axes refuses locked-out names and addresses (#13)."""

    form_class = LoginForm
    redirect_authenticated_user = True


class LiftLockoutForm(forms.Form):
    username = forms.CharField(max_length=255)
    ip_address = forms.GenericIPAddressField(required=False)
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=500)


@login_required
@require_http_methods(["GET", "POST"])
def lockouts(request: HttpRequest) -> HttpResponse:
    """Who is locked out now, from where; an administrator lifts one with a reason (#13)."""
    access_lockouts(request.user)  # refusals: the error middleware
    status = 200
    if request.method == "POST":
        form = LiftLockoutForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                do_lift_lockout(
                    request.user, data["username"], data["ip_address"] or None, data["reason"]
                )
            except DomainError as exc:
                messages.error(request, f"{_(exc.message)} ({exc.code})")
                status = 404 if exc.code.endswith("not_found") else http_status_for(exc.code)
            else:
                messages.success(request, _("The lock-out was lifted."))
                return redirect("web:lockouts")
        else:
            messages.error(request, _("Say why the lock-out is lifted."))
            status = 422
    return render(request, "web/lockouts.html", {"lockouts": get_lockouts()}, status=status)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """What needs my attention, and how things stand."""
    inbox = get_inbox(request.user)
    by_state = Counter(visible_cases(request.user).values_list("status", flat=True))
    by_process = Counter(c.process.name for c in inbox)
    mine_open = Case.objects.filter(
        maker=request.user, status__in=["draft", "submitted", "returned"]
    )
    permissions = get_actor_facts(request.user).permissions
    context = {
        "attention": _attention(request.user, permissions),
        "me": get_person_overview(request.user),
        "organisation": get_organisation(),
        "inbox_count": len(inbox),
        "oldest": inbox[:5],
        "mine_open": mine_open.count(),
        "returned": mine_open.filter(status="returned").count(),
        "by_state": sorted(((_(k), v) for k, v in by_state.items()), key=lambda kv: -kv[1]),
        "by_process": by_process.most_common(),
    }
    return render(request, "web/home.html", context)


def _attention(user: Any, permissions: frozenset[str]) -> list[dict[str, Any]]:
    """Tiles for what the person's reports say needs attention (only the ones they may read)."""
    tiles: list[dict[str, Any]] = []
    if "reports.read" in permissions:
        from backoffice.credit.queries import get_escalations, get_overdue_reviews

        tiles.append(
            {
                "count": len(get_escalations(user).rows),
                "label": _("credit escalations"),
                "url": reverse("credit:escalations"),
            }
        )
        tiles.append(
            {
                "count": len(get_overdue_reviews(user).rows),
                "label": _("credits overdue for review"),
                "url": reverse("credit:overdue_reviews"),
            }
        )
    if "access.risk.read" in permissions:
        from backoffice.access.queries import get_mitigations

        tiles.append(
            {
                "count": get_mitigations("due").count(),
                "label": _("mitigations expiring or expired"),
                "url": reverse("access:mitigations"),
            }
        )
    return tiles


@login_required
def reports(request: HttpRequest) -> HttpResponse:
    """Every report the person may read, in one place (each page offers CSV)."""
    permissions = get_actor_facts(request.user).permissions
    return render(request, "web/reports.html", {"permissions": permissions})


class LanguageForm(forms.Form):
    language = forms.ChoiceField(
        label=gettext_lazy("Language"), choices=[("en", "English"), ("de", "Deutsch")]
    )


@login_required
def settings_page(request: HttpRequest) -> HttpResponse:
    """Each person chooses their language; it is kept on their profile."""
    profile = getattr(request.user, "profile", None)
    form = LanguageForm(
        request.POST or None, initial={"language": getattr(profile, "language", "en")}
    )
    if request.method == "POST" and form.is_valid() and profile is not None:
        profile.language = form.cleaned_data["language"]
        profile.save(update_fields=["language", "last_updated"])
        translation.activate(profile.language)
        messages.success(request, _("Your language was saved."))
        return redirect("web:settings")
    return render(request, "web/settings.html", {"form": form})
