"""The start page (what needs attention), personal settings (language, one's own password and
API tokens), login, the set-password page a mailed link opens, and login lock-outs."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView, PasswordChangeView, PasswordResetConfirmView
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from backoffice.accounts.models import ApiToken
from backoffice.accounts.services import do_create_own_token, do_revoke_own_token
from backoffice.base.actor import Actor, actor_of
from backoffice.base.pages import next_url, page_of
from backoffice.cases.models import ALL_STATUS_LABELS, Case
from backoffice.cases.queries import (
    get_inbox,
    inbox_cases,
    inbox_count,
    live_processes,
    visible_cases,
)
from backoffice.core.errors import DomainError, http_status_for
from backoffice.identity.views import begin_second_factor, needs_second_factor
from backoffice.org.queries import get_organisation, get_person_overview
from backoffice.web.auth import LoginForm
from backoffice.web.forms import LanguageForm, LinkSetPasswordForm, OwnPasswordChangeForm, TokenForm
from backoffice.web.services import (
    LOCKOUT_ORDER,
    Lockout,
    access_lockouts,
    do_lift_lockout,
    lockout_rows,
)

__all__ = [
    "home",
    "reports",
    "settings_page",
    "lockouts",
    "token_create",
    "token_revoke",
    "BackofficeLoginView",
    "OwnPasswordChangeView",
    "LinkPasswordSetView",
]


class BackofficeLoginView(LoginView):
    """Django's login; django-axes refuses locked-out names and addresses (#13)."""

    form_class = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        """#18: the single sign-on button, and the password form only where a password is
        asked for (a local one, or the directory's)."""
        context = super().get_context_data(**kwargs)
        context["oidc_enabled"] = settings.OIDC_ENABLED
        context["local_passwords"] = settings.LOCAL_PASSWORDS or settings.LDAP_ENABLED
        context["sso_refused"] = self.request.GET.get("sso") == "refused"
        return context

    def form_valid(self, form: Any) -> HttpResponse:
        """#18: a person with an authenticator (or all, where required) gives a code first."""
        user = form.get_user()
        if needs_second_factor(user):
            return begin_second_factor(self.request, user, self.get_success_url())
        return super().form_valid(form)


class LiftLockoutForm(forms.Form):
    username = forms.CharField(max_length=255)
    ip_address = forms.GenericIPAddressField(required=False)
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=500)


