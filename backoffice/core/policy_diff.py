"""What a policy change means, and whether it makes control weaker (#13).

A YAML diff shows what was typed; the people who release a policy change must see what it
does: "payment-release: 1 approval for amount below 100,000,000 (was below 10,000)".
:func:`diff_policies` compares two valid policies section by section and returns typed
changes, each with a sentence and ``weakens``: True when the new policy lets through
something the old one stopped, or lets more people do more. That covers an access risk
or SSD constraint removed or loosened, a Chinese wall opened, a separation exception, a
step dropped or made conditional, fewer eyes, a higher limit, a wider ``who``, and roles,
people or units gaining power. A policy change that weakens needs compliance's approval
besides the second administrator's (the ``policy-change`` process, docs/policy.md).

Fail-safe: a change whose meaning cannot be worked out here (a tier condition that is not
a plain comparison with a number, a changed step condition, a new route to an effect)
counts as weakening. Comparing a policy with itself yields nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from itertools import combinations

from backoffice.core.access import LEVELS, AccessSpec, RiskSpec, SsdSpec
from backoffice.core.cooling import CoolingOffSpec
from backoffice.core.credit import CreditPolicy
from backoffice.core.expressions import referenced_names
from backoffice.core.org import Line, Period
from backoffice.core.payload import FieldSpec, FieldType
from backoffice.core.policy import Policy, to_organisation
from backoffice.core.processes import ExcludeSpec, ProcessSpec, StepSpec, TierSpec, WhoSpec
from backoffice.core.recert import (
    RecertSpec,
    criticality_of,
    review_months,
    supports_critical_function,
)
from backoffice.core.roles import expand_roles, permissions_of
from backoffice.core.spec import MoneySpec
from backoffice.core.walls import Kind, WallsSpec

__all__ = [
    "Section",
    "RuleChange",
    "diff_policies",
    "weakens",
    "Bound",
    "parse_bound",
    "tiers_weaken",
]


class Section(StrEnum):
    """Where in the policy a change is (the order in which changes are listed)."""

    ORGANISATION = "organisation"
    PEOPLE = "people"
    ROLES = "roles"
    ACCESS = "access"
    PROCESSES = "processes"
    WALLS = "walls"
    CREDIT = "credit"
    RECERTIFICATION = "recertification"
    TRADING = "trading"


@dataclass(frozen=True)
class RuleChange:
    """One change of meaning between two policies, as a sentence a releaser can judge."""

    section: Section
    subject: str
    text: str
    weakens: bool


def weakens(changes: Iterable[RuleChange]) -> bool:
    """Whether a policy change makes control weaker anywhere (then compliance must agree)."""
    return any(c.weakens for c in changes)


def diff_policies(old: Policy, new: Policy) -> list[RuleChange]:
    """Every change of meaning from ``old`` to ``new``, section by section."""
    return [
        *_organisation(old, new),
        *_people(old, new),
        *_roles(old, new),
        *_access(old, new),
        *_processes(old, new),
        *_walls(old, new),
        *_credit(old, new),
        *_recertification(old, new),
        *_trading(old, new),
    ]


# -- helpers -------------------------------------------------------------------------------


def _number(value: Decimal) -> str:
    """10000 -> "10,000"; 2500.50 -> "2,500.5" (as people read limits)."""
    text = f"{value:,f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _money(value: MoneySpec | None) -> str:
    return "none" if value is None else f"{_number(value.amount)} {value.currency}"


def _raised(old: MoneySpec | None, new: MoneySpec | None, *, none_is_unlimited: bool) -> bool:
    """Whether ``new`` lets more through than ``old``. A limit in another currency cannot be
    compared (Backoffice does not convert): fail-safe, it counts as raised."""
    if old == new:
        return False
    if none_is_unlimited:
        if new is None:
            return True
        if old is None:
            return False
    else:  # None: no competence at all
        if old is None:
            return True
        if new is None:
            return False
    assert old is not None and new is not None
    return old.currency != new.currency or new.amount > old.amount


def _names(items: Iterable[str]) -> str:
    return ", ".join(sorted(items))


def _covered(period: Period, periods: Iterable[Period]) -> bool:
    """Whether one of ``periods`` holds on every day of ``period``."""
    return any(
        p.valid_from <= period.valid_from
        and (p.valid_to is None or (period.valid_to is not None and period.valid_to <= p.valid_to))
        for p in periods
    )


def _period_text(period: Period) -> str:
    if period.valid_to is None:
        return f"from {period.valid_from.isoformat()}"
    return f"from {period.valid_from.isoformat()} until {period.valid_to.isoformat()}"


# -- organisation and people ----------------------------------------------------------------


def _control_of(policy: Policy) -> tuple[frozenset[Line], frozenset[str]]:
    walls = policy.walls
    if walls is None:
        return frozenset(), frozenset()
    return frozenset(walls.control.lines), frozenset(walls.control.units)


def _organisation(old: Policy, new: Policy) -> Iterator[RuleChange]:
    """A unit changing line moves its people to the other side; an ORG-3 exception lets a
    person work across a separation; joining compliance or audit (walls control) means
    reading behind every Chinese wall."""
    section = Section.ORGANISATION
    before, after = to_organisation(old), to_organisation(new)
    for unit_id, unit in after.units.items():
        was = before.units.get(unit_id)
        if was is None:
            yield RuleChange(
                section, unit_id, f"new unit {unit_id} ({unit.line.label} line)", False
            )
        elif was.line != unit.line:
            yield RuleChange(
                section,
                unit_id,
                f"unit {unit_id} moves to the {unit.line.label} line (was {was.line.label}): "
                "its people change sides of the separation rules",
                True,
            )
    for unit_id in sorted(set(before.units) - set(after.units)):
        yield RuleChange(section, unit_id, f"unit {unit_id} is retired", False)
    control_lines, control_units = _control_of(new)
    old_spans: dict[tuple[str, str], list[Period]] = {}
    old_exceptions: dict[tuple[str, str], list[Period]] = {}
    for m in old.memberships:
        old_spans.setdefault((m.person, m.unit), []).append(m.period)
        if m.exception is not None:
            old_exceptions.setdefault((m.person, m.unit), []).append(m.period)
    old_keys = {(m.person, m.unit, m.role, m.valid_from, m.valid_to) for m in old.memberships}
    for m in new.memberships:
        key = (m.person, m.unit)
        if (m.person, m.unit, m.role, m.valid_from, m.valid_to) in old_keys and (
            m.exception is None or _covered(m.period, old_exceptions.get(key, []))
        ):
            continue
        unit = after.units[m.unit]
        where = f"{m.person} in {m.unit} ({unit.line.label} line) {_period_text(m.period)}"
        if m.exception is not None and not _covered(m.period, old_exceptions.get(key, [])):
            yield RuleChange(
                section,
                m.person,
                f"ORG-3 exception: {where}, across a separation of lines "
                f"({m.exception.reason}; approved by {m.exception.approved_by})",
                True,
            )
        elif _covered(m.period, old_spans.get(key, [])):
            yield RuleChange(section, m.person, f"membership changed: {where}", False)
        elif unit.line in control_lines or m.unit in control_units:
            yield RuleChange(
                section,
                m.person,
                f"{where}: reads behind every Chinese wall (walls control)",
                True,
            )
        else:
            yield RuleChange(section, m.person, f"new membership: {where}", False)
    new_keys = {(m.person, m.unit, m.role, m.valid_from, m.valid_to) for m in new.memberships}
    for m in old.memberships:
        if (m.person, m.unit, m.role, m.valid_from, m.valid_to) not in new_keys and not any(
            n.person == m.person and n.unit == m.unit for n in new.memberships
        ):
            yield RuleChange(section, m.person, f"membership ends: {m.person} in {m.unit}", False)


def _people(old: Policy, new: Policy) -> Iterator[RuleChange]:
    """A competence limit (the most a person may release) raised, or given to someone."""
    section = Section.PEOPLE
    before = {p.id: p for p in old.people}
    for person in new.people:
        was = before.get(person.id)
        if was is None:
            text = f"new person {person.id}"
            if person.competence is not None:
                text += f" with competence {_money(person.competence)}"
            yield RuleChange(section, person.id, text, False)
            continue
        if was.competence != person.competence:
            yield RuleChange(
                section,
                person.id,
                f"{person.id}: competence {_money(person.competence)} "
                f"(was {_money(was.competence)})",
                _raised(was.competence, person.competence, none_is_unlimited=False),
            )
    gone = set(before) - {p.id for p in new.people}
    for person_id in sorted(gone):
        yield RuleChange(section, person_id, f"{person_id} leaves (account deactivated)", False)


# -- roles and assignments --------------------------------------------------------------


def _hierarchy(policy: Policy) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    contains = {r.id: list(r.contains) for r in policy.roles}
    grants = {r.id: list(r.permissions) for r in policy.roles}
    return contains, grants


def _roles(old: Policy, new: Policy) -> Iterator[RuleChange]:
    """A role gaining permissions or roles (directly or through its hierarchy) widens what
    every holder may do; a person gaining a role in the policy gets it without a role-grant
    case. Both weaken."""
    section = Section.ROLES
    old_contains, old_grants = _hierarchy(old)
    new_contains, new_grants = _hierarchy(new)
    old_specs = {r.id: r for r in old.roles}
    inherited: list[str] = []
    for role in new.roles:
        was = old_specs.get(role.id)
        if was is None:
            yield RuleChange(section, role.id, f"new role {role.id}", False)
            continue
        perms_before = permissions_of([role.id], old_contains, old_grants)
        perms_after = permissions_of([role.id], new_contains, new_grants)
        roles_before = expand_roles([role.id], old_contains)
        roles_after = expand_roles([role.id], new_contains)
        gained_perms, lost_perms = perms_after - perms_before, perms_before - perms_after
        gained_roles, lost_roles = roles_after - roles_before, roles_before - roles_after
        direct = (set(was.permissions), set(was.contains)) != (
            set(role.permissions),
            set(role.contains),
        )
        if (gained_perms or gained_roles) and not direct:
            inherited.append(role.id)  # said once below, not once per containing role
        elif gained_perms or gained_roles:
            parts = []
            if gained_perms:
                parts.append(f"the permissions {_names(gained_perms)}")
            if gained_roles:
                parts.append(f"the roles {_names(gained_roles)}")
            yield RuleChange(section, role.id, f"role {role.id} gains {' and '.join(parts)}", True)
        if lost_perms or lost_roles:
            lost = _names(lost_perms | lost_roles)
            yield RuleChange(section, role.id, f"role {role.id} loses {lost}", False)
    if inherited:
        yield RuleChange(
            section,
            "hierarchy",
            f"through the role hierarchy, {len(inherited)} more role(s) gain the same: "
            f"{_names(inherited)}",
            True,
        )
    for role_id in sorted(set(old_grants) - set(new_grants)):
        yield RuleChange(section, role_id, f"role {role_id} is retired", False)
    held: dict[tuple[str, str], list[Period]] = {}
    for a in old.assignments:
        held.setdefault((a.person, a.role), []).append(a.period)
    for a in new.assignments:
        if not _covered(a.period, held.get((a.person, a.role), [])):
            yield RuleChange(
                section,
                a.person,
                f"{a.person} gets role {a.role} {_period_text(a.period)}, in the policy "
                "rather than through a role-grant case",
                True,
            )


# -- access rules ------------------------------------------------------------------------


def _function_permissions(spec: AccessSpec | None) -> dict[str, frozenset[str]]:
    return {f.id: frozenset(f.permissions) for f in spec.functions} if spec else {}


def _risk_holds(
    old: RiskSpec,
    old_functions: Mapping[str, frozenset[str]],
    new: RiskSpec,
    new_functions: Mapping[str, frozenset[str]],
) -> bool:
    """Whether ``new`` fires for everyone ``old`` fires for, at least as severely.

    A risk fires when a person holds one permission of each of its functions. ``new`` then
    fires for every such person exactly when each of its functions contains all
    permissions of one of ``old``'s functions.
    """
    if LEVELS.index(new.level) > LEVELS.index(old.level):
        return False
    return all(
        any(
            old_functions.get(f, frozenset()) <= new_functions.get(g, frozenset())
            for f in old.functions
        )
        for g in new.functions
    )


def _ssd_holds(old: SsdSpec, new: SsdSpec) -> bool:
    """Whether every role set that breaks ``old`` breaks ``new``: the fewest roles of
    ``new`` among ``n`` roles of ``old`` is ``n`` minus those ``new`` left out."""
    left_out = len(set(old.roles) - set(new.roles))
    return max(0, old.n - left_out) >= new.n


def _access(old: Policy, new: Policy) -> Iterator[RuleChange]:
    """Access risks and SSD constraints removed or loosened (lower level, a function added,
    a function narrowed, a role left out, a higher ``n``)."""
    section = Section.ACCESS
    old_functions = _function_permissions(old.access)
    new_functions = _function_permissions(new.access)
    old_risks = list(old.access.risks) if old.access else []
    new_risks = list(new.access.risks) if new.access else []
    new_by_id = {r.id: r for r in new_risks}
    for risk in old_risks:
        same = new_by_id.get(risk.id)
        held = any(_risk_holds(risk, old_functions, r, new_functions) for r in new_risks)
        if same is None:
            text = f"access risk {risk.id} ({risk.level}) removed"
            if held:
                text += "; a remaining risk still covers it"
            yield RuleChange(section, risk.id, text, not held)
            continue
        details = _risk_details(risk, old_functions, same, new_functions)
        if held and not details:
            continue
        text = f"access risk {risk.id}: " + ("; ".join(details) or "changed")
        if held and not _risk_holds(risk, old_functions, same, new_functions):
            text += "; another risk still covers the old one"
        yield RuleChange(section, risk.id, text, not held)
    old_ids = {r.id for r in old_risks}
    for risk in new_risks:
        if risk.id not in old_ids:
            yield RuleChange(
                section,
                risk.id,
                f"new access risk {risk.id} ({risk.level}): {_names(risk.functions)}",
                False,
            )
    old_ssd = list(old.access.ssd) if old.access else []
    new_ssd = list(new.access.ssd) if new.access else []
    new_ssd_by_id = {c.id: c for c in new_ssd}
    for constraint in old_ssd:
        held = any(_ssd_holds(constraint, c) for c in new_ssd)
        kept = new_ssd_by_id.get(constraint.id)
        if kept is None:
            text = f"SSD constraint {constraint.id} removed"
            if held:
                text += "; a remaining constraint still covers it"
            yield RuleChange(section, constraint.id, text, not held)
        elif kept.roles != constraint.roles or kept.n != constraint.n:
            yield RuleChange(
                section,
                constraint.id,
                f"SSD constraint {constraint.id}: no one may hold {kept.n} of "
                f"{_names(kept.roles)} (was {constraint.n} of {_names(constraint.roles)})",
                not held,
            )
    old_ssd_ids = {c.id for c in old_ssd}
    for constraint in new_ssd:
        if constraint.id not in old_ssd_ids:
            yield RuleChange(
                section,
                constraint.id,
                f"new SSD constraint {constraint.id}: no one may hold {constraint.n} of "
                f"{_names(constraint.roles)}",
                False,
            )


def _risk_details(
    old: RiskSpec,
    old_functions: Mapping[str, frozenset[str]],
    new: RiskSpec,
    new_functions: Mapping[str, frozenset[str]],
) -> list[str]:
    details = []
    if new.level != old.level:
        details.append(f"level {new.level} (was {old.level})")
    added = set(new.functions) - set(old.functions)
    removed = set(old.functions) - set(new.functions)
    if added:
        details.append(f"now also needs the functions {_names(added)}")
    if removed:
        details.append(f"no longer needs the functions {_names(removed)}")
    for function in sorted(set(old.functions) & set(new.functions)):
        before = old_functions.get(function, frozenset())
        after = new_functions.get(function, frozenset())
        if before - after:
            details.append(f"function {function} no longer counts {_names(before - after)}")
        if after - before:
            details.append(f"function {function} also counts {_names(after - before)}")
    return details


# -- processes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Bound:
    """A tier condition understood as ``variable op limit`` (``amount < 10000``)."""

    variable: str
    op: str
    limit: Decimal

    def holds(self, value: Decimal) -> bool:
        if self.op == "<":
            return value < self.limit
        if self.op == "<=":
            return value <= self.limit
        if self.op == ">":
            return value > self.limit
        return value >= self.limit

    def describe(self, unit: str = "") -> str:
        words = {"<": "below", "<=": "up to", ">": "above", ">=": "from"}[self.op]
        return f"for {self.variable} {words} {_number(self.limit)}{unit}"


_NUMBER = r"\d{1,30}(?:\.\d{1,30})?"
_NAME = r"[a-z][a-z0-9_]{0,63}"
_OPERATOR = r"<=|<|>=|>"
_FORWARD = re.compile(rf"\s*({_NAME})\s*({_OPERATOR})\s*({_NUMBER})\s*")
_BACKWARD = re.compile(rf"\s*({_NUMBER})\s*({_OPERATOR})\s*({_NAME})\s*")
_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}

#: a tier's condition: ``None`` always holds (``true``); a Bound; or a string not understood
Condition = Bound | str | None


def parse_bound(source: str) -> Condition:
    """``amount < 10000`` as a Bound, ``true`` as None, anything else as its text."""
    if source.strip() == "true":
        return None
    if match := _FORWARD.fullmatch(source):
        return Bound(match[1], match[2], Decimal(match[3]))
    if match := _BACKWARD.fullmatch(source):
        return Bound(match[3], _FLIPPED[match[2]], Decimal(match[1]))
    return source


Eyes = tuple[int, int]  # (approvals, of them from the board)


def _eyes(tier: TierSpec) -> Eyes:
    return tier.approvals, tier.board


def _schedule(tiers: Sequence[TierSpec]) -> list[tuple[Bound | None, Eyes]] | None:
    """The tiers as (bound, eyes), or None when a condition is not a plain comparison."""
    schedule: list[tuple[Bound | None, Eyes]] = []
    for tier in tiers:
        condition = parse_bound(tier.when)
        if isinstance(condition, str):
            return None
        schedule.append((condition, _eyes(tier)))
    return schedule


def _eyes_at(schedule: Sequence[tuple[Bound | None, Eyes]], value: Decimal) -> Eyes:
    """The first tier that applies, as the engine picks it; none at all: the strictest."""
    for bound, eyes in schedule:
        if bound is None or bound.holds(value):
            return eyes
    return max(eyes for _, eyes in schedule)


def tiers_weaken(old: Sequence[TierSpec], new: Sequence[TierSpec]) -> bool:
    """Whether some case needs fewer approvals (or fewer from the board) under ``new``.

    Tiers of plain comparisons of one variable with numbers are compared at every
    threshold and between them (the schedule is constant in between), exactly. Otherwise
    the same conditions are compared tier by tier; anything else cannot be compared and
    counts as weakening (fail-safe).
    """
    banded = _bands_weaken(old, new)
    if banded is not None:
        return banded
    compared = _compare_schedules(old, new)
    if compared is not None:
        return compared
    if [t.when for t in old] == [t.when for t in new]:
        # the same tier applies to the same case; an unreachable tier may be over-reported
        return any(_less(_eyes(a), _eyes(b)) for a, b in zip(old, new, strict=True))
    return True


def _bands_weaken(old: Sequence[TierSpec], new: Sequence[TierSpec]) -> bool | None:
    """#16: amount bands compared at every band edge, just below it and between edges;
    None when neither side has bands. A band with a condition besides cannot be compared
    and counts as weakening unless nothing changed (fail-safe)."""
    tiers = (*old, *new)
    if not any(t.banded for t in tiers):
        return None
    if list(old) == list(new):
        return False
    if any(t.when != "true" for t in tiers):
        return True
    edges = sorted({e for t in tiers for e in (t.at_least, t.below) if e is not None})
    points = {Decimal(0), edges[-1] + 1, *edges, *(e - Decimal("0.01") for e in edges)}
    points |= {(a + b) / 2 for a, b in zip(edges, edges[1:], strict=False)}

    def eyes_at(schedule: Sequence[TierSpec], value: Decimal) -> Eyes:
        found = next((t for t in schedule if t.in_band(float(value))), None)
        return _eyes(found) if found else max(_eyes(t) for t in schedule)

    return any(_less(eyes_at(old, x), eyes_at(new, x)) for x in points if x >= 0)


def _compare_schedules(old: Sequence[TierSpec], new: Sequence[TierSpec]) -> bool | None:
    """Fewer eyes somewhere under ``new``; None when the conditions cannot be compared."""
    before, after = _schedule(old), _schedule(new)
    if before is None or after is None:
        return None
    bounds = [b for b, _ in (*before, *after) if b is not None]
    if len({b.variable for b in bounds}) > 1:
        return None
    limits = sorted({b.limit for b in bounds})
    points = [Decimal(0)] if not limits else [limits[0] - 1, limits[-1] + 1]
    points += limits + [(a + b) / 2 for a, b in zip(limits, limits[1:], strict=False)]
    return any(_less(_eyes_at(before, x), _eyes_at(after, x)) for x in points)


def _less(before: Eyes, after: Eyes) -> bool:
    return after[0] < before[0] or after[1] < before[1]


def _eyes_text(tier: TierSpec) -> str:
    text = "1 approval" if tier.approvals == 1 else f"{tier.approvals} approvals"
    if tier.board:
        text += f", {tier.board} of them from the board"
    return text


def _condition_text(tier: TierSpec, tiers: int, unit: str) -> str:
    condition = parse_bound(tier.when)
    if condition is None:
        return "in every other case" if tiers > 1 else "always"
    if isinstance(condition, Bound):
        return condition.describe(unit)
    return f"when {condition}"


def _tiers_text(old: Sequence[TierSpec], new: Sequence[TierSpec], unit: str) -> str:
    """The changed tiers, one by one as "N approvals for X below Y (was …)"."""
    if len(old) != len(new):
        before = "; ".join(f"{_eyes_text(t)} {_condition_text(t, len(old), unit)}" for t in old)
        after = "; ".join(f"{_eyes_text(t)} {_condition_text(t, len(new), unit)}" for t in new)
        return f"{after} (was {before})"
    parts = []
    for was, tier in zip(old, new, strict=True):
        if (was.when, _eyes(was)) == (tier.when, _eyes(tier)):
            continue
        eyes, condition = _eyes_text(tier), _condition_text(tier, len(new), unit)
        old_eyes, old_condition = _eyes_text(was), _condition_text(was, len(old), unit)
        if eyes == old_eyes:
            words = old_condition.split(" ")
            # "for amount below 10,000" -> "was below 10,000" when only the number moved
            same_variable = condition.split(" ")[:2] == words[:2] and words[0] == "for"
            shown = " ".join(words[2:]) if same_variable else old_condition
            parts.append(f"{eyes} {condition} (was {shown})")
        elif condition == old_condition:
            parts.append(f"{eyes} {condition} (was {old_eyes})")
        else:
            parts.append(f"{eyes} {condition} (was {old_eyes} {old_condition})")
    return "; ".join(parts)


def _amount_unit(process: ProcessSpec, tiers: Sequence[TierSpec]) -> str:
    """ " EUR" when the compared amount field admits exactly one currency, else ""."""
    variables = {b.variable for t in tiers if isinstance(b := parse_bound(t.when), Bound)}
    if len(variables) != 1:
        return ""
    spec = process.field(next(iter(variables)))
    if spec is not None and spec.type == FieldType.AMOUNT and len(spec.currencies) == 1:
        return f" {spec.currencies[0]}"
    return ""


def _who_widened(old: WhoSpec, new: WhoSpec) -> bool:
    """Whether someone qualifies under ``new`` who did not under ``old``: every list given
    must match, any entry within a list; an empty list does not restrict."""
    pairs: tuple[tuple[list[str], list[str]], ...] = (
        ([str(x) for x in old.lines], [str(x) for x in new.lines]),
        (list(old.roles), list(new.roles)),
        (list(old.units), list(new.units)),
        (list(old.permissions), list(new.permissions)),
    )
    return any(
        bool(before) and (not after or not set(after) <= set(before)) for before, after in pairs
    )


def _exclude_removed(old: ExcludeSpec, new: ExcludeSpec) -> list[str]:
    removed = []
    if lost := set(old.steps) - set(new.steps):
        removed.append(f"those who acted on {_names(lost)}")
    if lost := {str(x) for x in old.lines} - {str(x) for x in new.lines}:
        removed.append(f"the {_names(lost)} line(s)")
    if lost := set(old.beneficiaries) - set(new.beneficiaries):
        removed.append(f"the person named in {_names(lost)}")
    return removed


def _control_fields(process: ProcessSpec) -> set[str]:
    """Payload fields a control depends on: conditions, authority, exclusions, derived."""
    names = set(process.starter_excludes)
    names.update(f.name for f in process.payload if f.derived)
    for step in process.steps:
        sources = [step.when] if step.when else []
        sources += [t.when for t in step.tiers]
        for source in sources:
            assert source is not None
            names.update(n.removesuffix("_currency") for n in referenced_names(source))
        if step.authority:
            names.add(step.authority)
        names.update(step.exclude.beneficiaries)
    return names


def _field_meaning(spec: FieldSpec | None) -> object:
    return None if spec is None else spec.model_dump(exclude={"label", "help", "choice_labels"})


def _processes(old: Policy, new: Policy) -> Iterator[RuleChange]:
    """Steps removed or made conditional, fewer eyes, wider ``who``, exclusions dropped,
    authority checks dropped, a new route to an effect."""
    section = Section.PROCESSES
    before = {p.id: p for p in old.processes}
    for process in new.processes:
        was = before.get(process.id)
        if was is None:
            if process.effect:
                yield RuleChange(
                    section,
                    process.id,
                    f"new process {process.id} with effect {process.effect}: another way "
                    "to change the system, with its own steps",
                    True,
                )
            else:
                yield RuleChange(section, process.id, f"new process {process.id}", False)
            continue
        yield from _process(was, process)
    for process_id in sorted(set(before) - {p.id for p in new.processes}):
        yield RuleChange(
            section, process_id, f"process {process_id} is retired (no new cases)", False
        )


def _process(old: ProcessSpec, new: ProcessSpec) -> Iterator[RuleChange]:
    section, name = Section.PROCESSES, new.id

    def change(text: str, weak: bool) -> RuleChange:
        return RuleChange(section, name, f"{name}: {text}", weak)

    if old.engine != new.engine:
        yield change(f"decided by the {new.engine} engine (was {old.engine})", True)
    if old.effect != new.effect:
        yield change(
            f"effect {new.effect or 'none'} (was {old.effect or 'none'})", new.effect is not None
        )
    if old.starter != new.starter:
        yield change(f"started by {new.starter.describe()} (was {old.starter.describe()})", False)
    if lost := set(old.starter_excludes) - set(new.starter_excludes):
        yield change(f"the person named in {_names(lost)} may now start the case", True)
    for field in sorted(_control_fields(old)):
        was_field, now_field = old.field(field), new.field(field)
        if _field_meaning(was_field) != _field_meaning(now_field):
            what = "removed" if now_field is None else "changed"
            if (
                was_field is not None
                and was_field.derived
                and not (now_field and now_field.derived)
            ):
                what = "no longer worked out by the system: the maker fills it in"
            yield change(f"field {field}, which a control depends on, {what}", True)
    new_steps = {s.id: s for s in new.steps}
    several = len(new.steps) > 1 or len(old.steps) > 1
    for step in old.steps:
        now = new_steps.get(step.id)
        if now is None:
            yield change(f"step {step.id} ({step.name}) removed", True)
            continue
        yield from _step(new, step, now, several)
    old_ids = {s.id for s in old.steps}
    for step in new.steps:
        if step.id not in old_ids:
            yield change(f"new step {step.id} ({step.name})", False)


def _step(
    process: ProcessSpec, old: StepSpec, new: StepSpec, several: bool
) -> Iterator[RuleChange]:
    where = f"{process.id}, step {new.id}" if several else process.id

    def change(text: str, weak: bool) -> RuleChange:
        return RuleChange(Section.PROCESSES, process.id, f"{where}: {text}", weak)

    if old.when != new.when:
        if new.when is None:
            yield change(f"always applies (was only when {old.when})", False)
        elif old.when is None:
            yield change(f"now applies only when {new.when} (was always)", True)
        else:
            yield change(f"applies when {new.when} (was when {old.when})", True)
    if old.who != new.who:
        yield change(
            f"may be done by {new.who.describe()} (was {old.who.describe()})",
            _who_widened(old.who, new.who),
        )
    if removed := _exclude_removed(old.exclude, new.exclude):
        yield change(f"no longer excludes {'; '.join(removed)}", True)
    if added := _exclude_removed(new.exclude, old.exclude):
        yield change(f"now also excludes {'; '.join(added)}", False)
    if old.authority != new.authority:
        if new.authority is None:
            yield change(f"no competence check on {old.authority} any more", True)
        elif old.authority is None:
            yield change(f"the releaser's competence must cover {new.authority}", False)
        else:
            yield change(f"competence checked on {new.authority} (was {old.authority})", True)
    if [(t.when, _eyes(t)) for t in old.tiers] != [(t.when, _eyes(t)) for t in new.tiers]:
        text = _tiers_text(old.tiers, new.tiers, _amount_unit(process, new.tiers))
        same_conditions = [t.when for t in old.tiers] == [t.when for t in new.tiers]
        if not same_conditions and _compare_schedules(old.tiers, new.tiers) is None:
            text += "; the conditions cannot be compared, so this counts as weakening"
        yield change(text, tiers_weaken(old.tiers, new.tiers))


# -- Chinese walls -----------------------------------------------------------------------


Selector = tuple[str, str]  # ("line", "research") or ("unit", "legal")


def _selectors(*specs: WallsSpec | None) -> list[Selector]:
    """Everything a person can be inside an area by: every line, every unit named."""
    found: set[Selector] = {("line", line.value) for line in Line}
    for spec in specs:
        if spec is None:
            continue
        for area in spec.areas:
            found.update(("unit", u) for u in area.units)
        found.update(("unit", u) for u in spec.control.units)
    return sorted(found)


def _is_control(spec: WallsSpec | None, selector: Selector) -> bool:
    if spec is None:
        return False
    kind, value = selector
    members = [str(x) for x in spec.control.lines] if kind == "line" else spec.control.units
    return value in members


def _readers(spec: WallsSpec | None, area: str, selectors: Iterable[Selector]) -> set[Selector]:
    """CW-1 per line or unit: who reads ``area``'s data (a person reads it if any of their
    lines or units does, since ``Walls.inside`` asks whether any of their areas may)."""
    if spec is None:
        return set()
    walled_off = {(b.area, other) for b in spec.barriers for other in b.walled_off_from}

    def areas_of(selector: Selector) -> list[str]:
        kind, value = selector
        return [
            a.id
            for a in spec.areas
            if value in ([str(x) for x in a.lines] if kind == "line" else a.units)
        ]

    return {
        s
        for s in selectors
        if _is_control(spec, s)
        or any(mine == area or (area, mine) not in walled_off for mine in areas_of(s))
    }


def _selector_text(selectors: Iterable[Selector]) -> str:
    return ", ".join(f"the {v.replace('_', ' ')} line" if k == "line" else v for k, v in selectors)


def _walls(old: Policy, new: Policy) -> Iterator[RuleChange]:
    """Barriers removed, areas widened, more control, walled processes unwalled or made
    less secret, competitors no longer in one class, longer crossings."""
    section = Section.WALLS
    before, after = old.walls, new.walls
    if before == after:
        return
    if before is not None and after is None:
        yield RuleChange(section, "walls", "the walls section is removed", True)
    selectors = _selectors(before, after)
    new_control = [s for s in selectors if _is_control(after, s) and not _is_control(before, s)]
    if new_control:
        yield RuleChange(
            section,
            "control",
            f"walls control: {_selector_text(new_control)} now read behind every wall",
            True,
        )
    for area in before.areas if before else []:
        gained = _readers(after, area.id, selectors) - _readers(before, area.id, selectors)
        gained -= set(new_control)
        if gained:
            yield RuleChange(
                section,
                area.id,
                f"{area.name}: {_selector_text(sorted(gained))} may now read its data (CW-1)",
                True,
            )
    yield from _barriers(before, after)
    old_processes = {p.process: p for p in before.walled_processes} if before else {}
    new_processes = {p.process: p for p in after.walled_processes} if after else {}
    for process, was in old_processes.items():
        now = new_processes.get(process)
        if now is None:
            yield RuleChange(
                section, process, f"cases of {process} are no longer behind a wall", True
            )
            continue
        if now == was:
            continue
        weaker = (
            now.issuer != was.issuer
            or (was.kind == Kind.CONFIDENTIAL and now.kind != Kind.CONFIDENTIAL)
            or bool(_readers(after, now.area, selectors) - _readers(before, was.area, selectors))
        )
        yield RuleChange(
            section,
            process,
            f"cases of {process}: {now.kind.value} data of {now.area} by field {now.issuer} "
            f"(was {was.kind.value} data of {was.area} by field {was.issuer})",
            weaker,
        )
    for process in sorted(set(new_processes) - set(old_processes)):
        yield RuleChange(section, process, f"cases of {process} are now behind a wall", False)
    yield from _classes(before, after)
    old_days = before.max_crossing_days if before else 0
    new_days = after.max_crossing_days if after else 0
    if before and after and old_days != new_days:
        yield RuleChange(
            section,
            "crossings",
            f"a wall crossing lasts at most {new_days} days (was {old_days})",
            new_days > old_days,
        )


def _barriers(before: WallsSpec | None, after: WallsSpec | None) -> Iterator[RuleChange]:
    """The barriers as written; who gains access through a removed one is said above."""

    def pairs(spec: WallsSpec | None) -> set[tuple[str, str]]:
        if spec is None:
            return set()
        return {(b.area, other) for b in spec.barriers for other in b.walled_off_from}

    old, new = pairs(before), pairs(after)
    for area, other in sorted(new - old):
        yield RuleChange(
            Section.WALLS, area, f"barrier: {area} data walled off from {other}", False
        )
    for area, other in sorted(old - new):
        yield RuleChange(
            Section.WALLS,
            area,
            f"barrier removed: {area} data no longer walled off from {other}",
            True,
        )


def _classes(before: WallsSpec | None, after: WallsSpec | None) -> Iterator[RuleChange]:
    """BN-1: two issuers that were competitors (one class) and are not any more."""

    def classes(spec: WallsSpec | None) -> dict[str, str]:
        if spec is None:
            return {}
        return {i.id: c.id for c in spec.conflict_classes for i in c.issuers}

    old, new = classes(before), classes(after)
    for conflict_class in before.conflict_classes if before else []:
        members = sorted(i.id for i in conflict_class.issuers)
        split = {
            issuer
            for a, b in combinations(members, 2)
            if new.get(a) is None or new.get(a) != new.get(b)
            for issuer in (a, b)
        }
        if split:
            yield RuleChange(
                Section.WALLS,
                conflict_class.id,
                f"conflict class {conflict_class.id}: {_names(split)} are no longer all kept "
                "apart as competitors (Brewer–Nash)",
                True,
            )
    for issuer in sorted(set(new) - set(old)):
        yield RuleChange(
            Section.WALLS, issuer, f"new issuer {issuer} in class {new[issuer]}", False
        )


# -- credit ---------------------------------------------------------------------------------


def _credit(old: Policy, new: Policy) -> Iterator[RuleChange]:
    """Credit thresholds and limits raised, authority levels widened, fewer committee
    votes, shorter cooling-off, later problem-loan criteria (MaRisk BTO 1)."""
    section = Section.CREDIT
    before, after = old.credit, new.credit
    if before == after:
        return
    if after is None:
        yield RuleChange(section, "credit", "the credit section is removed", True)
        return
    if before is None:
        yield RuleChange(section, "credit", "a credit section is added", False)
        return

    def change(subject: str, text: str, weak: bool) -> RuleChange:
        return RuleChange(section, subject, f"credit: {text}", weak)

    if before.currency != after.currency:
        yield change("currency", f"currency {after.currency} (was {before.currency})", True)
    if before.ratings != after.ratings:
        yield change(
            "ratings",
            f"rating scale {', '.join(after.ratings)} (was {', '.join(before.ratings)})",
            True,
        )
    yield from _risk_relevance(before, after, change)
    if before.on_dissent != after.on_dissent:
        yield change(
            "on_dissent",
            f"differing votes {after.on_dissent} (was {before.on_dissent})",
            before.on_dissent == "reject",
        )
    yield from _levels(before, after, change)
    yield from _committee(before, after, change)
    limits: tuple[tuple[str, str, MoneySpec | None, MoneySpec | None], ...] = (
        (
            "large_exposure_limit",
            "every board member approves from",
            before.large_exposure_limit,
            after.large_exposure_limit,
        ),
        (
            "provision_significance_limit",
            "a provision is significant from",
            before.provision_significance_limit,
            after.provision_significance_limit,
        ),
    )
    for subject, words, was, now in limits:
        if was != now:
            yield change(
                subject,
                f"{words} {_money(now)} (was {_money(was)})",
                _raised(was, now, none_is_unlimited=True),
            )
    yield from _cooling(before.cooling_off, after.cooling_off, change, "the market")
    for stage in ("intensive_care", "workout"):
        was_c = getattr(before.problem_loans, stage)
        now_c = getattr(after.problem_loans, stage)
        if was_c.days_past_due != now_c.days_past_due:
            yield change(
                stage,
                f"{stage.replace('_', ' ')} from {now_c.days_past_due} days past due "
                f"(was {was_c.days_past_due})",
                now_c.days_past_due > was_c.days_past_due,
            )
        if was_c.forborne != now_c.forborne:
            yield change(
                stage,
                f"{stage.replace('_', ' ')} "
                f"{'also' if now_c.forborne else 'no longer'} for forborne credits",
                was_c.forborne,
            )
    if before.review_months != after.review_months:
        yield change(
            "review_months",
            f"counterparty risk reviewed every {after.review_months} months "
            f"(was {before.review_months})",
            after.review_months > before.review_months,
        )
    old_products = {p.id for p in before.products}
    new_products = {p.id for p in after.products}
    if old_products != new_products:
        yield change(
            "products",
            f"products {_names(new_products)} (was {_names(old_products)})",
            False,
        )


_Say = Callable[[str, str, bool], RuleChange]


def _risk_relevance(
    before: CreditPolicy, after: CreditPolicy, change: _Say
) -> Iterator[RuleChange]:
    """CR-1, CR-2: business that is risk-relevant gets the back office's vote."""
    was, now = before.risk_relevance, after.risk_relevance
    if was.threshold != now.threshold:
        yield change(
            "risk_relevance",
            f"risk-relevant from {_money(now.threshold)} (was {_money(was.threshold)})",
            _raised(was.threshold, now.threshold, none_is_unlimited=True),
        )
    if lost := set(was.always) - set(now.always):
        yield change("risk_relevance", f"{_names(lost)} no longer always risk-relevant", True)
    if gained := set(now.never) - set(was.never):
        yield change("risk_relevance", f"{_names(gained)} now never risk-relevant", True)
    if (set(now.always) - set(was.always)) or (set(was.never) - set(now.never)):
        yield change("risk_relevance", "more products risk-relevant", False)
    if was.back_office_vote_always != now.back_office_vote_always:
        yield change(
            "risk_relevance",
            "the back office votes on "
            + ("all business" if now.back_office_vote_always else "risk-relevant business only"),
            was.back_office_vote_always,
        )


