"""The one way Backoffice writes a list as an Excel workbook: the rows the CSV has, as cells.

A write-only workbook keeps one row in memory (openpyxl spools the sheet to a temporary
file), so a complete register never sits in memory. Text goes through the same formula
guard as the CSV (``core.csvsafe``): openpyxl would store a text starting with ``=`` as a
formula, which Excel then runs. Numbers stay numbers, dates are dates shown as ISO dates,
and times (with their zone, which Excel cannot hold) are ISO text, as in the CSV.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import IO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from backoffice.core.csvsafe import safe_cell

__all__ = ["MEDIA_TYPE", "Cell", "xlsx_cell", "write_xlsx"]

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

#: Excel's limit for a sheet's name.
_SHEET_NAME = 31


#: What a cell holds.
Cell = str | int | float | Decimal | date | None


def xlsx_cell(value: object) -> Cell:
    """``value`` as a cell: numbers and dates as they are, everything else as guarded text
    (control characters, which the file format cannot hold, are dropped)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool | int | float | Decimal | date):
        return value
    return ILLEGAL_CHARACTERS_RE.sub("", str(safe_cell(value)))


def write_xlsx(
    out: IO[bytes], title: str, columns: Sequence[str], rows: Iterable[Sequence[object]]
) -> int:
    """One sheet named ``title``: the column names in bold, then the rows; returns how many."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(ILLEGAL_CHARACTERS_RE.sub("", title)[:_SHEET_NAME] or "Sheet")
    assert isinstance(sheet, WriteOnlyWorksheet)
    sheet.freeze_panes = "A2"  # the column names stay in view (set before the first row)
    bold = Font(bold=True)
    head = []
    for name in columns:
        cell = WriteOnlyCell(sheet)
        cell.value = xlsx_cell(name)
        cell.font = bold
        head.append(cell)
    sheet.append(head)
    count = 0
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet)
            cell.value = xlsx_cell(value)
            if isinstance(value, date) and not isinstance(value, datetime):
                cell.number_format = "yyyy-mm-dd"
            cells.append(cell)
        sheet.append(cells)
        count += 1
    book.save(out)
    return count
