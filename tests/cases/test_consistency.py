"""``backoffice cases check``: a case that disagrees with its history is found."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command

from backoffice.cases.consistency import check_cases
from backoffice.cases.models import Case
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
