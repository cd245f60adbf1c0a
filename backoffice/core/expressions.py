"""Safe conditions over a case's payload, in CEL (Common Expression Language).

CEL cannot loop, call out or touch anything but the variables we hand it, which is why
it is used for policy conditions instead of Python ``eval``. Amounts are handed in as
numbers (``amount >= 10000``) with their currency as ``<field>_currency``.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import cel

__all__ = ["ExpressionError", "compile_expression", "evaluate", "referenced_names"]


class ExpressionError(ValueError):
    pass


@lru_cache(maxsize=512)
def compile_expression(source: str) -> Any:
    """A compiled program; raises ``ExpressionError`` with CEL's reason on bad syntax."""
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