def _levels(before: CreditPolicy, after: CreditPolicy, change: _Say) -> Iterator[RuleChange]:
    """CR-3: a level deciding more (higher limit, more products), a new or reordered
    level, a level given by another role or kind (fail-safe)."""
    old_levels = {lv.id: lv for lv in before.levels}
    old_order = [lv.id for lv in before.levels]
    kept = [lv.id for lv in after.levels if lv.id in old_levels]
    if kept != [i for i in old_order if i in kept]:
        yield change("levels", f"authority levels reordered: {', '.join(kept)}", True)
    for level in after.levels:
        was = old_levels.get(level.id)
        if was is None:
            yield change(
                level.id,
                f"new authority level {level.id} up to {_money(level.limit)}",
                True,
            )
            continue
        if was.limit != level.limit:
            limit = "no limit" if level.limit is None else f"up to {_money(level.limit)}"
            old_limit = "no limit" if was.limit is None else _money(was.limit)
            yield change(
                level.id,
                f"level {level.id} decides {limit} (was {old_limit})",
                _raised(was.limit, level.limit, none_is_unlimited=True),
            )
        if was.products != level.products:
            wider = bool(was.products) and (
                not level.products or not set(level.products) <= set(was.products)
            )
            yield change(
                level.id,
                f"level {level.id} decides {_names(level.products) or 'every product'} "
                f"(was {_names(was.products) or 'every product'})",
                wider,
            )
        if (was.role, was.kind) != (level.role, level.kind):
            yield change(
                level.id,
                f"level {level.id} is held by {level.role or level.kind.value} "
                f"(was {was.role or was.kind.value})",
                True,
            )
    for level_id in old_order:
        if level_id not in {lv.id for lv in after.levels}:
            yield change(level_id, f"authority level {level_id} removed", False)


