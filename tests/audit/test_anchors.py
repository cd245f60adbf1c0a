"""#13: checkpoints anchored outside the database catch what the database can no longer show.

Whoever can rewrite the database can delete the stored checkpoints along with what they
covered. ``audit checkpoint --to FILE`` keeps a copy of each in a file elsewhere, and
``audit verify --checkpoints FILE`` holds the trail to it, from the database and from an
export alike (the export with the command that needs no Django).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction

from backoffice.audit.models import AuditEvent, Checkpoint
from backoffice.audit.services import record
from backoffice.audit_cli import audit_verify_export
from tests.audit.conftest import attacker, audit, rehash


class Trail:
    """A trail with two checkpoints, both anchored; verified as the operator or an auditor."""

    def __init__(self, tmp_path: Path) -> None:
        self.dir = tmp_path
        self.anchors = tmp_path / "anchors" / "checkpoints.jsonl"
        self.pubkey = tmp_path / "audit-public.pem"

    def checkpoint(self) -> str:
        status, out, err = audit("checkpoint", "--to", str(self.anchors))
        assert status == 0, err
        return out

    def verify(self, mode: str, *args: str) -> tuple[int, str]:
        if mode == "database":
            status, out, _ = audit("verify", "--pubkey", str(self.pubkey), *args)
            return status, out
        export = self.dir / "audit.jsonl"
        audit("export", "--output", str(export))
        out = io.StringIO()
        status = audit_verify_export(
            ["--export", str(export), "--pubkey", str(self.pubkey), *args], out
        )
        return status, out.getvalue()

    def with_anchors(self, mode: str, *args: str) -> tuple[int, str]:
        return self.verify(mode, "--checkpoints", str(self.anchors), *args)


@pytest.fixture
def trail(chain: list[AuditEvent], key_file: Path, tmp_path: Path) -> Trail:
    """#1..#12, checkpoint of #12 (its event #13), #14..#16, checkpoint of #16 (event #17)."""
    trail = Trail(tmp_path)
    audit("keygen")
    audit("pubkey", "--output", str(trail.pubkey))
    trail.anchors.parent.mkdir()
    trail.checkpoint()
    for n in range(3):
        with transaction.atomic():
            record("test.later", actor="anna.schmidt", object_type="case", object_id=n)
    trail.checkpoint()
    return trail


MODES = ["database", "export"]


def test_checkpoint_to_a_file_appends_each_signed_head_once(
    chain: list[AuditEvent], key_file: Path, tmp_path: Path
) -> None:
    audit("keygen")
    anchors = tmp_path / "checkpoints.jsonl"
    _, printed, _ = audit("checkpoint", "--to", str(anchors))
    assert anchors.read_text() == printed
    _, out, err = audit("checkpoint", "--to", str(anchors))
    assert out == "" and err.strip() == "nothing new to sign since the last checkpoint"
    with transaction.atomic():
        record("test.later", actor="anna.schmidt", object_type="case", object_id=1)
    _, second, _ = audit("checkpoint", "--to", str(anchors))
    assert anchors.read_text() == printed + second
    assert [json.loads(line)["seq"] for line in anchors.read_text().splitlines()] == [12, 14]


def test_a_checkpoint_that_missed_its_file_is_appended_by_the_next_run(
    chain: list[AuditEvent], key_file: Path, tmp_path: Path
) -> None:
    audit("keygen")
    _, printed, _ = audit("checkpoint")  # without --to: the file lacks it
    anchors = tmp_path / "checkpoints.jsonl"
    _, out, err = audit("checkpoint", "--to", str(anchors))
    assert out == "" and f"appended the checkpoint of #12 to {anchors}" in err
    assert anchors.read_text() == printed
    # A checkpoint forged in the database is not copied out of it.
    with attacker() as sql:
        sql(
            "INSERT INTO audit_checkpoint (seq, hash, at, key, signature) "
            "SELECT seq, hash, at, key, 'Zm9yZ2Vk' FROM audit_checkpoint"
        )
    audit("checkpoint", "--to", str(anchors))
    assert anchors.read_text() == printed


