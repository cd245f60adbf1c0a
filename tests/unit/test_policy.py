"""Policy validation: every kind of problem is reported with its file, line and column."""

from __future__ import annotations

import textwrap

import pytest

from backoffice.core.policy import PolicyInvalid, parse_policy

GOOD = """\
version: 1
institution: {name: Test Bank}
units:
  - {id: board, name: Board, line: management}
  - {id: market, name: Market, line: market, parent: board}
  - {id: back-office, name: Back Office, line: back_office, parent: board}
people:
  - {id: max, name: Max}
  - {id: sabine, name: Sabine}
memberships:
  - {person: max, unit: board, role: head, valid_from: 2020-01-01}
  - {person: sabine, unit: board, valid_from: 2020-01-01}
responsibilities:
  - {person: max, units: [market], valid_from: 2020-01-01}
  - {person: sabine, units: [back-office], valid_from: 2020-01-01}
"""


def problems(text: str) -> list[str]:
    with pytest.raises(PolicyInvalid) as caught:
        parse_policy(textwrap.dedent(text).encode(), "p.yaml")
    return [str(p) for p in caught.value.problems]


def one_problem(text: str) -> str:
    found = problems(text)
    assert len(found) == 1, found
    return found[0]


def test_the_good_policy_parses() -> None:
    document = parse_policy(GOOD.encode(), "p.yaml")
    assert [u.id for u in document.policy.units] == ["board", "market", "back-office"]


def test_unknown_key_names_line_and_key() -> None:
    text = GOOD.replace("  - {id: max, name: Max}", "  - {id: max, name: Max, colour: red}")
    assert one_problem(text) == "p.yaml:8:26: people.0.colour: unknown key"


def test_wrong_type_names_the_field() -> None:
    text = GOOD.replace(
        "valid_from: 2020-01-01}\n  - {person: sabine, unit: board",
        "valid_from: soon}\n  - {person: sabine, unit: board",
    )
    found = one_problem(text)
    assert found.startswith("p.yaml:11:")
    assert "memberships.0.valid_from" in found and "date" in found


def test_missing_required_key() -> None:
    text = GOOD.replace("institution: {name: Test Bank}\n", "")
    assert one_problem(text) == "p.yaml:1:1: institution: required key is missing"


def test_unsupported_version() -> None:
    found = one_problem(GOOD.replace("version: 1", "version: 2"))
    assert found == "p.yaml:1:1: version: unsupported version 2; this Backoffice reads version 1"


def test_unknown_line_is_refused_with_the_choices() -> None:
    found = one_problem(GOOD.replace("line: market,", "line: marketing,"))
    assert found.startswith("p.yaml:5:")
    assert "units.1.line" in found and "back_office" in found


def test_unknown_parent() -> None:
    found = one_problem(
        GOOD.replace("parent: board}\n  - {id: back-office", "parent: bord}\n  - {id: back-office")
    )
    assert found.startswith("p.yaml:5:")
    assert "unit 'market': unknown parent 'bord'" in found


def test_unknown_person_and_unit_in_membership_are_both_reported() -> None:
    text = GOOD.replace("{person: sabine, unit: board,", "{person: sabina, unit: bored,")
    found = problems(text)
    assert any("p.yaml:12:" in p and "unknown person 'sabina'" in p for p in found)
    assert any("p.yaml:12:" in p and "unknown unit 'bored'" in p for p in found)


def test_unknown_unit_in_responsibility() -> None:
    found = problems(GOOD.replace("units: [market]", "units: [market, treasury]"))
    assert any(p.startswith("p.yaml:14:") and "unknown unit 'treasury'" in p for p in found)


def test_duplicate_id() -> None:
    text = GOOD.replace(
        "  - {id: sabine, name: Sabine}",
        "  - {id: sabine, name: Sabine}\n  - {id: max, name: Max Two}",
    )
    found = one_problem(text)
    assert found.startswith("p.yaml:10:") and "duplicate id 'max' in people" in found


def test_cycle_in_the_unit_tree_is_named() -> None:
    text = GOOD.replace(
        "  - {id: back-office, name: Back Office, line: back_office, parent: board}",
        "  - {id: back-office, name: Back Office, line: back_office, parent: board}\n"
        "  - {id: a, name: A, parent: b}\n  - {id: b, name: B, parent: a}",
    )
    found = one_problem(text)
    assert "cycle in the unit tree: a -> b -> a" in found
    assert found.startswith("p.yaml:7:")


