"""Reads of the organisation, mapped into the core's domain objects."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar, cast

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext

from backoffice.base.context import cached
from backoffice.base.references import Directory
from backoffice.core.labels import Label
from backoffice.core.money import Money
from backoffice.core.org import (
    Line,
    Membership,
    MembershipRole,
    Organisation,
    Period,
    Person,
    Responsibility,
    Unit,
    Violation,
    check_separation,
)
from backoffice.core.policy import Policy, parse_policy
from backoffice.org import models

T = TypeVar("T")

__all__ = [
    "PICK_LIMIT",
    "OrganisationView",
    "institution_name",
    "pick_people",
    "derived_from_live_policy",
    "get_domain_organisation",
    "get_live_policy",
    "get_organisation",
    "get_person_overview",
    "live_policy_version",
    "unit_directory",
]


def get_domain_organisation() -> Organisation:
    """The live organisation (retired units left out) with its full membership history."""
    units = {
        u.key: Unit(
            u.key, u.name, Line(u.line), u.parent.key if u.parent else None, u.explicit_line
        )
        for u in models.Unit.objects.filter(retired_at__isnull=True).select_related("parent")
    }
    people = {
        p.user.username: Person(
            p.user.username,
            p.display_name,
            Money(p.competence_amount, p.competence_currency)
            if p.competence_amount is not None
            else None,
        )
        for p in models.Profile.objects.select_related("user")
    }
    memberships = tuple(
        Membership(m.user.username, m.unit.key, MembershipRole(m.role), m.period, m.exception)
        for m in models.Membership.objects.select_related("user", "unit")
        if m.unit.key in units
    )
    responsibilities = tuple(
        Responsibility(r.user.username, r.unit.key, r.period)
        for r in models.Responsibility.objects.select_related("user", "unit")
        if r.unit.key in units
    )
    return Organisation(units, people, memberships, responsibilities)


@dataclass(frozen=True)
class OrganisationView:
    """What the organisation page shows: the tree by line, who is where today, the checks."""

    organisation: Organisation
    violations: list[Violation]
    today: date

    @property
    def is_empty(self) -> bool:
        return not self.organisation.units

    def tree(self) -> list[dict[str, Any]]:
        """Depth-first rows with indentation, members today and responsible board members."""
        org = self.organisation
        children: dict[str | None, list[Unit]] = {}
        for unit in org.units.values():
            children.setdefault(unit.parent, []).append(unit)
        rows: list[dict[str, Any]] = []

        def walk(parent: str | None, depth: int) -> None:
            for unit in sorted(children.get(parent, []), key=lambda u: (u.line.value, u.name)):
                members = [
                    {
                        "person": m.person,
                        "name": org.name(m.person),
                        "role": m.role.value,
                        "period": m.period,
                        "exception": m.exception,
                    }
                    for m in org.memberships
                    if m.unit == unit.id and m.period.contains(self.today)
                ]
                board = sorted(
                    {
                        org.name(r.person)
                        for r in org.responsible_board_members(unit.id)
                        if r.period.contains(self.today)
                    }
                )
                history = sorted(
                    (
                        {
                            "name": org.name(m.person),
                            "role": m.role.value,
                            "period": m.period,
                            "exception": m.exception,
                        }
                        for m in org.memberships
                        if m.unit == unit.id and not m.period.contains(self.today)
                    ),
                    key=lambda h: cast(Period, h["period"]).valid_from,
                )
                rows.append(
                    {
                        "unit": unit,
                        "depth": depth,
                        "members": members,
                        "board": board,
                        "history": history,
                    }
                )
                walk(unit.id, depth + 1)

        walk(None, 0)
        return rows


def get_organisation(day: date | None = None) -> OrganisationView:
    org = get_domain_organisation()
    violations = check_separation(org) if org.units else []
    return OrganisationView(org, violations, day or timezone.localdate())


def get_person_overview(user: Any) -> dict[str, Any]:
    today = timezone.localdate()
    memberships = (
        models.Membership.objects.filter(user=user).select_related("unit").order_by("-valid_from")
    )
    profile = getattr(user, "profile", None)
    return {
        "name": profile.display_name if profile else user.get_username(),
        "competence": (
            Money(profile.competence_amount, profile.competence_currency)
            if profile and profile.competence_amount is not None
            else None
        ),
        "current": [m for m in memberships if m.period.contains(today)],
        "past": [m for m in memberships if not m.period.contains(today)],
    }


_live: dict[str, Any] = {}


def live_policy_version() -> tuple[int, str, Any] | None:
    """``(number, sha256, loaded_at)`` of the live policy, read once per request
    (``base.context``): every rule set derived from the policy asks for it, and it changes
    only when a policy is applied, which forgets it (``org.services.apply_policy``). The time
    it was loaded tells a policy loaded again into an emptied database from the old one."""

    def read() -> tuple[int, str, Any] | None:
        rows = models.PolicyVersion.objects.order_by("-number")
        return rows.values_list("number", "sha256", "loaded_at").first()

    return cached("policy_version", read)


def institution_name() -> str:
    """The live policy's institution ("Musterbank AG"), as reports print it; "" before any."""
    policy = get_live_policy()
    return policy.institution.name if policy is not None else ""


