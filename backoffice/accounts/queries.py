"""The facts about a person that the core's rules take as input."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from backoffice.access.queries import get_roles_and_permissions
from backoffice.core.actors import ActorFacts
from backoffice.core.money import Money
from backoffice.core.org import Line
from backoffice.org.models import Membership

__all__ = ["get_actor_facts", "get_facts_by_username", "forget_actor_facts"]


def get_actor_facts(user: Any, day: date | None = None) -> ActorFacts:
    """Lines, units, roles, competence and board seat of ``user`` on ``day``.

    Memoised on the user object, which lives for one request: the services, the checked
    reads and the response all ask for the same facts.
    """
    day = day or timezone.localdate()
    memo: dict[date, ActorFacts] = user.__dict__.setdefault("_backoffice_facts", {})
    if day not in memo:
        memo[day] = _actor_facts(user, day)
    return memo[day]


def forget_actor_facts(user: Any) -> None:
    """After a change to the user's own roles or units within the same request."""
    user.__dict__.pop("_backoffice_facts", None)


def _actor_facts(user: Any, day: date) -> ActorFacts:
    active = Q(valid_from__lte=day) & (Q(valid_to__isnull=True) | Q(valid_to__gt=day))
    memberships = list(
        Membership.objects.filter(active, user=user, unit__retired_at__isnull=True)
        .select_related("unit")
        .only("unit__key", "unit__line", "unit__parent_id")
    )
    roles, permissions = get_roles_and_permissions(user, day)
    profile = getattr(user, "profile", None)
    competence = None
    if profile is not None and profile.competence_amount is not None:
        competence = Money(profile.competence_amount, profile.competence_currency)
    return ActorFacts(
        person=user.get_username(),
        name=profile.display_name if profile else user.get_username(),
        lines=frozenset(Line(m.unit.line) for m in memberships),
        units=frozenset(m.unit.key for m in memberships),
        roles=roles,
        permissions=permissions,
        competence=competence,
        board_member=any(
            m.unit.parent_id is None and m.unit.line == Line.MANAGEMENT for m in memberships
        ),
        active=user.is_active,
    )


def get_facts_by_username(username: str, day: date | None = None) -> ActorFacts | None:
    user = get_user_model().objects.select_related("profile").filter(username=username).first()
    return get_actor_facts(user, day) if user is not None else None
