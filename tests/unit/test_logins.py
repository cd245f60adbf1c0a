"""#13: who may lift a login lock-out (the pure rule behind ``do_lift_lockout``)."""

from __future__ import annotations

from backoffice.core.logins import LIFT_PERMISSION, check_lockout_lift

ADMIN = frozenset({LIFT_PERMISSION})


def test_an_administrator_with_the_right_lifts_another_persons_lockout() -> None:
    assert (
        check_lockout_lift(
            actor="oliver.richter", permissions=ADMIN, username="anna.schmidt", reason="ticket 1"
        )
        is None
    )


def test_without_the_right_nobody_lifts_a_lockout() -> None:
    denied = check_lockout_lift(
        actor="clara.vogel", permissions=frozenset({"audit.read"}), username="anna", reason="x"
    )
    assert denied is not None and denied.code == "lockout.forbidden"


def test_nobody_lifts_their_own_lockout_however_the_name_is_written() -> None:
    denied = check_lockout_lift(
        actor="oliver.richter", permissions=ADMIN, username=" Oliver.Richter ", reason="me"
    )
    assert denied is not None and denied.code == "lockout.own"


def test_a_lift_needs_a_reason() -> None:
    denied = check_lockout_lift(
        actor="oliver.richter", permissions=ADMIN, username="anna.schmidt", reason="  "
    )
    assert denied is not None and denied.code == "input.reason_missing"
