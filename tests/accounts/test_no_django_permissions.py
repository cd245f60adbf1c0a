"""#13: nothing in Backoffice asks Django's permission system, which says yes to any active
superuser before it asks a backend. Roles of the policy decide (``access.queries``)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "backoffice"
ASKS_DJANGO = re.compile(
    r"\.has_perms?\(|has_module_perms\(|permission_required|user_passes_test|"
    r"\bperms\.|\.is_superuser\b|\.is_staff\b"
)
#: where the flags are named on purpose: refused, cleared, ignored, or set by a case
ALLOWED = {
    "accounts/backends.py",
    "accounts/signals.py",
    "accounts/effects.py",
    "readonly_admin.py",
}


def test_no_code_or_template_asks_djangos_permissions_or_flags() -> None:
    found = []
    for path in sorted([*ROOT.rglob("*.py"), *ROOT.rglob("*.html")]):
        relative = path.relative_to(ROOT).as_posix()
        if relative in ALLOWED or "/migrations/" in relative:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if ASKS_DJANGO.search(line):
                found.append(f"{relative}:{number}: {line.strip()}")
    assert found == []
