"""#13 item 8: wrong passwords lock a user name out from one address, not the person.

Through the real login form and the real commands: django-axes counts failures per user
name AND client address in the database; administrators lift a lock-out on record (never
their own); old login records are purged; X-Forwarded-For counts only behind proxies of ours.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from axes.models import AccessAttempt, AccessLog
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client, override_settings
from django.utils import timezone

from backoffice.audit.models import AuditEvent
from backoffice.settings import client_address_settings
from backoffice.web import auth

User = get_user_model()
ROOT = Path(__file__).resolve().parents[2]

PASSWORD = "the-right-one-42"
ATTACKER = "203.0.113.5"  # address A
ANNA_AT_HOME = "198.51.100.20"  # address B
PROXY = "10.0.0.1"
LOCKED = "Too many failed attempts for this user name from your address"


@pytest.fixture(autouse=True)
def quick_hashes(settings: Any) -> None:
    """What is tested is the counting, not Argon2's cost."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def set_password(username: str) -> None:
    user = User.objects.get(username=username)
    user.set_password(PASSWORD)
    user.save()


def log_in(client: Client, username: str, password: str, address: str, **extra: Any) -> Any:
    return client.post(
        "/login/", {"username": username, "password": password}, REMOTE_ADDR=address, **extra
    )


def logged_in_as(client: Client) -> str | None:
    pk = client.session.get("_auth_user_id")
    return User.objects.get(pk=pk).username if pk else None


def guess(username: str, address: str, times: int = 5, path: str = "/login/", **extra: Any) -> Any:
    response = None
    for n in range(times):
        response = Client().post(
            path,
            {"username": username, "password": f"guess-{n}"},
            REMOTE_ADDR=address,
            **extra,
        )
    return response


def error_of(response: Any) -> str:
    found = re.search(r'<p class="error" role="alert">(.*?)</p>', response.content.decode())
    return found.group(1) if found else ""


