"""Policies cannot be a denial of service: conditions and patterns are bounded and linear (#13).

Each refusal is a policy problem at the place of the condition or pattern, as
``FILE:LINE:COL: message``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import re2

from backoffice.core.expressions import ExpressionError, compile_expression, evaluate
from backoffice.core.payload import FieldSpec, Known, compile_pattern, validate_payload
from backoffice.core.policy import PolicyInvalid, parse_policy

DEMO = Path(__file__).resolve().parents[2] / "backoffice" / "policies" / "demo-bank.yaml"
SMALL_TIER = 'when: "amount < 10000"'
CUSTOMER = 'pattern: "C[0-9]{6}"'


def demo_with(old: str, new: str) -> tuple[str, int, int]:
    """The demo policy with ``old`` replaced, and the line and column where it was."""
    text = DEMO.read_text()
    at = text.index(old)
    line = text.count("\n", 0, at) + 1
    column = at - text.rfind("\n", 0, at)
    return text.replace(old, new, 1), line, column


def only_problem(text: str) -> str:
    with pytest.raises(PolicyInvalid) as caught:
        parse_policy(text.encode(), "p.yaml")
    [problem] = caught.value.problems
    return str(problem)


def test_a_condition_over_1000_characters_is_a_problem_at_its_place() -> None:
    long = " || ".join(["amount < 10000"] * 100)
    text, line, column = demo_with(SMALL_TIER, f'when: "{long}"')
    assert only_problem(text) == (
        f"p.yaml:{line}:{column}: process 'payment-release': a condition has at most 1,000 "
        f"characters; this one has {len(long):,}"
    )


def test_a_condition_nested_too_deep_is_a_problem_before_cel_parses_it() -> None:
    deep = "(" * 25 + "amount" + ")" * 25 + " < 10000"
    text, line, column = demo_with(SMALL_TIER, f'when: "{deep}"')
    assert only_problem(text) == (
        f"p.yaml:{line}:{column}: process 'payment-release': a condition nests brackets at "
        "most 24 deep"
    )


def test_brackets_inside_string_literals_do_not_count_as_nesting() -> None:
    source = '"' + "(" * 40 + '" != "x" && ' + "'''" + "[" * 40 + "''' != 'y'"
    assert evaluate(source, {}) is True
    with pytest.raises(ExpressionError, match="at most 24 deep"):
        compile_expression("[" * 25 + "1" + "]" * 25 + " == []")


def test_a_backtracking_pattern_is_matched_by_re2_in_linear_time() -> None:
    """``(a+)+$`` took Python's ``re`` 4.8 s on 26 characters; RE2 has no backtracking."""
    spec = FieldSpec(name="code", type="string", pattern="(a+)+$", max_length=20_000)
    assert isinstance(compile_pattern("(a+)+$"), re2._Regexp)
    values, errors = validate_payload([spec], {"code": "a" * 10_000 + "b"}, Known())
    assert [e.message for e in errors] == ["does not have the required format"]
    values, errors = validate_payload([spec], {"code": "a" * 10_000}, Known())
    assert errors == [] and values == {"code": "a" * 10_000}


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        (r"(a)\\1", "invalid escape sequence: \\1"),
        ("(?=C)C[0-9]{6}", "invalid perl operator: (?="),
        ("C" * 201, "a pattern has at most 200 characters; this one has 201"),
        (r"\\pL{1000}", "pattern too large"),  # over the memory budget
    ],
)
def test_a_pattern_re2_cannot_match_linearly_is_a_problem_at_its_place(
    pattern: str, reason: str
) -> None:
    text, line, column = demo_with(CUSTOMER, f'pattern: "{pattern}"')
    problem = only_problem(text)
    assert problem.startswith(f"p.yaml:{line}:{column}: processes.1.payload.0.pattern: ")
    assert reason in problem
