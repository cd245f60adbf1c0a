"""#13, the attack: administrator A proposes a policy change, takes over administrator B's
login and releases his own change as B. Every step of it, through the real entry points."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone

from backoffice.accounts.models import ApiToken
from backoffice.audit.models import AuditEvent
from backoffice.cases.models import Case
from backoffice.org.models import PolicyVersion
from tests.accounts.conftest import LINK, release, user_admin
from tests.cases.conftest import Person, problem
from tests.conftest import DEMO_POLICY

User = get_user_model()
NEW_PASSWORD = "oliver-knows-This-one-42"


@pytest.fixture
def proposal(person: Callable[[str], Person]) -> dict[str, Any]:
    """A (Oliver) proposes a change of the rules that B (Hanna) is to release."""
    changed = DEMO_POLICY.read_text().replace(
        "  - {id: switchboard, name: Switchboard, line: support, parent: board}",
        "  - {id: switchboard, name: Switchboard, line: support, parent: board}\n"
        "  - {id: shadow-it, name: Shadow IT, line: support, parent: board}",
    )
    response = person("oliver.richter").start(
        "policy-change", {"summary": "a unit of my own", "policy": changed}
    )
    assert response.status_code == 201, response.content
    return dict(response.json())


def _unchanged(proposal: dict[str, Any]) -> None:
    assert Case.objects.get(pk=proposal["id"]).status == "submitted"
    assert PolicyVersion.objects.count() == 1


def test_a_cannot_change_bs_password_in_the_admin_it_is_off(
    person: Callable[[str], Person], proposal: dict[str, Any]
) -> None:
    oliver = person("oliver.richter").client
    hanna = User.objects.get(username="hanna.schroeder")
    page = f"/admin/auth/user/{hanna.pk}/password/"
    assert oliver.get(page).status_code == 404
    posted = oliver.post(page, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert posted.status_code == 404
    hanna.refresh_from_db()
    assert not hanna.check_password(NEW_PASSWORD)
    _unchanged(proposal)


@pytest.mark.usefixtures("admin_on")
def test_a_cannot_change_bs_password_in_the_admin_when_it_is_on(
    person: Callable[[str], Person], proposal: dict[str, Any]
) -> None:
    """Even as a staff member with admin.read and a superuser flag forced into the database:
    the admin has no users, and it changes nothing anyway."""
    User.objects.filter(username="oliver.richter").update(is_staff=True, is_superuser=True)
    oliver = person("oliver.richter").client
    hanna = User.objects.get(username="hanna.schroeder")
    assert oliver.get("/admin/").status_code == 200
    for page in (
        f"/admin/auth/user/{hanna.pk}/password/",
        f"/admin/auth/user/{hanna.pk}/change/",
        "/admin/auth/user/add/",
        "/admin/auth/group/",
        "/admin/org/profile/",
        "/admin/audit/auditevent/",
    ):
        assert oliver.get(page).status_code == 404, page
        posted = oliver.post(page, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
        assert posted.status_code == 404, page
    hanna.refresh_from_db()
    assert not hanna.check_password(NEW_PASSWORD)
    _unchanged(proposal)


def test_a_cannot_become_a_superuser_or_set_bs_password_from_the_shell(
    proposal: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(CommandError):
        call_command("createsuperuser", "--noinput", "--username", "root", "--email", "r@x.ex")
    with pytest.raises(CommandError):
        call_command("changepassword", "hanna.schroeder")
    monkeypatch.setattr("sys.stdin", io.StringIO("a guess at hanna's password\n"))
    with pytest.raises(CommandError):  # a token for B needs B's password
        call_command("token", "create", "hanna.schroeder", "--password-stdin")
    assert not ApiToken.objects.exists()
    assert not User.objects.filter(is_superuser=True).exists()
    _unchanged(proposal)


def test_a_cannot_reset_bs_password_with_a_user_admin_case_of_his_own(
    person: Callable[[str], Person],
    proposal: dict[str, Any],
    committed: Any,
    mailoutbox: list[Any],
) -> None:
    oliver, hanna = person("oliver.richter"), person("hanna.schroeder")
    reset = user_admin(oliver, change="password-reset", person="hanna.schroeder")
    problem(release(oliver, reset["id"], committed), 403, "sod.self_approval")
    problem(release(hanna, reset["id"], committed), 403, "sod.beneficiary")
    # a token for B, or B's address changed to A's, meet the same two refusals
    token = user_admin(oliver, change="api-token", person="hanna.schroeder")
    problem(release(oliver, token["id"], committed), 403, "sod.self_approval")
    problem(
        oliver.start(
            "user-admin",
            {
                "change": "email",
                "person": "hanna.schroeder",
                "email": "oliver.richter@musterbank.example",
                "reason": "x",
            },
        ),
        422,
        "payload.invalid",
    )
    assert mailoutbox == [] and not ApiToken.objects.exists()
    _unchanged(proposal)


def test_bs_new_password_reaches_only_bs_mailbox(
    person: Callable[[str], Person],
    proposal: dict[str, Any],
    committed: Any,
    mailoutbox: list[Any],
    client: Any,
) -> None:
    """Released properly (HR proposes, A releases), the link goes to B; A never sees it."""
    reset = user_admin(person("nina.koch"), change="password-reset", person="hanna.schroeder")
    released = release(person("oliver.richter"), reset["id"], committed)
    assert released.status_code == 200
    [mail] = mailoutbox
    assert mail.to == ["hanna.schroeder@musterbank.example"]
    link = LINK.search(mail.body)
    assert link is not None
    seen_by_oliver = (
        released.content.decode()
        + person("oliver.richter").get(f"/cases/{reset['id']}").content.decode()
    )
    assert link["token"] not in seen_by_oliver
    assert all(link["token"] not in str(e.to_chained().as_dict()) for e in AuditEvent.objects.all())
    # A guesses at the password page without the link: nothing; B sets hers through it
    bogus = client.get(f"/password/set/{link['uid']}/not-the-token/")
    assert b"no longer valid" in bogus.content
    page = client.get(urlsplit(link.group(0)).path, follow=True)
    chosen = "hannas-own-Passphrase-8"
    client.post(page.redirect_chain[-1][0], {"new_password1": chosen, "new_password2": chosen})
    assert User.objects.get(username="hanna.schroeder").check_password(chosen)
    _unchanged(proposal)


@pytest.mark.usefixtures("admin_on")
def test_a_cannot_release_his_own_policy_change_by_any_path(
    person: Callable[[str], Person], proposal: dict[str, Any], client: Any
) -> None:
    """The attack as it was done (the demo made A a superuser; here the flag is forced into
    the database, saving it is refused, and the operator has even turned the admin on), then
    every other way to the release button."""
    User.objects.filter(username="oliver.richter").update(is_superuser=True, is_staff=True)
    hanna = User.objects.get(username="hanna.schroeder")
    client.force_login(User.objects.get(username="oliver.richter"))
    client.post(
        f"/admin/auth/user/{hanna.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    client.post("/logout/")
    login = client.post("/login/", {"username": "hanna.schroeder", "password": NEW_PASSWORD})
    assert login.status_code == 200  # the login form again: that is not her password
    client.post(
        f"/api/v1/cases/{proposal['id']}/actions",
        {"action": "release"},
        content_type="application/json",
    )
    _unchanged(proposal)
    assert not AuditEvent.objects.filter(action="auth.login", actor="hanna.schroeder").exists()
    assert AuditEvent.objects.filter(
        action="auth.login_failed", object_id="hanna.schroeder"
    ).exists()
    # as himself, through the API and the page, with the superuser flag still set
    oliver = person("oliver.richter")
    problem(oliver.act(proposal["id"], "release"), 403, "sod.self_approval")
    client.force_login(User.objects.get(username="oliver.richter"))
    client.post(f"/cases/{proposal['id']}/act/", {"action": "release"})
    # as B's substitute: only B names her substitutes, and nobody is their own
    problem(
        oliver.act(proposal["id"], "release", on_behalf_of="hanna.schroeder"),
        422,
        "delegation.invalid",
    )
    today = timezone.localdate()
    problem(
        oliver.post(
            "/delegations",
            {
                "substitute": "oliver.richter",
                "valid_from": str(today),
                "valid_to": str(today + timedelta(days=2)),
            },
        ),
        422,
        "delegation.invalid",
    )
    _unchanged(proposal)
    denials = AuditEvent.objects.filter(action="case.denied", actor="oliver.richter")
    assert denials.count() >= 3  # every attempt is on the audit chain