def as_person(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def age(model: Any, days: int, **filters: Any) -> None:
    """Make records look ``days`` old (``attempt_time`` is set on insert)."""
    model.objects.filter(**filters).update(attempt_time=timezone.now() - timedelta(days=days))


# -- the lock-out holds a name and an address together ----------------------------------------


def test_wrong_passwords_from_one_address_do_not_lock_the_person_out_from_another(
    demo_bank: Any,
) -> None:
    set_password("anna.schmidt")
    fifth = guess("anna.schmidt", ATTACKER)
    assert fifth.status_code == 429 and LOCKED in fifth.content.decode()

    at_home = Client()
    response = log_in(at_home, "anna.schmidt", PASSWORD, ANNA_AT_HOME)
    assert response.status_code == 302 and logged_in_as(at_home) == "anna.schmidt"

    from_a = Client()
    blocked = log_in(from_a, "anna.schmidt", PASSWORD, ATTACKER)  # even the right password
    assert blocked.status_code == 429 and LOCKED in blocked.content.decode()
    assert logged_in_as(from_a) is None


def test_four_wrong_passwords_and_the_right_one_let_the_person_in(demo_bank: Any) -> None:
    set_password("anna.schmidt")
    fourth = guess("anna.schmidt", ATTACKER, times=4)
    assert fourth.status_code == 200 and LOCKED not in fourth.content.decode()
    client = Client()
    assert log_in(client, "anna.schmidt", PASSWORD, ATTACKER).status_code == 302
    # AXES_RESET_ON_SUCCESS: the success gave the address its attempts back
    assert not AccessAttempt.objects.filter(username="anna.schmidt").exists()


def test_the_lock_out_lives_in_the_database_for_every_web_node(demo_bank: Any) -> None:
    set_password("anna.schmidt")
    guess("anna.schmidt", ATTACKER)  # each guess on a fresh client: no session carries it
    attempts = AccessAttempt.objects.filter(username="anna.schmidt", ip_address=ATTACKER)
    assert sum(a.failures_since_start for a in attempts) == 5
    another_node = Client()
    blocked = log_in(another_node, "anna.schmidt", PASSWORD, ATTACKER)
    assert blocked.status_code == 429 and logged_in_as(another_node) is None


def test_the_lockout_message_does_not_tell_whether_the_account_exists(demo_bank: Any) -> None:
    real = guess("anna.schmidt", ATTACKER)
    made_up = guess("no.such.person", ATTACKER)
    assert real.status_code == made_up.status_code == 429
    assert LOCKED in error_of(real) and error_of(real) == error_of(made_up)


def test_failed_logins_stay_on_the_audit_chain_while_locked_out(demo_bank: Any) -> None:
    set_password("anna.schmidt")
    guess("anna.schmidt", ATTACKER)
    log_in(Client(), "anna.schmidt", PASSWORD, ATTACKER)
    failed = AuditEvent.objects.filter(action="auth.login_failed", object_id="anna.schmidt")
    assert failed.count() == 6
    assert not AuditEvent.objects.filter(action="auth.login", actor="anna.schmidt").exists()


def test_the_admin_has_no_login_of_its_own_to_guess_through(demo_bank: Any, admin_on: Any) -> None:
    """Every password check goes through the one login page and its lock-out."""
    set_password("anna.schmidt")
    client = Client()
    admin = client.post(
        "/admin/login/",
        {"username": "anna.schmidt", "password": PASSWORD},
        REMOTE_ADDR=ATTACKER,
    )
    assert admin.status_code == 302 and admin["Location"].startswith("/login/")
    assert "_auth_user_id" not in client.session
    guess("anna.schmidt", ATTACKER)
    assert log_in(Client(), "anna.schmidt", PASSWORD, ATTACKER).status_code == 429


# -- X-Forwarded-For counts only behind proxies of ours ---------------------------------------


def test_forwarded_for_is_ignored_unless_proxies_are_configured(demo_bank: Any) -> None:
    set_password("anna.schmidt")
    for n in range(5):  # a fresh forged address each time does not spread the guesses
        Client().post(
            "/login/",
            {"username": "anna.schmidt", "password": f"guess-{n}"},
            REMOTE_ADDR=ATTACKER,
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n + 1}",
        )
    forged = log_in(Client(), "anna.schmidt", PASSWORD, ATTACKER, HTTP_X_FORWARDED_FOR="192.0.2.99")
    assert forged.status_code == 429
    # nor can the attacker pin the lock on Anna's own address by forging it
    guess("anna.schmidt", ATTACKER, HTTP_X_FORWARDED_FOR=ANNA_AT_HOME)
    assert log_in(Client(), "anna.schmidt", PASSWORD, ANNA_AT_HOME).status_code == 302


def test_behind_our_proxy_the_client_address_is_the_one_it_appended(demo_bank: Any) -> None:
    set_password("anna.schmidt")
    with override_settings(**client_address_settings(1)):
        # the attacker forges Anna's address; our proxy appends the real one after it
        guess("anna.schmidt", PROXY, HTTP_X_FORWARDED_FOR=f"{ANNA_AT_HOME}, {ATTACKER}")
        blocked = log_in(Client(), "anna.schmidt", PASSWORD, PROXY, HTTP_X_FORWARDED_FOR=ATTACKER)
        assert blocked.status_code == 429
        anna = log_in(Client(), "anna.schmidt", PASSWORD, PROXY, HTTP_X_FORWARDED_FOR=ANNA_AT_HOME)
        assert anna.status_code == 302
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {ATTACKER}


