"""#18: the single sign-on round trip, logging out of both, and the TOTP pages.

Thin: the library runs the OpenID Connect flow, ``oidc.OidcBackend`` and ``services``
decide. The TOTP login step sits between the password and the session: a correct password
of a person with an authenticator only parks them in ``PENDING`` until the code is right.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import auth
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LogoutView
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from backoffice.identity.oidc import provider_logout_url
from backoffice.identity.services import (
    do_confirm_totp,
    has_totp,
    start_totp_enrolment,
    totp_uri,
    verify_totp,
)

__all__ = [
    "PENDING",
    "BackofficeLogoutView",
    "SignOnCallback",
    "SignOnStart",
    "begin_second_factor",
    "needs_second_factor",
    "totp_enrol",
    "totp_login",
]

#: session key of a password login waiting for its TOTP code
PENDING = "identity_pending"
#: wrong codes a waiting login may try before it has to give the password again
MAX_TRIES = 5
#: the local password backend (the only one the second factor guards)
LOCAL_BACKEND = "backoffice.accounts.backends.PersonBackend"


class SignOnStart(OIDCAuthenticationRequestView):  # type: ignore[misc]
    """Sends the browser to the provider, with state, nonce and a PKCE challenge."""

    def get(self, request: HttpRequest) -> HttpResponse:
        if not settings.OIDC_ENABLED:
            raise Http404
        response: HttpResponse = super().get(request)
        return response


class SignOnCallback(OIDCAuthenticationCallbackView):  # type: ignore[misc]
    """The provider sends the browser back here with a code; the backend signs on."""

    def get(self, request: HttpRequest) -> HttpResponse:
        if not settings.OIDC_ENABLED:
            raise Http404
        response: HttpResponse = super().get(request)
        return response


class BackofficeLogoutView(LogoutView):
    """Logging out of Backoffice; after a single sign-on, of the provider's session too."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        sso = settings.OIDC_ENABLED and bool(request.session.get("oidc_id_token"))
        target = provider_logout_url(request) if sso else None
        response: HttpResponse = super().post(request, *args, **kwargs)
        return HttpResponseRedirect(target) if target else response


# -- TOTP ----------------------------------------------------------------------------------


class CodeForm(forms.Form):
    code = forms.CharField(label=_("Code from your authenticator app"), max_length=10)


def needs_second_factor(user: Any) -> bool:
    """A local password login needs a code when the person has an authenticator, or when
    the deployment requires one (they enrol before they get in). A directory password
    (LDAP) is the directory's matter, and single sign-on the provider's."""
    if getattr(user, "backend", "") != LOCAL_BACKEND:
        return False
    return bool(settings.MFA_REQUIRED) or has_totp(user)


def begin_second_factor(request: HttpRequest, user: Any, next_url: str) -> HttpResponse:
    """Park a password-checked login until its code is right (no session for it yet)."""
    request.session.cycle_key()
    request.session[PENDING] = {"user": user.pk, "backend": user.backend, "next": next_url}
    return redirect("totp_login")


def _pending_user(request: HttpRequest) -> tuple[Any, dict[str, Any]] | None:
    pending = request.session.get(PENDING)
    if not isinstance(pending, dict):
        return None
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(pk=pending.get("user"), is_active=True).first()
    return (user, pending) if user is not None else None


@require_http_methods(["GET", "POST"])
def totp_login(request: HttpRequest) -> HttpResponse:
    """The second step of a local password login: the code, or enrolment when required."""
    found = _pending_user(request)
    if found is None:
        return redirect("login")
    user, pending = found
    enrolled = has_totp(user)
    device = None if enrolled else start_totp_enrolment(user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["code"]
        ok = verify_totp(user, code) if enrolled else do_confirm_totp(user, code)
        if ok:
            del request.session[PENDING]
            auth.login(request, user, backend=pending["backend"])
            return redirect(pending.get("next") or settings.LOGIN_REDIRECT_URL)
        pending["tries"] = int(pending.get("tries", 0)) + 1
        if pending["tries"] >= MAX_TRIES:  # no guessing six digits: the password again
            del request.session[PENDING]
            return redirect("login")
        request.session[PENDING] = pending
        form.add_error("code", _("That code is not right. Type the current one."))
    context = {
        "form": form,
        "enrolling": not enrolled,
        "secret": device.secret if device else "",
        "uri": totp_uri(device) if device else "",
    }
    return render(request, "identity/totp_login.html", context, status=422 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def totp_enrol(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator for one's own local password logins."""
    user = request.user
    if has_totp(user):
        return render(request, "identity/totp_enrol.html", {"enrolled": True})
    device = start_totp_enrolment(user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if do_confirm_totp(user, form.cleaned_data["code"]):
            return render(request, "identity/totp_enrol.html", {"enrolled": True, "just": True})
        form.add_error("code", _("That code is not right. Type the current one."))
    context = {
        "form": form,
        "enrolled": False,
        "secret": device.secret,
        "uri": totp_uri(device),
    }
    return render(request, "identity/totp_enrol.html", context, status=422 if form.errors else 200)
