"""What-if: a person holds roles R, adds A, removes B: which risks come and go, and why.

The answer comes from the compiled rule set in memory, never from queries: a person's
risk slots are the OR of their roles' slots (Python ints of a few thousand bits), the
risk test is the same shift-and-AND as the bulk analysis, and causes are looked up per
changed risk only. A what-if for a person with a handful of roles takes microseconds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from backoffice.core.accessrisk.rules import LEVELS, CompiledRules

__all__ = ["Cause", "RiskChange", "WhatIf", "risks_of", "simulate"]


@dataclass(frozen=True, order=True)
class Cause:
    """``role`` brings ``function`` through ``permission``, which ``via`` grants directly.

    ``via`` is ``role`` itself or a role it contains, transitively.
    """

    function: str
    role: str
    permission: str
    via: str


@dataclass(frozen=True)
class RiskChange:
    """A risk gained or lost, with every cause of it (in the role set that has it)."""

    risk: str
    level: str
    causes: tuple[Cause, ...]


@dataclass(frozen=True)
class WhatIf:
    """Risks violated before and after, and the change with its causes (RULES.md SOD-1)."""

    before: tuple[str, ...]
    after: tuple[str, ...]
    gained: tuple[RiskChange, ...]
    lost: tuple[RiskChange, ...]


def simulate(
    rules: CompiledRules,
    held: Iterable[str],
    add: Iterable[str] = (),
    remove: Iterable[str] = (),
) -> WhatIf:
    """Risks gained and lost when a person holding ``held`` gets ``add`` and loses ``remove``.

    Removing a role the person does not hold changes nothing; an unknown role id raises
    :class:`~backoffice.core.accessrisk.errors.UnknownRole`.
    """
    before_roles = set(rules.indices(held))
    gone = set(rules.indices(remove))
    after_roles = (before_roles | set(rules.indices(add))) - gone
    before, after = risks_of(rules, before_roles), risks_of(rules, after_roles)
    return WhatIf(
        before=tuple(rules.risk_ids[k] for k in before),
        after=tuple(rules.risk_ids[k] for k in after),
        gained=tuple(_change(rules, k, after_roles) for k in after if k not in before),
        lost=tuple(_change(rules, k, before_roles) for k in before if k not in after),
    )


def risks_of(rules: CompiledRules, roles: Iterable[int]) -> list[int]:
    """Indices of the risks a holder of ``roles`` violates, in risk id order."""
    bits = rules.role_bits
    slots = 0
    for role in roles:
        slots |= bits[role]
    full = 0
    for size, starts in rules.start_masks:
        field = slots
        for shift in range(1, size):
            field &= slots >> shift
        full |= field & starts
    found = []
    while full:
        lowest = full & -full
        found.append(int(rules.slot_risk[lowest.bit_length() - 1]))
        full ^= lowest
    return sorted(found)


def _change(rules: CompiledRules, risk: int, roles: set[int]) -> RiskChange:
    causes = []
    for i, function in enumerate(rules.functions_of(risk).tolist()):
        for role in roles:
            if rules.supplied(role, risk) >> i & 1:
                for permission, via in rules.grants(role)[function]:
                    causes.append(
                        Cause(
                            function=rules.function_ids[function],
                            role=rules.role_ids[role],
                            permission=rules.permissions[permission],
                            via=rules.role_ids[via],
                        )
                    )
    return RiskChange(
        risk=rules.risk_ids[risk],
        level=LEVELS[int(rules.risk_level[risk])],
        causes=tuple(sorted(causes)),
    )
