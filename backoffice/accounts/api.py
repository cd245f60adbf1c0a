"""``GET /me``: who the caller is and what they may do."""

from __future__ import annotations

from decimal import Decimal

from django.http import HttpRequest
from ninja import Router, Schema

from backoffice.base.actor import actor_of
from backoffice.base.http import PROBLEMS

__all__ = ["router"]

router = Router(tags=["me"])


class MoneyOut(Schema):
    amount: Decimal
    currency: str


class MeOut(Schema):
    username: str
    name: str
    lines: list[str]
    units: list[str]
    roles: list[str]
    permissions: list[str]
    board_member: bool
    competence: MoneyOut | None


@router.get(
    "/me", response={200: MeOut, **PROBLEMS}, summary="The caller: lines, units, roles, competence"
)
def me(request: HttpRequest) -> MeOut:
    facts = actor_of(request).facts
    return MeOut(
        username=facts.person,
        name=facts.name,
        lines=sorted(line.value for line in facts.lines),
        units=sorted(facts.units),
        roles=sorted(facts.roles),
        permissions=sorted(facts.permissions),
        board_member=facts.board_member,
        competence=(
            MoneyOut(amount=facts.competence.amount, currency=facts.competence.currency)
            if facts.competence
            else None
        ),
    )
