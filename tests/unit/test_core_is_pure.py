"""``backoffice.core`` decides without Django: no import of Django, the API layer or any app."""

from __future__ import annotations

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "backoffice" / "core"
FORBIDDEN_ROOTS = {"django", "ninja", "rest_framework"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_core_imports_neither_django_nor_apps() -> None:
    offenders = {}
    files = sorted(CORE.rglob("*.py"))
    assert files, "the core package is missing"
    for path in files:
        bad = {
            m
            for m in imported_modules(path)
            if m.split(".")[0] in FORBIDDEN_ROOTS
            or (m.startswith("backoffice.") and not m.startswith("backoffice.core"))
        }
        if bad:
            offenders[path.name] = sorted(bad)
    assert offenders == {}
