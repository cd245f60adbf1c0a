"""#4: logins, logouts and failed logins are on record; passwords never are."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from backoffice.audit.models import AuditEvent
from backoffice.audit.queries import verify_database

PASSWORD = "correct horse battery staple"


def test_a_login_and_a_logout_are_recorded(demo_bank: Any, client: Any) -> None:
    user = get_user_model().objects.get(username="lena.schulz")
    user.set_password(PASSWORD)
    user.save()
    response = client.post("/login/", {"username": "lena.schulz", "password": PASSWORD})
    assert response.status_code == 302
    client.post("/logout/")
    events = AuditEvent.objects.filter(action__startswith="auth.").order_by("seq")
    assert [(e.action, e.actor, e.object_id) for e in events] == [
        ("auth.login", "lena.schulz", "lena.schulz"),
        ("auth.logout", "lena.schulz", "lena.schulz"),
    ]
    assert events[0].request_id  # ties the event to the web server's log of the request
    assert verify_database().ok


def test_a_failed_login_is_recorded_without_the_password(demo_bank: Any, client: Any) -> None:
    response = client.post("/login/", {"username": "lena.schulz", "password": "guess-" * 3})
    assert response.status_code == 200  # the form again, with an error
    client.post("/login/", {"username": "no.such.person", "password": "guess-" * 3})
    failed = AuditEvent.objects.filter(action="auth.login_failed").order_by("seq")
    assert [(e.actor, e.object_id) for e in failed] == [
        ("anonymous", "lena.schulz"),
        ("anonymous", "no.such.person"),
    ]
    for event in failed:
        assert "guess" not in str(event.to_chained().as_dict())
