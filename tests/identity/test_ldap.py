"""#18: logging in with the directory's password against a real OpenLDAP slapd."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from backoffice.audit.models import AuditEvent
from backoffice.identity.ldap import PATH as LDAP_BACKEND
from backoffice.settings import ldap_settings
from tests.identity.ldap_server import ROOT_DN, ROOT_PASSWORD, SUFFIX, running_slapd

pytestmark = pytest.mark.django_db

PEOPLE = {
    "anna.schmidt": ("Anna Schmidt", "anna-directory-pw"),
    "maria.keller": ("Maria Keller", "maria-directory-pw"),
    "tim.hartmann": ("Tim Hartmann", "tim-directory-pw"),
    "somebody.unknown": ("Somebody Unknown", "unknown-directory-pw"),
}
GROUPS = {"risk-controllers": ["maria.keller"], "staff": ["anna.schmidt", "maria.keller"]}


@pytest.fixture(scope="session")
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_slapd(tmp_path_factory.mktemp("slapd"), PEOPLE, GROUPS) as url:
        yield url


@pytest.fixture
def directory(settings: Any, slapd: str, demo_bank: Any) -> str:
    """Backoffice set up as the BACKOFFICE_LDAP_* variables would (a service account
    searches, the person binds with their own password)."""
    values = ldap_settings(
        {
            "URL": slapd,
            "BIND_DN": ROOT_DN,
            "BIND_PASSWORD": ROOT_PASSWORD,
            "USER_BASE": f"ou=people,{SUFFIX}",
            "GROUP_BASE": f"ou=groups,{SUFFIX}",
        }
    )
    for name, value in values.items():
        setattr(settings, name, value)
    settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, LDAP_BACKEND]
    return slapd


def _login(client: Client, username: str, password: str) -> Any:
    return client.post("/login/", {"username": username, "password": password})


def _me(client: Client) -> str | None:
    response = client.get("/api/v1/me")
    return response.json().get("username") if response.status_code == 200 else None


def test_the_directory_password_opens_the_persons_own_login(directory: str) -> None:
    client = Client()
    answer = _login(client, "anna.schmidt", "anna-directory-pw")
    assert answer.status_code == 302 and _me(client) == "anna.schmidt"
    last = AuditEvent.objects.filter(action="auth.login").order_by("-seq").first()
    assert last is not None and last.actor == "anna.schmidt"


def test_a_wrong_directory_password_is_a_failed_login(directory: str) -> None:
    client = Client()
    answer = _login(client, "anna.schmidt", "maria-directory-pw")
    assert answer.status_code == 200 and _me(client) is None
    failed = AuditEvent.objects.filter(action="auth.login_failed").order_by("-seq").first()
    assert failed is not None and failed.object_id == "anna.schmidt"


def test_the_directory_creates_nobody_and_opens_no_deactivated_login(directory: str) -> None:
    client = Client()
    assert _login(client, "somebody.unknown", "unknown-directory-pw").status_code == 200
    assert not get_user_model().objects.filter(username="somebody.unknown").exists()
    get_user_model().objects.filter(username="tim.hartmann").update(is_active=False)
    assert _login(client, "tim.hartmann", "tim-directory-pw").status_code == 200
    assert _me(client) is None
    refused = AuditEvent.objects.filter(action="auth.sso_refused", object_id="tim.hartmann")
    assert refused.exists()


def test_a_directory_group_starts_a_grant_case_and_grants_nothing(directory: str) -> None:
    from backoffice.access.models import RoleAssignment
    from backoffice.cases.models import Case

    client = Client()
    assert _login(client, "maria.keller", "maria-directory-pw").status_code == 302
    cases = Case.objects.filter(process__key="role-grant", payload__beneficiary="maria.keller")
    assert [(c.payload["role"], c.status) for c in cases] == [("risk-controller", "submitted")]
    assert not RoleAssignment.objects.filter(
        user__username="maria.keller", role__key="risk-controller"
    ).exists()


def test_without_local_passwords_the_directory_still_lets_people_in(
    directory: str, settings: Any
) -> None:
    settings.LOCAL_PASSWORDS = False
    settings.MFA_REQUIRED = True  # a second factor guards local passwords, not the directory's
    assert b'name="password"' in Client().get("/login/").content
    anna = get_user_model().objects.get(username="anna.schmidt")
    anna.set_password("Anna-local-password-2026")
    anna.save(update_fields=["password"])
    client = Client()
    assert _login(client, "anna.schmidt", "Anna-local-password-2026").status_code == 200
    assert _me(client) is None
    answer = _login(client, "anna.schmidt", "anna-directory-pw")
    assert answer.status_code == 302 and answer["Location"] == "/"
    assert _me(client) == "anna.schmidt"
