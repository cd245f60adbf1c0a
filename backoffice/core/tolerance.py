"""Tolerances: whether a value lies close enough to a reference (#16, three-way match).

A process may name tolerances in the policy (``tolerances:``); each compares one payload
field with another — an invoice's unit price with the order's, the invoiced quantity with
the quantity received — and becomes a true/false variable its conditions can use, so a
mismatch adds a step (an approval by accounting) and a match does not. Pure: the engine
hands in the payload, nothing here reads a database.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field

from backoffice.core.payload import FieldSpec, FieldType, Identifier, money_of
from backoffice.core.spec import Spec

__all__ = [
    "ToleranceSpec",
    "within_tolerance",
    "tolerance_variables",
    "numeric_value",
    "NUMERIC_TYPES",
]

#: Field types a tolerance may compare: amounts (a unit price) and whole numbers (quantities).
NUMERIC_TYPES = (FieldType.AMOUNT, FieldType.INTEGER)


class ToleranceSpec(Spec):
    """``name`` holds when ``field`` deviates from ``against`` by no more than the larger of
    ``percent`` of ``against`` and ``absolute`` (both zero: exactly equal)."""

    name: Identifier
    field: Identifier
    against: Identifier
    label: str = ""
    percent: Annotated[Decimal, Field(ge=0, le=100, max_digits=7, decimal_places=4)] = Decimal(0)
    absolute: Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=4)] = Decimal(0)


def within_tolerance(
    value: Decimal, reference: Decimal, percent: Decimal, absolute: Decimal
) -> bool:
    """|value - reference| <= max(|reference| * percent / 100, absolute), exactly (Decimal)."""
    allowed = max(abs(reference) * percent / Decimal(100), absolute)
    return abs(value - reference) <= allowed


def numeric_value(value: Any) -> Decimal | None:
    """An amount's number or an integer as a Decimal; None for anything else (missing)."""
    if isinstance(value, Mapping):
        money = money_of(value)
        return money.amount if money else None
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        return None
    try:
        return Decimal(value)
    except ArithmeticError:
        return None


def tolerance_variables(
    tolerances: list[ToleranceSpec], fields: list[FieldSpec], payload: Mapping[str, Any]
) -> dict[str, Any]:
    """Each tolerance's verdict for the payload. A missing value, or amounts in two
    currencies, is no match (fail-safe: a mismatch only ever adds an approval)."""
    types = {f.name: f.type for f in fields}
    verdicts: dict[str, Any] = {}
    for tolerance in tolerances:
        value, reference = payload.get(tolerance.field), payload.get(tolerance.against)
        number, base = numeric_value(value), numeric_value(reference)
        same_currency = not (
            types.get(tolerance.field) == FieldType.AMOUNT
            and types.get(tolerance.against) == FieldType.AMOUNT
            and isinstance(value, Mapping)
            and isinstance(reference, Mapping)
            and value.get("currency") != reference.get("currency")
        )
        verdicts[tolerance.name] = (
            number is not None
            and base is not None
            and same_currency
            and within_tolerance(number, base, tolerance.percent, tolerance.absolute)
        )
    return verdicts