def _committee(before: CreditPolicy, after: CreditPolicy, change: _Say) -> Iterator[RuleChange]:
    """CR-5: fewer votes needed, more members to find them among, or no committee."""
    was, now = before.committee, after.committee
    if was == now:
        return
    if now is None:
        yield change("committee", "the credit committee is removed", True)
        return
    if was is None:
        yield change("committee", "a credit committee is set up", False)
        return
    if now.quorum != was.quorum:
        yield change(
            "committee",
            f"committee quorum {now.quorum} (was {was.quorum})",
            now.quorum < was.quorum,
        )
    if joined := set(now.members) - set(was.members):
        yield change("committee", f"{_names(joined)} join the credit committee", True)
    if left := set(was.members) - set(now.members):
        yield change("committee", f"{_names(left)} leave the credit committee", False)


# -- recertification (#15) ------------------------------------------------------------------


def _review_period(spec: RecertSpec, role: str) -> int:
    return review_months(spec, criticality_of(spec, role), supports_critical_function(spec, role))


def _recertification(old: Policy, new: Policy) -> Iterator[RuleChange]:
    """RECERT-1/2: a longer review period for any role, suspension dropped or later, more
    time for reviewers, a looser rubber-stamp rule, or other reviewers (fail-safe)."""
    section = Section.RECERTIFICATION
    before, after = old.recertification, new.recertification
    if before == after:
        return
    if after is None:
        yield RuleChange(section, "recertification", "the recertification section is removed", True)
        return
    if before is None:
        yield RuleChange(section, "recertification", "a recertification section is added", False)
        return
    for role in sorted({r.id for r in old.roles} | {r.id for r in new.roles}):
        was, now = _review_period(before, role), _review_period(after, role)
        if was != now:
            yield RuleChange(
                section, role, f"role {role} reviewed every {now} months (was {was})", now > was
            )
    if before.suspend_privileged_after_days != after.suspend_privileged_after_days:
        was_days, now_days = (
            before.suspend_privileged_after_days,
            after.suspend_privileged_after_days,
        )
        yield RuleChange(
            section,
            "suspension",
            f"overdue privileged access suspended after {now_days} days (was {was_days})",
            now_days is None or (was_days is not None and now_days > was_days),
        )
    if before.review_days != after.review_days:
        yield RuleChange(
            section,
            "review_days",
            f"reviewers have {after.review_days} days (was {before.review_days})",
            after.review_days > before.review_days,
        )
    was_rule, now_rule = before.rubber_stamp, after.rubber_stamp
    if was_rule != now_rule:
        yield RuleChange(
            section,
            "rubber_stamp",
            f"rubber stamp: more than {now_rule.items} in {now_rule.seconds} s "
            f"(was {was_rule.items} in {was_rule.seconds} s)",
            now_rule.items > was_rule.items or now_rule.seconds < was_rule.seconds,
        )
    if (before.reviewer, before.owners) != (after.reviewer, after.owners):
        yield RuleChange(
            section, "reviewer", "other reviewers: the reviewer or role owners changed", True
        )


