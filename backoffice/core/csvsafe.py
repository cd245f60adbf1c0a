"""The one way Backoffice writes CSV: cells a spreadsheet could run as a formula are defused.

Excel, LibreOffice and Google Sheets treat a cell that starts with ``=``, ``+``, ``-`` or
``@`` (and, in some versions, a leading tab or carriage return) as a formula, so a borrower
named ``=cmd|' /C calc'!A0`` would run a command on the reader's machine (OWASP "CSV
injection"). Every CSV the product writes goes through :func:`writer` (rows of Python values)
or :func:`write_arrow_table` (``sod analyze``'s Arrow table), which prefix such a text cell
with ``'``. Numbers are written as they are: ``-1`` as a number is not a formula.

Only the interchange folder ``sod analyze --live`` writes for itself and reads back at once
asks for ``guard=False``: it is data for our reader, never opened in a spreadsheet, and a
guard would change the ids it carries.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Protocol

__all__ = [
    "FORMULA_START",
    "CsvWriter",
    "guard_arrow_column",
    "safe_cell",
    "write_arrow_table",
    "writer",
]

#: First characters that make a spreadsheet evaluate a cell.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class _Writable(Protocol):
    def write(self, text: str, /) -> Any: ...


def safe_cell(value: object) -> object:
    """``value`` as a CSV cell: text that starts like a formula gets a leading ``'``."""
    if value is None or isinstance(value, bool | int | float | Decimal):
        return value
    text = value if isinstance(value, str) else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


class CsvWriter:
    """``csv.writer`` with every cell passed through :func:`safe_cell` (unless unguarded).

    One dialect for every file: RFC 4180's, lines ended by CRLF. (With another line end the
    csv module would leave a lone CR inside a cell unquoted, and spreadsheets would break
    the row there.)
    """

    def __init__(self, out: _Writable, *, guard: bool = True) -> None:
        self._writer = csv.writer(out, dialect="excel")
        self._guard = guard

    def writerow(self, row: Iterable[object]) -> Any:
        return self._writer.writerow([safe_cell(c) for c in row] if self._guard else list(row))

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(out: _Writable, *, guard: bool = True) -> CsvWriter:
    """A CSV writer on ``out`` that defuses formulas."""
    return CsvWriter(out, guard=guard)


def guard_arrow_column(column: Any) -> Any:
    """An Arrow string column with :func:`safe_cell` applied, vectorised (no Python loop).

    The first byte of every value is read straight from Arrow's buffers (each formula
    character is one ASCII byte), so a column with nothing to guard, the usual case, costs
    one gather and comes back unchanged. (pyarrow and numpy are imported here, not at the
    top: only the bulk analysis has them loaded, and the rest of the core must not pay.)
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pa.types.is_string(column.type):
        return column
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    formula = np.zeros(256, dtype=bool)
    formula[np.frombuffer("".join(FORMULA_START).encode(), np.uint8)] = True
    risky = []
    for chunk in chunks:
        n = len(chunk)
        offsets = np.frombuffer(chunk.buffers()[1], np.int32, n + 1, chunk.offset * 4)
        data = chunk.buffers()[2]
        if n == 0 or data is None or offsets[-1] == offsets[0]:
            risky.append(np.zeros(n, dtype=bool))
            continue
        bytes_ = np.frombuffer(data, np.uint8)
        nonempty = offsets[1:] > offsets[:-1]
        first = bytes_.take(offsets[:-1], mode="clip")  # an empty last value points past the end
        risky.append(nonempty & formula[first])
    mask = np.concatenate(risky) if risky else np.zeros(0, dtype=bool)
    if not mask.any():
        return column
    return pc.if_else(pa.array(mask), pc.binary_join_element_wise("'", column, ""), column)


def write_arrow_table(table: Any, out: Any, **write_options: Any) -> None:
    """Write an Arrow table as CSV (``pyarrow.csv.WriteOptions`` keywords), formulas defused.

    Arrow's writer is kept for ``sod analyze`` because it is on the benchmark's hot path.
    """
    import pyarrow as pa
    import pyarrow.csv as pcsv

    guarded = pa.table(
        [guard_arrow_column(column) for column in table.columns], names=table.column_names
    )
    pcsv.write_csv(guarded, out, pcsv.WriteOptions(**write_options))
