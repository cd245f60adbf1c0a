"""#19: one open request per object (``one_open_per``): a second is refused and names the
pending case; a draft is no request; once the first is decided, a new one may start."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from backoffice.audit.models import AuditEvent
from backoffice.core.processes import ProcessSpec
from tests.cases.conftest import Person, problem

MITIGATION = {
    "person": "eva.hahn",
    "risk": "payment-entry-release",
    "control": "PAY-REVIEW-01",
    "description": "Every payment she releases is reviewed next day by compliance.",
    "owner": "clara.vogel",
    "monitor": "martin.jung",
    "valid_until": "2099-12-31",
}


def test_a_second_request_on_the_same_object_is_refused_until_the_first_is_decided(
    person: Callable[[str], Person],
) -> None:
    anna, clara = person("anna.schmidt"), person("clara.vogel")
    first = anna.start("mitigation", MITIGATION)
    assert first.status_code == 201, first.content
    pending = first.json()["id"]
    body = problem(
        anna.start("mitigation", MITIGATION | {"control": "PAY-REVIEW-09"}), 409, "case.pending"
    )
    assert f"case {pending}" in body["detail"]
    assert AuditEvent.objects.filter(action="case.start_denied").exists()  # a refusal, recorded
    # another risk of the same person is another object
    other = anna.start("mitigation", MITIGATION | {"risk": "bank-details-payment"})
    assert other.status_code == 201, other.content
    # a draft is the maker's unfinished work; submitting it is the second request
    draft = anna.start("mitigation", MITIGATION, submit=False)
    assert draft.status_code == 201, draft.content
    problem(anna.act(draft.json()["id"], "submit"), 409, "case.pending")
    # once the first is released, the draft may go
    assert clara.act(pending, "release").status_code == 200
    assert anna.act(draft.json()["id"], "submit").status_code == 200


def test_the_policy_check_names_a_one_open_per_that_is_no_field() -> None:
    from backoffice.core.processes import process_problems

    spec: dict[str, Any] = {
        "id": "lift",
        "name": "Lift",
        "one_open_per": ["issuer", "reason", "nothing"],
        "payload": [
            {"name": "issuer", "type": "string", "label": "Issuer"},
            {"name": "reason", "type": "text", "label": "Why"},
        ],
        "steps": [
            {
                "id": "release",
                "name": "Release",
                "action": "release",
                "who": {"permissions": ["walls.manage"]},
            }
        ],
    }
    problems = dict(process_problems(ProcessSpec.model_validate(spec), set(), set()))
    assert problems[("one_open_per", 1)] == "a case's object is no text field"
    assert problems[("one_open_per", 2)] == "'nothing' must name a field of the payload"
    assert ("one_open_per", 0) not in problems
