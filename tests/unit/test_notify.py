"""#18: the pure rules of mail and webhooks: signatures, back-off, the digest's hour, SLAs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from backoffice.core import notify as rules
from backoffice.core.processes import SlaSpec

NOW = datetime(2026, 12, 6, 15, 0, tzinfo=UTC)


@given(st.binary(max_size=2000), st.text(min_size=1, max_size=40))
def test_a_signed_message_verifies_and_any_change_breaks_it(body: bytes, msg_id: str) -> None:
    secret = rules.new_secret()
    headers = rules.webhook_headers([secret], msg_id, int(NOW.timestamp()), body)
    assert rules.verify(secret, headers, body, NOW)
    assert not rules.verify(secret, headers, body + b"x", NOW)
    assert not rules.verify(rules.new_secret(), headers, body, NOW)
    forged = headers | {"webhook-id": msg_id + "x"}
    assert not rules.verify(secret, forged, body, NOW)


def test_the_spec_s_example_signature() -> None:
    """The example of the Standard Webhooks specification (its reference libraries' test)."""
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    signature = rules.sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_an_old_timestamp_is_refused_as_a_replay() -> None:
    secret, body = rules.new_secret(), b"{}"
    headers = rules.webhook_headers([secret], "msg_1", int(NOW.timestamp()), body)
    assert not rules.verify(secret, headers, body, NOW + rules.TOLERANCE + timedelta(seconds=1))


def test_during_a_rotation_both_secrets_sign() -> None:
    old, new, body = rules.new_secret(), rules.new_secret(), b"{}"
    headers = rules.webhook_headers([new, old], "msg_1", int(NOW.timestamp()), body)
    assert rules.verify(old, headers, body, NOW) and rules.verify(new, headers, body, NOW)


@given(st.integers(min_value=1, max_value=60))
def test_back_off_grows_and_stays_bounded(attempt: int) -> None:
    assert rules.backoff(attempt) <= rules.backoff(attempt + 1) <= timedelta(hours=6)


@given(st.datetimes(timezones=st.just(UTC)), st.integers(min_value=0, max_value=23))
def test_the_digest_leaves_at_its_hour_within_a_day(now: datetime, hour: int) -> None:
    due = rules.next_digest(now, hour)
    assert now < due <= now + timedelta(days=1) and due.hour == hour and due.minute == 0


def test_an_escalation_comes_after_the_reminder() -> None:
    assert SlaSpec(remind="8h", escalate="2d").escalate_after == timedelta(days=2)
    with pytest.raises(ValidationError):
        SlaSpec(remind="2d", escalate="8h")
    with pytest.raises(ValidationError):
        SlaSpec(remind="soon")