def test_the_number_of_trusted_proxies_comes_from_the_environment() -> None:
    code = (
        "from backoffice import settings as s;"
        "print(s.AXES_IPWARE_META_PRECEDENCE_ORDER, s.AXES_IPWARE_PROXY_COUNT)"
    )
    env = {k: v for k, v in os.environ.items() if k != "BACKOFFICE_TRUSTED_PROXIES"}

    def read(**extra: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", code],
            env=env | {"PYTHONPATH": str(ROOT)} | extra,
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        return done.stdout.strip()

    assert read() == "('REMOTE_ADDR',) None"
    assert read(BACKOFFICE_TRUSTED_PROXIES="2") == "('HTTP_X_FORWARDED_FOR', 'REMOTE_ADDR') 1"


# -- lifting a lock-out: one administrator, on record, never their own ------------------------


def test_an_administrator_lifts_a_lockout_and_it_is_on_record(demo_bank: Any) -> None:
    set_password("anna.schmidt")
    guess("anna.schmidt", ATTACKER)
    oliver = as_person("oliver.richter")  # administrator: access.lockout.lift
    page = oliver.get("/lockouts/")
    assert page.status_code == 200 and ATTACKER in page.content.decode()
    lifted = oliver.post(
        "/lockouts/",
        {"username": "anna.schmidt", "ip_address": ATTACKER, "reason": "she called, ticket 4711"},
    )
    assert lifted.status_code == 302
    assert log_in(Client(), "anna.schmidt", PASSWORD, ATTACKER).status_code == 302
    event = AuditEvent.objects.get(action="auth.lockout_lifted")
    assert (event.actor, event.object_id, event.reason) == (
        "oliver.richter",
        "anna.schmidt",
        "she called, ticket 4711",
    )
    assert event.before == {"attempts": [{"ip_address": ATTACKER, "failures": 5}]}


def test_nobody_lifts_their_own_lockout(demo_bank: Any) -> None:
    set_password("oliver.richter")
    guess("oliver.richter", ATTACKER)
    oliver = as_person("oliver.richter")  # a session from before, or a colleague's desk
    refused = oliver.post(
        "/lockouts/", {"username": "oliver.richter", "ip_address": "", "reason": "it was me"}
    )
    assert refused.status_code == 403
    assert log_in(Client(), "oliver.richter", PASSWORD, ATTACKER).status_code == 429
    denial = AuditEvent.objects.get(action="auth.lockout_denied")
    assert denial.actor == "oliver.richter" and denial.reason.startswith("lockout.own")
    # another administrator may
    hanna = as_person("hanna.schroeder")
    hanna.post("/lockouts/", {"username": "oliver.richter", "reason": "verified by phone"})
    assert log_in(Client(), "oliver.richter", PASSWORD, ATTACKER).status_code == 302


@pytest.mark.parametrize("person", ["anna.schmidt", "clara.vogel", "martin.jung"])
def test_only_administrators_see_and_lift_lockouts(demo_bank: Any, person: str) -> None:
    set_password("lena.schulz")
    guess("lena.schulz", ATTACKER)
    client = as_person(person)
    assert client.get("/lockouts/").status_code == 403
    refused = client.post(
        "/lockouts/", {"username": "lena.schulz", "ip_address": ATTACKER, "reason": "please"}
    )
    assert refused.status_code == 403
    assert log_in(Client(), "lena.schulz", PASSWORD, ATTACKER).status_code == 429
    assert AuditEvent.objects.filter(action="auth.lockout_denied", actor=person).count() == 2
    assert not AuditEvent.objects.filter(action="auth.lockout_lifted").exists()


def test_a_lift_needs_a_reason(demo_bank: Any) -> None:
    guess("lena.schulz", ATTACKER)
    oliver = as_person("oliver.richter")
    response = oliver.post("/lockouts/", {"username": "lena.schulz", "reason": " "})
    assert response.status_code == 422
    assert AccessAttempt.objects.filter(username="lena.schulz").exists()


def test_the_operator_lifts_a_lockout_from_the_shell_on_record(demo_bank: Any) -> None:
    set_password("anna.schmidt")
    guess("anna.schmidt", ATTACKER)
    guess("anna.schmidt", ANNA_AT_HOME)
    call_command("logins", "lift", "anna.schmidt", "--ip", ATTACKER, "--reason", "ticket 4712")
    assert log_in(Client(), "anna.schmidt", PASSWORD, ATTACKER).status_code == 302
    assert log_in(Client(), "anna.schmidt", PASSWORD, ANNA_AT_HOME).status_code == 429
    event = AuditEvent.objects.get(action="auth.lockout_lifted")
    assert event.actor.startswith("cli") and event.reason == "ticket 4712"
    with pytest.raises(CommandError, match="no failed logins"):
        call_command("logins", "lift", "anna.schmidt", "--ip", ATTACKER, "--reason", "again")
    with pytest.raises(CommandError):
        call_command("logins", "lift", "anna.schmidt")  # no --reason


@pytest.mark.parametrize(
    "command",
    [
        ["axes_reset"],
        ["axes_reset_username", "anna.schmidt"],
        ["axes_reset_ip", ATTACKER],
        ["axes_reset_ip_username", ATTACKER, "anna.schmidt"],
    ],
)
def test_axes_own_resets_are_refused_because_they_leave_no_trace(
    demo_bank: Any, command: list[str]
) -> None:
    guess("anna.schmidt", ATTACKER)
    with pytest.raises(CommandError, match="logins lift"):
        call_command(*command)
    assert AccessAttempt.objects.filter(username="anna.schmidt").exists()


# -- purge: the records of attempts go after the retention period; the audit events stay ------


def test_purge_deletes_old_login_records_and_keeps_recent_ones(demo_bank: Any) -> None:
    guess("lena.schulz", ATTACKER, times=2)
    guess("anna.schmidt", ATTACKER, times=2)
    set_password("paul.meyer")
    log_in(Client(), "paul.meyer", PASSWORD, ANNA_AT_HOME)
    age(AccessAttempt, 91, username="lena.schulz")
    age(AccessLog, 91, username="paul.meyer")
    failures_on_record = AuditEvent.objects.filter(action="auth.login_failed").count()

    call_command("logins", "purge")

    assert list(AccessAttempt.objects.values_list("username", flat=True)) == ["anna.schmidt"]
    assert not AccessLog.objects.exists()
    assert AuditEvent.objects.filter(action="auth.login_failed").count() == failures_on_record
    purged = AuditEvent.objects.get(action="auth.login_records_purged")
    assert purged.after["attempts"] == 1 and purged.after["logins"] == 1


def test_purge_keeps_what_is_younger_than_a_retention_given_on_the_command_line(
    demo_bank: Any,
) -> None:
    guess("lena.schulz", ATTACKER, times=1)
    age(AccessAttempt, 20)
    call_command("logins", "purge", "--days", "30")
    assert AccessAttempt.objects.exists()
    call_command("logins", "purge", "--days", "10")
    assert not AccessAttempt.objects.exists()


def test_purge_never_reaches_into_the_lockouts_of_now(demo_bank: Any) -> None:
    guess("anna.schmidt", ATTACKER)
    with pytest.raises(CommandError, match="at least one day"):
        call_command("logins", "purge", "--days", "0")
    assert log_in(Client(), "anna.schmidt", "anything", ATTACKER).status_code == 429


def test_a_failed_login_purges_old_records_at_most_once_an_hour(
    demo_bank: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [1000.0]
    monkeypatch.setattr(auth.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(auth, "_last_purge", None)
    set_password("paul.meyer")
    set_password("lena.schulz")
    log_in(Client(), "paul.meyer", PASSWORD, ANNA_AT_HOME)  # a login record with an address
    guess("max.weber", ATTACKER, times=1)  # the first failure of this process purges (nothing)
    age(AccessLog, 91)

    clock[0] += auth.PURGE_EVERY_SECONDS
    guess("max.weber", ATTACKER, times=1)
    assert not AccessLog.objects.exists()

    log_in(Client(), "lena.schulz", PASSWORD, ANNA_AT_HOME)
    age(AccessLog, 91)
    clock[0] += auth.PURGE_EVERY_SECONDS - 1  # within the hour: no purge
    guess("max.weber", ATTACKER, times=1)
    assert AccessLog.objects.filter(username="lena.schulz").exists()

    clock[0] += 1
    guess("max.weber", ATTACKER, times=1)
    assert not AccessLog.objects.exists()
    purges = AuditEvent.objects.filter(action="auth.login_records_purged")
    assert [e.actor for e in purges] == ["system:retention", "system:retention"]
