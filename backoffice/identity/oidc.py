"""#18: OpenID Connect login through mozilla-django-oidc (authorization code flow + PKCE).

The library fetches the tokens; this backend decides who they name. It checks more than the
library does: the ID token must be signed by the provider's key with the expected
algorithm, be for this client (``aud``), from this issuer, not expired, and the userinfo
must be about the same subject. The login claim (policy ``identity.login_claim``) names an
existing person: the same ``User`` as their password login, so four eyes holds whichever
way they come in. Nobody is created from a token (people come from the policy, user-admin
cases or SCIM). Groups in the token may ask for roles, through cases (``services``).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

import jwt
import requests
from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from backoffice.identity.services import (
    do_record_sign_on_refused,
    do_request_roles,
    identity_rules,
    person_for_login,
)

__all__ = ["OidcBackend", "provider_logout_url"]

logger = logging.getLogger(__name__)

#: seconds of clock difference forgiven between the provider and us
LEEWAY = 30


class OidcBackend(OIDCAuthenticationBackend):  # type: ignore[misc]
    """Signs a person on from the provider's tokens; refuses and records anything off."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if settings.OIDC_ENABLED:  # the library insists on its settings even when unused
            super().__init__(*args, **kwargs)

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> Any:
        if not settings.OIDC_ENABLED or request is None or "code" not in request.GET:
            return None
        try:
            return super().authenticate(request, **kwargs)
        except (SuspiciousOperation, requests.RequestException) as exc:
            logger.warning("single sign-on refused: %s", exc)
            do_record_sign_on_refused("oidc", str(exc))
            return None

    def _verify_jws(self, payload: str, key: Any) -> dict[str, Any]:
        header = jwt.get_unverified_header(payload)
        if header.get("alg") != self.OIDC_RP_SIGN_ALGO:
            raise SuspiciousOperation("ID token: unexpected signing algorithm")
        try:
            claims: dict[str, Any] = jwt.decode(
                payload,
                key,
                algorithms=[self.OIDC_RP_SIGN_ALGO],
                audience=self.OIDC_RP_CLIENT_ID,
                issuer=settings.OIDC_OP_ISSUER,
                leeway=LEEWAY,
                options={"require": ["exp", "iat", "aud", "iss", "sub"]},
            )
        except jwt.InvalidTokenError as exc:
            raise SuspiciousOperation(f"ID token refused: {type(exc).__name__}: {exc}") from exc
        return claims

    def get_payload_data(self, token: str, key: Any) -> dict[str, Any]:
        return self._verify_jws(token, key)  # never an unsigned token, whatever the settings

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict[str, Any]) -> Any:
        info = self.get_userinfo(access_token, id_token, payload)
        if info.get("sub") != payload.get("sub"):
            raise SuspiciousOperation("userinfo is about another subject than the ID token")
        claims = {**payload, **info}
        rules = identity_rules()
        login = str(claims.get(rules.login_claim) or "")
        user = person_for_login(login) if login else None
        if user is None or not user.is_active:
            do_record_sign_on_refused("oidc", "no active person with this login", login)
            return None
        groups = claims.get(rules.groups_claim) or []
        if isinstance(groups, list):
            do_request_roles(user, [str(g) for g in groups], source="single sign-on")
        return user

    def get_user(self, user_id: Any) -> Any:
        from backoffice.accounts.backends import PersonBackend

        return PersonBackend().get_user(user_id)


def provider_logout_url(request: HttpRequest) -> str:
    """Where logging out sends the browser: the provider's end-session endpoint, so the
    single sign-on session ends too (RP-initiated logout), then back to our login page."""
    endpoint = settings.OIDC_OP_END_SESSION_ENDPOINT
    if not endpoint:
        return str(settings.LOGOUT_REDIRECT_URL or "/login/")
    params = {
        "client_id": settings.OIDC_RP_CLIENT_ID,
        "post_logout_redirect_uri": request.build_absolute_uri("/login/"),
    }
    if hint := request.session.get("oidc_id_token"):
        params["id_token_hint"] = hint
    return f"{endpoint}?{urlencode(params)}"
