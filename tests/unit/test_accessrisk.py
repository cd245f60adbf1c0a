"""The bulk access-risk analysis against a plain reference, explanations and fixes (#6)."""

from __future__ import annotations

import contextlib
import io
import tempfile
from collections import defaultdict
from datetime import date
from itertools import combinations
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from backoffice.core.accessrisk import (
    Analysis,
    analysis,
    analyze,
    evaluate,
    explain,
    remediate,
    rootcause,
    supply,
)
from backoffice.sod_report import write_csv
from tests.unit.sod_data import (
    TINY,
    Reference,
    Tables,
    generator,
    read_folder,
    reference_csv,
    write_folder,
)

AS_OF = date(2025, 6, 30)


def violations_csv(result: Analysis) -> str:
    buffer = io.BytesIO()
    write_csv(result, buffer)
    return buffer.getvalue().decode()


@pytest.fixture(scope="session")
def small_preset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sodbench ``small`` preset (1,000 users), generated once per run."""
    folder = tmp_path_factory.mktemp("small")
    gen = generator()
    gen.generate(dict(gen.PRESETS["small"]), str(folder), seed=1, verbose=False)
    return folder


def test_the_tiny_folder_flags_the_lead_and_the_mitigated_clerk_and_approver(
    tmp_path: Path,
) -> None:
    folder = write_folder(tmp_path)
    assert violations_csv(analyze(folder, AS_OF)) == (
        "user_id,risk_id,level,mitigated\nann,R1,high,false\nben,R1,high,true\n"
    )


@pytest.mark.parametrize("keep", [(), ("users", "roles", "assignments")])
def test_folders_with_only_headers_have_no_violations(tmp_path: Path, keep: tuple[str]) -> None:
    tables = {name: (rows if name in keep else []) for name, rows in TINY.items()}
    result = analyze(write_folder(tmp_path, tables), AS_OF)
    assert violations_csv(result) == "user_id,risk_id,level,mitigated\n"


def test_an_expired_mitigation_turns_the_violation_back_on(tmp_path: Path) -> None:
    folder = write_folder(tmp_path)
    on_last_day = analyze(folder, date(2025, 12, 31))
    day_after = analyze(folder, date(2026, 1, 1))
    assert on_last_day.mitigated.tolist() == [False, True]
    assert day_after.mitigated.tolist() == [False, False]


def test_the_small_preset_matches_the_reference(small_preset: Path) -> None:
    result = analyze(small_preset, AS_OF)
    assert violations_csv(result) == reference_csv(read_folder(small_preset), AS_OF)
    assert len(result) > 1000 and 0 < int(result.mitigated.sum()) < len(result)


def test_chunk_boundaries_do_not_change_the_result(
    small_preset: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = analyze(small_preset, AS_OF)
    monkeypatch.setattr(analysis, "_CHUNK", 7)
    user, risk = evaluate(whole.rules, whole.population)
    assert (user.tolist(), risk.tolist()) == (whole.user.tolist(), whole.risk.tolist())


def test_order_and_duplicate_rows_are_harmless(tmp_path: Path, small_preset: Path) -> None:
    tables = read_folder(small_preset)
    shuffled = {name: rows[::-1] + rows[: len(rows) // 3] for name, rows in tables.items()}
    folder = write_folder(tmp_path, shuffled)
    assert violations_csv(analyze(folder, AS_OF)) == reference_csv(tables, AS_OF)


ids = st.integers(1, 12)


@st.composite
def rule_sets(draw: st.DrawFn) -> Tables:
    """Small random folders: ids of varying width, a random hierarchy (no cycles), duplicates."""
    users = [f"u{i}" for i in draw(st.sets(ids, min_size=1, max_size=8))]
    roles = [f"r{i}" for i in draw(st.sets(ids, min_size=1, max_size=7))]
    permissions = [f"p{i}" for i in range(draw(st.integers(1, 8)))]
    functions = [f"F{i}" for i in range(draw(st.integers(2, 6)))]
    function_rows = [
        (f, p)
        for f in functions
        for p in draw(st.sets(st.sampled_from(permissions), min_size=1, max_size=3))
    ]
    risks = [
        (f"K{i}", level, f)
        for i in range(draw(st.integers(1, 5)))
        for level in [draw(st.sampled_from(["critical", "high", "medium", "low"]))]
        for f in sorted(draw(st.sets(st.sampled_from(functions), min_size=2, max_size=5)))
    ]
    risk_ids = sorted({k for k, _, _ in risks})
    order = {role: i for i, role in enumerate(roles)}
    edges = draw(st.lists(st.tuples(st.sampled_from(roles), st.sampled_from(roles)), max_size=6))
    dates = st.sampled_from(["2025-06-29", "2025-06-30", "2025-07-01"])
    return {
        "users": [(u, f"Name {u}") for u in draw(st.permutations(users))],
        "roles": [(r, f"Role {r}") for r in roles],
        "assignments": draw(
            st.lists(st.tuples(st.sampled_from(users), st.sampled_from(roles)), max_size=24)
        ),
        "role_permissions": draw(
            st.lists(st.tuples(st.sampled_from(roles), st.sampled_from(permissions)), max_size=16)
        ),
        # a parent always comes later in ``roles`` than its child: no cycles
        "role_hierarchy": [(p, c) for p, c in edges if order[p] > order[c]],
        "functions": function_rows,
        "risks": risks,
        "mitigations": draw(
            st.lists(
                st.tuples(st.sampled_from(users), st.sampled_from(risk_ids), st.just("C1"), dates),
                max_size=6,
            )
        ),
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables=rule_sets())
def test_random_folders_match_the_reference(tables: Tables) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = write_folder(Path(scratch), tables)
        assert violations_csv(analyze(folder, AS_OF)) == reference_csv(tables, AS_OF)


#: One user, two roles, each the only source of one function of the risk: either goes.
SPLIT: Tables = {
    "users": [("u1", "U")],
    "roles": [("r1", "a"), ("r2", "b")],
    "assignments": [("u1", "r1"), ("u1", "r2")],
    "role_permissions": [("r1", "p0"), ("r2", "p1")],
    "role_hierarchy": [],
    "functions": [("F0", "p0"), ("F1", "p1")],
    "risks": [("K0", "high", "F0"), ("K0", "high", "F1")],
    "mitigations": [],
}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables=rule_sets(), one_role_pass=st.booleans())
@example(tables=SPLIT, one_role_pass=False)
def test_each_fix_clears_the_open_violations_with_no_smaller_set_doing_so(
    tables: Tables, one_role_pass: bool
) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        result = analyze(write_folder(Path(scratch), tables), AS_OF)
    reference = Reference(tables)
    held: dict[str, set[str]] = defaultdict(set)
    for user, role in tables["assignments"]:
        held[user].add(role)
    rules, user_ids = result.rules, result.population.user_ids
    # without the one-role pass, the general search must find those fixes too
    no_pass = mock.patch.object(rootcause, "_single_role_fixes", lambda *_: {})
    with no_pass if not one_role_pass else contextlib.nullcontext():
        fixes = remediate(result, supply(result))
    for fix in fixes:
        user = user_ids[fix.user].as_py()
        open_risks = {
            rules.risk_ids[int(k)]
            for k, m, u in zip(result.risk, result.mitigated, result.user, strict=True)
            if u == fix.user and not m
        }
        assert fix.clears == len(open_risks)
        removed = {rules.role_ids[r] for r in fix.remove}
        assert removed <= held[user]
        assert not open_risks & set(reference.risks(held[user] - removed))
        for smaller in combinations(sorted(held[user]), len(removed) - 1):
            assert open_risks & set(reference.risks(held[user] - set(smaller)))


def test_explain_names_the_held_roles_that_supply_each_function(tmp_path: Path) -> None:
    tables = {**TINY, "assignments": [*TINY["assignments"], ("ann", "clerk")]}
    result = analyze(write_folder(tmp_path, tables), AS_OF)
    pairs = supply(result)
    # ann holds lead (which contains clerk and approver) and clerk itself
    assert explain(result, pairs, 0) == [("ENTER", ["clerk", "lead"]), ("APPROVE", ["lead"])]
    assert explain(result, pairs, 1) == [("ENTER", ["clerk"]), ("APPROVE", ["approver"])]


def _trap(tables: Tables) -> Tables:
    """A user with roles a, b, x where x clears the most at first but {a, b} is the fix.

    Risks K1, K2 need a function of ``a`` and one of ``x``; K3, K4 one of ``b`` and one
    of ``x``; K5 and K6 need ``a``'s and ``b``'s function plus one all three supply.
    """
    grants = [("a", "pa1"), ("a", "pa2"), ("x", "px1"), ("x", "px2"), ("x", "px3"), ("x", "px4")]
    grants += [("b", "pb3"), ("b", "pb4"), ("a", "pa5"), ("b", "pb6")]
    grants += [(r, "shared") for r in "abx"]
    functions = [(f"F-{p}", p) for _, p in grants if p != "shared"] + [("F-shared", "shared")]
    risks = [
        ("K1", "high", "F-pa1"), ("K1", "high", "F-px1"),
        ("K2", "high", "F-pa2"), ("K2", "high", "F-px2"),
        ("K3", "high", "F-pb3"), ("K3", "high", "F-px3"),
        ("K4", "high", "F-pb4"), ("K4", "high", "F-px4"),
        ("K5", "low", "F-pa5"), ("K5", "low", "F-shared"),
        ("K6", "low", "F-pb6"), ("K6", "low", "F-shared"),
    ]  # fmt: skip
    return {
        **tables,
        "users": [("trapped", "T")],
        "roles": [(r, r) for r in "abx"],
        "assignments": [("trapped", r) for r in "abx"],
        "role_permissions": grants,
        "role_hierarchy": [],
        "functions": functions,
        "risks": risks,
        "mitigations": [],
    }


def test_the_fix_is_the_true_minimum_where_greedy_alone_would_remove_three_roles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = analyze(write_folder(tmp_path, _trap(TINY)), AS_OF)
    assert len(result) == 6
    [fix] = remediate(result, supply(result))
    assert [result.rules.role_ids[r] for r in fix.remove] == ["a", "b"]
    assert fix.clears == 6
    # with more roles in play than the exhaustive check allows, greedy's answer stands
    monkeypatch.setattr(rootcause, "EXACT_UP_TO", 2)
    [greedy] = remediate(result, supply(result))
    assert sorted(result.rules.role_ids[r] for r in greedy.remove) == ["a", "b", "x"]


def test_mitigated_violations_need_no_fix(tmp_path: Path) -> None:
    result = analyze(write_folder(tmp_path), AS_OF)
    fixes = remediate(result, supply(result))
    assert [(result.population.user_ids[f.user].as_py(), f.remove) for f in fixes] == [
        ("ann", (result.rules.role_ids.index("lead"),))
    ]
