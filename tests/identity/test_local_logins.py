"""#18: local passwords with a TOTP second factor, and deployments without local passwords."""

from __future__ import annotations

import re
import time
from typing import Any

import pyotp
import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from backoffice.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

PASSWORD = "Anna-password-2026"


@pytest.fixture
def anna(demo_bank: Any) -> Any:
    user = get_user_model().objects.get(username="anna.schmidt")
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    return user


def _me(client: Client) -> str | None:
    response = client.get("/api/v1/me")
    return response.json().get("username") if response.status_code == 200 else None


def _secret(page: Any) -> str:
    found = re.search(r'id="totp-secret">([A-Z2-7]+)<', page.content.decode())
    assert found, page.content
    return found.group(1)


def _password_login(client: Client) -> Any:
    return client.post("/login/", {"username": "anna.schmidt", "password": PASSWORD})


def _enrol(anna: Any) -> pyotp.TOTP:
    client = Client()
    client.force_login(anna)
    page = client.get("/settings/totp/")
    totp = pyotp.TOTP(_secret(page))
    assert (
        client.post(
            "/settings/totp/", {"code": "000000" if totp.now() != "000000" else "1"}
        ).status_code
        == 422
    )
    done = client.post("/settings/totp/", {"code": totp.now()})
    assert done.status_code == 200 and b"is set up" in done.content
    return totp


def test_after_enrolment_a_password_alone_does_not_open_a_session(anna: Any) -> None:
    totp = _enrol(anna)
    assert AuditEvent.objects.filter(action="auth.totp.enrolled", actor="anna.schmidt").exists()
    client = Client()
    answer = _password_login(client)
    assert answer.status_code == 302 and answer["Location"] == "/login/totp/"
    assert _me(client) is None
    wrong = client.post("/login/totp/", {"code": "12345"})
    assert wrong.status_code == 422 and _me(client) is None
    code = totp.at(time.time() + 30)  # the enrolment used the current step's code
    done = client.post("/login/totp/", {"code": code})
    assert done.status_code == 302 and _me(client) == "anna.schmidt"
    assert AuditEvent.objects.filter(action="auth.totp.refused").count() == 1


def test_a_code_is_never_taken_twice(anna: Any) -> None:
    totp = _enrol(anna)
    code = totp.at(time.time() + 30)
    first = Client()
    _password_login(first)
    assert first.post("/login/totp/", {"code": code}).status_code == 302
    second = Client()
    _password_login(second)
    replay = second.post("/login/totp/", {"code": code})
    assert replay.status_code == 422 and _me(second) is None


def test_the_code_step_without_a_password_first_leads_back_to_the_login(anna: Any) -> None:
    client = Client()
    assert client.get("/login/totp/")["Location"] == "/login/"
    assert client.post("/login/totp/", {"code": "123456"})["Location"] == "/login/"


def test_where_mfa_is_required_a_person_enrols_before_getting_in(anna: Any, settings: Any) -> None:
    settings.MFA_REQUIRED = True
    client = Client()
    assert _password_login(client)["Location"] == "/login/totp/"
    page = client.get("/login/totp/")
    totp = pyotp.TOTP(_secret(page))
    assert _me(client) is None
    done = client.post("/login/totp/", {"code": totp.now()})
    assert done.status_code == 302 and _me(client) == "anna.schmidt"


def test_without_local_passwords_the_right_password_opens_nothing(anna: Any, settings: Any) -> None:
    settings.LOCAL_PASSWORDS = False
    client = Client()
    page = client.get("/login/")
    assert b'name="password"' not in page.content
    answer = _password_login(client)
    assert answer.status_code == 200 and _me(client) is None
    failed = AuditEvent.objects.filter(action="auth.login_failed").order_by("-seq").first()
    assert failed is not None and failed.object_id == "anna.schmidt"
    settings.LOCAL_PASSWORDS = True
    assert _password_login(client).status_code == 302 and _me(client) == "anna.schmidt"


def test_five_wrong_codes_send_the_login_back_to_the_password(anna: Any) -> None:
    totp = _enrol(anna)
    client = Client()
    _password_login(client)
    for _ in range(4):
        assert client.post("/login/totp/", {"code": "99999"}).status_code == 422
    assert client.post("/login/totp/", {"code": "99999"})["Location"] == "/login/"
    # the right code is of no use now: the waiting login is gone
    answer = client.post("/login/totp/", {"code": totp.at(time.time() + 30)})
    assert answer["Location"] == "/login/" and _me(client) is None
