"""Every CSV the product writes defuses spreadsheet formulas, through one helper (#13).

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run by
Excel or LibreOffice as a formula; each report writes it with a leading ``'`` instead.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction

from backoffice.core import csvsafe
from backoffice.sod_cli import sod_analyze
from tests.cases.conftest import Person
from tests.credit.conftest import borrowers, case, voter  # noqa: F401 - fixtures
from tests.unit.sod_data import TINY, write_folder

ROOT = Path(__file__).resolve().parents[1]

#: OWASP's examples of CSV injection, one for each character a spreadsheet reacts to.
FORMULAS = ["=cmd|' /C calc'!A0", "+1", "-1", "@SUM(1)", "\t=1+2", "\r=1+2"]


def guarded(text: str) -> str:
    return "'" + text


def rows(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.getvalue().decode(), newline="")))


def test_no_module_writes_csv_except_through_the_one_helper() -> None:
    writers = re.compile(r"csv\.writer\(|DictWriter\(|\.write_csv\(")
    offenders = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "backoffice").rglob("*.py"))
        if path.name != "csvsafe.py" and writers.search(path.read_text())
    ]
    assert offenders == []
    # and the pattern would find one
    assert writers.search("w = csv.writer(out)") and writers.search("pcsv.write_csv(t, h)")


@pytest.mark.parametrize("text", FORMULAS)
def test_safe_cell_prefixes_formulas_and_leaves_numbers_and_plain_text(text: str) -> None:
    assert csvsafe.safe_cell(text) == guarded(text)
    assert csvsafe.safe_cell("a=b") == "a=b" and csvsafe.safe_cell(-1) == -1
    out = io.StringIO()
    csvsafe.writer(out).writerow([text, -5, None])
    assert next(csv.reader(io.StringIO(out.getvalue(), newline=""))) == [guarded(text), "-5", ""]


def test_sod_analyze_csv_defuses_formulas_in_ids(tmp_path: Path) -> None:
    """The ids come from a customer's export: ``user_id`` and ``risk_id`` are guarded."""
    users = {"ann": FORMULAS[0], "ben": FORMULAS[1], "cid": FORMULAS[3]}
    tables = {
        name: [tuple(users.get(v, v) if name in ("users", "assignments", "mitigations")
                     and i == 0 else v for i, v in enumerate(row)) for row in table]
        for name, table in TINY.items()
    }  # fmt: skip
    tables["risks"] = [("-R1" if r == "R1" else r, *rest) for r, *rest in TINY["risks"]]
    tables["mitigations"] = [(users["ben"], "-R1", "C-7", "2025-12-31")]
    code = sod_analyze(
        [str(write_folder(tmp_path / "in", tables)), "--as-of", "2025-06-30", "--out",
         str(tmp_path / "v.csv"), "--explain"],
        io.StringIO(), io.StringIO(),
    )  # fmt: skip
    assert code == 0
    found = list(csv.reader(io.StringIO((tmp_path / "v.csv").read_text(), newline="")))
    assert found[1:] == [
        [guarded(FORMULAS[1]), "'-R1", "high", "true", "ENTER: clerk; APPROVE: approver"],
        [guarded(FORMULAS[0]), "'-R1", "high", "false", "ENTER: lead; APPROVE: lead"],
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("text", FORMULAS)
def test_walls_lists_defuse_formulas(demo_bank: Any, text: str) -> None:
    clara = Person("clara.vogel")
    added = clara.post("/walls/watch-list", {"issuer": "autowerk", "reason": text})
    assert added.status_code in (200, 201), added.content
    [entry] = rows(clara.get("/walls/watch-list.csv"))
    assert entry["reason"] == guarded(text.strip())  # the service strips the reason


@pytest.mark.django_db
@pytest.mark.parametrize("text", FORMULAS)
def test_mitigation_report_defuses_formulas(demo_bank: Any, text: str) -> None:
    from tests.access.test_grants import mitigation

    started = Person("anna.schmidt").start(
        "mitigation", mitigation("felix.hoffmann") | {"description": text + " daily"}
    )
    assert started.status_code == 201, started.content
    released = Person("clara.vogel").act(started.json()["id"], "release")
    assert released.json()["status"] == "released", released.content
    [row] = rows(Person("clara.vogel").get("/access/mitigations?format=csv"))
    assert row["description"] == guarded(text + " daily")


@pytest.mark.django_db
@pytest.mark.parametrize("text", FORMULAS)
def test_credit_register_defuses_formulas(
    case: Callable[..., int],  # noqa: F811 - the fixture
    voter: Callable[[str], Any],  # noqa: F811 - the fixture
    text: str,
) -> None:
    from backoffice.credit.models import Borrower

    case_id = case("50000.00")
    Borrower.objects.filter(number="B000001").update(name=text)  # as a master-data feed wrote it
    exported = rows(voter("martin.jung").get("/credit/register?format=csv"))
    assert [(r["case"], r["borrower_name"]) for r in exported] == [(str(case_id), guarded(text))]


@pytest.mark.django_db
@pytest.mark.parametrize("text", FORMULAS)
def test_audit_csv_export_defuses_formulas_and_jsonl_keeps_the_text(
    demo_bank: Any, text: str
) -> None:
    """The CSV export is for reading in a spreadsheet, so it is guarded; the JSONL export is
    the one ``audit verify`` checks against the hashes, so it carries the text unchanged."""
    import json

    from backoffice.audit.exports import ExportScope, export_log
    from backoffice.audit.services import record

    with transaction.atomic():
        record("test.x", actor="a", object_type="case", object_id=1, reason=text)
    out = io.StringIO()
    export_log(out, "csv", ExportScope())
    last = list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))[-1]
    assert last["reason"] == guarded(text) and last["seq"].isdigit()
    out = io.StringIO()
    export_log(out, "jsonl", ExportScope())
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [e for e in events if e["kind"] == "event"][-1]["reason"] == text
