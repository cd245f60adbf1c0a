"""#18: OpenID Connect login against a real provider (tests/oidc, node's oidc-provider).

Login (code flow with PKCE), logout of both sessions, refused tokens (another client's,
expired, forged), refused people, and four eyes across password and single sign-on.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation
from django.test import Client

from backoffice.audit.models import AuditEvent
from backoffice.identity.oidc import OidcBackend
from tests.cases.conftest import payment, problem
from tests.identity.conftest import (
    CLIENT,
    OTHER_CLIENT,
    OTHER_REDIRECT,
    RP,
    local,
    oidc_settings,
    running_provider,
    sign_in_at_provider,
    tokens_for_client,
)

pytestmark = pytest.mark.django_db(transaction=False)


def _session_user(client: Any) -> str | None:
    response = client.get("/api/v1/me")
    return response.json().get("username") if response.status_code == 200 else None


def _refusals() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="auth.sso_refused").order_by("seq"))


def test_a_person_signs_on_as_the_same_login_their_password_opens(
    demo_bank: Any, client: Client, sign_on: Any
) -> None:
    response = sign_on("anna.schmidt")
    assert response.status_code == 302 and response["Location"] == "/"
    assert _session_user(client) == "anna.schmidt"
    login = AuditEvent.objects.filter(action="auth.login").order_by("-seq").first()
    assert login is not None and login.actor == "anna.schmidt"
    assert client.get("/").status_code == 200


def test_logging_out_ends_the_providers_session_too(
    demo_bank: Any, client: Client, sign_on: Any, sso: str
) -> None:
    browser = requests.Session()
    sign_on("anna.schmidt", browser)
    response = client.post("/logout/")
    assert response.status_code == 302
    target = response["Location"]
    assert target.startswith(f"{sso}/session/end?") and "id_token_hint=" in target
    assert _session_user(client) is None
    # the browser confirms at the provider and comes back to the login page
    confirm = browser.get(target, timeout=10)
    assert confirm.status_code == 200
    xsrf = confirm.text.split('name="xsrf" value="')[1].split('"')[0]
    done = browser.post(
        f"{sso}/session/end/confirm",
        data={"xsrf": xsrf, "logout": "yes"},
        allow_redirects=False,
        timeout=10,
    )
    assert done.headers["Location"] == f"{RP}/login/"
    # the provider's own session is over: a silent sign-on is refused there
    start = client.get("/oidc/authenticate/")
    silent = browser.get(start["Location"] + "&prompt=none", allow_redirects=False, timeout=10)
    assert "error=login_required" in silent.headers["Location"]


def test_a_login_the_provider_knows_but_backoffice_does_not_gets_nothing(
    demo_bank: Any, client: Client, sign_on: Any
) -> None:
    response = sign_on("somebody.unknown")
    assert response.status_code == 302 and response["Location"] == "/login/?sso=refused"
    assert _session_user(client) is None
    assert _refusals()[-1].object_id == "somebody.unknown"
    assert not get_user_model().objects.filter(username="somebody.unknown").exists()
    page = client.get(response["Location"])
    assert b"Single sign-on did not let you in" in page.content


def test_a_deactivated_person_cannot_sign_on(demo_bank: Any, client: Client, sign_on: Any) -> None:
    get_user_model().objects.filter(username="anna.schmidt").update(is_active=False)
    response = sign_on("anna.schmidt")
    assert response["Location"] == "/login/?sso=refused"
    assert _session_user(client) is None


def test_a_token_for_another_client_is_refused(demo_bank: Any, sso: str) -> None:
    tokens = tokens_for_client(sso, OTHER_CLIENT, OTHER_REDIRECT, "anna.schmidt")
    with pytest.raises(SuspiciousOperation, match="InvalidAudience"):
        OidcBackend().verify_token(tokens["id_token"], nonce=tokens["nonce"])


def test_a_forged_token_is_refused(demo_bank: Any, sso: str) -> None:
    """The provider's token with another subject written in, and one signed by a key that
    is not the provider's under the provider's key id: both fail the signature."""
    tokens = tokens_for_client(sso, CLIENT, f"{RP}/oidc/callback/", "anna.schmidt")
    real = tokens["id_token"]
    backend = OidcBackend()
    assert backend.verify_token(real, nonce=tokens["nonce"])["sub"] == "anna.schmidt"
    head, body, signature = real.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["sub"] = "maria.keller"
    forged_body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(SuspiciousOperation, match="verification failed|InvalidSignature"):
        backend.verify_token(f"{head}.{forged_body}.{signature}", nonce=tokens["nonce"])
    own_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = jwt.get_unverified_header(real)["kid"]
    signed = jwt.encode(claims, own_key, algorithm="RS256", headers={"kid": kid})
    with pytest.raises(SuspiciousOperation, match="verification failed|InvalidSignature"):
        backend.verify_token(signed, nonce=tokens["nonce"])


def test_an_expired_token_is_refused(
    demo_bank: Any, client: Client, settings: Any, tmp_path: Any
) -> None:
    """A provider whose clock is a quarter of an hour behind issues ID tokens that have
    expired (by five minutes) when they arrive: the login is refused and recorded."""
    with running_provider(tmp_path, clock_offset_seconds=-900) as late:
        for name, value in oidc_settings(late).items():
            setattr(settings, name, value)
        start = client.get("/oidc/authenticate/")
        back = sign_in_at_provider(requests.Session(), start["Location"], "anna.schmidt")
        response = client.get(local(back))
    assert response["Location"] == "/login/?sso=refused"
    assert _session_user(client) is None
    assert "ExpiredSignature" in _refusals()[-1].reason


def test_the_provider_refuses_a_code_without_the_pkce_verifier(
    demo_bank: Any, client: Client, sso: str
) -> None:
    """PKCE is required by the provider here, so Backoffice's login only works because it
    sends the verifier; a stolen code alone gets nothing at the token endpoint."""
    start = client.get("/oidc/authenticate/")
    back = sign_in_at_provider(requests.Session(), start["Location"], "anna.schmidt")
    code = back.split("code=")[1].split("&")[0]
    answer = requests.post(
        f"{sso}/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": f"{RP}/oidc/callback/",
            **CLIENT,
        },
        timeout=10,
    )
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"


def test_the_maker_signing_on_cannot_release_what_he_started_with_his_password(
    demo_bank: Any, sign_on: Any
) -> None:
    """#18 four eyes: one person, whichever way in."""
    lena = get_user_model().objects.get(username="lena.schulz")
    lena.set_password("Lena-password-2026")
    lena.save(update_fields=["password"])
    by_password = Client()
    answer = by_password.post(
        "/login/", {"username": "lena.schulz", "password": "Lena-password-2026"}
    )
    assert answer.status_code == 302 and _session_user(by_password) == "lena.schulz"
    started = by_password.post(
        "/api/v1/cases",
        json.dumps({"process": "payment-release", "payload": payment(), "submit": True}),
        content_type="application/json",
    )
    assert started.status_code == 201, started.content
    case_id = started.json()["id"]
    by_password.post("/logout/")

    by_sso = Client()
    signed_on = sign_on("lena.schulz", on=by_sso)
    assert signed_on.status_code == 302 and _session_user(by_sso) == "lena.schulz"
    release = by_sso.post(
        f"/api/v1/cases/{case_id}/actions",
        json.dumps({"action": "release"}),
        content_type="application/json",
    )
    problem(release, 403, "sod.self_approval")


