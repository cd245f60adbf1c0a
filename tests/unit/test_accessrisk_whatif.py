"""What-if: risks gained and lost by adding and removing roles, with their causes (#6)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backoffice.core.accessrisk import (
    Cause,
    CompiledRules,
    InputError,
    RiskChange,
    UnknownRole,
    load_rules,
    rules_from_data,
    simulate,
)
from tests.unit.sod_data import TINY, Reference, Tables, write_folder
from tests.unit.test_accessrisk import rule_sets


def tiny_rules() -> CompiledRules:
    return rules_from_data(
        [role for role, _ in TINY["roles"]],
        [(role, permission) for role, permission in TINY["role_permissions"]],
        [(parent, child) for parent, child in TINY["role_hierarchy"]],
        [(function, permission) for function, permission in TINY["functions"]],
        [(risk, level, function) for risk, level, function in TINY["risks"]],
    )


def test_a_clerk_who_becomes_approver_gains_the_invoice_risk_with_its_causes() -> None:
    result = simulate(tiny_rules(), ["clerk"], add=["approver"])
    assert result.before == () and result.after == ("R1",)
    assert result.lost == ()
    assert result.gained == (
        RiskChange(
            risk="R1",
            level="high",
            causes=(
                Cause("APPROVE", "approver", "invoice.approve", "approver"),
                Cause("ENTER", "clerk", "invoice.enter", "clerk"),
            ),
        ),
    )


def test_causes_through_a_composite_role_name_the_contained_role_that_grants() -> None:
    result = simulate(tiny_rules(), ["lead"], add=["treasurer"])
    assert result.before == ("R1",) and result.after == ("R1", "R2")
    [gained] = result.gained
    assert (gained.risk, gained.level) == ("R2", "critical")
    assert gained.causes == (
        Cause("APPROVE", "lead", "invoice.approve", "approver"),
        Cause("ENTER", "lead", "invoice.enter", "clerk"),
        Cause("PAY", "treasurer", "payment.release", "treasurer"),
    )


def test_removing_the_composite_role_loses_the_risk_it_caused() -> None:
    result = simulate(tiny_rules(), ["lead", "treasurer"], add=["clerk"], remove=["lead"])
    assert result.after == () and result.gained == ()
    assert [(change.risk, {c.role for c in change.causes}) for change in result.lost] == [
        ("R1", {"lead"}),
        ("R2", {"lead", "treasurer"}),
    ]


def test_removing_a_role_not_held_changes_nothing_and_unknown_roles_are_refused() -> None:
    rules = tiny_rules()
    assert simulate(rules, ["lead"], remove=["treasurer"]).gained == ()
    with pytest.raises(UnknownRole, match="unknown role 'auditor'"):
        simulate(rules, ["lead"], add=["auditor"])


def test_rules_from_data_and_from_the_csv_folder_agree(tmp_path: Path) -> None:
    from_csv = load_rules(write_folder(tmp_path))
    from_data = tiny_rules()
    for held in (["lead"], ["clerk", "approver", "treasurer"], ["clerk"]):
        assert simulate(from_csv, held) == simulate(from_data, held)


@pytest.mark.parametrize(
    ("risks", "message"),
    [
        ([("R1", "high", "ENTER")], "risk 'R1' has 1 distinct function; a risk combines 2 to 5"),
        ([("R1", "severe", "ENTER")], "risk 'R1': unknown level 'severe'"),
        ([("R1", "high", "NOPE")], "unknown function 'NOPE'"),
        ([("R1", "high", "ENTER"), ("R1", "low", "PAY")], "risk 'R1' has two levels"),
    ],
)
def test_rules_from_data_refuses_bad_risks(risks: list[tuple[str, str, str]], message: str) -> None:
    with pytest.raises(InputError, match=message):
        functions = [("ENTER", "invoice.enter"), ("PAY", "payment.release")]
        rules_from_data(["clerk"], [], [], functions, risks)


def test_rules_from_data_names_a_cycle() -> None:
    with pytest.raises(InputError, match="cycle in the role hierarchy: a → b → a"):
        rules_from_data(["a", "b"], [], [("a", "b"), ("b", "a")], [], [])


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables=rule_sets(), data=st.data())
def test_simulate_matches_the_reference_and_every_cause_is_real(
    tables: Tables, data: st.DataObject
) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        rules = load_rules(write_folder(Path(scratch), tables))
    roles = [r for r, _ in tables["roles"]]
    held = data.draw(st.sets(st.sampled_from(roles)))
    add = data.draw(st.sets(st.sampled_from(roles)))
    remove = data.draw(st.sets(st.sampled_from(roles)))
    after = (held | add) - remove
    result = simulate(rules, held, add, remove)
    reference = Reference(tables)
    assert list(result.before) == reference.risks(held)
    assert list(result.after) == reference.risks(after)
    assert [c.risk for c in result.gained] == sorted(set(result.after) - set(result.before))
    assert [c.risk for c in result.lost] == sorted(set(result.before) - set(result.after))
    for changes, roles_then in ((result.gained, after), (result.lost, held)):
        for change in changes:
            assert {c.function for c in change.causes} == reference.risk_functions[change.risk]
            for cause in change.causes:
                assert cause.role in roles_then
                assert cause.permission in reference.function_permissions[cause.function]
                assert cause.permission in reference.grants[cause.via]
                assert cause.permission in reference.permissions(cause.role)
