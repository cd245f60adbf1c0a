"""The ``credit.borrower`` effect (#19): new borrowers and changes to borrower master data
(name, group, insider flag) take effect only when a second person releases the case."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from backoffice.audit.services import record
from backoffice.base.effects import EffectProblem
from backoffice.credit.models import Borrower, BorrowerGroup

__all__ = ["BorrowerChange", "BORROWER_NUMBER"]

#: the bank's borrower numbers: "B" and six digits (B000001)
BORROWER_NUMBER = re.compile(r"B[0-9]{6}")

#: what a borrower case may do, and the payload field each change needs
CHANGES = {"create": ("name", "group"), "name": ("name",), "group": ("group",), "insider": ()}


def _problem(code: str, message: str, field: str) -> EffectProblem:
    return EffectProblem(code, message, [{"field": field, "message": message}])


class BorrowerChange:
    """Entered by one person who works on credits, released by another."""

    def check(self, payload: Mapping[str, Any]) -> EffectProblem | None:
        change, number = str(payload.get("change") or ""), str(payload.get("number") or "")
        if change not in CHANGES:
            return _problem("payload.invalid", f"There is no borrower change {change!r}.", "change")
        exists = Borrower.objects.filter(number=number).exists()
        if change == "create" and exists:
            return _problem("credit.borrower_exists", f"Borrower {number} exists.", "number")
        if change != "create" and not exists:
            return _problem("credit.unknown_borrower", f"There is no borrower {number}.", "number")
        for needed in CHANGES[change]:
            if not str(payload.get(needed) or "").strip():
                return _problem("payload.invalid", f"A {change} change needs a {needed}.", needed)
        group = str(payload.get("group") or "")
        if group and not BorrowerGroup.objects.filter(key=group).exists():
            return _problem(
                "credit.unknown_group", f"There is no borrower group {group!r}.", "group"
            )
        if change == "insider" and payload.get("insider") not in ("yes", "no"):
            return _problem("payload.invalid", "Say whether the borrower is an insider.", "insider")
        return None

    def preview(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        change, number = str(payload.get("change") or ""), str(payload.get("number") or "")
        found = Borrower.objects.select_related("group").filter(number=number).first()
        field = {"create": "name", "name": "name", "group": "group", "insider": "insider"}
        name = field.get(change, change)
        before = ""
        if found is not None:
            before = {
                "name": found.name,
                "group": found.group.key,
                "insider": "yes" if found.insider else "no",
            }.get(name, "")
        after = str(payload.get(name) or "")
        if change == "create":
            after = f"{payload.get('name')} ({payload.get('group')})"
        return {"kind": "change", "object": number, "field": name, "before": before, "after": after}

    def apply(self, case: Any, *, actor: str) -> dict[str, Any]:
        payload = case.payload
        change, number = str(payload["change"]), str(payload["number"])
        group = BorrowerGroup.objects.filter(key=str(payload.get("group") or "")).first()
        if change == "create":
            assert group is not None  # checked just before the release
            borrower = Borrower.objects.create(
                number=number,
                name=str(payload["name"]).strip(),
                group=group,
                insider=payload.get("insider") == "yes",
            )
            before: dict[str, Any] = {}
        else:
            borrower = Borrower.objects.select_for_update().get(number=number)
            before = {
                "name": borrower.name,
                "group": borrower.group.key,
                "insider": borrower.insider,
            }
            if change == "name":
                borrower.name = str(payload["name"]).strip()
            elif change == "group":
                assert group is not None
                borrower.group = group
            else:
                borrower.insider = payload.get("insider") == "yes"
            borrower.save()
        after = {"name": borrower.name, "group": borrower.group.key, "insider": borrower.insider}
        record(
            "credit.borrower.changed" if before else "credit.borrower.created",
            actor=actor,
            object_type="borrower",
            object_id=number,
            before=before or None,
            after=after,
            reason=f"released borrower case {case.pk}",
        )
        return {"borrower": number, "change": change, "before": before, "after": after}
