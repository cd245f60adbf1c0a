from __future__ import annotations

from backoffice.core.roles import expand_roles, permissions_of

CONTAINS = {"lead": ["clerk", "viewer"], "clerk": ["viewer"], "viewer": [], "loop": ["loop"]}
GRANTS = {"clerk": ["payment.enter"], "viewer": ["case.read"], "lead": ["payment.release"]}


def test_a_senior_role_carries_its_juniors_transitively() -> None:
    assert expand_roles(["lead"], CONTAINS) == {"lead", "clerk", "viewer"}
    assert permissions_of(["lead"], CONTAINS, GRANTS) == {
        "payment.enter",
        "payment.release",
        "case.read",
    }


def test_a_junior_role_does_not_carry_its_senior() -> None:
    assert permissions_of(["clerk"], CONTAINS, GRANTS) == {"payment.enter", "case.read"}


def test_a_self_containing_role_terminates() -> None:
    assert expand_roles(["loop"], CONTAINS) == {"loop"}
