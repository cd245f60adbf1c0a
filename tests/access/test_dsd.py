"""#15 part 5: dynamic separation of duties on role activation (NIST RBAC §5.3.2).

The demo bank's policy with payment-releaser and master-data-releaser marked
``activation: session`` and one DSD constraint over the two: lena.schulz and maria.keller
hold both, but no login session of theirs may have both active. anna.schmidt enters a
payment; releasing it needs payment.release, which lena has only in a session that
activated payment-releaser.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

from backoffice.access.models import ActiveRole
from backoffice.access.queries import get_actor_facts
from backoffice.access.services import do_activate_role, do_deactivate_role
from backoffice.audit.models import AuditEvent
from backoffice.audit.queries import verify_database
from backoffice.base.actor import Actor
from backoffice.core.errors import DomainError
from backoffice.org.services import do_load_policy
from tests.cases.conftest import Person, payment, problem
from tests.unit.test_dsd import policy_with_dsd

pytestmark = pytest.mark.django_db

DSD = (
    "    - {id: dsd-release, name: One release role per session, "
    "roles: [payment-releaser, master-data-releaser], n: 2}\n"
)


@pytest.fixture
def bank(db: Any) -> Any:
    return do_load_policy(policy_with_dsd(DSD).encode(), "dsd-bank.yaml", actor="test:setup")


def session_of(client: Client) -> str:
    key = client.session.session_key
    assert key
    return key


def activate(client: Client, role: str) -> Any:
    return client.post(f"/settings/roles/{role}/activate/", follow=True)


def login(username: str) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


def test_the_nth_role_of_the_set_is_refused_in_one_session_and_on_the_chain(bank: Any) -> None:
    lena = login("lena.schulz")
    page = lena.get("/settings/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "payment-releaser" in text and "master-data-releaser" in text
    assert "payment-clerk</code>" not in text  # always active: nothing to activate

    assert activate(lena, "payment-releaser").status_code == 200
    refused = activate(lena, "master-data-releaser").content.decode()
    assert "dsd-release (One release role per session)" in refused
    assert "access.dsd" in refused

    active = set(
        ActiveRole.objects.filter(session_key=session_of(lena)).values_list("role__key", flat=True)
    )
    assert active == {"payment-releaser"}
    done = AuditEvent.objects.get(action="access.role.activate")
    assert (done.actor, done.object_id) == ("lena.schulz", "payment-releaser")
    refusal = AuditEvent.objects.get(action="access.role.activate_denied")
    assert (refusal.actor, refusal.object_id) == ("lena.schulz", "master-data-releaser")
    assert refusal.reason.startswith("access.dsd:")
    assert "dsd-release" in refusal.reason
    assert verify_database().ok

    # deactivating the first lets the second in, in the same session
    assert lena.post("/settings/roles/payment-releaser/deactivate/").status_code == 302
    assert AuditEvent.objects.filter(action="access.role.deactivate").count() == 1
    assert "access.dsd" not in activate(lena, "master-data-releaser").content.decode()
    assert set(
        ActiveRole.objects.filter(session_key=session_of(lena)).values_list("role__key", flat=True)
    ) == {"master-data-releaser"}


def test_the_same_person_activates_each_role_in_a_separate_session(bank: Any) -> None:
    first, second = login("lena.schulz"), login("lena.schulz")
    assert session_of(first) != session_of(second)
    activate(first, "payment-releaser")
    assert "access.dsd" not in activate(second, "master-data-releaser").content.decode()
    by_session = {
        key: set(ActiveRole.objects.filter(session_key=key).values_list("role__key", flat=True))
        for key in (session_of(first), session_of(second))
    }
    assert by_session == {
        session_of(first): {"payment-releaser"},
        session_of(second): {"master-data-releaser"},
    }
    assert not AuditEvent.objects.filter(reason__startswith="access.dsd:").exists()
    # each session sees only its own: the first may release payments, not master data
    user = get_user_model().objects.get(username="lena.schulz")
    one = get_actor_facts(user, session_key=session_of(first)).permissions
    two = get_actor_facts(user, session_key=session_of(second)).permissions
    assert "payment.release" in one and "customer.master.release" not in one
    assert "customer.master.release" in two and "payment.release" not in two


def test_logging_out_ends_the_sessions_activations_and_the_next_login_starts_with_none(
    bank: Any,
) -> None:
    first, other = login("lena.schulz"), login("lena.schulz")
    activate(first, "payment-releaser")
    activate(other, "master-data-releaser")
    ended = session_of(first)
    assert first.post("/logout/").status_code in (200, 302)
    assert not ActiveRole.objects.filter(session_key=ended).exists()
    assert ActiveRole.objects.filter(session_key=session_of(other)).exists()  # not that one
    event = AuditEvent.objects.filter(action="access.role.deactivate").latest("pk")
    assert (event.actor, event.after["reason"]) == ("lena.schulz", "logout")
    again = login("lena.schulz")
    user = get_user_model().objects.get(username="lena.schulz")
    assert "payment.release" not in get_actor_facts(user, session_key=session_of(again)).permissions


def test_the_case_engine_sees_a_session_role_only_once_it_is_active(bank: Any) -> None:
    case_id = Person("anna.schmidt").start("payment-release", payment()).json()["id"]
    lena = Person("lena.schulz")  # the API with her login session
    # not a releaser in this session: the case is not hers to see, let alone release
    problem(lena.act(case_id, "release"), 404, "case.not_found")
    activate(lena.client, "payment-releaser")
    released = lena.act(case_id, "release")
    assert released.status_code == 200, released.content
    assert released.json()["status"] == "released"


def test_a_bearer_token_has_no_session_so_no_session_role(bank: Any) -> None:
    lena = login("lena.schulz")
    activate(lena, "payment-releaser")
    token = lena.post("/settings/tokens/", {"name": "script"}).context["new_token"]
    case_id = Person("anna.schmidt").start("payment-release", payment()).json()["id"]
    answer = Client().post(
        f"/api/v1/cases/{case_id}/actions",
        {"action": "release"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    problem(answer, 404, "case.not_found")
    # the same request in her login session releases it
    assert Person("lena.schulz").act(case_id, "release").status_code == 404  # new session
    released = lena.post(
        f"/api/v1/cases/{case_id}/actions", {"action": "release"}, content_type="application/json"
    )
    assert released.status_code == 200, released.content


def test_only_a_held_session_role_is_activated_and_only_in_a_session(bank: Any) -> None:
    anna = Actor(get_user_model().objects.get(username="anna.schmidt"))
    lena = Actor(get_user_model().objects.get(username="lena.schulz"))
    for who, key, role, code in [
        (anna, "s1", "payment-releaser", "access.not_held"),
        (lena, "s1", "payment-clerk", "access.not_session_role"),
        (lena, "s1", "no-such-role", "access.unknown_role"),
        (lena, None, "payment-releaser", "access.no_session"),
    ]:
        with pytest.raises(DomainError) as caught:
            do_activate_role(who, key, role)
        assert caught.value.code == code
    assert not ActiveRole.objects.exists()
    assert AuditEvent.objects.filter(reason__startswith="access.not_held:").count() == 1
    assert do_deactivate_role(lena, "s1", "payment-releaser") is False


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_activations_at_the_same_moment_never_add_up_to_a_dsd_breach(bank: Any) -> None:
    """The same session asks for both roles of the set at once, from two threads: they are
    judged one after the other, so exactly one is active and the other refused."""
    outcomes: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(2)

    def ask(role: str) -> None:
        lena = Actor(get_user_model().objects.get(username="lena.schulz"))
        barrier.wait()
        try:
            do_activate_role(lena, "same-session", role)
            result = "active"
        except DomainError as error:
            result = error.code
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [
        threading.Thread(target=ask, args=(role,))
        for role in ("payment-releaser", "master-data-releaser")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["access.dsd", "active"]
    assert ActiveRole.objects.filter(session_key="same-session").count() == 1