@login_required
@require_http_methods(["GET", "POST"])
def lockouts(request: HttpRequest) -> HttpResponse:
    """Who is locked out now, from where; an administrator lifts one with a reason (#13)."""
    access_lockouts(actor_of(request))  # refusals: the error middleware
    status = 200
    if request.method == "POST":
        form = LiftLockoutForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                do_lift_lockout(
                    actor_of(request),
                    data["username"],
                    data["ip_address"] or None,
                    data["reason"],
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
    page = page_of(request, lockout_rows(), LOCKOUT_ORDER)
    context = {
        "lockouts": [Lockout.of(row) for row in page.items],
        "next_url": next_url(request, page.next),
    }
    return render(request, "web/lockouts.html", context, status=status)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """What needs my attention, and how things stand."""
    actor = actor_of(request)
    by_state = Counter(
        dict(visible_cases(actor).values_list("status").annotate(n=Count("pk")).order_by())
    )
    by_process = (
        inbox_cases(actor).values_list("process__key").annotate(n=Count("pk")).order_by("-n")
    )
    processes = live_processes()
    mine_open = Case.objects.filter(
        maker_id=actor.pk, status__in=["draft", "submitted", "returned"]
    )
    cases_url = reverse("cases:list")
    context = {
        "attention": _attention(actor),
        "me": get_person_overview(request.user),
        "organisation": get_organisation(),
        "inbox_count": inbox_count(actor),
        "oldest": get_inbox(actor, limit=5).cases,
        "mine_open": mine_open.count(),
        "returned": mine_open.filter(status="returned").count(),
        "by_state": sorted(
            (
                (ALL_STATUS_LABELS.get(k, k), v, f"{cases_url}?state={k}")
                for k, v in by_state.items()
            ),
            key=lambda row: -row[1],
        ),
        # #19: the policy's process name (a label) in the reader's language
        "by_process": [
            (processes[key].label if key in processes else key, n) for key, n in by_process
        ],
    }
    return render(request, "web/home.html", context)


def _attention(actor: Actor) -> list[dict[str, Any]]:
    """Tiles for what the person's reports say needs attention (only the ones they may read)."""
    tiles: list[dict[str, Any]] = []
    permissions = actor.permissions
    if "reports.read" in permissions:
        from backoffice.credit.queries import get_overdue_reviews

        # #19: the cases in escalation now, the number the chart and the cases list show
        escalated = visible_cases(actor).filter(status="escalated").count()
        tiles.append(
            {
                "count": escalated,
                "label": _("credit cases in escalation"),
                "url": f"{reverse('cases:list')}?state=escalated",
            }
        )
        tiles.append(
            {
                "count": get_overdue_reviews(actor).count(),
                "label": _("credits overdue for review"),
                "url": reverse("credit:overdue_reviews"),
            }
        )
    from backoffice.access.services import count_overdue_reviews

    overdue = count_overdue_reviews(actor)
    if overdue or "access.risk.read" in permissions:
        scope = "all" if "access.risk.read" in permissions else "mine"
        tiles.append(
            {
                "count": overdue,
                "label": _("access reviews overdue"),
                "url": f"{reverse('access:reviews')}?scope={scope}&status=overdue",
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
    permissions = actor_of(request).permissions
    from backoffice.credit.queries import BORROWER_READERS  # #19: the borrower register

    context = {"permissions": permissions, "borrowers": bool(BORROWER_READERS & permissions)}
    return render(request, "web/reports.html", context)


@login_required
def search(request: HttpRequest) -> HttpResponse:
    """#19: the global search: what matches, by kind, among what the person may see."""
    from backoffice.web.queries import KIND_LABELS
    from backoffice.web.queries import search as find

    found = find(actor_of(request), request.GET.get("q", ""))
    groups = [(kind, KIND_LABELS[kind], hits) for kind, hits in found.kinds.items() if hits]
    return render(request, "web/search.html", {"found": found, "groups": groups})


class OwnPasswordChangeView(PasswordChangeView):
    """#13: one's own password, with the current one; the change is on the audit chain."""

    form_class = OwnPasswordChangeForm
    success_url = reverse_lazy("password_change_done")


class LinkPasswordSetView(PasswordResetConfirmView):
    """#13: the page a mailed set-password link opens (a new login, a reset, the bootstrap).

    Django checks the link's token and keeps it out of the address bar and the Referer."""

    form_class = LinkSetPasswordForm
    reset_url_token = "choose"  # noqa: S105 - a URL segment, not a secret


@login_required
def settings_page(request: HttpRequest) -> HttpResponse:
    """Each person chooses their language (kept on their profile) and keeps their own API
    tokens; a token is shown once, on the page that created it, and never stored."""
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
    return _settings(request, form)


def _settings(request: HttpRequest, form: LanguageForm | None = None, **extra: Any) -> HttpResponse:
    from backoffice.access.services import session_roles_of

    profile = getattr(request.user, "profile", None)
    context = {
        "session_roles": session_roles_of(actor_of(request)),
        "form": form or LanguageForm(initial={"language": getattr(profile, "language", "en")}),
        "token_form": extra.pop("token_form", None) or TokenForm(),
        "tokens": ApiToken.objects.filter(user=request.user, revoked_at__isnull=True),
        **extra,
    }
    return render(request, "web/settings.html", context)


@login_required
@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    """#13: one's own API token; the answer shows it once (not a redirect: no copy of it
    waits in a session or a cookie)."""
    form = TokenForm(request.POST)
    if not form.is_valid():
        return _settings(request, token_form=form)
    token = do_create_own_token(request.user, name=form.cleaned_data["name"])
    return _settings(request, new_token=token)


@login_required
@require_POST
def role_activate(request: HttpRequest, role: str) -> HttpResponse:
    """#15 DSD: activate a held ``activation: session`` role for this login session."""
    from backoffice.access.services import do_activate_role

    try:
        do_activate_role(actor_of(request), request.session.session_key, role)
    except DomainError as exc:
        messages.error(request, f"{_(exc.message)} ({exc.code})")
    else:
        messages.success(
            request, _("The role %(role)s is active in this session.") % {"role": role}
        )
    return redirect("web:settings")


@login_required
@require_POST
def role_deactivate(request: HttpRequest, role: str) -> HttpResponse:
    """#15 DSD: end a session role's activation in this login session."""
    from backoffice.access.services import do_deactivate_role

    try:
        do_deactivate_role(actor_of(request), request.session.session_key, role)
    except DomainError as exc:
        messages.error(request, f"{_(exc.message)} ({exc.code})")
    else:
        messages.success(request, _("The role %(role)s is no longer active.") % {"role": role})
    return redirect("web:settings")


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    do_revoke_own_token(request.user, token_id)
    messages.success(request, _("The token was revoked."))
    return redirect("web:settings")
