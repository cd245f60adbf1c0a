"""Root cause and fix: which roles supply each function of a violation, and what to remove.

``supply`` finds, for every violation at once, the user's assigned roles that bring a
function of the risk (through the hierarchy), as a bit per function. From there:

- an explanation lists, per function of the risk, the roles that supply it;
- the roles that cause the most violations are a count over those pairs;
- the fix for a user is a smallest set of role removals that clears every open
  (unmitigated) violation. A violation clears when one of its functions is lost, that
  is when *every* role supplying that function is removed, so each function offers one
  removal option and a fix is a hitting set over those options. The search is greedy
  (the option that clears the most violations per role removed, ties to fewer roles,
  then to role ids) and, when the roles in play are few (at most
  ``EXACT_UP_TO``; real users hold a handful), every smaller set is then tried, so the
  answer is the true minimum for them. Users with the same pattern share one search.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import numpy.typing as npt

from backoffice.core.accessrisk.analysis import Analysis
from backoffice.core.accessrisk.rules import Ints, concat_ranges

__all__ = ["EXACT_UP_TO", "Fix", "Supply", "causing_roles", "explain", "remediate", "supply"]

#: Up to this many roles in play, a greedy fix is checked against every smaller set.
EXACT_UP_TO = 12

Option = frozenset[int]


@dataclass(frozen=True, eq=False)
class Supply:
    """(violation, role, function bits) for every role of the user that supplies the risk."""

    ptr: npt.NDArray[np.int64]  # pairs of violation v: [ptr[v]:ptr[v+1]]
    role: Ints
    bits: npt.NDArray[np.int64]  # bit i: the role supplies function i of the risk


@dataclass(frozen=True)
class Fix:
    """Remove ``remove`` (role indices) from ``user`` to clear ``clears`` open violations."""

    user: int
    remove: tuple[int, ...]
    clears: int


def supply(analysis: Analysis) -> Supply:
    """Every (violation, supplying role) pair, found for all violations at once."""
    rules, population = analysis.rules, analysis.population
    first = population.ptr[analysis.user]
    held = population.ptr[analysis.user + 1] - first
    violation = np.repeat(np.arange(len(analysis), dtype=np.int64), held)
    role = population.roles[concat_ranges(first, held)]
    risk = analysis.risk[violation]
    size = (rules.risk_ptr[risk + 1] - rules.risk_ptr[risk]).astype(np.uint64)
    words = rules.role_slots[role, rules.risk_word[risk]]
    bits = (words >> rules.risk_shift[risk].astype(np.uint64)) & ((np.uint64(1) << size) - 1)
    keep = bits != 0
    violation, role, bits = violation[keep], role[keep], bits[keep]
    # a role assigned twice appears twice; keep one pair per (violation, role)
    _, first_seen = np.unique(violation * len(rules.role_ids) + role, return_index=True)
    violation, role, bits = violation[first_seen], role[first_seen], bits[first_seen]
    ptr = np.searchsorted(violation, np.arange(len(analysis) + 1)).astype(np.int64)
    return Supply(ptr=ptr, role=role, bits=bits.astype(np.int64))


def explain(analysis: Analysis, pairs: Supply, v: int) -> list[tuple[str, list[str]]]:
    """(function id, ids of the user's roles that supply it) for each function of violation v."""
    rules = analysis.rules
    lo, hi = int(pairs.ptr[v]), int(pairs.ptr[v + 1])
    roles, bits = pairs.role[lo:hi].tolist(), pairs.bits[lo:hi].tolist()
    out = []
    for i, function in enumerate(rules.functions_of(int(analysis.risk[v])).tolist()):
        suppliers = sorted(
            rules.role_ids[r] for r, b in zip(roles, bits, strict=True) if b >> i & 1
        )
        out.append((rules.function_ids[function], suppliers))
    return out


def causing_roles(analysis: Analysis, pairs: Supply) -> npt.NDArray[np.int64]:
    """Per role, the number of violations it supplies at least one function of."""
    return np.bincount(pairs.role, minlength=len(analysis.rules.role_ids))


def remediate(analysis: Analysis, pairs: Supply) -> list[Fix]:
    """A smallest set of role removals per user that clears the user's open violations."""
    memo: dict[tuple[tuple[Option, ...], ...], tuple[int, ...]] = {}
    fixes = []
    for user, violations in _open_by_user(analysis):
        needs = tuple(_options(analysis, pairs, v) for v in violations)
        if needs not in memo:
            memo[needs] = _smallest(needs, analysis.rules.role_ids)
        fixes.append(Fix(user=user, remove=memo[needs], clears=len(violations)))
    return fixes


def _open_by_user(analysis: Analysis) -> Iterator[tuple[int, list[int]]]:
    open_ = np.flatnonzero(~analysis.mitigated)
    users = analysis.user[open_]
    if not len(open_):
        return
    bounds = np.flatnonzero(np.diff(users)) + 1
    for group in np.split(open_, bounds):
        yield int(analysis.user[group[0]]), group.tolist()


def _options(analysis: Analysis, pairs: Supply, v: int) -> tuple[Option, ...]:
    """Per function of violation v, the roles that must all go for the function to go."""
    lo, hi = int(pairs.ptr[v]), int(pairs.ptr[v + 1])
    roles, bits = pairs.role[lo:hi].tolist(), pairs.bits[lo:hi].tolist()
    size = len(analysis.rules.functions_of(int(analysis.risk[v])))
    return tuple(
        frozenset(r for r, b in zip(roles, bits, strict=True) if b >> i & 1) for i in range(size)
    )


def _clears(needs: tuple[tuple[Option, ...], ...], removed: frozenset[int]) -> int:
    return sum(1 for options in needs if any(option <= removed for option in options))


def _smallest(needs: tuple[tuple[Option, ...], ...], role_ids: tuple[str, ...]) -> tuple[int, ...]:
    """Greedy hitting set, then (for few roles) proof or improvement by exhaustive search."""
    removed: frozenset[int] = frozenset()
    remaining = list(needs)
    while remaining:
        best: tuple[float, int, list[str]] | None = None
        choice: frozenset[int] = frozenset()
        for option in {option - removed for options in remaining for option in options}:
            cleared = _clears(tuple(remaining), removed | option)
            rank = (-cleared / len(option), len(option), sorted(role_ids[r] for r in option))
            if best is None or rank < best:
                best, choice = rank, option
        removed |= choice
        remaining = [o for o in remaining if not any(option <= removed for option in o)]
    in_play = _by_id({r for options in needs for option in options for r in option}, role_ids)
    if len(removed) > 1 and len(in_play) <= EXACT_UP_TO:
        for size in range(1, len(removed)):
            for subset in combinations(in_play, size):
                if _clears(needs, frozenset(subset)) == len(needs):
                    return _by_id(subset, role_ids)
    return _by_id(removed, role_ids)


def _by_id(roles: Iterable[int], ids: tuple[str, ...]) -> tuple[int, ...]:
    return tuple(sorted(roles, key=lambda r: ids[r]))