def get_live_policy() -> Policy | None:
    """The live policy as parsed, once per policy version (walls and access rules read it)."""
    version = live_policy_version()
    if version is None:
        return None
    if _live.get("version") != version:
        source = models.PolicyVersion.objects.get(number=version[0]).source
        document = parse_policy(source.encode("utf-8"), f"policy version {version[0]}")
        _live.clear()
        _live.update(version=version, policy=document.policy)
    policy: Policy = _live["policy"]
    return policy


def derived_from_live_policy(name: str, build: Callable[[Policy], T]) -> T | None:
    """``build(policy)`` for the live policy, computed once per policy version and ``name``."""
    policy = get_live_policy()
    if policy is None:
        return None
    key = f"derived:{name}"
    if key not in _live:
        _live[key] = build(policy)
    value: T = _live[key]
    return value


def unit_directory() -> Directory:
    """The units in use, for payload fields of type ``unit``."""
    alive = models.Unit.objects.filter(retired_at__isnull=True)
    return Directory(
        existing=lambda ids: frozenset(alive.filter(key__in=ids).values_list("key", flat=True)),
        choices=lambda: list(alive.order_by("name").values_list("key", "name")),
    )


def _words(policy: Policy) -> dict[str, str]:
    """Role and unit names by id, and each permission as the names of the roles that grant
    it directly ("Payment releaser or Board member"), for refusals and "why me" (#19)."""
    words: dict[str, str] = {f"role:{r.id}": r.name for r in policy.roles}
    words |= {f"unit:{u.id}": u.name for u in policy.units}
    grantors: dict[str, list[Label]] = {}
    for role in policy.roles:
        for permission in role.permissions:
            grantors.setdefault(permission, []).append(role.name)
    # #19: the roles' names are labels; "or" joins them in each language a name has
    words |= {f"permission:{p}": _either(names) for p, names in grantors.items()}
    return words


def _either(names: list[Label]) -> Label:
    languages = {code for name in names for code in name.translations}
    joined = {}
    for code in sorted(languages):
        with translation.override(code):
            joined[code] = gettext(" or ").join(n.text(code) for n in names)
    return Label(" or ".join(names), joined)


def who_words() -> dict[str, str]:
    """``_words`` of the live policy, once per policy version (empty without a policy)."""
    return derived_from_live_policy("who_words", _words) or {}


def role_permissions() -> dict[str, frozenset[str]]:
    """The permissions each role grants itself (not through the roles it contains)."""
    built = derived_from_live_policy(
        "role_permissions", lambda p: {r.id: frozenset(r.permissions) for r in p.roles}
    )
    return built or {}


def display_names() -> dict[str, str]:
    """Every login's display name, read once per request (#19: names, not logins, on pages)."""

    def read() -> dict[str, str]:
        rows = models.Profile.objects.values_list("user__username", "display_name")
        return {login: name for login, name in rows if name}

    return cached("display_names", read)


#: #19: at most this many people per answer of the person picker: it is for picking one
#: person whose name one starts to type, not for browsing the staff
PICK_LIMIT = 10
#: who may pick former colleagues too: the trail keeps the logins of people who have left
FORMER_PEOPLE_READERS = frozenset({"audit.read"})


def pick_people(
    permissions: frozenset[str], text: str, limit: int = PICK_LIMIT
) -> tuple[list[tuple[str, str]], bool]:
    """#19: people whose name or login contains ``text``, as (login, name), and whether
    there are more. Everyone sees the active colleagues (the organisation chart shows them
    all); only readers of the audit trail also find the deactivated ones it names."""
    people = get_user_model().objects.all()
    if not FORMER_PEOPLE_READERS & permissions:
        people = people.filter(is_active=True)
    text = text.strip()[:100]
    if text:
        people = people.filter(
            Q(username__icontains=text) | Q(profile__display_name__icontains=text)
        )
    limit = max(1, min(limit, PICK_LIMIT))
    rows = list(
        people.order_by("profile__display_name", "username").values_list(
            "username", "profile__display_name"
        )[: limit + 1]
    )
    return [(login, name or login) for login, name in rows[:limit]], len(rows) > limit
