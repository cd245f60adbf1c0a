"""A process's payload: the fields a maker enters, their types, and their validation.

Values are normalised to JSON-safe forms (amounts as ``{"amount": "12.50", "currency":
"EUR"}``, dates as ISO strings) so that the payload hash an approval is bound to is stable.

A field's ``pattern`` is a regular expression of RE2, matched in time linear in the value
(#13: Python's backtracking ``re`` took 4.8 s for ``(a+)+$`` on 26 characters). What RE2
cannot do in linear time (backreferences, lookaround) is refused when the policy is read.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Any

import re2
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from backoffice.core.errors import N_, Denied
from backoffice.core.labels import Label
from backoffice.core.money import Money

__all__ = [
    "FieldType",
    "FieldSpec",
    "Known",
    "FieldError",
    "validate_payload",
    "validated_payload",
    "payload_hash",
    "expression_variables",
    "money_of",
    "compile_pattern",
    "MAX_PATTERN_LENGTH",
]

Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]

#: Text no column can hold: a NUL (PostgreSQL refuses it) or a lone surrogate (no UTF-8 for
#: it, so the payload hash fails). The HTTP edge refuses both; this is for every other caller.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_UNSTORABLE_MESSAGE = "contains a character that cannot be stored (a NUL or an unpaired surrogate)"

#: A field's format (``C[0-9]{6}``) is short; a long pattern is a mistake or an attack.
MAX_PATTERN_LENGTH = 200
#: RE2's memory budget for one compiled pattern (its default is 8 MiB).
_PATTERN_MEMORY = 1 << 20


@lru_cache(maxsize=256)
def compile_pattern(pattern: str) -> re2._Regexp[str]:
    """The pattern compiled by RE2; ``ValueError`` says why one cannot be used."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise ValueError(
            f"a pattern has at most {MAX_PATTERN_LENGTH} characters; this one has {len(pattern):,}"
        )
    options = re2.Options()
    options.max_mem = _PATTERN_MEMORY
    options.log_errors = False
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else exc
        raise ValueError(
            f"pattern is not a regular expression RE2 can match in linear time "
            f"(no backreferences or lookaround): {reason}"
        ) from None


class FieldType(StrEnum):
    STRING = "string"
    TEXT = "text"
    AMOUNT = "amount"
    DATE = "date"
    PERSON = "person"
    UNIT = "unit"
    ROLE = "role"
    CHOICE = "choice"
    BOOLEAN = "boolean"
    INTEGER = "integer"
    IBAN = "iban"


#: Types whose value names something that must exist (checked against ``Known``).
REFERENCE_TYPES = {FieldType.PERSON: "people", FieldType.UNIT: "units", FieldType.ROLE: "roles"}