def test_without_the_provider_configured_there_is_no_single_sign_on(
    demo_bank: Any, client: Client
) -> None:
    assert client.get("/oidc/authenticate/").status_code == 404
    assert client.get("/oidc/callback/?code=x&state=y").status_code == 404
    assert b'id="sso"' not in client.get("/login/").content


def test_a_group_in_the_token_starts_a_grant_case_and_grants_nothing(
    demo_bank: Any, client: Client, sign_on: Any
) -> None:
    """The policy maps risk-controllers to the risk-controller role: signing on starts one
    role-grant case (by the policy's requester) waiting for an approver, and no more on
    the next sign-on; the role itself is not held."""
    from backoffice.access.models import RoleAssignment
    from backoffice.cases.models import Case

    sign_on("maria.keller")
    cases = Case.objects.filter(process__key="role-grant", payload__beneficiary="maria.keller")
    assert [(c.payload["role"], c.status, c.maker.username) for c in cases] == [
        ("risk-controller", "submitted", "oliver.richter")
    ]
    assert not RoleAssignment.objects.filter(
        user__username="maria.keller", role__key="risk-controller"
    ).exists()
    client.post("/logout/")
    sign_on("maria.keller")
    assert cases.count() == 1


def test_a_group_asking_for_a_role_that_breaks_separation_is_refused_by_the_access_rules(
    demo_bank: Any, sign_on: Any
) -> None:
    """Lukas is a credit officer; a token putting him among the risk controllers gets him
    no case at all: the engine refuses the grant (SSD, RC-1) and records the refusal. He is
    still signed on, with what he had."""
    from backoffice.cases.models import Case

    response = sign_on("lukas.becker")
    assert response["Location"] == "/"
    assert not Case.objects.filter(payload__beneficiary="lukas.becker").exists()
    refused = AuditEvent.objects.filter(action="case.start_denied", object_id="role-grant")
    assert refused.filter(actor="oliver.richter").exists()
