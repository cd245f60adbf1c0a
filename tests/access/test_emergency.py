"""#15 part 2: emergency access (break-glass, firefighter), EMERG-1..4 (core/emergency.py).

The demo bank lists paul.meyer and jan.schmitt for payment-releaser, stefan.bauer and
niklas.wolf (a trader) for settlement-clerk; at most 4 hours, reviewed within 3 days by a
controller (compliance, audit). Time passes by moving ``timezone.now``: nothing runs in
between, exactly as when the server is down over a session's end.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from backoffice.access.models import EmergencySession
from backoffice.access.queries import get_actor_facts
from backoffice.access.services import (
    do_end_emergency,
    do_review_emergency,
    do_start_emergency,
    get_emergency_log,
    get_emergency_report,
)
from backoffice.audit.models import AuditEvent
from backoffice.audit.queries import verify_database
from backoffice.base.actor import Actor
from backoffice.core.errors import DomainError
from tests.cases.conftest import Person, payment, problem
from tests.support import api_pages

pytestmark = pytest.mark.django_db


class Clock:
    """``timezone.now`` under the test's control: ``advance`` is time passing with nothing
    running (no scheduler, no request), as over a night the server was down."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    real = timezone.now()
    # mid-morning, so that hours later are still the same day (the day of the facts)
    start = real.replace(hour=9, minute=0, second=0, microsecond=0)
    c = Clock(start)
    monkeypatch.setattr(timezone, "now", c)
    yield c


@pytest.fixture
def bank(demo_bank: Any, clock: Clock) -> Any:
    return demo_bank


def actor(username: str) -> Actor:
    return Actor(get_user_model().objects.get(username=username))


def holds(username: str, permission: str) -> bool:
    """A fresh check, as the next request makes it."""
    user = get_user_model().objects.get(username=username)
    return permission in get_actor_facts(user).permissions


def refused(code: str, call: Any, *args: Any) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args)
    assert caught.value.code == code, caught.value.message
    return caught.value


# -- taking it, and being refused --------------------------------------------------------


def test_a_listed_person_takes_the_role_at_once_and_it_ends_by_itself(bank: Any) -> None:
    assert not holds("paul.meyer", "payment.release")
    session = do_start_emergency(
        actor("paul.meyer"), "payment-releaser", 60, "Releases stuck, INC-4711"
    )
    assert holds("paul.meyer", "payment.release")
    started = AuditEvent.objects.get(action="access.emergency.started")
    assert started.actor == "paul.meyer"
    assert started.after["role"] == "payment-releaser"
    assert started.reason == f"[emergency:{session.pk}] Releases stuck, INC-4711"
    # no role-grant case, no assignment: the role is the session's alone
    assert (
        not get_user_model()
        .objects.get(username="paul.meyer")
        .role_assignments.filter(role__key="payment-releaser")
    )


def test_someone_not_on_the_list_must_ask_through_a_case(bank: Any) -> None:
    error = refused(
        "emergency.not_listed",
        do_start_emergency,
        actor("mia.frank"),
        "payment-releaser",
        30,
        "I want to help",
    )
    assert "role-grant case" in error.message
    assert not holds("mia.frank", "payment.release")
    denial = AuditEvent.objects.get(action="access.emergency.denied")
    assert denial.actor == "mia.frank" and "emergency.not_listed" in denial.reason
    # a role without an emergency list at all: the same answer
    refused("emergency.not_listed", do_start_emergency, actor("paul.meyer"), "trader", 30, "x")
    assert not EmergencySession.objects.exists()


def test_longer_than_the_policy_allows_is_refused(bank: Any) -> None:
    error = refused(
        "emergency.too_long",
        do_start_emergency,
        actor("paul.meyer"),
        "payment-releaser",
        4 * 60 + 1,
        "A long night",
    )
    assert "at most 240 minutes" in error.message
    # a role's own maximum is shorter than the section's (administrator: 2 h)
    refused(
        "emergency.too_long", do_start_emergency, actor("stefan.bauer"), "administrator", 121, "x"
    )
    do_start_emergency(actor("stefan.bauer"), "administrator", 120, "Locked-out admins")
    assert holds("stefan.bauer", "user.admin.release")


