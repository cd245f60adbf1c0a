"""#4: every kind of tampering done directly in the database is found and named."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from backoffice.audit.models import AuditEvent, Checkpoint
from backoffice.audit.queries import verify_database
from backoffice.audit.services import record
from backoffice.core.audit import GENESIS_HASH
from backoffice.core.audit_sign import sign_checkpoint
from backoffice.core.audit_verify import Verification
from tests.audit.conftest import CHAIN_LENGTH, attacker, rehash


def verify(key: Ed25519PrivateKey | None = None, **kwargs: object) -> Verification:
    return verify_database([key.public_key()] if key else [], **kwargs)  # type: ignore[arg-type]


def test_an_untouched_log_verifies_with_its_count_and_head(
    checkpointed: Checkpoint, signing_key: Ed25519PrivateKey
) -> None:
    outcome = verify(signing_key)
    head = AuditEvent.objects.order_by("-seq").first()
    assert head is not None and head.action == "audit.checkpoint"
    assert outcome.ok, outcome.summary()
    assert (outcome.events, outcome.head_seq, outcome.head_hash) == (13, 13, head.hash)
    assert outcome.checkpoints == 1 and outcome.notes == ()
    assert outcome.summary().startswith(f"OK: 13 events (#1..#13), head #13 {head.hash}")


def test_an_empty_log_is_named_empty_unless_a_new_installation_is_declared(db: object) -> None:
    # #13: a deleted trail must not pass as an intact one.
    problem = verify().problem
    assert problem is not None and (problem.kind, problem.seq) == ("empty", None)
    assert "the audit trail has no events" in problem.message
    outcome = verify(allow_empty=True)
    assert outcome.ok and outcome.events == 0 and outcome.head_hash == GENESIS_HASH
    assert outcome.notes == ("the audit trail has no events (allowed: a new installation)",)


def test_a_changed_field_is_named_modified(checkpointed: Checkpoint) -> None:
    with attacker() as sql:
        sql("UPDATE audit_auditevent SET reason = 'nothing to see' WHERE seq = 5")
    problem = verify().problem
    assert problem is not None
    assert (problem.kind, problem.seq) == ("modified", 5)
    assert "does not match its hash" in problem.message


def test_a_changed_actor_with_its_hash_recomputed_is_still_named(
    checkpointed: Checkpoint,
) -> None:
    with attacker() as sql:
        sql("UPDATE audit_auditevent SET actor = 'someone.else' WHERE seq = 5")
    rehash(5)
    problem = verify().problem
    assert problem is not None
    assert (problem.kind, problem.seq) == ("modified", 5)
    assert "#6 no longer links to it" in problem.message


def test_a_deleted_row_is_named_missing(checkpointed: Checkpoint) -> None:
    with attacker() as sql:
        sql("DELETE FROM audit_auditevent WHERE seq = 7")
    problem = verify().problem
    assert problem is not None
    assert (problem.kind, problem.seq) == ("missing", 7)
    assert "jumps from #6 to #8" in problem.message


def test_two_swapped_rows_are_named_reordered(checkpointed: Checkpoint) -> None:
    with attacker() as sql:
        sql("UPDATE audit_auditevent SET seq = 1000 WHERE seq = 4")
        sql("UPDATE audit_auditevent SET seq = 4 WHERE seq = 9")
        sql("UPDATE audit_auditevent SET seq = 9 WHERE seq = 1000")
    problem = verify().problem
    assert problem is not None
    assert (problem.kind, problem.seq) == ("reordered", 4)


def test_a_tail_dropped_after_a_checkpoint_is_named_truncated(
    checkpointed: Checkpoint, signing_key: Ed25519PrivateKey
) -> None:
    with attacker() as sql:
        sql("DELETE FROM audit_auditevent WHERE seq >= 10")
    problem = verify(signing_key).problem
    assert problem is not None
    assert (problem.kind, problem.seq) == ("truncated", 10)
    assert f"covers #{CHAIN_LENGTH}" in problem.message


def test_a_tail_dropped_with_its_checkpoints_is_caught_by_a_checkpoint_kept_elsewhere(
    checkpointed: Checkpoint, signing_key: Ed25519PrivateKey
) -> None:
    kept_by_the_auditor = checkpointed.to_core()
    with attacker() as sql:
        sql("DELETE FROM audit_auditevent WHERE seq >= 10")
        sql("DELETE FROM audit_checkpoint")
    assert verify(signing_key).ok  # what the database alone can no longer tell
    problem = verify(signing_key, checkpoints=[kept_by_the_auditor]).problem
    assert problem is not None and problem.kind == "truncated"


def test_a_log_rewritten_up_to_a_checkpoint_is_named_modified(
    checkpointed: Checkpoint, signing_key: Ed25519PrivateKey
) -> None:
    with attacker() as sql:
        sql("UPDATE audit_auditevent SET reason = 'rewritten' WHERE seq = 11")
    # Recompute every hash from #11 on, links included: the chain itself is consistent.
    for seq in range(11, 14):
        digest = rehash(seq)
        with attacker() as sql:
            sql("UPDATE audit_auditevent SET prev_hash = %s WHERE seq = %s", [digest, seq + 1])
    problem = verify(signing_key).problem
    assert problem is not None
    assert (problem.kind, problem.seq) == ("modified", CHAIN_LENGTH)
    assert "differs from the one signed" in problem.message


def test_a_forged_checkpoint_signature_is_named_forged(
    checkpointed: Checkpoint, signing_key: Ed25519PrivateKey
) -> None:
    nine = AuditEvent.objects.get(seq=9).hash
    with attacker() as sql:
        # Move the checkpoint back to #9: its signature no longer fits what it claims.
        sql("UPDATE audit_checkpoint SET seq = 9, hash = %s", [nine])
    problem = verify(signing_key).problem
    assert problem is not None
    assert (problem.kind, problem.seq) == ("forged", 9)
    assert "does not verify" in problem.message


def test_a_checkpoint_signed_with_another_key_is_named_forged(
    chain: list[AuditEvent], signing_key: Ed25519PrivateKey
) -> None:
    from backoffice.core.audit_sign import generate_private_key

    head = chain[-1]
    forged = sign_checkpoint(
        generate_private_key(), head.seq, head.hash, "2026-11-27T00:00:00+00:00"
    )
    with attacker() as sql:
        sql(
            "INSERT INTO audit_checkpoint (seq, hash, at, key, signature) "
            "VALUES (%s, %s, %s, %s, %s)",
            [head.seq, head.hash, head.at, forged.key, forged.signature],
        )
    problem = verify(signing_key).problem
    assert problem is not None
    assert problem.kind == "forged" and "not among the public keys" in problem.message


def test_without_a_public_key_signatures_are_reported_unchecked(checkpointed: Checkpoint) -> None:
    outcome = verify()
    assert outcome.ok and outcome.checkpoints == 1
    assert outcome.notes == ("checkpoint signatures were not checked: no public key was given",)


def test_events_recorded_after_a_checkpoint_still_verify(
    checkpointed: Checkpoint, signing_key: Ed25519PrivateKey
) -> None:
    from django.db import transaction

    with transaction.atomic():
        record("test.more", actor="anna.schmidt", object_type="case", object_id=99)
    outcome = verify(signing_key)
    assert outcome.ok and outcome.head_seq == CHAIN_LENGTH + 2
