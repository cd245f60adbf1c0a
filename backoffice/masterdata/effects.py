"""The master-data effects: a released case writes the customer, vendor or employee record."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model

from backoffice.audit.services import record
from backoffice.base.effects import EffectProblem
from backoffice.core.actors import ActorFacts
from backoffice.core.errors import Denied
from backoffice.core.payload import FieldSpec, FieldType, Known, validate_payload
from backoffice.masterdata.models import CHANGEABLE_FIELDS, Customer, Employee, Vendor

__all__ = [
    "MasterDataChange",
    "VendorChange",
    "VendorPayment",
    "CreditLimit",
    "EmployeeChange",
    "SalaryChange",
    "OrderReference",
    "RequisitionReference",
]

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


def _own_record(payload: Mapping[str, Any], facts: ActorFacts) -> Denied | None:
    """Nobody changes their own employee record or salary, whatever their roles: asked again
    by the effect at submission, each approval and the release, whatever the policy's steps."""
    if str(payload.get("employee") or "") == facts.person:
        return Denied(
            "sod.beneficiary",
            "Nobody changes their own employee record or salary, whatever their roles.",
        )
    return None


def _employee(payload: Mapping[str, Any]) -> Employee | None:
    return Employee.objects.filter(person=str(payload.get("employee") or "")).first()


def _no_record(payload: Mapping[str, Any]) -> EffectProblem:
    return _problem(
        "masterdata.unknown_employee",
        f"There is no employee record for {payload.get('employee')!r}; a hire comes first.",
        "employee",
    )


def _next_number() -> str:
    last = Employee.objects.filter(number__regex=r"^E[0-9]{5}$").order_by("-number").first()
    return f"E{int(last.number[1:]) + 1 if last else 10001:05d}"


