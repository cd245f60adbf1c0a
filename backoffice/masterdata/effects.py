"""The ``masterdata.apply`` effect: a released master-data-change updates the customer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backoffice.audit.services import record
from backoffice.base.effects import EffectProblem
from backoffice.core.payload import FieldSpec, FieldType, Known, validate_payload
from backoffice.masterdata.models import CHANGEABLE_FIELDS, Customer

__all__ = ["MasterDataChange"]

_VALIDATORS: dict[str, FieldSpec] = {
    "iban": FieldSpec(name="value", type=FieldType.IBAN),
    "bic": FieldSpec(
        name="value", type=FieldType.STRING, pattern=r"[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?"
    ),
    "address": FieldSpec(name="value", type=FieldType.STRING, max_length=300),
    "phone": FieldSpec(name="value", type=FieldType.STRING, pattern=r"\+?[0-9 ()/-]{5,40}"),
}


class MasterDataChange:
    """Entered by one person, released by another; the case shows before and after."""

    def _normalised(
        self, payload: Mapping[str, Any]
    ) -> tuple[Customer | None, str, str, EffectProblem | None]:
        number = str(payload.get("customer") or "")
        name = str(payload.get("field") or "")
        customer = Customer.objects.filter(number=number).first()
        if customer is None:
            return (
                None,
                name,
                "",
                EffectProblem(
                    "masterdata.unknown_customer",
                    f"There is no customer {number!r}.",
                    [{"field": "customer", "message": "unknown customer"}],
                ),
            )
        if name not in CHANGEABLE_FIELDS:
            return (
                customer,
                name,
                "",
                EffectProblem(
                    "masterdata.unknown_field",
                    f"{name!r} cannot be changed by a case.",
                    [{"field": "field", "message": "not changeable"}],
                ),
            )
        values, errors = validate_payload(
            [_VALIDATORS[name]], {"value": payload.get("new_value")}, Known()
        )
        if errors:
            return (
                customer,
                name,
                "",
                EffectProblem(
                    "payload.invalid",
                    f"The new {name} is not valid: {errors[0].message}.",
                    [{"field": "new_value", "message": errors[0].message}],
                ),
            )
        return customer, name, str(values["value"]), None

    def check(self, payload: Mapping[str, Any]) -> EffectProblem | None:
        return self._normalised(payload)[3]

    def preview(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        customer, name, value, _ = self._normalised(payload)
        before = getattr(customer, name, "") if customer and name in CHANGEABLE_FIELDS else ""
        return {
            "kind": "change",
            "object": str(customer) if customer else str(payload.get("customer")),
            "field": name,
            "before": before,
            "after": value or payload.get("new_value"),
        }

    def apply(self, case: Any, *, actor: str) -> dict[str, Any]:
        customer, name, value, problem = self._normalised(case.payload)
        assert customer is not None and problem is None  # checked just before the release
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        before = getattr(customer, name)
        setattr(customer, name, value)
        customer.save(update_fields=[name, "last_updated"])
        record(
            "masterdata.customer.changed",
            actor=actor,
            object_type="customer",
            object_id=customer.number,
            before={name: before},
            after={name: value},
            reason=f"released master-data-change case {case.pk}",
        )
        return {"customer": customer.number, "field": name, "before": before, "after": value}