class FieldSpec(BaseModel):
    """One field of a payload schema, as written in the policy."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Identifier
    type: FieldType
    label: Label = Label()
    help: Label = Label()
    required: bool = True
    choices: list[str] = []
    #: #19: what people read for a choice (``corporate-loan``: "Corporate loan" or
    #: "Firmenkredit"); the value stays what is stored, compared and exported
    choice_labels: dict[str, Label] = {}
    max_length: Annotated[int, Field(ge=1, le=5_000_000)] | None = None
    pattern: str | None = None
    currencies: list[Annotated[str, Field(pattern=r"^[A-Z]{3}$")]] = []
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    #: filled in by the system (the process's effect), never by the maker: a role grant's
    #: access risk. Approvers see it; conditions may use it.
    derived: bool = False

    @field_validator("pattern")
    @classmethod
    def _linear_pattern(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            compile_pattern(pattern)
        return pattern

    @model_validator(mode="after")
    def _consistent(self) -> FieldSpec:
        if self.type == FieldType.CHOICE and not self.choices:
            raise ValueError("a choice field needs 'choices'")
        if self.type != FieldType.CHOICE and self.choices:
            raise ValueError("'choices' is only for choice fields")
        unknown = sorted(set(self.choice_labels) - set(self.choices))
        if unknown:
            raise ValueError(f"'choice_labels' names {unknown[0]!r}, which is not a choice")
        return self

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()


@dataclass(frozen=True)
class Known:
    """What references may point to: ids of people, units and roles that exist today."""

    people: frozenset[str] = frozenset()
    units: frozenset[str] = frozenset()
    roles: frozenset[str] = frozenset()


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


@dataclass
class _Result:
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[FieldError] = field(default_factory=list)


def validate_payload(
    fields: list[FieldSpec], raw: Mapping[str, Any], known: Known
) -> tuple[dict[str, Any], list[FieldError]]:
    """Normalised values and every error, one per field; unknown fields are errors too."""
    result = _Result()
    names = {f.name for f in fields}
    for key in raw:
        if key not in names:
            shown = _UNSTORABLE.sub("\ufffd", str(key))
            result.errors.append(FieldError(shown, N_("unknown field")))
    for spec in fields:
        value = raw.get(spec.name)
        if value is None or value == "":
            if spec.required:
                result.errors.append(FieldError(spec.name, N_("this field is required")))
            else:
                result.values[spec.name] = None
            continue
        try:
            result.values[spec.name] = _normalise(spec, value, known)
        except ValueError as exc:
            result.errors.append(FieldError(spec.name, str(exc)))
    return result.values, result.errors


def _normalise(spec: FieldSpec, value: Any, known: Known) -> Any:
    kind = spec.type
    if _holds_unstorable(value):
        raise ValueError(_UNSTORABLE_MESSAGE)
    if kind in (FieldType.STRING, FieldType.TEXT, FieldType.CHOICE, FieldType.IBAN):
        if not isinstance(value, str):
            raise ValueError(N_("must be text"))
        text = value.strip() if kind != FieldType.TEXT else value.replace("\r\n", "\n")
        limit = spec.max_length or (200 if kind == FieldType.STRING else 20_000)
        if len(text) > limit:
            raise ValueError(f"at most {limit} characters")
        if kind == FieldType.CHOICE and text not in spec.choices:
            raise ValueError(f"must be one of: {', '.join(spec.choices)}")
        if kind == FieldType.IBAN:
            text = _iban(text)
        if spec.pattern and compile_pattern(spec.pattern).fullmatch(text) is None:
            raise ValueError(N_("does not have the required format"))
        return text
    if kind == FieldType.AMOUNT:
        return _amount(spec, value)
    if kind == FieldType.DATE:
        if isinstance(value, date):
            return value.isoformat()
        try:
            return date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise ValueError(N_("must be a date as YYYY-MM-DD")) from None
    if kind == FieldType.BOOLEAN:
        if isinstance(value, bool):
            return value
        raise ValueError(N_("must be true or false"))
    if kind == FieldType.INTEGER:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValueError(N_("must be a whole number"))
        try:
            number = int(value)
        except ValueError:
            raise ValueError(N_("must be a whole number")) from None
        _bounds(spec, Decimal(number))
        return number
    # references: person, unit, role
    if not isinstance(value, str):
        raise ValueError(N_("must be an id"))
    pool = getattr(known, REFERENCE_TYPES[kind])
    if value not in pool:
        raise ValueError(f"unknown {kind.value} {value!r}")
    return value


def _holds_unstorable(value: Any) -> bool:
    """Whether a value, or a key or string inside it (an amount is a mapping), is unstorable."""
    if isinstance(value, str):
        return _UNSTORABLE.search(value) is not None
    if isinstance(value, Mapping):
        return any(_holds_unstorable(k) or _holds_unstorable(v) for k, v in value.items())
    return False


def _amount(spec: FieldSpec, value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping) or set(value) - {"amount", "currency"}:
        raise ValueError(N_('must be {"amount": "…", "currency": "EUR"}'))
    try:
        amount = Decimal(str(value.get("amount")))
    except InvalidOperation:
        raise ValueError(N_("the amount is not a number")) from None
    if not amount.is_finite() or amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValueError(N_("the amount needs at most two decimal places"))
    if amount <= 0:
        raise ValueError(N_("the amount must be positive"))
    if abs(amount) >= Decimal("1e15"):
        raise ValueError(N_("the amount is too large"))
    currency = str(value.get("currency") or "")
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise ValueError(N_("the currency must be an ISO code such as EUR"))
    if spec.currencies and currency not in spec.currencies:
        raise ValueError(f"the currency must be one of: {', '.join(spec.currencies)}")
    _bounds(spec, amount)
    return {"amount": f"{amount:.2f}", "currency": currency}


def _bounds(spec: FieldSpec, number: Decimal) -> None:
    if spec.minimum is not None and number < spec.minimum:
        raise ValueError(f"must be at least {spec.minimum}")
    if spec.maximum is not None and number > spec.maximum:
        raise ValueError(f"must be at most {spec.maximum}")


def _iban(text: str) -> str:
    """ISO 13616 IBAN with its mod-97 check digits; returned without spaces."""
    compact = text.replace(" ", "").upper()
    if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}", compact):
        raise ValueError(N_("is not an IBAN"))
    digits = "".join(str(int(c, 36)) for c in compact[4:] + compact[:4])
    if int(digits) % 97 != 1:
        raise ValueError(N_("the IBAN's check digits are wrong"))
    return compact


def validated_payload(
    fields: list[FieldSpec], raw: Mapping[str, Any] | None, known: Known
) -> tuple[dict[str, Any], Denied | None]:
    """Normalised values, or a ``payload.invalid`` denial that lists every field's error."""
    values, errors = validate_payload(fields, raw or {}, known)
    if errors:
        listed = "; ".join(f"{e.field}: {e.message}" for e in errors)
        return values, Denied(
            "payload.invalid",
            f"The payload is not valid — {listed}.",
            tuple((e.field, e.message) for e in errors),
        )
    return values, None


def payload_hash(values: Mapping[str, Any]) -> str:
    """What an approval is bound to: SHA-256 of the canonical JSON of the payload."""
    canonical = json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def money_of(value: Any) -> Money | None:
    if not isinstance(value, Mapping):
        return None
    return Money(Decimal(value["amount"]), value["currency"])


def expression_variables(fields: list[FieldSpec], values: Mapping[str, Any]) -> dict[str, Any]:
    """Payload values as CEL sees them: amounts as numbers plus ``<name>_currency``."""
    variables: dict[str, Any] = {}
    for spec in fields:
        value = values.get(spec.name)
        if spec.type == FieldType.AMOUNT:
            money = money_of(value)
            variables[spec.name] = float(money.amount) if money else None
            variables[f"{spec.name}_currency"] = money.currency if money else None
        else:
            variables[spec.name] = value
    return variables


def field_variable_names(fields: list[FieldSpec]) -> set[str]:
    names = {f.name for f in fields}
    names.update(f"{f.name}_currency" for f in fields if f.type == FieldType.AMOUNT)
    return names
