"""The ``masterdata.apply`` effect: a released master-data-change updates the customer."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from backoffice.audit.services import record
from backoffice.base.effects import EffectProblem
from backoffice.core.payload import FieldSpec, FieldType, Known, validate_payload
from backoffice.masterdata.models import CHANGEABLE_FIELDS, Customer, Vendor

__all__ = ["MasterDataChange", "VendorChange", "VendorPayment", "CreditLimit"]

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


def _problem(code: str, message: str, field_name: str) -> EffectProblem:
    return EffectProblem(code, message, [{"field": field_name, "message": message}])


class VendorChange:
    """#16 ``masterdata.vendor``: a released vendor-master case writes the vendor's data.

    A new vendor must not exist yet, any other change needs an existing one; a new vendor
    and a bank-account change need an IBAN. The case shows before and after.
    """

    def check(self, payload: Mapping[str, Any]) -> EffectProblem | None:
        number, change = str(payload.get("vendor") or ""), payload.get("change")
        exists = Vendor.objects.filter(number=number).exists()
        if change == "new-vendor" and exists:
            return _problem(
                "masterdata.vendor_exists", f"Vendor {number} exists already.", "vendor"
            )
        if change != "new-vendor" and not exists:
            return _problem(
                "masterdata.unknown_vendor", f"There is no vendor {number!r}.", "vendor"
            )
        if change in ("new-vendor", "bank-account") and not payload.get("iban"):
            return _problem("payload.invalid", "A bank account needs an IBAN.", "iban")
        return None

    def preview(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        vendor = Vendor.objects.filter(number=str(payload.get("vendor") or "")).first()
        return {
            "kind": "change",
            "object": str(vendor) if vendor else str(payload.get("vendor")),
            "field": payload.get("change"),
            "before": vendor.iban if vendor and payload.get("change") == "bank-account" else "",
            "after": payload.get("iban") or payload.get("details") or "",
        }

    def apply(self, case: Any, *, actor: str) -> dict[str, Any]:
        payload = case.payload
        number, change = payload["vendor"], payload["change"]
        if change == "new-vendor":
            vendor = Vendor.objects.create(
                number=number,
                name=payload["vendor_name"],
                iban=payload["iban"],
                address=payload.get("details") or "",
            )
            before: dict[str, Any] = {}
        else:
            vendor = Vendor.objects.select_for_update().get(number=number)
            before = {"iban": vendor.iban, "address": vendor.address}
            if change == "bank-account":
                vendor.iban = payload["iban"]
            elif change == "address":
                vendor.address = payload.get("details") or ""
            vendor.save()
        after = {"iban": vendor.iban, "address": vendor.address}
        record(
            "masterdata.vendor.changed",
            actor=actor,
            object_type="vendor",
            object_id=vendor.number,
            before=before,
            after=after,
            reason=f"released vendor-master case {case.pk}",
        )
        return {"vendor": vendor.number, "change": change, "before": before, "after": after}


class VendorPayment:
    """#16 ``masterdata.vendor_payment``: a payment goes only to the bank account on file for
    a known vendor (checked at submission and again at release); the release records it."""

    def check(self, payload: Mapping[str, Any]) -> EffectProblem | None:
        number = str(payload.get("vendor") or "")
        vendor = Vendor.objects.filter(number=number).first()
        if vendor is None:
            return _problem(
                "masterdata.unknown_vendor", f"There is no vendor {number!r}.", "vendor"
            )
        if str(payload.get("iban") or "") != vendor.iban:
            return _problem(
                "masterdata.iban_mismatch",
                f"The IBAN is not the one on file for vendor {number}; a new account needs a "
                "vendor-master case first.",
                "iban",
            )
        return None

    def preview(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "kind": "payment",
            "object": str(payload.get("vendor")),
            "after": payload.get("iban"),
        }

    def apply(self, case: Any, *, actor: str) -> dict[str, Any]:
        return {"vendor": case.payload["vendor"], "iban": case.payload["iban"]}

    def affects(self, payload: Mapping[str, Any], person: str) -> bool:
        return False


class CreditLimit:
    """#16 ``masterdata.credit_limit``: a released credit-limit case sets the customer's limit."""

    def check(self, payload: Mapping[str, Any]) -> EffectProblem | None:
        number = str(payload.get("customer") or "")
        if not Customer.objects.filter(number=number).exists():
            return _problem(
                "masterdata.unknown_customer", f"There is no customer {number!r}.", "customer"
            )
        return None

    def preview(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        customer = Customer.objects.filter(number=str(payload.get("customer") or "")).first()
        limit = payload.get("new_limit") or {}
        return {
            "kind": "change",
            "object": str(customer) if customer else str(payload.get("customer")),
            "field": "credit_limit",
            "before": str(customer.credit_limit or "") if customer else "",
            "after": limit.get("amount", ""),
        }

    def apply(self, case: Any, *, actor: str) -> dict[str, Any]:
        customer = Customer.objects.select_for_update().get(number=case.payload["customer"])
        before = str(customer.credit_limit) if customer.credit_limit is not None else None
        customer.credit_limit = Decimal(case.payload["new_limit"]["amount"])
        customer.save(update_fields=["credit_limit", "last_updated"])
        record(
            "masterdata.customer.changed",
            actor=actor,
            object_type="customer",
            object_id=customer.number,
            before={"credit_limit": before},
            after={"credit_limit": str(customer.credit_limit)},
            reason=f"released customer-credit-limit case {case.pk}",
        )
        return {"customer": customer.number, "before": before, "after": str(customer.credit_limit)}
