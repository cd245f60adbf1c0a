"""#4: ``record()`` is the only way into the audit log; ``do_checkpoint`` the only one to
checkpoints. A write anywhere else would be an event without the chain's guarantees."""

from __future__ import annotations

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "backoffice"
WRITERS = {PACKAGE / "audit" / "services.py"}
WRITE = re.compile(
    r"(?<!class )\b(AuditEvent|Checkpoint)(\(|\.objects\.(create|bulk_create|get_or_create"
    r"|update_or_create|update|delete|raw)\b)|INSERT INTO\s+\"?audit_",
    re.IGNORECASE,
)


def test_nothing_but_the_audit_services_writes_audit_rows() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        # core/ cannot reach the database (no Django); its Checkpoint is a plain value.
        if path in WRITERS or {"migrations", "core"} & set(path.relative_to(PACKAGE).parts):
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if WRITE.search(line):
                offenders.append(f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}")
    assert offenders == []


def test_the_pattern_would_find_a_writer() -> None:
    assert WRITE.search("AuditEvent.objects.create(seq=1)")
    assert WRITE.search("    Checkpoint(seq=1).save()")
    assert WRITE.search('cursor.execute("INSERT INTO audit_auditevent VALUES ...")')
    assert not WRITE.search("AuditEvent.objects.filter(seq=1)")
    assert not WRITE.search("class Checkpoint(AppendOnlyModel):")
