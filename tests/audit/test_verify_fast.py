"""#14: verifying the database on the fast route gives the reference route's verdict.

On PostgreSQL ``verify_database`` streams raw rows and hashes them with msgspec; the
reference route reads events and checkpoints through the ORM and hashes with json. The
two must agree on every trail, tampered or not; on SQLite both are the reference route.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backoffice.audit.models import AuditEvent, Checkpoint
from backoffice.audit.queries import (
    _stream_trail,
    _utc_text,
    iter_checkpoints,
    iter_stored_events,
    verify_database,
)
from backoffice.core.audit import fields_hash, to_json_value
from backoffice.core.audit_sign import Checkpoint as SignedCheckpoint
from backoffice.core.audit_sign import sign_checkpoint
from backoffice.core.audit_verify import (
    HashedEvents,
    StoredEvent,
    Verification,
    interleave,
    verify_chain,
)
from tests.audit.conftest import attacker

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def both_routes(key: Ed25519PrivateKey, **kwargs: Any) -> Verification:
    """``verify_database``'s verdict, after checking it is the reference route's."""
    keys = [key.public_key()]
    fast = verify_database(keys, **kwargs)
    reference = verify_chain(
        interleave(iter_stored_events(), iter_checkpoints()), public_keys=keys, **kwargs
    )
    assert fast == reference
    return fast


def store_checkpoint(key: Ed25519PrivateKey, seq: int, digest: str, at: datetime) -> Checkpoint:
    signed = sign_checkpoint(key, seq, digest, to_json_value(at))
    return Checkpoint.objects.create(
        seq=seq, hash=digest, at=at, key=signed.key, signature=signed.signature
    )


def head_of(seq: int) -> str:
    return AuditEvent.objects.get(seq=seq).hash


def test_an_untouched_trail_with_several_checkpoints_of_one_seq_verifies(
    checkpointed: Checkpoint, signing_key: Ed25519PrivateKey
) -> None:
    store_checkpoint(signing_key, 12, head_of(12), T0)
    store_checkpoint(signing_key, 3, head_of(3), T0 + timedelta(microseconds=1))
    outcome = both_routes(signing_key)
    assert outcome.ok and outcome.checkpoints == 3, outcome.summary()


def test_a_forged_checkpoint_of_a_deleted_event_is_found_where_the_reference_finds_it(
    checkpointed: Checkpoint, signing_key: Ed25519PrivateKey
) -> None:
    # The reference meets the checkpoint of #7 only after #8, so the gap comes first.
    Checkpoint.objects.create(seq=7, hash=head_of(7), at=T0, key="k" * 64, signature="AA==")
    store_checkpoint(signing_key, 7, head_of(7), T0)
    with attacker() as sql:
        sql("DELETE FROM audit_auditevent WHERE seq = 7")
    problem = both_routes(signing_key).problem
    assert problem is not None and (problem.kind, problem.seq) == ("missing", 7)


def test_checkpoints_past_a_cut_tail_are_truncated_as_on_the_reference_route(
    checkpointed: Checkpoint, signing_key: Ed25519PrivateKey
) -> None:
    store_checkpoint(signing_key, 13, head_of(13), T0)
    with attacker() as sql:
        sql("DELETE FROM audit_auditevent WHERE seq > 9")
    problem = both_routes(signing_key).problem
    assert problem is not None and (problem.kind, problem.seq) == ("truncated", 10)


def test_a_checkpoint_of_seq_0_is_passed_over_as_on_the_reference_route(
    checkpointed: Checkpoint, signing_key: Ed25519PrivateKey
) -> None:
    store_checkpoint(signing_key, 0, "0" * 64, T0)
    outcome = both_routes(signing_key)
    assert outcome.ok and outcome.checkpoints == 1, outcome.summary()


def test_a_checkpoint_of_a_deleted_first_event_follows_the_next_as_on_the_reference_route(
    checkpointed: Checkpoint, signing_key: Ed25519PrivateKey
) -> None:
    Checkpoint.objects.create(seq=1, hash=head_of(1), at=T0, key="k" * 64, signature="AA==")
    with attacker() as sql:
        sql("DELETE FROM audit_auditevent WHERE seq = 1")
    problem = both_routes(signing_key).problem
    assert problem is not None and (problem.kind, problem.seq) == ("missing", 1)


@pytest.mark.postgres
def test_postgres_hashes_an_untouched_trail_on_the_fast_route(checkpointed: Checkpoint) -> None:
    items = list(_stream_trail())
    assert not any(isinstance(item, StoredEvent) for item in items)
    assert sum(len(item.links) for item in items if isinstance(item, HashedEvents)) == 13
    assert [item.seq for item in items if isinstance(item, SignedCheckpoint)] == [12]


@pytest.mark.postgres
def test_a_float_written_behind_the_applications_back_takes_the_reference_route(
    checkpointed: Checkpoint, signing_key: Ed25519PrivateKey
) -> None:
    # record() never stores a float; one written and re-chained by hand still verifies as
    # the reference route says (msgspec would write 1e16, json 1e+16: no fast route here).
    events = list(AuditEvent.objects.order_by("seq"))
    prev = events[3].hash
    with attacker() as sql:
        for event in events[4:]:
            fields = event.to_chained().as_dict() | {"prev_hash": prev}
            if event.seq == 5:  # floats that come back from jsonb as they went in
                fields["after"] = {"rate": 2.5, "share": 0.1, "tiny": 1e-300}
            prev = fields_hash(fields)
            sql(
                "UPDATE audit_auditevent SET after = %s::jsonb, prev_hash = %s, hash = %s"
                " WHERE seq = %s",
                [json.dumps(fields["after"]), fields["prev_hash"], prev, event.seq],
            )
        sql("DELETE FROM audit_checkpoint")
    outcome = both_routes(signing_key)
    assert outcome.ok and outcome.head_hash == prev, outcome.summary()


@pytest.mark.postgres
def test_a_time_python_cannot_hold_is_modified_not_a_crash(
    checkpointed: Checkpoint, signing_key: Ed25519PrivateKey
) -> None:
    # The reference route cannot even load such a row (psycopg refuses year 10000); no
    # event ever hashed can hold one, so it is named as what it is.
    with attacker() as sql:
        sql("UPDATE audit_auditevent SET at = '10000-01-01 00:00:00+00' WHERE seq = 5")
    problem = verify_database([signing_key.public_key()]).problem
    assert problem is not None and (problem.kind, problem.seq) == ("modified", 5)


@pytest.mark.postgres
def test_a_function_put_earlier_on_the_search_path_cannot_show_the_verifier_another_time(
    checkpointed: Checkpoint, signing_key: Ed25519PrivateKey
) -> None:
    # #5's time is changed behind the application's back, its hash left as it was; a
    # to_char() in public, searched before pg_catalog, would show the verifier the old time.
    old = AuditEvent.objects.get(seq=5).at.astimezone(UTC).replace(tzinfo=None)
    new = old + timedelta(hours=1)
    with attacker() as sql:
        sql("UPDATE audit_auditevent SET at = %s WHERE seq = 5", [new.replace(tzinfo=UTC)])
        sql(
            "CREATE FUNCTION public.to_char(timestamp, text) RETURNS text LANGUAGE sql AS $$"
            f" SELECT pg_catalog.to_char(CASE WHEN $1 = '{new.isoformat()}'::timestamp"
            f" THEN '{old.isoformat()}'::timestamp ELSE $1 END, $2) $$"
        )
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL search_path = public, pg_catalog")
            cursor.execute("SELECT to_char(%s::timestamp, 'HH24')", [new])
            assert cursor.fetchone()[0] == f"{old.hour:02d}"  # the stand-in is in place
        problem = verify_database([signing_key.public_key()]).problem
    assert problem is not None and (problem.kind, problem.seq) == ("modified", 5)


moments = st.datetimes(
    min_value=datetime(1, 1, 1),
    max_value=datetime(9999, 12, 31, 23, 59, 59, 999999),
    timezones=st.just(UTC),
)


@pytest.mark.postgres
@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        moments | st.sampled_from([datetime(1, 1, 1, tzinfo=UTC), T0, T0.replace(microsecond=5)]),
        min_size=1,
        max_size=40,
    )
)
def test_the_time_formatted_in_sql_is_to_json_value(db: None, times: list[datetime]) -> None:
    # The fast route formats ``at`` in PostgreSQL; a fraction of zero is left out as
    # Python's isoformat leaves it out, and years 1..999 get their leading zeros.
    with connection.cursor() as cursor:
        sql = f"SELECT {_utc_text('t')} FROM unnest(%s::timestamptz[]) AS t"  # noqa: S608
        cursor.execute(sql, [times])
        assert [row[0] for row in cursor.fetchall()] == [to_json_value(t) for t in times]