@pytest.mark.parametrize("mode", MODES)
def test_an_untouched_trail_matches_its_anchors(trail: Trail, mode: str) -> None:
    status, out = trail.with_anchors(mode)
    assert status == 0, out
    assert out.startswith("OK: 17 events (#1..#17)")
    assert "2 checkpoint(s) matched, 2 anchor(s) matched" in out


@pytest.mark.parametrize("mode", MODES)
def test_a_tail_cut_off_with_its_checkpoints_is_truncated_against_the_anchors(
    trail: Trail, mode: str
) -> None:
    with attacker() as sql:
        sql("DELETE FROM audit_auditevent WHERE seq >= 15")
        sql("DELETE FROM audit_checkpoint WHERE seq >= 15")
    assert trail.verify(mode)[0] == 0  # what the database alone can no longer tell
    status, out = trail.with_anchors(mode)
    assert status == 1
    assert out.startswith("FAILED at #15 truncated: the log ends at #14, but the checkpoint made")
    assert "(kept outside the database) covers #16: events were cut off its end" in out


@pytest.mark.parametrize("mode", MODES)
def test_a_deleted_trail_is_truncated_against_the_anchors_and_empty_without(
    trail: Trail, mode: str
) -> None:
    with attacker() as sql:
        sql("DELETE FROM audit_auditevent")
        sql("DELETE FROM audit_checkpoint")
    status, out = trail.verify(mode)
    assert status == 1
    assert out.startswith("FAILED empty: the audit trail has no events")
    for allowed in ((), ("--allow-empty",)):
        status, out = trail.with_anchors(mode, *allowed)
        assert status == 1
        assert out.startswith("FAILED at #1 truncated: the log is empty, but the checkpoint")
        assert "covers #16: the whole trail was deleted" in out


@pytest.mark.parametrize("mode", MODES)
def test_a_rewrite_after_the_last_stored_checkpoint_is_caught_by_the_anchors(
    trail: Trail, mode: str
) -> None:
    with attacker() as sql:
        # Drop the later checkpoint and its event, rewrite #15, re-hash and re-link #15..#16.
        sql("DELETE FROM audit_checkpoint WHERE seq = 16")
        sql("DELETE FROM audit_auditevent WHERE seq = 17")
        sql("UPDATE audit_auditevent SET actor = 'someone.else' WHERE seq = 15")
    digest = rehash(15)
    with attacker() as sql:
        sql("UPDATE audit_auditevent SET prev_hash = %s WHERE seq = 16", [digest])
    rehash(16)
    status, out = trail.verify(mode)
    assert status == 0, out  # consistent, and the stored checkpoint of #12 still matches
    status, out = trail.with_anchors(mode)
    assert status == 1
    assert out.startswith("FAILED at #16 modified: its hash differs from the one signed in")
    assert "(kept outside the database): the log up to #16 was rewritten" in out


@pytest.mark.parametrize("mode", MODES)
def test_an_anchor_forged_or_signed_with_another_key_is_named_forged(
    trail: Trail, mode: str
) -> None:
    lines = trail.anchors.read_text().splitlines()
    record_ = json.loads(lines[-1]) | {"seq": 14}
    trail.anchors.write_text("\n".join([*lines, json.dumps(record_)]) + "\n")
    status, out = trail.with_anchors(mode)
    assert status == 1 and out.startswith("FAILED at #14 forged: the signature of the checkpoint")


@pytest.mark.parametrize("mode", MODES)
def test_an_empty_trail_fails_unless_declared_a_new_installation(
    db: Any, key_file: Path, tmp_path: Path, mode: str
) -> None:
    trail = Trail(tmp_path)
    audit("keygen")
    audit("pubkey", "--output", str(trail.pubkey))
    status, out = trail.verify(mode)
    assert status == 1
    assert out.splitlines() == [
        "FAILED empty: the audit trail has no events: nothing was ever recorded (a new "
        "installation), or every event was deleted",
        "  hint: on a new installation, verify with --allow-empty",
    ]
    status, out = trail.verify(mode, "--allow-empty")
    assert status == 0 and out.startswith("OK: 0 events (no events)")
    assert "note: the audit trail has no events (allowed: a new installation)" in out
    assert not Checkpoint.objects.exists()