def test_a_critical_risk_refuses_emergency_access(bank: Any) -> None:
    """niklas.wolf is a trader: settling as well is trading-settlement (critical)."""
    error = refused(
        "emergency.critical_risk",
        do_start_emergency,
        actor("niklas.wolf"),
        "settlement-clerk",
        60,
        "Settlement team ill",
    )
    assert "trading-settlement" in error.message
    assert not holds("niklas.wolf", "trade.confirm")
    # stefan.bauer, listed for the same role and without trading, takes it
    do_start_emergency(actor("stefan.bauer"), "settlement-clerk", 60, "Settlement team ill")
    assert holds("stefan.bauer", "trade.confirm")


def test_a_role_held_already_cannot_be_taken_twice(bank: Any) -> None:
    do_start_emergency(actor("jan.schmitt"), "payment-releaser", 30, "INC-1")
    refused(
        "emergency.already_active",
        do_start_emergency,
        actor("jan.schmitt"),
        "payment-releaser",
        30,
        "INC-2",
    )


@pytest.mark.parametrize(
    ("role", "minutes", "reason", "code"),
    [
        ("payment-releaser", 0, "x", "emergency.invalid"),
        ("payment-releaser", 30, "   ", "emergency.invalid"),
        ("no-such-role", 30, "x", "access.unknown_role"),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(
    bank: Any, role: str, minutes: int, reason: str, code: str
) -> None:
    refused(code, do_start_emergency, actor("paul.meyer"), role, minutes, reason)
    assert not EmergencySession.objects.exists()


# -- the end, with the server down over it ---------------------------------------------------


def test_the_role_ends_at_its_end_even_if_nothing_ran_then(bank: Any, clock: Clock) -> None:
    """EMERG-2: no scheduler ends it; the next check after the end no longer grants it."""
    do_start_emergency(actor("paul.meyer"), "payment-releaser", 90, "INC-4711")
    clock.advance(minutes=89)
    assert holds("paul.meyer", "payment.release")
    clock.advance(minutes=1)  # the end is exclusive
    assert not holds("paul.meyer", "payment.release")
    clock.advance(hours=5)  # the server comes back much later: still ended
    assert not holds("paul.meyer", "payment.release")
    assert actor("paul.meyer").facts.roles >= {"payment-clerk"}


def test_an_expired_session_cannot_release_a_payment(bank: Any, clock: Clock) -> None:
    """The case engine sees the role while the session runs and not a minute after."""
    first = Person("anna.schmidt").start("payment-release", payment("2500.00")).json()["id"]
    second = Person("anna.schmidt").start("payment-release", payment("2600.00")).json()["id"]
    session = do_start_emergency(actor("paul.meyer"), "payment-releaser", 60, "INC-4711")
    done = Person("paul.meyer").act(first, "release")
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "released"
    clock.advance(minutes=61)
    # without the role paul may no longer even see a payment waiting for release
    problem(Person("paul.meyer").act(second, "release"), 404, "case.not_found")
    # the release is on the chain, tagged with the session; what paul does after it is not
    released = AuditEvent.objects.filter(actor="paul.meyer", object_id=str(first))
    assert released and all(e.reason.startswith(f"[emergency:{session.pk}]") for e in released)
    own = Person("paul.meyer").start("payment-release", payment("99.00"))
    assert own.status_code == 201, own.content
    later = AuditEvent.objects.filter(actor="paul.meyer", object_id=str(own.json()["id"]))
    assert later and not any("[emergency:" in e.reason for e in later)


def test_ending_early_takes_the_role_away_now(bank: Any) -> None:
    session = do_start_emergency(actor("jan.schmitt"), "payment-releaser", 120, "INC-9")
    ended = do_end_emergency(actor("jan.schmitt"), session.pk)
    assert ended.ended_by == "jan.schmitt" and ended.ends_at < ended.planned_end
    assert not holds("jan.schmitt", "payment.release")
    # someone else (not a controller) may not end another's session
    other = do_start_emergency(actor("paul.meyer"), "payment-releaser", 60, "INC-10")
    refused("emergency.forbidden", do_end_emergency, actor("mia.frank"), other.pk)
    assert holds("paul.meyer", "payment.release")


# -- the audit chain -----------------------------------------------------------------------


def test_everything_done_under_the_session_is_tagged_and_the_chain_verifies(
    bank: Any, clock: Clock
) -> None:
    session = do_start_emergency(actor("paul.meyer"), "payment-releaser", 60, "INC-4711")
    case = Person("anna.schmidt").start("payment-release", payment("2500.00")).json()["id"]
    assert Person("paul.meyer").act(case, "release").status_code == 200
    tagged = list(AuditEvent.objects.filter(reason__startswith=f"[emergency:{session.pk}]"))
    assert {e.actor for e in tagged} == {"paul.meyer"}
    assert {"access.emergency.started", "case.released"} <= {e.action for e in tagged}
    # anna's own events in the same minutes are not tagged
    assert not AuditEvent.objects.filter(actor="anna.schmidt", reason__contains="[emergency:")
    clock.advance(hours=2)
    _, events = get_emergency_log(actor("clara.vogel"), session.pk)
    assert [e.seq for e in events] == sorted(e.seq for e in tagged)
    verification = verify_database()
    assert verification.problem is None and verification.events >= len(tagged)


# -- the review ------------------------------------------------------------------------------


def test_a_controller_who_is_not_the_person_reviews_the_log(bank: Any, clock: Clock) -> None:
    session = do_start_emergency(actor("paul.meyer"), "payment-releaser", 60, "INC-4711")
    refused("emergency.still_active", do_review_emergency, actor("clara.vogel"), session.pk, "ok")
    clock.advance(minutes=60)
    refused("emergency.self_review", do_review_emergency, actor("paul.meyer"), session.pk, "ok")
    refused("emergency.forbidden", do_review_emergency, actor("anna.schmidt"), session.pk, "ok")
    reviewed = do_review_emergency(actor("martin.jung"), session.pk, "Two releases, both fine")
    assert reviewed.reviewed_by is not None and reviewed.reviewed_by.username == "martin.jung"
    refused(
        "emergency.already_reviewed", do_review_emergency, actor("clara.vogel"), session.pk, "x"
    )
    event = AuditEvent.objects.get(action="access.emergency.reviewed")
    assert event.actor == "martin.jung" and event.after["review_note"] == reviewed.review_note


def test_a_controller_in_an_emergency_session_of_their_own_is_still_not_the_person(
    bank: Any, clock: Clock
) -> None:
    """The person's own permissions never let them review: the rule names the person."""
    session = do_start_emergency(actor("jan.schmitt"), "payment-releaser", 30, "INC-1")
    clock.advance(minutes=31)
    refused("emergency.self_review", do_review_emergency, actor("jan.schmitt"), session.pk, "ok")


def _sessions(clock: Clock, count: int) -> list[int]:
    """``count`` ended sessions, one every 30 minutes (two people take turns)."""
    made = []
    for i in range(count):
        who = ("paul.meyer", "jan.schmitt")[i % 2]
        made.append(do_start_emergency(actor(who), "payment-releaser", 20, f"INC-{i}").pk)
        clock.advance(minutes=30)
    return made


def test_unreviewed_sessions_become_overdue_after_the_policys_days(bank: Any, clock: Clock) -> None:
    first, second = _sessions(clock, 2)
    report = get_emergency_report(actor("clara.vogel"), "overdue")
    assert not list(report.all_rows())
    assert {
        r["session"] for r in get_emergency_report(actor("clara.vogel"), "unreviewed").all_rows()
    } == {
        first,
        second,
    }
    clock.advance(days=3)
    do_review_emergency(actor("clara.vogel"), second, "Fine")
    overdue = list(get_emergency_report(actor("clara.vogel"), "overdue").all_rows())
    assert [(r["session"], r["state"]) for r in overdue] == [(first, "overdue")]
    refused("emergency.forbidden", get_emergency_report, actor("paul.meyer"), "overdue")


def test_the_overdue_report_through_the_api_is_paged_and_downloads_as_csv(
    bank: Any, clock: Clock
) -> None:
    made = _sessions(clock, 7)
    clock.advance(days=4)
    compliance = Person("clara.vogel")
    pages = api_pages(compliance.client, "/api/v1/access/emergency?status=overdue&limit=3")
    assert [len(p) for p in pages] == [3, 3, 1]
    rows = [r for p in pages for r in p]
    assert [r["session"] for r in rows] == sorted(made, reverse=True)
    assert {r["state"] for r in rows} == {"overdue"}
    download = compliance.get("/access/emergency?status=overdue&format=csv")
    assert download.status_code == 200
    lines = list(csv.DictReader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert [int(r["session"]) for r in lines] == sorted(made, reverse=True)
    problem(
        Person("paul.meyer").get("/access/emergency?status=overdue"), 403, "emergency.forbidden"
    )


def test_the_api_takes_ends_and_reviews_a_session(bank: Any, clock: Clock) -> None:
    paul = Person("paul.meyer")
    body = {"role": "payment-releaser", "minutes": 30, "reason": "INC-4711"}
    started = paul.post("/access/emergency", body)
    assert started.status_code == 201, started.content
    session = started.json()
    assert session["state"] == "active" and session["person"] == "paul.meyer"
    problem(Person("mia.frank").post("/access/emergency", body), 403, "emergency.not_listed")
    problem(paul.post("/access/emergency", body | {"role": "trader"}), 403, "emergency.not_listed")
    problem(paul.post("/access/emergency", body | {"minutes": 0}), 422, "input.invalid")
    ended = paul.post(f"/access/emergency/{session['session']}/end", {})
    assert ended.json()["state"] == "unreviewed"
    compliance = Person("clara.vogel")
    log = compliance.get(f"/access/emergency/{session['session']}/log").json()
    assert [e["action"] for e in log["events"]] == [
        "access.emergency.started",
        "access.emergency.denied",  # asking for trader meanwhile: refused, and tagged too
        "access.emergency.ended",
    ]
    problem(
        paul.post(f"/access/emergency/{session['session']}/review", {"note": "fine"}),
        403,
        "emergency.self_review",
    )
    done = compliance.post(f"/access/emergency/{session['session']}/review", {"note": "fine"})
    assert done.json()["state"] == "reviewed" and done.json()["reviewed_by"] == "clara.vogel"
    problem(compliance.get("/access/emergency/999999/log"), 404, "emergency.not_found")
    problem(paul.get(f"/access/emergency/{session['session']}/log"), 403, "emergency.forbidden")


# -- the command line ------------------------------------------------------------------------


def run(*argv: str) -> str:
    out = io.StringIO()
    call_command("access", "emergency", *argv, stdout=out)
    return out.getvalue()


def test_the_command_line_starts_lists_and_reviews(bank: Any, clock: Clock) -> None:
    said = run(
        "start", "--as", "paul.meyer", "--role", "payment-releaser", "--minutes", "60",
        "--reason", "INC-4711",
    )  # fmt: skip
    session = EmergencySession.objects.get()
    assert f"emergency session {session.pk}: paul.meyer holds payment-releaser" in said
    assert holds("paul.meyer", "payment.release")
    with pytest.raises(CommandError) as caught:
        run("start", "--as", "mia.frank", "--role", "payment-releaser", "--minutes", "9",
            "--reason", "x")  # fmt: skip
    assert caught.value.returncode == 1 and "emergency.not_listed" in str(caught.value)
    with pytest.raises(CommandError) as caught:
        run("start", "--as", "nobody", "--role", "payment-releaser", "--minutes", "9",
            "--reason", "x")  # fmt: skip
    assert caught.value.returncode == 2
    with pytest.raises(CommandError) as caught:
        run("review", str(session.pk + 100), "--as", "clara.vogel", "--note", "x")
    assert caught.value.returncode == 2
    clock.advance(days=4)
    listed = run("list", "--as", "clara.vogel", "--status", "overdue", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(listed)))
    assert [(r["session"], r["state"]) for r in rows] == [(str(session.pk), "overdue")]
    log = run("log", str(session.pk), "--as", "martin.jung")
    assert "access.emergency.started" in log
    assert "reviewed by clara.vogel" in run(
        "review", str(session.pk), "--as", "clara.vogel", "--note", "One release, fine"
    )
    assert "0 emergency session(s) (overdue)" in run(
        "list", "--as", "clara.vogel", "--status", "overdue"
    )


# -- the pages -------------------------------------------------------------------------------


def test_the_page_takes_and_ends_a_session_and_a_controller_reviews_it(
    bank: Any, clock: Clock, login: Any
) -> None:
    page = login("mia.frank").get("/access/emergency/")
    assert b"You are not on any emergency list" in page.content
    paul = login("paul.meyer")
    form = paul.get("/access/emergency/").content.decode()
    assert 'value="payment-releaser"' in form and "Sessions" not in form
    taken = paul.post(
        "/access/emergency/",
        {"start": "1", "role": "payment-releaser", "minutes": "30", "reason": "INC-4711"},
    )
    assert taken.status_code == 302
    session = EmergencySession.objects.get()
    assert holds("paul.meyer", "payment.release")
    again = paul.post(
        "/access/emergency/",
        {"start": "1", "role": "payment-releaser", "minutes": "30", "reason": "again"},
    )
    assert again.status_code == 409 and b"emergency.already_active" in again.content
    assert paul.post("/access/emergency/", {"end": str(session.pk)}).status_code == 302
    assert not holds("paul.meyer", "payment.release")
    assert paul.get(f"/access/emergency/{session.pk}/").status_code == 403
    clara = login("clara.vogel")
    listed = clara.get("/access/emergency/?status=unreviewed").content.decode()
    assert f'href="/access/emergency/{session.pk}/"' in listed
    detail = clara.get(f"/access/emergency/{session.pk}/").content.decode()
    assert "access.emergency.started" in detail and "access.emergency.ended" in detail
    reviewed = clara.post(f"/access/emergency/{session.pk}/", {"note": "Nothing done, fine"})
    assert reviewed.status_code == 302
    session.refresh_from_db()
    assert session.reviewed_by is not None and session.reviewed_by.username == "clara.vogel"
    assert (
        clara.get("/access/emergency/?status=unreviewed")
        .content.decode()
        .count('href="/access/emergency/')
        == 0
    )


def test_a_grant_while_a_session_runs_is_judged_with_the_emergency_role(
    bank: Any, clock: Clock
) -> None:
    """stefan.bauer settles in an emergency: a trader grant now would be trading and
    settlement together (SSD and a critical risk), so it is refused until the session ends."""
    from tests.access.test_grants import grant

    session = do_start_emergency(actor("stefan.bauer"), "settlement-clerk", 60, "INC-77")
    asked = Person("maria.keller").start("role-grant", grant("stefan.bauer", "trader"))
    assert asked.status_code == 403, asked.content
    assert asked.json()["code"] in {"access.ssd", "access.critical_risk"}
    do_end_emergency(actor("stefan.bauer"), session.pk)
    again = Person("maria.keller").start("role-grant", grant("stefan.bauer", "trader"))
    assert again.status_code == 201, again.content


def test_two_emergency_roles_that_together_are_critical_are_refused(bank: Any) -> None:
    """Administration and settlement (a business transaction) are admin-business, critical:
    the second session is judged with the first one's role."""
    do_start_emergency(actor("stefan.bauer"), "settlement-clerk", 60, "INC-1")
    error = refused(
        "emergency.critical_risk",
        do_start_emergency,
        actor("stefan.bauer"),
        "administrator",
        60,
        "INC-2",
    )
    assert "admin-business" in error.message


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_critical_sessions_asked_at_the_same_moment_are_judged_one_after_the_other(
    demo_bank: Any,
) -> None:
    import threading

    from django.db import connection

    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    lock = threading.Lock()

    def take(role: str) -> None:
        me = actor("stefan.bauer")
        barrier.wait()
        try:
            do_start_emergency(me, role, 60, "INC-race")
            result = "taken"
        except DomainError as exc:
            result = exc.code
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    roles = ("settlement-clerk", "administrator")
    threads = [threading.Thread(target=take, args=(role,)) for role in roles]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["emergency.critical_risk", "taken"]
    assert EmergencySession.objects.count() == 1
