"""Access-risk test data: a tiny readable folder, the sodbench generator, and a reference.

The reference is the analysis written the obvious way (sets and loops, no bitsets), so
the engine is checked against something a reader can verify line by line.
"""

from __future__ import annotations

import csv
import importlib.util
from collections import defaultdict
from datetime import date
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
GENERATOR = ROOT / "benchmarks" / "sodbench" / "generate.py"
HEADER = "user_id,risk_id,level,mitigated\n"

Tables = dict[str, list[tuple[str, ...]]]

COLUMNS = {
    "users": ("user_id", "name"),
    "roles": ("role_id", "name"),
    "assignments": ("user_id", "role_id"),
    "role_permissions": ("role_id", "permission"),
    "role_hierarchy": ("parent_role_id", "child_role_id"),
    "functions": ("function_id", "permission"),
    "risks": ("risk_id", "level", "function_id"),
    "mitigations": ("user_id", "risk_id", "control_id", "valid_until"),
}

#: Invoices: entering and approving is a risk, with paying on top a critical one.
#: ``lead`` contains ``clerk`` and ``approver``; ``ann`` holds ``lead``, ``ben`` holds
#: both juniors (and a mitigation), ``cid`` only enters invoices.
TINY: Tables = {
    "users": [("ann", "Ann Lee"), ("ben", "Ben Ito"), ("cid", "Cid Roy")],
    "roles": [("clerk", "AP Clerk"), ("approver", "AP Approver"), ("lead", "AP Lead"),
              ("treasurer", "Treasurer")],
    "assignments": [("ann", "lead"), ("ben", "clerk"), ("ben", "approver"), ("cid", "clerk")],
    "role_permissions": [("clerk", "invoice.enter"), ("approver", "invoice.approve"),
                         ("treasurer", "payment.release"), ("clerk", "report.read")],
    "role_hierarchy": [("lead", "clerk"), ("lead", "approver")],
    "functions": [("ENTER", "invoice.enter"), ("ENTER", "invoice.park"),
                  ("APPROVE", "invoice.approve"), ("PAY", "payment.release")],
    "risks": [("R1", "high", "ENTER"), ("R1", "high", "APPROVE"),
              ("R2", "critical", "ENTER"), ("R2", "critical", "APPROVE"),
              ("R2", "critical", "PAY")],
    "mitigations": [("ben", "R1", "C-7", "2025-12-31")],
}  # fmt: skip


def write_folder(folder: Path, tables: Tables | None = None, **replace: str) -> Path:
    """Write ``tables`` (default TINY) as CSV; ``replace`` gives a file's raw text instead."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in (tables or TINY).items():
        with open(folder / f"{name}.csv", "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(COLUMNS[name])
            writer.writerows(rows)
    for name, text in replace.items():
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    return folder


def read_folder(folder: Path) -> Tables:
    tables: Tables = {}
    for name, columns in COLUMNS.items():
        with open(folder / f"{name}.csv", newline="", encoding="utf-8") as handle:
            tables[name] = [tuple(row[c] for c in columns) for row in csv.DictReader(handle)]
    return tables


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sodbench_generate", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Reference:
    """The rule set of ``tables`` the plain way: permissions per role set, then each risk."""

    def __init__(self, tables: Tables) -> None:
        self.grants: dict[str, set[str]] = defaultdict(set)
        for role, permission in tables["role_permissions"]:
            self.grants[role].add(permission)
        self.children: dict[str, set[str]] = defaultdict(set)
        for parent, child in tables["role_hierarchy"]:
            self.children[parent].add(child)
        self.function_permissions: dict[str, set[str]] = defaultdict(set)
        for function, permission in tables["functions"]:
            self.function_permissions[function].add(permission)
        self.risk_functions: dict[str, set[str]] = defaultdict(set)
        self.level: dict[str, str] = {}
        for risk, level, function in tables["risks"]:
            self.risk_functions[risk].add(function)
            self.level[risk] = level

    def permissions(self, role: str) -> set[str]:
        found = set(self.grants[role])
        for child in self.children[role]:
            found |= self.permissions(child)
        return found

    def functions(self, roles: set[str]) -> set[str]:
        mine = set().union(*(self.permissions(role) for role in roles))
        return {f for f, perms in self.function_permissions.items() if perms & mine}

    def risks(self, roles: set[str]) -> list[str]:
        functions = self.functions(roles)
        return sorted(k for k, needed in self.risk_functions.items() if needed <= functions)


def reference_violations(tables: Tables, as_of: date) -> list[tuple[str, str, str, bool]]:
    """(user, risk, level, mitigated) for every user, sorted by user and risk."""
    reference = Reference(tables)
    held: dict[str, set[str]] = defaultdict(set)
    for user, role in tables["assignments"]:
        held[user].add(role)
    valid = {
        (user, risk)
        for user, risk, _, until in tables["mitigations"]
        if date.fromisoformat(until) >= as_of
    }
    return [
        (user, risk, reference.level[risk], (user, risk) in valid)
        for user in sorted({u for u, _ in tables["users"]})
        for risk in reference.risks(held[user])
    ]


def reference_csv(tables: Tables, as_of: date) -> str:
    rows = reference_violations(tables, as_of)
    return HEADER + "".join(f"{u},{k},{lv},{str(m).lower()}\n" for u, k, lv, m in rows)