def test_two_roots_are_refused() -> None:
    found = problems(GOOD.replace("line: back_office, parent: board}", "line: back_office}"))
    assert found == [
        "p.yaml:3:1: the unit tree needs exactly one root (the board); "
        "found 'board', 'back-office'",
        "p.yaml:6:42: root unit 'back-office' must be the board, with line 'management'",
    ]


def test_root_must_be_the_board() -> None:
    text = GOOD.replace(
        "{id: board, name: Board, line: management}", "{id: board, name: Board, line: service}"
    )
    found = one_problem(text)
    assert found.startswith("p.yaml:4:") and "must be the board" in found


def test_membership_ending_before_it_starts() -> None:
    text = GOOD.replace(
        "role: head, valid_from: 2020-01-01}",
        "role: head, valid_from: 2020-01-01, valid_to: 2019-01-01}",
    )
    found = one_problem(text)
    assert found.startswith("p.yaml:11:") and "valid_to must be after valid_from" in found


def test_responsible_person_must_sit_on_the_board() -> None:
    text = GOOD.replace(
        "  - {id: sabine, name: Sabine}", "  - {id: sabine, name: Sabine}\n  - {id: eve, name: Eve}"
    ).replace("{person: sabine, units: [back-office]", "{person: eve, units: [back-office]")
    found = one_problem(text)
    assert "'eve' is responsible for units but is not a board member" in found


def test_bad_competence_amount() -> None:
    found = one_problem(
        GOOD.replace(
            "{id: max, name: Max}", "{id: max, name: Max, competence: {amount: -5, currency: EUR}}"
        )
    )
    assert found.startswith("p.yaml:8:") and "people.0.competence.amount" in found


def test_invalid_id_is_named() -> None:
    found = problems(GOOD.replace("{id: max, name: Max}", "{id: Max Power, name: Max}"))
    assert found[0] == "p.yaml:8:6: people.0.id: 'Max Power' is not a valid id or code here"


def test_every_problem_is_reported_not_only_the_first() -> None:
    text = (
        GOOD.replace("{id: max, name: Max}", "{id: max, name: Max, colour: red}")
        .replace("{id: sabine, name: Sabine}", "{id: sabine}")
        .replace("version: 1", "version: 3")
    )
    found = problems(text)
    assert len(found) == 3
    assert [p.split(":")[1] for p in found] == sorted((p.split(":")[1] for p in found), key=int)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"", "p.yaml:1:1: the file is empty"),
        (b"   \n\n", "p.yaml:1:1: the file is empty"),
        (b"version: [1\n", "p.yaml:2:1: not valid YAML"),
        (b"just a sentence\n", "p.yaml:1:1: a policy is a YAML mapping"),
        (b"- 1\n- 2\n", "p.yaml:1:1: a policy is a YAML mapping"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "p.yaml:1:1: not UTF-8"),
        (b"a: &x [1]\nb: *x\n", "p.yaml:1:4: anchors and aliases"),
        (b"a: !!python/object/apply:os.system [ls]\n", "p.yaml:1:4: tag"),
        (b"version: 1\nversion: 1\n", "p.yaml:2:1: duplicate key 'version'"),
        (b"a: 1\n---\nb: 2\n", "p.yaml:1:1: expected one YAML document, found 2"),
    ],
)
def test_files_that_are_not_policies_get_one_clear_line(raw: bytes, expected: str) -> None:
    with pytest.raises(PolicyInvalid) as caught:
        parse_policy(raw, "p.yaml")
    assert len(caught.value.problems) == 1
    assert str(caught.value.problems[0]).startswith(expected)


def test_deep_nesting_is_refused_without_recursion_error() -> None:
    raw = ("a: " + "[" * 200 + "]" * 200 + "\n").encode()
    with pytest.raises(PolicyInvalid) as caught:
        parse_policy(raw, "p.yaml")
    assert "nested deeper than" in str(caught.value)


def test_billion_laughs_is_refused_before_expansion() -> None:
    lol = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    for level in "bcdefghij":
        prev = chr(ord(level) - 1)
        refs = ",".join([f"*{prev}"] * 9)
        lol += f"{level}: &{level} [{refs}]\n"
    with pytest.raises(PolicyInvalid) as caught:
        parse_policy(lol.encode(), "p.yaml")
    assert "anchors and aliases" in str(caught.value)


ROLES = """\
roles:
  - {id: clerk, name: Clerk, permissions: [payment.enter]}
  - {id: lead, name: Lead, contains: [clerk, boss]}
  - {id: boss, name: Boss, contains: [lead]}
assignments:
  - {person: max, role: clerk, valid_from: 2020-01-01}
  - {person: maxi, role: chief, valid_from: 2020-01-01}
"""


