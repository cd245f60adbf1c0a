"""#16: master data from CSV — vendors, customers, items, stock locations, employees.

Pure: the text of a file in, its rows or every problem out, each named ``file:line: field:
message`` so a clerk can go to the line. The persisting service writes nothing unless the
whole file is good (one transaction), so a bad row never leaves half a load behind.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from typing_extensions import override

from backoffice.core.payload import _iban as normalised_iban

__all__ = ["Column", "KINDS", "CsvProblem", "parse_master_csv", "MAX_ROWS"]

#: A master-data file is a few thousand rows; a bigger one is refused before it is read.
MAX_ROWS = 100_000


@dataclass(frozen=True)
class Column:
    name: str
    required: bool = True
    pattern: str | None = None
    max_length: int = 200
    kind: str = "text"  # text | iban | decimal | integer

    def check(self, value: str) -> tuple[object, str | None]:
        """The cell's value, or why it is not valid."""
        if not value:
            return ("", "is required") if self.required else ("", None)
        if len(value) > self.max_length:
            return value, f"is longer than {self.max_length} characters"
        if self.pattern and not re.fullmatch(self.pattern, value):
            return value, f"{value!r} does not have the form {self.pattern}"
        if self.kind == "iban":
            try:
                return normalised_iban(value), None
            except ValueError as exc:
                return value, str(exc)
        if self.kind == "decimal":
            try:
                number = Decimal(value)
            except InvalidOperation:
                return value, f"{value!r} is not a number"
            if not number.is_finite() or number < 0 or number != number.quantize(Decimal("0.01")):
                return value, f"{value!r} is not an amount of 0 or more with at most 2 decimals"
            return number, None
        if self.kind == "integer":
            if not re.fullmatch(r"[0-9]{1,6}", value):
                return value, f"{value!r} is not a whole number of 0 or more"
            return int(value), None
        return value, None


#: The columns of each kind; the first is the key a row is matched by on a second import.
KINDS: Mapping[str, tuple[Column, ...]] = {
    "vendors": (
        Column("number", pattern=r"V[0-9]{5}", max_length=6),
        Column("name", max_length=200),
        Column("iban", kind="iban", max_length=42),
        Column("address", required=False, max_length=300),
        Column("payment_terms_days", required=False, kind="integer"),
    ),
    "customers": (
        Column("number", pattern=r"C[0-9]{6}", max_length=7),
        Column("name", max_length=200),
        Column("iban", required=False, kind="iban", max_length=42),
        Column("address", required=False, max_length=300),
        Column("credit_limit", required=False, kind="decimal", max_length=20),
    ),
    "items": (
        Column("number", pattern=r"[A-Z0-9][A-Z0-9-]{0,19}", max_length=20),
        Column("name", max_length=200),
        Column("unit", pattern=r"[a-z]{1,8}", max_length=8),
        Column("unit_price", kind="decimal", max_length=20),
    ),
    "locations": (
        Column("code", pattern=r"[a-z0-9][a-z0-9-]{0,63}", max_length=64),
        Column("name", max_length=200),
        Column("kind", pattern=r"warehouse|stock-room|sales-floor", max_length=20),
        Column("unit", pattern=r"[a-z0-9][a-z0-9-]{0,63}", max_length=64),
    ),
    "employees": (
        Column("number", pattern=r"E[0-9]{5}", max_length=6),
        Column("person", pattern=r"[a-z0-9][a-z0-9._-]{0,63}", max_length=64),
        Column("name", max_length=200),
        Column("location", required=False, pattern=r"[a-z0-9][a-z0-9-]{0,63}", max_length=64),
    ),
}


@dataclass(frozen=True, order=True)
class CsvProblem:
    file: str
    line: int
    field: str
    message: str

    @override
    def __str__(self) -> str:
        where = f"{self.file}:{self.line}"
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


def parse_master_csv(
    kind: str, text: str, file: str
) -> tuple[list[dict[str, object]], list[CsvProblem]]:
    """Every row of ``text`` as values, or every problem of every row (then no rows)."""
    columns = KINDS[kind]
    reader = csv.reader(io.StringIO(text, newline=""))
    problems: list[CsvProblem] = []
    try:
        header = next(reader)
    except StopIteration:
        return [], [CsvProblem(file, 1, "", "the file is empty; it needs a header row")]
    except csv.Error as exc:
        return [], [CsvProblem(file, 1, "", f"not CSV: {exc}")]
    header = [h.strip() for h in header]
    known = {c.name for c in columns}
    missing = [c.name for c in columns if c.required and c.name not in header]
    unknown = [h for h in header if h not in known]
    if missing or unknown or len(set(header)) != len(header):
        parts = []
        if missing:
            parts.append(f"missing column(s) {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown column(s) {', '.join(unknown)}")
        if len(set(header)) != len(header):
            parts.append("a column appears twice")
        expected = ",".join(c.name for c in columns)
        return [], [CsvProblem(file, 1, "", f"{'; '.join(parts)} (expected: {expected})")]
    rows: list[dict[str, object]] = []
    seen: dict[str, int] = {}
    key = columns[0].name
    try:
        for cells in reader:
            line = reader.line_num
            if len(rows) + len(problems) >= MAX_ROWS:
                problems.append(CsvProblem(file, line, "", f"more than {MAX_ROWS:,} rows"))
                break
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(header):
                problems.append(
                    CsvProblem(file, line, "", f"{len(cells)} cells, the header has {len(header)}")
                )
                continue
            raw = {name: cell.strip() for name, cell in zip(header, cells, strict=True)}
            row: dict[str, object] = {}
            bad = False
            for column in columns:
                value, error = column.check(raw.get(column.name, ""))
                if error:
                    problems.append(CsvProblem(file, line, column.name, error))
                    bad = True
                row[column.name] = value
            identity = str(row[key])
            if not bad and identity in seen:
                problems.append(
                    CsvProblem(file, line, key, f"{identity!r} is already on line {seen[identity]}")
                )
                bad = True
            if not bad:
                seen[identity] = line
                rows.append(row)
    except csv.Error as exc:
        problems.append(CsvProblem(file, reader.line_num, "", f"not CSV: {exc}"))
    if problems:
        return [], problems
    return rows, []
