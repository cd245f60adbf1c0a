"""The ``access.grant`` effect: a released role-grant case creates the role assignment."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from django.contrib.auth import get_user_model

from backoffice.access.models import Role, RoleAssignment
from backoffice.audit.services import record
from backoffice.cases.effects import EffectProblem

__all__ = ["RoleGrant"]


class RoleGrant:
    """IAM-1: requester (maker), approver and beneficiary are three different people."""

    def check(self, payload: Mapping[str, Any]) -> EffectProblem | None:
        if not Role.objects.filter(key=payload.get("role"), retired_at__isnull=True).exists():
            return EffectProblem(
                "access.unknown_role", f"There is no role {payload.get('role')!r}."
            )
        return None

    def preview(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "kind": "grant",
            "beneficiary": payload.get("beneficiary"),
            "role": payload.get("role"),
            "valid_from": payload.get("valid_from"),
            "valid_to": payload.get("valid_to"),
        }

    def apply(self, case: Any, *, actor: str) -> dict[str, Any]:
        payload = case.payload
        user = get_user_model().objects.get(username=payload["beneficiary"])
        role = Role.objects.get(key=payload["role"])
        valid_from = date.fromisoformat(payload["valid_from"])
        valid_to = date.fromisoformat(payload["valid_to"]) if payload.get("valid_to") else None
        grant = RoleAssignment.objects.create(
            user=user,
            role=role,
            valid_from=valid_from,
            valid_to=valid_to,
            granted_by=case.maker.username,
            approved_by=actor,
            source=f"case:{case.pk}",
        )
        after = {
            "person": user.username,
            "role": role.key,
            "valid_from": valid_from,
            "valid_to": valid_to,
            "granted_by": grant.granted_by,
            "approved_by": actor,
        }
        record(
            "access.assignment.created",
            actor=actor,
            object_type="assignment",
            object_id=f"{user.username}/{role.key}/{valid_from.isoformat()}",
            after=after,
            reason=f"released role-grant case {case.pk}",
        )
        return after
