"""Root cause and fix: which roles supply each function of a violation, and what to remove.

``supply`` finds, for every violation at once, the user's assigned roles that bring a
function of the risk (through the hierarchy), as a bit per function. From there:

- an explanation lists, per function of the risk, the roles that supply it;
- the roles that cause the most violations are a count over those pairs;
- the fix for a user is a smallest set of role removals that clears every open
  (unmitigated) violation. A violation clears when one of its functions is lost, that
  is when *every* role supplying that function is removed, so each function offers one
  removal option and a fix is a hitting set over those options (NP-hard in general).
  Users one role can fix are found for all users at once. For the others the search is
  greedy (the option that clears the most violations per role removed, ties to fewer
  roles, then to role ids) and, when the roles in play are few (at most ``EXACT_UP_TO``;
  real users hold a handful), a branch-and-bound search then looks for a smaller fix,
  so the answer is the true minimum for them. Users with the same pattern share a search.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from backoffice.core.accessrisk.analysis import Analysis
from backoffice.core.accessrisk.rules import MAX_FUNCTIONS, Ints, concat_ranges

__all__ = ["EXACT_UP_TO", "Fix", "Supply", "causing_roles", "explain", "remediate", "supply"]

#: Up to this many roles in play, a greedy fix is checked by an exact search.
EXACT_UP_TO = 12
_SLICE = 1 << 18  # violations expanded over their users' roles at a time


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
    """Every (violation, supplying role) pair, found for all violations at once.

    Violations are expanded over their user's roles a slice at a time, so the
    intermediate arrays stay small whatever the number of violations.
    """
    parts = [
        _supply_slice(analysis, lo, min(lo + _SLICE, len(analysis)))
        for lo in range(0, len(analysis), _SLICE)
    ]
    violation = np.concatenate([v for v, _, _ in parts]) if parts else np.zeros(0, np.int64)
    role = np.concatenate([r for _, r, _ in parts]) if parts else np.zeros(0, np.int32)
    bits = np.concatenate([b for _, _, b in parts]) if parts else np.zeros(0, np.int64)
    ptr = np.searchsorted(violation, np.arange(len(analysis) + 1)).astype(np.int64)
    return Supply(ptr=ptr, role=role, bits=bits)


def _supply_slice(
    analysis: Analysis, lo: int, hi: int
) -> tuple[npt.NDArray[np.int64], Ints, npt.NDArray[np.int64]]:
    rules, population = analysis.rules, analysis.population
    user = analysis.user[lo:hi]
    first = population.ptr[user]
    held = population.ptr[user + 1] - first
    violation = np.repeat(np.arange(lo, hi, dtype=np.int64), held)
    role = population.roles[concat_ranges(first, held)]
    risk = analysis.risk[violation]
    size = (rules.risk_ptr[risk + 1] - rules.risk_ptr[risk]).astype(np.uint64)
    words = rules.role_slots[role, rules.risk_word[risk]]
    bits = (words >> rules.risk_shift[risk].astype(np.uint64)) & ((np.uint64(1) << size) - 1)
    keep = bits != 0
    violation, role, bits = violation[keep], role[keep], bits[keep]
    # a role assigned twice appears twice; keep one pair per (violation, role)
    _, first_seen = np.unique(violation * len(rules.role_ids) + role, return_index=True)
    return violation[first_seen], role[first_seen], bits[first_seen].astype(np.int64)


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
    """A smallest set of role removals per user that clears the user's open violations.

    Users that one role can fix (it alone supplies a function of every open violation)
    are found for all users at once; the others are searched one by one, and users with
    the same pattern of options (roles renamed in id order) share one search.
    """
    rules = analysis.rules
    open_ = np.flatnonzero(~analysis.mitigated)
    if not open_.size:
        return []
    rank = np.empty(len(rules.role_ids), dtype=np.int64)
    rank[sorted(range(len(rules.role_ids)), key=rules.role_ids.__getitem__)] = np.arange(len(rank))
    users, starts, counts = np.unique(analysis.user[open_], return_index=True, return_counts=True)
    single = _single_role_fixes(analysis, pairs, rank)
    search = _Search(analysis, pairs, rank)
    fixes = []
    for user, start, count in zip(users.tolist(), starts.tolist(), counts.tolist(), strict=True):
        role = single.get(user)
        if role is not None:
            fixes.append(Fix(user=user, remove=(role,), clears=count))
        else:
            remove = search.fix(open_[start : start + count].tolist())
            fixes.append(Fix(user=user, remove=remove, clears=count))
    return fixes


def _single_role_fixes(
    analysis: Analysis, pairs: Supply, rank: npt.NDArray[np.int64]
) -> dict[int, int]:
    """user → the role (first by id) that alone supplies a function of every open violation."""
    n_violations, n_roles = len(analysis), len(analysis.rules.role_ids)
    violation = np.repeat(np.arange(n_violations), np.diff(pairs.ptr))
    is_open = ~analysis.mitigated[violation]
    sole = np.zeros(len(violation), dtype=bool)
    for i in range(MAX_FUNCTIONS):
        has = (pairs.bits >> i & 1).astype(bool)
        suppliers = np.bincount(violation[has], minlength=n_violations)
        sole |= has & (suppliers[violation] == 1)
    sole &= is_open
    keys, count = np.unique(
        analysis.user[violation[sole]].astype(np.int64) * n_roles + pairs.role[sole],
        return_counts=True,
    )
    user, role = keys // n_roles, keys % n_roles
    open_per_user = np.bincount(
        analysis.user[~analysis.mitigated], minlength=analysis.population.size
    )
    fixes_all = count == open_per_user[user]
    user, role = user[fixes_all], role[fixes_all]
    order = np.lexsort((rank[role], user))
    user, role = user[order], role[order]
    first = np.concatenate(([True], user[1:] != user[:-1])) if len(user) else user.astype(bool)
    return dict(zip(user[first].tolist(), role[first].tolist(), strict=True))


Needs = tuple[tuple[int, ...], ...]  # per violation, its options as bitmasks of local roles


class _Search:
    """Greedy-then-exact search per user, memoised on the pattern of options."""

    def __init__(self, analysis: Analysis, pairs: Supply, rank: npt.NDArray[np.int64]) -> None:
        self.ptr = pairs.ptr.tolist()
        self.role = pairs.role.tolist()
        self.bits = pairs.bits.tolist()
        self.rank = rank.tolist()
        self.size = np.diff(analysis.rules.risk_ptr)[analysis.risk].tolist()
        self.memo: dict[Needs, tuple[int, ...]] = {}

    def fix(self, violations: list[int]) -> tuple[int, ...]:
        ptr, role, bits = self.ptr, self.role, self.bits
        in_play = sorted(
            {role[j] for v in violations for j in range(ptr[v], ptr[v + 1])},
            key=self.rank.__getitem__,
        )
        local = {r: 1 << i for i, r in enumerate(in_play)}
        needs = []
        for v in violations:
            options = [0] * self.size[v]
            for j in range(ptr[v], ptr[v + 1]):
                mask, b = local[role[j]], bits[j]
                for i in range(len(options)):
                    if b >> i & 1:
                        options[i] |= mask
            needs.append(tuple(sorted(set(options))))
        key = tuple(sorted(needs))
        found = self.memo.get(key)
        if found is None:
            # users reaching here have no one-role fix (_single_role_fixes found those)
            found = self.memo[key] = _smallest(key, len(in_play), at_least=2)
        return tuple(in_play[i] for i in found)


def _smallest(needs: Needs, n_roles: int, at_least: int = 1) -> tuple[int, ...]:
    """Greedy hitting set, then (for few roles) proof or improvement by exact search.

    Roles are bits numbered in role id order, so comparing bit lists compares ids. No fix
    has fewer than ``at_least`` roles, so a greedy fix of that size is already minimal.
    """
    removed = 0
    remaining = list(needs)
    while remaining:
        best: tuple[float, int, tuple[int, ...]] | None = None
        choice = 0
        for option in {option & ~removed for options in remaining for option in options}:
            trial = removed | option
            cleared = sum(1 for o in remaining if any(x & ~trial == 0 for x in o))
            size = option.bit_count()
            rank = (-cleared / size, size, _members(option))
            if best is None or rank < best:
                best, choice = rank, option
        removed |= choice
        remaining = [o for o in remaining if not any(x & ~removed == 0 for x in o)]
    if removed.bit_count() > at_least and n_roles <= EXACT_UP_TO:
        for budget in range(at_least, removed.bit_count()):
            exact = _within(needs, budget, 0)
            if exact is not None:
                return _members(exact)
    return _members(removed)


def _within(needs: Needs, budget: int, removed: int) -> int | None:
    """The first (in role id order) fix of at most ``budget`` roles that includes ``removed``.

    Branch on the options of the first violation still open: one of them must go.
    """
    for options in needs:
        if not any(option & ~removed == 0 for option in options):
            break
    else:
        return removed
    best: int | None = None
    for option in options:
        grown = removed | option
        if grown.bit_count() <= budget:
            found = _within(needs, budget, grown)
            if found is not None and (best is None or _members(found) < _members(best)):
                best = found
    return best


def _members(mask: int) -> tuple[int, ...]:
    return tuple(i for i in range(mask.bit_length()) if mask >> i & 1)
