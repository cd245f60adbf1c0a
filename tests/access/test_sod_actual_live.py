"""#15 part 3: ``sod actual --live`` reads Backoffice's own audit trail and rule set."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction

from backoffice.audit.services import record
from backoffice.sod_cli import sod_actual
from tests.cases.conftest import Person

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(demo_bank: Any) -> type[Person]:
    return Person


#: Backoffice's audit actions as functions of the demo policy's rule set.
MAPPING = "action,function_id\npayment.entered,payment-entry\npayment.released,payment-release\n"


def run(tmp_path: Path, *extra: str) -> tuple[int, str, str]:
    mapping = tmp_path / "mapping.csv"
    mapping.write_text(MAPPING)
    out, err = io.StringIO(), io.StringIO()
    argv = ["--live", "--mapping", str(mapping), "--out", str(tmp_path / "a.csv"), *extra]
    return sod_actual(argv, out, err), out.getvalue(), err.getvalue()


def test_live_finds_a_payment_entered_and_released_by_one_person(
    demo_bank: Any, tmp_path: Path
) -> None:
    with transaction.atomic():
        record("payment.entered", actor="eva.hahn", object_type="payment", object_id=17)
        record("payment.entered", actor="cli:root", object_type="payment", object_id=18)
        record("payment.released", actor="eva.hahn", object_type="payment", object_id=17)
        record("payment.released", actor="paul.meyer", object_type="payment", object_id=18)
        # the trail also holds actors who are nobody: a login tried under an unknown name
        record("auth.login_failed", actor="no.such.person", object_type="person", object_id=1)
        record("payment.released", actor="no.such.person", object_type="payment", object_id=17)
    code, _, err = run(tmp_path)
    assert (code, err) == (0, "")
    rows = [r.split(",") for r in (tmp_path / "a.csv").read_text().splitlines()[1:]]
    assert [row[:5] for row in rows] == [
        ["eva.hahn", "payment-entry-release", "high", "object", "payment:17"],
        ["eva.hahn", "payment-entry-release", "high", "window", ""],
    ]  # the system's entry and paul's release are two people: no finding


def test_live_refuses_a_mapping_with_an_unknown_function(demo_bank: Any, tmp_path: Path) -> None:
    mapping = tmp_path / "bad.csv"
    mapping.write_text("action,function_id\npayment.entered,no-such-function\n")
    err = io.StringIO()
    argv = ["--live", "--mapping", str(mapping), "--out", str(tmp_path / "a.csv")]
    assert sod_actual(argv, io.StringIO(), err) == 2
    assert f"{mapping}:2: unknown function_id 'no-such-function'" in err.getvalue()
    assert not (tmp_path / "a.csv").exists()


@pytest.fixture
def bank_with_actions(db: Any, demo_policy_bytes: bytes) -> None:
    """The demo bank, its payment functions naming the audit actions that perform them
    (loaded as the first policy, so without a case)."""
    from backoffice.org.services import do_load_policy

    text = demo_policy_bytes.decode()
    for old, action in [
        ("name: Enter payments, permissions: [payment.enter]", "payment.entered"),
        ("name: Release payments, permissions: [payment.release]", "payment.released"),
    ]:
        assert old in text
        text = text.replace(old, f"{old}, actions: [{action}]")
    do_load_policy(text.encode(), "demo-bank.yaml", actor="test:setup")


def test_the_mapping_lives_in_the_policy(bank_with_actions: None) -> None:
    """A function's ``actions`` in the policy: ``sod actual --live`` needs no --mapping."""
    with transaction.atomic():
        record("payment.entered", actor="eva.hahn", object_type="payment", object_id=17)
        record("payment.released", actor="eva.hahn", object_type="payment", object_id=17)
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "a.csv"
        assert sod_actual(["--live", "--out", str(out)], io.StringIO(), io.StringIO()) == 0
        kinds = [row.split(",")[3] for row in out.read_text().splitlines()[1:]]
    assert kinds == ["object", "window"]


def test_the_api_lists_actual_conflicts_a_page_at_a_time_and_as_csv(
    bank_with_actions: None,
) -> None:
    with transaction.atomic():
        for n in (17, 18, 19):
            record("payment.entered", actor="eva.hahn", object_type="payment", object_id=n)
            record("payment.released", actor="eva.hahn", object_type="payment", object_id=n)
        record("auth.login_failed", actor="no.such.person", object_type="person", object_id=1)
    clara = Person("clara.vogel")  # the trail's actor who is nobody is left out, not a 500
    first = clara.get("/access/actual?limit=2")
    assert first.status_code == 200, first.content
    assert [(r["kind"], r["object"]) for r in first.json()] == [
        ("object", "payment:17"),
        ("object", "payment:18"),
    ]
    following = first["Link"].split(";")[0].strip("<>")
    rest = clara.get(following.split("/api/v1")[1]).json()
    assert [(r["kind"], r["object"]) for r in rest] == [("object", "payment:19"), ("window", "")]
    csv = clara.get("/access/actual?format=csv")
    assert csv["Content-Type"].startswith("text/csv") and b"payment:19" in csv.getvalue()


def test_the_api_refuses_people_without_access_read_and_records_it(
    demo_bank: Any, person: Any
) -> None:
    from backoffice.audit.models import AuditEvent

    answer = person("paul.meyer").get("/access/actual")
    assert answer.status_code == 403
    assert AuditEvent.objects.filter(action="access.denied", object_id="actual conflicts").exists()


def test_the_page_shows_compliance_what_people_did_a_page_at_a_time(
    bank_with_actions: None, login: Any
) -> None:
    with transaction.atomic():
        for n in (17, 18):
            record("payment.entered", actor="eva.hahn", object_type="payment", object_id=n)
            record("payment.released", actor="eva.hahn", object_type="payment", object_id=n)
    client = login("clara.vogel")
    profile = get_user_model().objects.get(username="clara.vogel").profile
    profile.language = "en"
    profile.save()  # she reads German; the assertions below read the English page
    page = client.get("/access/actual/?limit=2")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Actual conflicts" in html and "payment:17" in html and "payment:18" in html
    assert "within the window" not in html and "after=" in html  # the window row: next page
    rest = client.get("/access/actual/?limit=2&after=" + html.split("after=")[1].split('"')[0])
    assert "within the window" in rest.content.decode()
    assert login("paul.meyer").get("/access/actual/").status_code == 403