class EmployeeChange:
    """#16 ``masterdata.employee``: a released employee-master case writes the employee's
    record — a hire creates it, a leaver dates it, a bank account, address or position
    replaces the one on file. Audited with before and after."""

    #: the change -> the record's field it writes (a hire and a leaver write dates)
    FIELDS = {"bank-account": "iban", "address": "address", "position": "position"}

    def check(self, payload: Mapping[str, Any]) -> EffectProblem | None:
        change = payload.get("change")
        if change != "hire" and _employee(payload) is None:
            return _no_record(payload)
        if change == "bank-account" and not payload.get("iban"):
            return _problem("payload.invalid", "A bank account needs an IBAN.", "iban")
        details = str(payload.get("details") or "")
        if change == "position" and not 0 < len(details) <= 140:
            return _problem(
                "payload.invalid", "A position is named in the details (140 characters).", "details"
            )
        if change == "address" and not 0 < len(details) <= 300:
            return _problem(
                "payload.invalid", "An address is given in the details (300 characters).", "details"
            )
        return None

    def check_actor(self, payload: Mapping[str, Any], facts: ActorFacts) -> Denied | None:
        return _own_record(payload, facts)

    def _after(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        change = str(payload.get("change") or "")
        if change == "hire":
            return {"hired": payload.get("effective"), "leaving_date": None}
        if change == "leaver":
            return {"leaving_date": payload.get("effective")}
        if change == "bank-account":
            return {"iban": payload.get("iban")}
        return {self.FIELDS.get(change, change): payload.get("details")}

    def preview(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        employee, after = _employee(payload), self._after(payload)
        before = {n: getattr(employee, n) for n in after} if employee else {}
        return {
            "kind": "change",
            "object": str(employee) if employee else str(payload.get("employee")),
            "field": payload.get("change"),
            "before": ", ".join(f"{n}: {v}" for n, v in before.items()),
            "after": ", ".join(f"{n}: {v}" for n, v in after.items()),
        }

    def apply(self, case: Any, *, actor: str) -> dict[str, Any]:
        payload = case.payload
        person = str(payload["employee"])
        employee = Employee.objects.select_for_update().filter(person=person).first()
        after = self._after(payload)
        before: dict[str, Any] = {}
        if employee is None:  # a hire (``check`` refused any other change)
            names = get_user_model().objects.filter(username=person)
            name = names.values_list("profile__display_name", flat=True).first()
            employee = Employee(number=_next_number(), person=person, name=name or person)
        else:
            before = {n: _text(getattr(employee, n)) for n in after}
        for name, value in after.items():
            setattr(employee, name, value)
        employee.save()
        record(
            "masterdata.employee.changed",
            actor=actor,
            object_type="employee",
            object_id=employee.number,
            before=before,
            after={n: _text(v) for n, v in after.items()},
            reason=f"released employee-master case {case.pk}",
        )
        return {"employee": employee.number, "change": payload["change"], "before": before}

    def affects(self, payload: Mapping[str, Any], person: str) -> bool:
        return False


def _text(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


class SalaryChange:
    """#16 ``masterdata.salary``: a released salary-change case sets the employee's monthly
    salary from the date it takes effect. Audited with before and after."""

    def check(self, payload: Mapping[str, Any]) -> EffectProblem | None:
        return _no_record(payload) if _employee(payload) is None else None

    def check_actor(self, payload: Mapping[str, Any], facts: ActorFacts) -> Denied | None:
        return _own_record(payload, facts)

    def preview(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        employee = _employee(payload)
        salary = payload.get("new_salary") or {}
        return {
            "kind": "change",
            "object": str(employee) if employee else str(payload.get("employee")),
            "field": "monthly_salary",
            "before": str(employee.monthly_salary or "") if employee else "",
            "after": salary.get("amount", ""),
        }

    def apply(self, case: Any, *, actor: str) -> dict[str, Any]:
        payload = case.payload
        employee = Employee.objects.select_for_update().get(person=str(payload["employee"]))
        before = {
            "monthly_salary": _text(employee.monthly_salary and str(employee.monthly_salary)),
            "salary_effective": _text(employee.salary_effective),
        }
        employee.monthly_salary = Decimal(payload["new_salary"]["amount"])
        employee.salary_effective = payload["effective"]
        employee.save(update_fields=["monthly_salary", "salary_effective", "last_updated"])
        after = {
            "monthly_salary": str(employee.monthly_salary),
            "salary_effective": str(payload["effective"]),
        }
        record(
            "masterdata.employee.salary_changed",
            actor=actor,
            object_type="employee",
            object_id=employee.number,
            before=before,
            after=after,
            reason=f"released salary-change case {case.pk}",
        )
        return {"employee": employee.number, "before": before, "after": after}

    def affects(self, payload: Mapping[str, Any], person: str) -> bool:
        return False


def _case_of(process: str, number: Any) -> Any:
    """The case of ``process`` with this number, or None (a number of another process too)."""
    from backoffice.cases.models import Case

    if not isinstance(number, int) or isinstance(number, bool):
        return None
    return Case.objects.filter(pk=number, process__key=process).select_related("maker").first()


class OrderReference:
    """#16 ``masterdata.order``: a goods receipt or a vendor invoice names an approved
    purchase order of its vendor, and who ordered is read from that order, never typed in
    (``orderer`` is derived): the receiver and the approver are kept apart from the buyer
    by the record, not by what the clerk says."""

    def derive(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Who ordered; for an invoice also what was ordered (quantity, unit price) and what
        was received (released receipts of the order): the three-way match compares the
        invoice with the records, not with what the clerk copied from them. No order, or
        none received yet, is zero: the check refuses or the match fails. (An unknown
        order's price is the smallest valid one, so the refusal names the order.)"""
        from backoffice.cases.models import Case

        order = _case_of("purchase-order", payload.get("order"))
        if order is None:
            return {
                "orderer": None,
                "order_quantity": 0,
                "order_price": {"amount": "0.01", "currency": "EUR"},
                "received_quantity": 0,
            }
        receipts = Case.objects.filter(
            process__key="goods-receipt", status="released", payload__order=order.pk
        ).values_list("payload__quantity", flat=True)
        return {
            "orderer": order.maker.get_username(),
            "order_quantity": order.payload.get("quantity"),
            "order_price": order.payload.get("unit_price"),
            "received_quantity": sum(int(q or 0) for q in receipts),
        }

    def check(self, payload: Mapping[str, Any]) -> EffectProblem | None:
        order = _case_of("purchase-order", payload.get("order"))
        if order is None or order.status != "released":
            return _problem(
                "masterdata.unknown_order",
                f"There is no approved purchase order {payload.get('order')}.",
                "order",
            )
        if order.payload.get("vendor") != payload.get("vendor"):
            return _problem(
                "masterdata.order_vendor",
                f"Purchase order {order.pk} is not an order from vendor {payload.get('vendor')}.",
                "vendor",
            )
        return None

    def check_case(self, case: Any, payload: Mapping[str, Any], facts: ActorFacts) -> Denied | None:
        """An invoice is entered once: the same number from the same vendor, live or paid,
        is refused (a duplicate is the commonest way to pay twice)."""
        from backoffice.cases.models import Case

        number = str(payload.get("invoice_number") or "")
        if not number:
            return None  # a goods receipt
        duplicate = (
            Case.objects.filter(
                process__key=case.process.key,
                status__in=("submitted", "returned", "released"),
                payload__vendor=payload.get("vendor"),
                payload__invoice_number__iexact=number,
            )
            .exclude(pk=case.pk)
            .exists()
        )
        if duplicate:
            return Denied(
                "masterdata.duplicate_invoice",
                f"Invoice {number} of vendor {payload.get('vendor')} has been entered already.",
            )
        return None

    def preview(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        return {"kind": "reference", "object": f"purchase order {payload.get('order')}"}

    def apply(self, case: Any, *, actor: str) -> dict[str, Any]:
        return {"order": case.payload.get("order"), "orderer": case.payload.get("orderer")}

    def affects(self, payload: Mapping[str, Any], person: str) -> bool:
        return False


class RequisitionReference:
    """#16 ``masterdata.requisition``: an order placed on a requisition names an approved
    one, and the requisitioner (who may not approve the order) is read from it."""

    def derive(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        requisition = _case_of("purchase-requisition", payload.get("requisition"))
        return {"requisitioner": requisition.maker.get_username() if requisition else None}

    def check(self, payload: Mapping[str, Any]) -> EffectProblem | None:
        number = payload.get("requisition")
        requisition = _case_of("purchase-requisition", number)
        if number is not None and (requisition is None or requisition.status != "released"):
            return _problem(
                "masterdata.unknown_requisition",
                f"There is no approved purchase requisition {number}.",
                "requisition",
            )
        return None

    def preview(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        return {"kind": "reference", "object": f"requisition {payload.get('requisition') or '-'}"}

    def apply(self, case: Any, *, actor: str) -> dict[str, Any]:
        return {"requisition": case.payload.get("requisition")}

    def affects(self, payload: Mapping[str, Any], person: str) -> bool:
        return False
