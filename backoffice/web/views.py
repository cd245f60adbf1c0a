"""The start page (what needs attention), personal settings, login."""

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

from backoffice.accounts.queries import get_actor_facts
from backoffice.cases.models import Case
from backoffice.cases.queries import get_inbox, visible_cases
from backoffice.org.queries import get_organisation, get_person_overview
from backoffice.web.auth import ThrottledLoginForm

__all__ = ["home", "reports", "settings_page", "BackofficeLoginView"]


class BackofficeLoginView(LoginView):
    form_class = ThrottledLoginForm
    redirect_authenticated_user = True


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
