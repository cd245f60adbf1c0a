"""``backoffice cases check``: a case that disagrees with its history is found."""

from __future__ import annotations

import io
from typing import Any

from django.core.management import call_command
from django.db import transaction

from backoffice.audit.models import AuditEvent
from backoffice.audit.services import record
from backoffice.cases.consistency import check_cases
from backoffice.cases.models import Case
from backoffice.credit.demo import seed_demo_credit
from backoffice.ops.seed import seed_demo_cases
from backoffice.walls.seed import seed_demo_walls
from tests.cases.conftest import payment


def test_cases_made_by_the_services_are_consistent(person: Any) -> None:
    case = person("anna.schmidt").start("payment-release", payment()).json()
    person("lena.schulz").act(case["id"], "release")
    person("anna.schmidt").act(case["id"], "withdraw")  # refused: recorded as a denial
    assert list(check_cases()) == []


def test_a_projection_that_was_changed_behind_the_services_back_is_reported(person: Any) -> None:
    case = person("anna.schmidt").start("payment-release", payment()).json()
    Case.objects.filter(pk=case["id"]).update(status="released")
    problems = list(check_cases())
    assert len(problems) == 1
    assert problems[0].startswith(f"case {case['id']}: stored ('released'")
    try:
        call_command("cases", "check")
    except SystemExit as exit_:
        assert exit_.code == 1
    else:
        raise AssertionError("cases check should exit 1")


def test_a_fresh_demo_bank_passes_the_check(demo_bank: Any) -> None:
    """#13: a wall's refused read of a case is the wall's event, not a case event."""
    seed_demo_cases()
    seed_demo_walls()  # Niklas (trading) tries to open the Falcon mandate: refused
    seed_demo_credit()
    assert AuditEvent.objects.filter(action="walls.access_denied", object_type="case").exists()
    out = io.StringIO()
    call_command("cases", "check", stdout=out)  # exit 0: no SystemExit
    assert out.getvalue().endswith("cases consistent with their events and audit\n")


def test_a_case_audit_event_without_its_case_event_is_reported(person: Any) -> None:
    case = person("anna.schmidt").start("payment-release", payment()).json()
    with transaction.atomic():
        stray = record(
            "case.released", actor="anna.schmidt", object_type="case", object_id=case["id"]
        )
    assert list(check_cases()) == [
        f"audit event {stray.seq} (case.released on case {case['id']}) has 0 case events"
    ]


def test_an_audit_event_about_a_case_that_does_not_exist_is_reported(person: Any) -> None:
    with transaction.atomic():
        stray = record(
            "walls.access_denied", actor="niklas.wolf", object_type="case", object_id=404
        )
    assert list(check_cases()) == [
        f"audit event {stray.seq} (walls.access_denied) is about case 404, which does not exist"
    ]
