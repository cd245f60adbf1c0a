"""#16: master data loaded from CSV files — all rows of a file or none.

A clerk's or a migration's file is checked whole first (``core.master_csv``): any bad row
and nothing is written, every problem named with file:line. A good file is written in one
transaction, matched by its key column (a second import updates), and put on the audit
chain as one event with what was created and changed. ``dry_run`` checks and counts only.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from django.db import models, transaction

from backoffice.audit.services import record
from backoffice.core.master_csv import KINDS, CsvProblem, parse_master_csv
from backoffice.masterdata.models import Customer, Employee, Item, StockLocation, Vendor

__all__ = ["ImportResult", "MasterDataInvalid", "MODELS", "do_import_master_data"]

#: kind -> (model, key field)
MODELS: dict[str, tuple[type[models.Model], str]] = {
    "vendors": (Vendor, "number"),
    "customers": (Customer, "number"),
    "items": (Item, "number"),
    "locations": (StockLocation, "code"),
    "employees": (Employee, "number"),
}


class MasterDataInvalid(ValueError):
    """The file has bad rows; nothing was written."""

    def __init__(self, problems: list[CsvProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class ImportResult:
    kind: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    dry_run: bool = False


def _employee_problems(
    rows: list[dict[str, Any]], existing: dict[str, Any], text: str, file: str
) -> list[CsvProblem]:
    """An employee record stays with its person, and a person has one record: an import
    that moved a record (with its salary and bank account) to another login, or gave a
    login a second one, would change a salary record without the four eyes of HR and
    payroll. A new person's record comes from a released hire."""
    line_of = _lines(text)
    holders = dict(
        Employee.objects.filter(person__in=[r["person"] for r in rows]).values_list(
            "person", "number"
        )
    )
    problems: list[CsvProblem] = []
    for row in rows:
        number, person = str(row["number"]), str(row["person"])
        line = line_of.get(number, 1)
        current = existing.get(number)
        if current is not None and current.person != person:
            problems.append(
                CsvProblem(
                    file,
                    line,
                    "person",
                    f"employee {number} belongs to {current.person}; a record never moves to "
                    "another person",
                )
            )
        elif person in holders and holders[person] != number:
            problems.append(
                CsvProblem(
                    file, line, "person", f"{person} has employee record {holders[person]} already"
                )
            )
        holders.setdefault(person, number)
    return problems


def _lines(text: str) -> dict[str, int]:
    """The line of each key (the first column) in a file ``parse_master_csv`` accepted."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip() for h in next(reader, [])]
    at = header.index("number") if "number" in header else 0
    return {cells[at].strip(): reader.line_num for cells in reader if len(cells) > at}


def do_import_master_data(
    kind: str, text: str, file: str, *, actor: str, dry_run: bool = False
) -> ImportResult:
    """Import one file of ``kind`` (``KINDS``); raise ``MasterDataInvalid`` on any bad row."""
    if kind not in KINDS:
        raise MasterDataInvalid([CsvProblem(file, 1, "", f"unknown kind {kind!r}")])
    rows, problems = parse_master_csv(kind, text, file)
    if problems:
        raise MasterDataInvalid(problems)
    model, key = MODELS[kind]
    result = ImportResult(kind, dry_run=dry_run)
    with transaction.atomic():
        existing: dict[str, Any] = {
            getattr(o, key): o
            for o in model._default_manager.select_for_update().filter(
                **{f"{key}__in": [r[key] for r in rows]}
            )
        }
        if kind == "employees" and (problems := _employee_problems(rows, existing, text, file)):
            raise MasterDataInvalid(problems)
        for row in rows:
            values = {
                name: value for name, value in row.items() if value != "" or name == "address"
            }
            current = existing.get(str(row[key]))
            if current is None:
                result.created.append(str(row[key]))
                if not dry_run:
                    model._default_manager.create(**values)
                continue
            changed = {n: v for n, v in values.items() if getattr(current, n) != v}
            if not changed:
                result.unchanged += 1
                continue
            result.updated.append(str(row[key]))
            if not dry_run:
                for name, value in changed.items():
                    setattr(current, name, value)
                current.save()
        if not dry_run and (result.created or result.updated):
            record(
                f"masterdata.{kind}.imported",
                actor=actor,
                object_type="masterdata",
                object_id=kind,
                after={"file": file, "created": result.created, "updated": result.updated},
            )
    return result
