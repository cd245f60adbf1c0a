"""#19: borrower master data under four eyes through the API: nothing changes before a
second person releases; bad changes are refused before they start."""

from __future__ import annotations

from backoffice.audit.models import AuditEvent
from backoffice.credit.models import Borrower
from tests.cases.conftest import Person, problem

NEW = {
    "change": "create",
    "number": "B000099",
    "name": "Neue Mühle GmbH",
    "group": "korn",
    "reason": "New customer of the Korn group.",
}


def test_a_borrower_is_created_and_renamed_only_on_release(
    borrowers: int,
) -> None:
    lukas, anna = Person("lukas.becker"), Person("anna.schmidt")
    created = lukas.start("borrower-master-data", NEW)
    assert created.status_code == 201, created.content
    assert not Borrower.objects.filter(number="B000099").exists()
    problem(lukas.act(created.json()["id"], "release"), 403, "sod.self_approval")
    assert anna.act(created.json()["id"], "release").status_code == 200
    borrower = Borrower.objects.get(number="B000099")
    assert borrower.name == "Neue Mühle GmbH" and borrower.group.key == "korn"
    assert AuditEvent.objects.filter(action="credit.borrower.created", object_id="B000099")
    rename = NEW | {"change": "name", "name": "Neue Mühle Korn GmbH"}
    renamed = anna.start("borrower-master-data", rename)
    assert renamed.status_code == 201, renamed.content
    assert lukas.act(renamed.json()["id"], "release").status_code == 200
    assert Borrower.objects.get(number="B000099").name == "Neue Mühle Korn GmbH"
    listed = anna.get("/credit/borrowers").json()
    assert any(b["number"] == "B000099" for b in listed)


def test_bad_borrower_changes_are_refused_before_they_start(
    borrowers: int,
) -> None:
    lukas = Person("lukas.becker")
    problem(
        lukas.start("borrower-master-data", NEW | {"number": "B000001"}),
        409,
        "credit.borrower_exists",
    )
    problem(
        lukas.start("borrower-master-data", NEW | {"group": "nobody"}),
        422,
        "credit.unknown_group",
    )
    problem(
        lukas.start("borrower-master-data", NEW | {"change": "name", "number": "B000098"}),
        422,
        "credit.unknown_borrower",
    )
    assert not Borrower.objects.filter(number="B000099").exists()