def test_role_cycles_and_unknown_references_are_named() -> None:
    found = problems(GOOD + ROLES)
    assert "p.yaml:18:28: cycle in the role hierarchy: lead -> boss -> lead" in found
    assert any(p.startswith("p.yaml:22:") and "unknown person 'maxi'" in p for p in found)
    assert any(p.startswith("p.yaml:22:") and "unknown role 'chief'" in p for p in found)
    assert len(found) == 3


def test_role_containing_an_unknown_role() -> None:
    text = GOOD + "roles:\n  - {id: lead, name: Lead, contains: [ghost]}\n"
    assert one_problem(text) == "p.yaml:17:39: role 'lead' contains unknown role 'ghost'"


PAYMENTS = """\
processes:
  - id: payment
    name: Payment
    amount: amount
    aggregate: AGGREGATE
    payload:
      - {name: creditor, type: string}
      - {name: amount, type: amount}
      - {name: note, type: text, required: false}
    steps:
      - {id: release, name: Release, who: {permissions: [payment.release]}}
"""


@pytest.mark.parametrize("aggregate", ["{by: creditor, window: 1d}", "{by: creditor, window: 24h}"])
def test_a_process_sums_amounts_by_a_payload_field_within_a_window(aggregate: str) -> None:
    document = parse_policy((GOOD + PAYMENTS.replace("AGGREGATE", aggregate)).encode(), "p.yaml")
    spec = document.policy.processes[0].aggregate
    assert spec is not None and spec.by == "creditor" and spec.period.total_seconds() == 86400


@pytest.mark.parametrize(
    ("aggregate", "expected"),
    [
        ("{by: iban, window: 1d}", "'iban' must name a field of the payload"),
        ("{by: amount, window: 1d}", "cases are not grouped by a field of type amount"),
        ("{by: note, window: 1d}", "cases are not grouped by a field of type text"),
        ("{by: creditor, window: 32d}", "'window' may be at most 31d"),
        ("{by: creditor, window: 1w}", "aggregate.window: '1w' is not a valid"),
        ("{by: creditor, window: 0d}", "aggregate.window: '0d' is not a valid"),
        ("{by: creditor}", "aggregate.window: required key is missing"),
    ],
)
def test_an_aggregate_names_a_field_and_a_bounded_window(aggregate: str, expected: str) -> None:
    found = one_problem(GOOD + PAYMENTS.replace("AGGREGATE", aggregate))
    assert found.startswith("p.yaml:20:") and expected in found, found  # the aggregate's line


def test_an_aggregate_needs_the_amount_it_sums() -> None:
    text = GOOD + PAYMENTS.replace("AGGREGATE", "{by: creditor, window: 1d}")
    found = one_problem(text.replace("    amount: amount\n", ""))
    assert "an aggregate sums the process's 'amount'" in found, found


def test_the_credit_engine_sums_by_borrower_group_not_by_an_aggregate() -> None:
    from backoffice.core.processes import ProcessSpec, process_problems

    document = parse_policy(
        (GOOD + PAYMENTS.replace("AGGREGATE", "{by: creditor, window: 1d}")).encode(), "p.yaml"
    )
    spec = document.policy.processes[0].model_copy(update={"engine": "credit"})
    assert isinstance(spec, ProcessSpec)
    found = [message for _, message in process_problems(spec, set(), set())]
    assert "only the four-eyes engine sums cases (credit sums by group)" in found


def test_bootstrap_names_two_different_people_of_the_policy_with_an_address() -> None:
    """#13: the first two administrators of a fresh install; fewer is a problem."""
    people = GOOD.replace("  - {id: max, name: Max}", "  - {id: max, name: Max, email: m@x.de}")
    good = people.replace(
        "  - {id: sabine, name: Sabine}", "  - {id: sabine, name: Sabine, email: s@x.de}"
    )
    document = parse_policy((good + "bootstrap: {administrators: [max, sabine]}\n").encode(), "p")
    assert document.policy.bootstrap is not None
    assert document.policy.bootstrap.administrators == ["max", "sabine"]
    assert problems(good + "bootstrap: {administrators: [max, max]}\n") == [
        "p.yaml:16:13: bootstrap: name at least two different administrators (four eyes from "
        "the start)"
    ]
    found = problems(people + "bootstrap: {administrators: [max, sabine, nobody]}\n")
    assert found == [
        "p.yaml:16:35: bootstrap: 'sabine' needs an e-mail address for the set-password link",
        "p.yaml:16:43: bootstrap: unknown person 'nobody'",
    ]
