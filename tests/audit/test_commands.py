"""``backoffice audit keygen|pubkey|checkpoint|verify|export``, as operators and auditors use it."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError
from django.db import transaction

from backoffice.audit.models import AuditEvent, Checkpoint
from backoffice.audit.services import record
from tests.audit.conftest import attacker, audit


def test_keygen_writes_a_private_key_only_its_owner_reads_and_never_overwrites(
    db: Any, key_file: Path
) -> None:
    _, out, _ = audit("keygen")
    assert f"wrote the checkpoint signing key to {key_file} (mode 0600)" in out
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    before = key_file.read_bytes()
    with pytest.raises(CommandError, match="exists; move it away first"):
        audit("keygen")
    assert key_file.read_bytes() == before


def test_a_key_others_may_read_is_refused(db: Any, key_file: Path) -> None:
    audit("keygen")
    key_file.chmod(0o644)
    with pytest.raises(CommandError, match="may be read by others"):
        audit("checkpoint")


def test_checkpoint_signs_the_head_once_and_prints_it_for_safekeeping(
    chain: list[AuditEvent], key_file: Path
) -> None:
    audit("keygen")
    _, out, _ = audit("checkpoint")
    printed = json.loads(out)
    assert printed["kind"] == "checkpoint" and printed["seq"] == 12
    assert printed["hash"] == chain[-1].hash
    assert Checkpoint.objects.get().signature == printed["signature"]
    event = AuditEvent.objects.order_by("-seq").first()
    assert event is not None and event.action == "audit.checkpoint"
    assert event.after == {k: v for k, v in printed.items() if k != "kind"}
    _, out, err = audit("checkpoint")
    assert out == "" and "nothing new to sign" in err


@pytest.mark.django_db(transaction=True)  # as deployed: no transaction around the loop
def test_checkpoints_on_a_schedule_sign_only_what_is_new(key_file: Path) -> None:
    audit("keygen")
    with transaction.atomic():
        record("test.x", actor="a", object_type="case", object_id=1)
    _, out, err = audit("checkpoint", "--every", "0", "--times", "3")
    assert [json.loads(line)["seq"] for line in out.splitlines()] == [1]
    assert err.count("nothing new to sign") == 2
    with transaction.atomic():
        record("test.y", actor="a", object_type="case", object_id=2)
    _, out, _ = audit("checkpoint", "--every", "0", "--times", "1")
    assert [json.loads(line)["seq"] for line in out.splitlines()] == [3]
    assert list(Checkpoint.objects.values_list("seq", flat=True)) == [1, 3]


def test_checkpoint_without_a_key_says_how_to_make_one(chain: Any, key_file: Path) -> None:
    with pytest.raises(CommandError, match="create one with `backoffice audit keygen`"):
        audit("checkpoint")


def test_verify_exits_0_with_count_and_head_or_1_naming_the_problem(
    chain: list[AuditEvent], key_file: Path, tmp_path: Path
) -> None:
    audit("keygen")
    _, kept, _ = audit("checkpoint")
    status, out, _ = audit("verify")
    head = AuditEvent.objects.order_by("-seq").first()
    assert head is not None
    assert status == 0 and out.startswith(f"OK: 13 events (#1..#13), head #13 {head.hash}")
    (tmp_path / "kept.jsonl").write_text(kept)
    with attacker() as sql:
        sql("DELETE FROM audit_auditevent WHERE seq >= 11")
        sql("DELETE FROM audit_checkpoint")
    status, out, _ = audit("verify", "--checkpoints", str(tmp_path / "kept.jsonl"))
    assert status == 1
    assert out.startswith("FAILED at #11 truncated: the log ends at #10, but the checkpoint")


def test_export_writes_every_format_to_a_file(
    chain: list[AuditEvent], key_file: Path, tmp_path: Path
) -> None:
    for fmt in ("jsonl", "csv", "ocel"):
        target = tmp_path / f"audit.{fmt}"
        _, _, err = audit("export", "--format", fmt, "--output", str(target))
        assert err.strip() == "exported 12 events"
        assert target.stat().st_size > 1000
    _, _, err = audit("export", "--from", "3", "--to", "5", "--output", str(tmp_path / "r"))
    assert err.strip() == "exported 3 events"
    _, out, _ = audit("export", "--object", "unit:2")
    assert [json.loads(line)["kind"] for line in out.splitlines()] == ["header", "event", "end"]
    with pytest.raises(CommandError, match="give the object as TYPE:ID"):
        audit("export", "--object", "case")


def test_an_auditor_verifies_an_export_without_django_or_a_database(
    chain: list[AuditEvent], key_file: Path, tmp_path: Path
) -> None:
    audit("keygen")
    audit("checkpoint")
    with transaction.atomic():
        record("test.later", actor="anna.schmidt", object_type="case", object_id=7)
    export, pubkey = tmp_path / "audit.jsonl", tmp_path / "audit-public.pem"
    audit("export", "--output", str(export))
    audit("pubkey", "--output", str(pubkey))
    # Django cannot even be imported, and no setting or database is configured.
    script = (
        "import sys; sys.modules['django'] = None; from backoffice.cli import main; "
        "raise SystemExit(main(sys.argv[1:]))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BACKOFFICE_", "DJANGO_"))}
    desk = tmp_path / "auditors-desk"
    desk.mkdir()

    def auditor(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", script, "audit", "verify", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=desk,
            check=False,
            timeout=60,
        )

    result = auditor("--export", str(export), "--pubkey", str(pubkey))
    assert result.returncode == 0, result.stdout + result.stderr
    head = AuditEvent.objects.order_by("-seq").first()
    assert head is not None
    assert result.stdout.startswith(f"OK: 14 events (#1..#14), head #14 {head.hash}, 1 checkpoint")
    export.write_text(export.read_text().replace('"reason":"step 8"', '"reason":"step 9"'))
    result = auditor(f"--export={export}", "--pubkey", str(pubkey))
    assert result.returncode == 1
    assert result.stdout.startswith("FAILED at #8 modified: its content does not match its hash")
    result = auditor("--export", str(tmp_path / "missing.jsonl"))
    assert result.returncode == 2 and "cannot read the export" in result.stderr
    assert list(desk.iterdir()) == []  # nothing of the application was started (no var/)
