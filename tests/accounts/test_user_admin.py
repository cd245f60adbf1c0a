"""#13: every change one person makes to another's login is a four-eyes user-admin case.

Nina (HR) or an administrator proposes, an administrator releases, the person concerned is
neither; a new password or token goes to the person's own e-mail, nobody else sees it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model

from backoffice.accounts.models import ApiToken
from backoffice.audit.models import AuditEvent
from backoffice.audit.queries import verify_database
from backoffice.org.services import apply_policy
from tests.accounts.conftest import LINK, release, user_admin
from tests.cases.conftest import Person, problem
from tests.conftest import DEMO_POLICY

User = get_user_model()
NEW = {"login": "jana.kraus", "name": "Jana Kraus", "email": "jana.kraus@musterbank.example"}


def _no_secret_anywhere(secret: str, *responses: Any) -> None:
    """Neither maker nor checker saw it: not in any answer, case or audit event."""
    for response in responses:
        assert secret not in response.content.decode()
    for event in AuditEvent.objects.all():
        assert secret not in str(event.to_chained().as_dict())
    from backoffice.cases.models import Case, CaseEvent

    assert not any(secret in str(c.payload) for c in Case.objects.all())
    assert not any(secret in str(e.data) + str(e.payload) for e in CaseEvent.objects.all())


def _create(person: Callable[[str], Person], committed: Any) -> tuple[dict[str, Any], Any]:
    case = user_admin(person("nina.koch"), change="create", **NEW)
    released = release(person("oliver.richter"), case["id"], committed)
    assert released.status_code == 200, released.content
    return case, released


def test_create_makes_a_login_only_the_new_person_can_set_a_password_for(
    person: Callable[[str], Person], committed: Any, mailoutbox: list[Any], client: Any
) -> None:
    case, released = _create(person, committed)
    jana = User.objects.get(username="jana.kraus")
    assert jana.is_active and not jana.has_usable_password() and not jana.is_superuser
    assert jana.profile.display_name == "Jana Kraus"
    assert jana.profile.source == f"case:{case['id']}"
    [mail] = mailoutbox
    assert mail.to == ["jana.kraus@musterbank.example"]
    link = LINK.search(mail.body)
    assert link is not None
    _no_secret_anywhere(link["token"], released)
    created = AuditEvent.objects.get(action="accounts.person.created")
    assert (created.actor, created.object_id) == ("oliver.richter", "jana.kraus")
    assert f"user-admin case {case['id']}, proposed by nina.koch" in created.reason
    sent = AuditEvent.objects.get(action="auth.password.link_sent", object_id="jana.kraus")
    assert sent.after == {"sent_to": "jana.kraus@musterbank.example", "password_usable": False}
    # Jana follows the link, chooses a password, and logs in with it
    page = client.get(urlsplit(link.group(0)).path, follow=True)
    assert page.status_code == 200 and b"Choose your password" in page.content
    chosen = "a-long-Passphrase-for-jana-7"
    done = client.post(
        page.redirect_chain[-1][0], {"new_password1": chosen, "new_password2": chosen}
    )
    assert done.status_code == 302
    assert AuditEvent.objects.filter(action="auth.password.set", actor="jana.kraus").exists()
    assert client.post("/login/", {"username": "jana.kraus", "password": chosen}).status_code == 302
    again = client.get(urlsplit(link.group(0)).path, follow=True)
    assert b"no longer valid" in again.content  # the link works once
    assert verify_database().ok


def test_a_login_a_case_created_survives_the_next_policy_load(
    person: Callable[[str], Person], committed: Any, mailoutbox: list[Any]
) -> None:
    _create(person, committed)
    changed = DEMO_POLICY.read_text().replace("name: Musterbank AG", "name: Musterbank AG ")
    apply_policy(changed.encode(), "changed", actor="test")
    assert User.objects.get(username="jana.kraus").is_active


def test_a_login_name_or_address_is_never_given_twice(
    person: Callable[[str], Person], committed: Any, mailoutbox: list[Any]
) -> None:
    nina = person("nina.koch")
    for login in ("lena.schulz", "anonymous"):
        body = problem(
            nina.start("user-admin", {"change": "create", **NEW, "login": login, "reason": "x"}),
            422,
            "payload.invalid",
        )
        assert "is or was in use" in body["detail"]


def test_deactivate_locks_the_login_and_its_tokens_until_a_case_reactivates_it(
    person: Callable[[str], Person], committed: Any, mailoutbox: list[Any], client: Any
) -> None:
    from backoffice.accounts.services import do_create_own_token

    paul = User.objects.get(username="paul.meyer")
    token = do_create_own_token(paul, name="export")
    case = user_admin(person("nina.koch"), change="deactivate", person="paul.meyer")
    assert release(person("hanna.schroeder"), case["id"], committed).status_code == 200
    paul.refresh_from_db()
    assert not paul.is_active and paul.profile.deactivated_by == f"case:{case['id']}"
    assert ApiToken.objects.get(user=paul).revoked_at is not None
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=bearer).status_code == 401
    event = AuditEvent.objects.get(action="accounts.person.deactivated")
    assert (event.before, event.after) == ({"active": True}, {"active": False})
    # the policy still lists Paul: loading it again does not switch him back on
    changed = DEMO_POLICY.read_text().replace("name: Musterbank AG", "name: Musterbank AG ")
    apply_policy(changed.encode(), "changed", actor="test")
    assert not User.objects.get(username="paul.meyer").is_active
    case = user_admin(person("nina.koch"), change="reactivate", login="paul.meyer")
    assert release(person("hanna.schroeder"), case["id"], committed).status_code == 200
    paul.refresh_from_db()
    assert paul.is_active and paul.profile.deactivated_by == ""
    assert AuditEvent.objects.filter(action="accounts.person.reactivated").count() == 1


def test_reactivate_refuses_a_login_the_policy_ended(
    person: Callable[[str], Person], committed: Any
) -> None:
    dropped = DEMO_POLICY.read_text().replace(
        "  - {id: mia.frank, name: Mia Frank, email: mia.frank@musterbank.example}\n", ""
    )
    dropped = dropped.replace(
        "  - {person: mia.frank, unit: switchboard, valid_from: 2024-04-01}\n", ""
    ).replace("  - {person: mia.frank, role: employee, valid_from: 2024-04-01}\n", "")
    apply_policy(dropped.encode(), "dropped", actor="test")
    assert not User.objects.get(username="mia.frank").is_active
    body = problem(
        person("nina.koch").start(
            "user-admin", {"change": "reactivate", "login": "mia.frank", "reason": "x"}
        ),
        422,
        "payload.invalid",
    )
    assert "policy no longer lists them" in body["detail"]


def test_password_reset_locks_the_old_password_and_mails_the_person_a_link(
    person: Callable[[str], Person], committed: Any, mailoutbox: list[Any]
) -> None:
    paul = User.objects.get(username="paul.meyer")
    paul.set_password("the-old-Passphrase-1")
    paul.save()
    case = user_admin(person("nina.koch"), change="password-reset", person="paul.meyer")
    assert case["preview"]["after"] == "link to paul.meyer@musterbank.example"
    released = release(person("oliver.richter"), case["id"], committed)
    assert released.status_code == 200
    paul.refresh_from_db()
    assert not paul.has_usable_password()
    [mail] = mailoutbox
    assert mail.to == ["paul.meyer@musterbank.example"]
    link = LINK.search(mail.body)
    assert link is not None
    _no_secret_anywhere(link["token"], released)
    assert AuditEvent.objects.filter(
        action="accounts.person.password_reset", actor="oliver.richter", object_id="paul.meyer"
    ).exists()


def test_login_name_is_corrected_only_for_a_case_login_before_it_was_used(
    person: Callable[[str], Person], committed: Any, mailoutbox: list[Any], client: Any
) -> None:
    nina, oliver = person("nina.koch"), person("oliver.richter")
    problem(
        nina.start(
            "user-admin",
            {"change": "login-name", "person": "paul.meyer", "login": "p.meyer", "reason": "x"},
        ),
        422,
        "payload.invalid",
    )  # a person of the policy: their id there is their login
    _create(person, committed)
    case = user_admin(nina, change="login-name", person="jana.kraus", login="jana.krause")
    assert release(oliver, case["id"], committed).status_code == 200
    assert User.objects.filter(username="jana.krause").exists()
    event = AuditEvent.objects.get(action="accounts.person.login_renamed")
    assert (event.before, event.after) == ({"login": "jana.kraus"}, {"login": "jana.krause"})
    client.force_login(User.objects.get(username="jana.krause"))  # her login is on record
    body = problem(  # from then on the name stays: the trail knows her by it
        nina.start(
            "user-admin",
            {"change": "login-name", "person": "jana.krause", "login": "jana.k", "reason": "x"},
        ),
        422,
        "payload.invalid",
    )
    assert "has acted under this name" in body["detail"]


def test_email_changes_by_case_only_for_a_case_login(
    person: Callable[[str], Person], committed: Any, mailoutbox: list[Any]
) -> None:
    nina, oliver = person("nina.koch"), person("oliver.richter")
    body = problem(
        nina.start(
            "user-admin",
            {
                "change": "email",
                "person": "hanna.schroeder",
                "email": "x@evil.example",
                "reason": "x",
            },
        ),
        422,
        "payload.invalid",
    )
    assert "policy-change case" in body["detail"]  # a policy person's address is the policy's
    _create(person, committed)
    case = user_admin(nina, change="email", person="jana.kraus", email="jana@musterbank.example")
    assert case["preview"]["before"] == "jana.kraus@musterbank.example"
    assert release(oliver, case["id"], committed).status_code == 200
    assert User.objects.get(username="jana.kraus").email == "jana@musterbank.example"
    assert AuditEvent.objects.filter(action="accounts.person.email_changed").count() == 1


def test_an_api_token_for_someone_else_is_mailed_to_them_only(
    person: Callable[[str], Person], committed: Any, mailoutbox: list[Any], client: Any
) -> None:
    case = user_admin(
        person("nina.koch"), change="api-token", person="martin.jung", token_name="audit export"
    )
    released = release(person("hanna.schroeder"), case["id"], committed)
    assert released.status_code == 200
    [mail] = mailoutbox
    assert mail.to == ["martin.jung@musterbank.example"]
    token = next(w for w in mail.body.split() if w.startswith("bo_"))
    _no_secret_anywhere(token, released)
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["username"] == "martin.jung"
    issued = AuditEvent.objects.get(action="accounts.person.token_issued")
    assert issued.after == {"API token": "mailed to martin.jung@musterbank.example"}
    created = AuditEvent.objects.get(action="accounts.token.created")
    assert created.actor == "hanna.schroeder" and created.after["user"] == "martin.jung"


def test_the_staff_flag_changes_only_by_case(
    person: Callable[[str], Person], committed: Any
) -> None:
    case = user_admin(person("nina.koch"), change="staff", person="oliver.richter", staff="yes")
    assert release(person("hanna.schroeder"), case["id"], committed).status_code == 200
    assert User.objects.get(username="oliver.richter").is_staff
    event = AuditEvent.objects.get(action="accounts.person.staff_changed")
    assert (event.before, event.after) == ({"staff": False}, {"staff": True})


@pytest.mark.parametrize(
    "payload",
    [
        {"change": "create", "login": "x.y", "name": "X"},  # no e-mail for the link
        {"change": "deactivate"},  # whom?
        {"change": "staff", "person": "paul.meyer", "staff": "yes", "email": "a@b.example"},
    ],
)
def test_an_incomplete_or_mixed_change_is_refused(
    person: Callable[[str], Person], payload: dict[str, Any]
) -> None:
    problem(
        person("nina.koch").start("user-admin", payload | {"reason": "x"}), 422, "payload.invalid"
    )


def test_the_maker_never_releases_and_the_person_concerned_never_acts(
    person: Callable[[str], Person], committed: Any, mailoutbox: list[Any]
) -> None:
    oliver, hanna = person("oliver.richter"), person("hanna.schroeder")
    # Oliver may not ask for changes to his own login ...
    problem(
        oliver.start(
            "user-admin",
            {"change": "staff", "person": "oliver.richter", "staff": "yes", "reason": "x"},
        ),
        403,
        "sod.beneficiary",
    )
    # ... nor release what he proposed; Hanna may not release a change to her own login
    case = user_admin(oliver, change="password-reset", person="hanna.schroeder")
    problem(release(oliver, case["id"], committed), 403, "sod.self_approval")
    problem(release(hanna, case["id"], committed), 403, "sod.beneficiary")
    problem(release(person("nina.koch"), case["id"], committed), 404, "case.not_found")
    assert mailoutbox == []
    assert not AuditEvent.objects.filter(action="accounts.person.password_reset").exists()


def test_hr_asks_for_a_password_reset_on_the_page_and_the_checker_sees_where_it_goes(
    person: Callable[[str], Person], client: Any
) -> None:
    client.force_login(User.objects.get(username="nina.koch"))
    assert client.get("/cases/new/user-admin/").status_code == 200
    started = client.post(
        "/cases/new/user-admin/",
        {"change": "password-reset", "person": "paul.meyer", "reason": "forgot it", "submit": "1"},
    )
    assert started.status_code == 302, started.content
    case_id = int(started["Location"].strip("/").split("/")[-1])
    checker = person("hanna.schroeder").client.get(f"/cases/{case_id}/").content.decode()
    assert "link to paul.meyer@musterbank.example" in checker
