"""#19: every list that downloads as CSV downloads as XLSX too, with the same rows, and text a
spreadsheet would run as a formula is defused there as well."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook

from backoffice.core.xlsx import MEDIA_TYPE, xlsx_cell
from tests.cases.conftest import Person
from tests.credit.conftest import borrowers, case, voter  # noqa: F401 - fixtures

FORMULA = "=cmd|' /C calc'!A0"


def csv_rows(response: Any) -> list[list[str]]:
    assert response.status_code == 200, response.content
    return list(csv.reader(io.StringIO(response.getvalue().decode(), newline="")))


def xlsx_rows(response: Any) -> list[list[Any]]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == MEDIA_TYPE
    assert response["Content-Disposition"].endswith('.xlsx"')
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert len(book.worksheets) == 1
    return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]


def same(text: str, value: Any) -> bool:
    """A CSV cell and the workbook's cell hold the same thing (numbers as numbers there)."""
    if value is None:
        return text == ""
    if isinstance(value, bool):
        return text == str(value)
    if isinstance(value, int | float):
        return Decimal(text) == Decimal(str(value))
    if isinstance(value, datetime):  # a date cell reads back as midnight
        return text == value.date().isoformat()
    return text == value


def assert_same_rows(csv_table: list[list[str]], sheet: list[list[Any]]) -> None:
    assert len(sheet) == len(csv_table) > 1
    for line, (expected, found) in enumerate(zip(csv_table, sheet, strict=True)):
        assert len(found) == len(expected), line
        mismatched = [(e, f) for e, f in zip(expected, found, strict=True) if not same(e, f)]
        assert mismatched == [], f"row {line}"


@pytest.mark.django_db
def test_the_credit_register_as_a_workbook_holds_the_csv_rows_and_defuses_formulas(
    case: Callable[..., int],  # noqa: F811 - the fixture
    voter: Callable[[str], Any],  # noqa: F811 - the fixture
) -> None:
    from backoffice.credit.models import Borrower

    case("50000.00")
    case("1500000.00")
    Borrower.objects.filter(number="B000001").update(name=FORMULA)  # as a feed wrote it
    auditor = voter("martin.jung")
    table = csv_rows(auditor.get("/credit/register?format=csv"))
    sheet = xlsx_rows(auditor.get("/credit/register?format=xlsx"))
    assert_same_rows(table, sheet)
    names = [row[table[0].index("borrower_name")] for row in sheet[1:]]
    assert "'" + FORMULA in names  # text, never a formula the spreadsheet runs


@pytest.mark.django_db
def test_access_reports_offer_the_same_rows_as_a_workbook(demo_bank: Any) -> None:
    from tests.access.test_grants import mitigation

    started = Person("anna.schmidt").start(
        "mitigation", mitigation("felix.hoffmann") | {"description": "@SUM(1) daily"}
    )
    assert started.status_code == 201, started.content
    assert Person("clara.vogel").act(started.json()["id"], "release").status_code == 200
    clara = Person("clara.vogel")
    for path in ("/access/mitigations",):
        table = csv_rows(clara.get(f"{path}?format=csv"))
        assert_same_rows(table, xlsx_rows(clara.get(f"{path}?format=xlsx")))
    head, row = xlsx_rows(clara.get("/access/mitigations?format=xlsx"))
    assert "'@SUM(1) daily" in row
    assert isinstance(row[head.index("valid_from")], datetime)  # a date a spreadsheet sorts
    assert isinstance(row[head.index("case")], int)  # numbers stay numbers


@pytest.mark.django_db
def test_a_bad_format_is_refused_as_before(demo_bank: Any) -> None:
    assert Person("clara.vogel").get("/access/mitigations?format=pdf").status_code == 422


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+2", "'=1+2"),
        ("a\x00b\x1fc", "abc"),  # control characters a workbook cannot hold
        (Decimal("1.50"), Decimal("1.50")),
        (-3, -3),
        (date(2026, 12, 6), date(2026, 12, 6)),
        (None, None),
    ],
)
def test_cells_are_numbers_dates_or_guarded_text(value: object, cell: object) -> None:
    assert xlsx_cell(value) == cell


def test_times_are_iso_text_as_in_the_csv() -> None:
    moment = datetime.fromisoformat("2026-12-06T07:50:17+00:00")
    assert xlsx_cell(moment) == "2026-12-06T07:50:17+00:00"


@pytest.mark.django_db
def test_report_pages_link_the_workbook_next_to_the_csv(demo_bank: Any, login: Any) -> None:
    client = login("martin.jung")
    for page, download in (
        ("/credit/register/", "/api/v1/credit/register?format="),
        ("/access/mitigations/", "/api/v1/access/mitigations?status="),
    ):
        html = client.get(page).content.decode()
        assert download in html, page
        links = [part.split('"')[0] for part in html.split('href="')[1:]]
        for fmt in ("csv", "xlsx"):
            assert any(link.startswith(download) and f"format={fmt}" in link for link in links)
