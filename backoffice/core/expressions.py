"""Safe conditions over a case's payload, in CEL (Common Expression Language).

CEL cannot loop, call out or touch anything but the variables we hand it, which is why
it is used for policy conditions instead of Python ``eval``. Amounts are handed in as
numbers (``amount >= 10000``) with their currency as ``<field>_currency``.

A condition is checked for size before CEL sees it (#13: a 3.6 MB condition took 19 s and
1.6 GB to compile): at most ``MAX_CONDITION_LENGTH`` characters and ``MAX_CONDITION_DEPTH``
nested brackets, which also bounds the syntax tree CEL builds.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import cel

__all__ = [
    "MAX_CONDITION_DEPTH",
    "MAX_CONDITION_LENGTH",
    "ExpressionError",
    "check_condition_size",
    "compile_expression",
    "evaluate",
    "referenced_names",
]

#: Policy conditions compare a few fields (``amount >= 10000 && currency == "EUR"``).
MAX_CONDITION_LENGTH = 1_000
#: Brackets ``( [ {`` nested inside each other, outside string literals.
MAX_CONDITION_DEPTH = 24


class ExpressionError(ValueError):
    pass


def check_condition_size(source: str) -> None:
    """Refuse a condition too long or too deeply nested, without parsing it."""
    if len(source) > MAX_CONDITION_LENGTH:
        raise ExpressionError(
            f"a condition has at most {MAX_CONDITION_LENGTH:,} characters; "
            f"this one has {len(source):,}"
        )
    if _depth(source) > MAX_CONDITION_DEPTH:
        raise ExpressionError(f"a condition nests brackets at most {MAX_CONDITION_DEPTH} deep")


def _depth(source: str) -> int:
    """How deeply ``( [ {`` nest, skipping CEL string literals ('…', "…", triple-quoted)."""
    depth = deepest = at = 0
    while at < len(source):
        char = source[at]
        if char in "\"'":
            quote = source[at : at + 3] if source[at : at + 3] in ('"""', "'''") else char
            raw = at > 0 and source[at - 1] in "rR"
            at += len(quote)
            while at < len(source) and not source.startswith(quote, at):
                at += 2 if source[at] == "\\" and not raw else 1
            at += len(quote)
            continue
        if char in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in ")]}":
            depth -= 1
        at += 1
    return deepest


@lru_cache(maxsize=512)
def compile_expression(source: str) -> Any:
    """A compiled program; raises ``ExpressionError`` with CEL's reason on bad syntax."""
    check_condition_size(source)
    try:
        return cel.compile(source)
    except (ValueError, RuntimeError) as exc:
        reason = str(exc).split("\n", 1)[0].removeprefix("Failed to parse expression ")
        raise ExpressionError(f"not a valid condition: {reason}") from None


def referenced_names(source: str) -> set[str]:
    """The variables an expression reads (checked against the payload schema at load time)."""
    program = compile_expression(source)
    return {str(name).split(".", 1)[0] for name in program.variables()}


def evaluate(source: str, variables: Mapping[str, Any]) -> bool:
    """Evaluate a condition; anything but a boolean result is an error, never truthiness."""
    try:
        result = compile_expression(source).execute(dict(variables))
    except (ValueError, RuntimeError, TypeError, ArithmeticError) as exc:
        raise ExpressionError(f"condition {source!r} failed: {exc}") from None
    if not isinstance(result, bool):
        raise ExpressionError(f"condition {source!r} gave {result!r}, not true or false")
    return result