def _cooling(
    was: CoolingOffSpec,
    now: CoolingOffSpec,
    change: Callable[[str, str, bool], RuleChange],
    left: str,
) -> Iterator[RuleChange]:
    """COOL-1, wherever it is set (credit, trading): shorter or less strict weakens."""
    for attribute, words in (
        ("days", f"cooling-off after leaving {left}"),
        ("internal_audit_days", "cooling-off before auditing former work"),
    ):
        was_days, now_days = getattr(was, attribute), getattr(now, attribute)
        if was_days != now_days:
            yield change(
                "cooling_off",
                f"{words}: {now_days} days (was {was_days})",
                now_days < was_days,
            )
    if was.strict != now.strict:
        yield change(
            "cooling_off",
            f"cooling-off {'strict' if now.strict else 'only for business handled'} "
            f"(was {'strict' if was.strict else 'only for business handled'})",
            was.strict,
        )


def _trading(old: Policy, new: Policy) -> Iterator[RuleChange]:
    """#17: a wider tolerance (TRD-3), a later cut-off (TRD-4), a shorter cooling-off."""
    section = Section.TRADING
    before, after = old.trading, new.trading
    if before == after:
        return
    if after is None:
        yield RuleChange(section, "trading", "the trading section is removed", True)
        return
    if before is None:
        yield RuleChange(section, "trading", "a trading section is added", False)
        return

    def change(subject: str, text: str, weak: bool) -> RuleChange:
        return RuleChange(section, subject, f"trading: {text}", weak)

    if before.cut_off != after.cut_off:
        yield change(
            "cut_off",
            f"bookings are late after {after.cut_off:%H:%M} (was {before.cut_off:%H:%M})",
            after.cut_off > before.cut_off,
        )
    was_tolerance = {i.id: before.tolerance(i.asset_class) for i in before.instruments}
    for instrument in after.instruments:
        now_pct = after.tolerance(instrument.asset_class)
        was_pct = was_tolerance.get(instrument.id)
        if was_pct is not None and was_pct != now_pct:
            yield change(
                f"tolerance:{instrument.id}",
                f"{instrument.id} is off-market beyond {now_pct} % (was {was_pct} %)",
                now_pct > was_pct,
            )
    yield from _cooling(before.cooling_off, after.cooling_off, change, "a trading desk")
