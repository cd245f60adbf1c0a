"""The access-risk rule set compiled to bitsets: what every role grants, as risk slots.

A risk is 2..5 business functions no user may hold together (RULES.md §5, SOD-1; NIST
RBAC SSD with inherited roles, §4.1). Compiling does the set algebra once per rule set:

1. permissions → functions: a role has a function if it grants one of its permissions;
2. the role hierarchy is closed transitively, lowest roles first (a cycle is an error);
3. each role's functions are written into a *slot* bitset: every risk gets one field of
   ``size`` adjacent bits in a 64-bit word, one bit per function, and fields of risks of
   the same size share words (32 two-function risks to a word, 21 of three, …).

A user's slots are the OR of their roles' slots, and a risk is violated when its whole
field is set, which :func:`full_fields` tests for all risks of a word at once with shifts
and ANDs: a handful of word operations per user instead of a join of users × functions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from backoffice.core.accessrisk.errors import InputError, UnknownRole

__all__ = [
    "LEVELS",
    "MAX_FUNCTIONS",
    "MIN_FUNCTIONS",
    "CompiledRules",
    "RuleArrays",
    "check_risk_size",
    "compile_rules",
    "concat_ranges",
    "cycle_message",
    "full_fields",
    "rules_from_data",
]

#: Risk levels, most severe first; a risk's level is stored as its index here.
LEVELS = ("critical", "high", "medium", "low")
#: A risk combines 2..5 functions (PRODUCT.md, glossary "Access risk").
MIN_FUNCTIONS, MAX_FUNCTIONS = 2, 5

Ints = npt.NDArray[np.int32]
Words = npt.NDArray[np.uint64]


@dataclass(frozen=True)
class RuleArrays:
    """The rule set as dense indices, checked for unknown references, before compiling.

    ``permissions`` holds only permissions that belong to some function: no other
    permission can contribute to a risk.
    """

    role_ids: Sequence[str]
    function_ids: Sequence[str]
    permissions: Sequence[str]
    grant_role: Ints  # role_permissions rows whose permission is in some function
    grant_permission: Ints
    parent: Ints  # role_hierarchy rows
    child: Ints
    function_of: Ints  # functions rows
    permission_of: Ints
    risk_ids: Sequence[str]  # sorted, unique
    risk_level: npt.NDArray[np.int8]
    risk_ptr: npt.NDArray[np.int64]  # functions of risk k: risk_function[ptr[k]:ptr[k+1]]
    risk_function: Ints


@dataclass(frozen=True, eq=False)
class CompiledRules:
    """Roles as risk-slot bitsets, plus what explanations need (direct grants, children)."""

    role_ids: tuple[str, ...]
    function_ids: tuple[str, ...]
    permissions: tuple[str, ...]
    risk_ids: tuple[str, ...]
    risk_level: npt.NDArray[np.int8]
    risk_ptr: npt.NDArray[np.int64]
    risk_function: Ints  # in field order: bit ``shift + i`` is function ``i`` of the risk
    risk_word: Ints
    risk_shift: Ints
    role_slots: Words  # (roles, words)
    groups: tuple[tuple[int, int, int], ...]  # (first word, end word, field size)
    field_starts: Words  # per word, a bit at the start of every field in use
    slot_risk: Ints  # per slot bit, the risk whose field starts there, else -1
    grant_ptr: npt.NDArray[np.int64]  # direct grants of role r: [ptr[r]:ptr[r+1]]
    grant_function: Ints
    grant_permission: Ints
    child_ptr: npt.NDArray[np.int64]  # direct children of role r
    child_role: Ints
    _cache: dict[int, dict[int, tuple[tuple[int, int], ...]]] = field(
        default_factory=dict, repr=False
    )

    @cached_property
    def role_index(self) -> dict[str, int]:
        return {role: i for i, role in enumerate(self.role_ids)}

    @cached_property
    def group_tables(self) -> tuple[tuple[int, Words, int], ...]:
        """(first word, role slots of the group's words, field size) per group of words.

        Each group's table is contiguous, so the risk test runs over whole arrays with a
        constant mask instead of a column slice and a mask per word.
        """
        return tuple(
            (first, np.ascontiguousarray(self.role_slots[:, first:end]), size)
            for first, end, size in self.groups
        )

    @cached_property
    def role_bits(self) -> tuple[int, ...]:
        """Each role's slots as one Python int: ORs of a few of them take nanoseconds."""
        return tuple(int.from_bytes(row.tobytes(), "little") for row in self.role_slots)

    @cached_property
    def start_masks(self) -> tuple[tuple[int, int], ...]:
        """(field size, field starts of all words of that size) as Python ints."""
        masks = []
        for first, end, size in self.groups:
            mask = int.from_bytes(self.field_starts[first:end].tobytes(), "little")
            masks.append((size, mask << (64 * first)))
        return tuple(masks)

    def indices(self, roles: Iterable[str]) -> list[int]:
        """Role ids to indices; an unknown id raises :class:`UnknownRole`."""
        index = self.role_index
        try:
            return [index[role] for role in roles]
        except KeyError as exc:
            raise UnknownRole(str(exc.args[0])) from None

    def functions_of(self, risk: int) -> Ints:
        return self.risk_function[self.risk_ptr[risk] : self.risk_ptr[risk + 1]]

    def supplied(self, role: int, risk: int) -> int:
        """Bit ``i`` set when ``role`` (through its hierarchy) has function ``i`` of ``risk``."""
        size = int(self.risk_ptr[risk + 1] - self.risk_ptr[risk])
        word = int(self.role_slots[role, self.risk_word[risk]])
        return (word >> int(self.risk_shift[risk])) & ((1 << size) - 1)

    def grants(self, role: int) -> dict[int, tuple[tuple[int, int], ...]]:
        """Function → ((permission, granting role), …) for ``role`` and every role it contains."""
        cached = self._cache.get(role)
        if cached is not None:
            return cached
        found: dict[int, set[tuple[int, int]]] = {}
        seen, stack = {role}, [role]
        while stack:
            current = stack.pop()
            lo, hi = self.grant_ptr[current], self.grant_ptr[current + 1]
            for function, permission in zip(
                self.grant_function[lo:hi].tolist(),
                self.grant_permission[lo:hi].tolist(),
                strict=True,
            ):
                found.setdefault(function, set()).add((permission, current))
            for kid in self.child_role[self.child_ptr[current] : self.child_ptr[current + 1]]:
                if int(kid) not in seen:
                    seen.add(int(kid))
                    stack.append(int(kid))
        result = {f: tuple(sorted(pairs)) for f, pairs in found.items()}
        self._cache[role] = result
        return result


def full_fields(slots: Words, size: int) -> Words:
    """In words holding fields of ``size`` bits: a bit at the start of every full field."""
    out = slots >> np.uint64(1)
    out &= slots
    if size > 2:
        shifted = np.empty_like(slots)
        for shift in range(2, size):
            np.right_shift(slots, np.uint64(shift), out=shifted)
            out &= shifted
    out &= np.uint64(sum(1 << start for start in range(0, 64 - size + 1, size)))
    return out


def compile_rules(
    arrays: RuleArrays, on_cycle: Callable[[list[int]], Exception] | None = None
) -> CompiledRules:
    """Compile checked rule arrays; ``on_cycle`` makes the error for a cycle (edge rows)."""
    n_roles, n_functions = len(arrays.role_ids), len(arrays.function_ids)
    parent, child, edge_rows = _unique_edges(arrays.parent, arrays.child, n_roles)
    height = _heights(parent, child, edge_rows, n_roles, on_cycle or _cycle_error(arrays))

    # 1. direct grants, permission → function (a permission may serve several functions)
    by_permission = np.argsort(arrays.permission_of, kind="stable")
    pf_function = arrays.function_of[by_permission]
    pf_ptr = np.searchsorted(
        arrays.permission_of[by_permission], np.arange(len(arrays.permissions) + 1)
    )
    fan = (pf_ptr[arrays.grant_permission + 1] - pf_ptr[arrays.grant_permission]).astype(np.int64)
    g_role = np.repeat(arrays.grant_role, fan)
    g_permission = np.repeat(arrays.grant_permission, fan)
    g_function = pf_function[concat_ranges(pf_ptr[arrays.grant_permission], fan)]
    order = np.lexsort((g_permission, g_function, g_role))
    g_role, g_function, g_permission = g_role[order], g_function[order], g_permission[order]

    # 2. each role's own slots: every slot of every function it grants directly
    layout = _layout(arrays.risk_ptr, arrays.risk_function)
    used = np.flatnonzero(layout.slot_function >= 0)
    slot_of = used[np.argsort(layout.slot_function[used], kind="stable")]
    fs_ptr = np.searchsorted(layout.slot_function[slot_of], np.arange(n_functions + 1))
    pairs = distinct(g_role.astype(np.int64) * max(n_functions, 1) + g_function)
    p_role, p_function = pairs // max(n_functions, 1), pairs % max(n_functions, 1)
    fan = (fs_ptr[p_function + 1] - fs_ptr[p_function]).astype(np.int64)
    slot = slot_of[concat_ranges(fs_ptr[p_function], fan)].astype(np.int64)
    role_slots = np.zeros((n_roles, layout.words), dtype=np.uint64)
    np.bitwise_or.at(
        role_slots.reshape(-1),
        np.repeat(p_role, fan) * layout.words + slot // 64,
        np.left_shift(np.uint64(1), (slot % 64).astype(np.uint64)),
    )

    # 3. closed over the hierarchy level by level: a parent's children are final before it
    edge_height = height[parent]
    for level in range(1, int(height.max(initial=0)) + 1):
        at = edge_height == level
        np.bitwise_or.at(role_slots, parent[at], role_slots[child[at]])

    kids = np.argsort(parent, kind="stable")
    return CompiledRules(
        role_ids=tuple(arrays.role_ids),
        function_ids=tuple(arrays.function_ids),
        permissions=tuple(arrays.permissions),
        risk_ids=tuple(arrays.risk_ids),
        risk_level=arrays.risk_level,
        risk_ptr=arrays.risk_ptr,
        risk_function=arrays.risk_function,
        risk_word=layout.risk_word,
        risk_shift=layout.risk_shift,
        role_slots=role_slots,
        groups=layout.groups,
        field_starts=layout.field_starts,
        slot_risk=layout.slot_risk,
        grant_ptr=np.searchsorted(g_role, np.arange(n_roles + 1)).astype(np.int64),
        grant_function=g_function.astype(np.int32),
        grant_permission=g_permission.astype(np.int32),
        child_ptr=np.searchsorted(parent[kids], np.arange(n_roles + 1)).astype(np.int64),
        child_role=child[kids],
    )


def concat_ranges(
    starts: npt.NDArray[np.int64], counts: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Concatenated ranges ``starts[i] : starts[i] + counts[i]``, without a Python loop."""
    firsts = np.cumsum(counts) - counts
    out: npt.NDArray[np.int64] = np.arange(int(counts.sum()), dtype=np.int64) + np.repeat(
        starts - firsts, counts
    )
    return out


def distinct(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Sorted distinct values: a plain sort, several times faster than ``np.unique``'s hash."""
    ordered = np.sort(values)
    return ordered[run_heads(ordered)]


def run_heads(sorted_values: npt.NDArray[Any]) -> npt.NDArray[np.intp]:
    """Where each run of equal values starts."""
    if not len(sorted_values):
        return np.zeros(0, dtype=np.intp)
    change = np.empty(len(sorted_values), dtype=bool)
    change[0] = True
    np.not_equal(sorted_values[1:], sorted_values[:-1], out=change[1:])
    return np.flatnonzero(change)


def _unique_edges(parent: Ints, child: Ints, n_roles: int) -> tuple[Ints, Ints, Ints]:
    """Hierarchy edges without duplicates, with the row of each edge's first occurrence."""
    key = parent.astype(np.int64) * n_roles + child
    order = np.argsort(key, kind="stable")
    rows = order[run_heads(key[order])].astype(np.int32)
    return parent[rows], child[rows], rows


def _heights(
    parent: Ints,
    child: Ints,
    rows: Ints,
    n_roles: int,
    on_cycle: Callable[[list[int]], Exception],
) -> Ints:
    """Height of each role in the hierarchy (0: contains nothing), by peeling leaves.

    Roles left over when no leaf remains lie on or above a cycle; one cycle is followed
    from there and reported by the rows of its edges.
    """
    height = np.zeros(n_roles, dtype=np.int32)
    pending = np.bincount(parent, minlength=n_roles)  # children not yet placed
    placed = pending == 0
    frontier = np.flatnonzero(placed)
    level = 0
    while frontier.size:
        height[frontier] = level
        released = np.zeros(n_roles, dtype=bool)
        released[frontier] = True
        hits = released[child]
        pending = pending - np.bincount(parent[hits], minlength=n_roles)
        frontier = np.flatnonzero((pending == 0) & ~placed)
        placed[frontier] = True
        level += 1
    if placed.all():
        return height
    raise on_cycle(_find_cycle(parent, child, rows, placed))


def _find_cycle(parent: Ints, child: Ints, rows: Ints, placed: npt.NDArray[np.bool_]) -> list[int]:
    """Rows of the edges of one cycle among the roles that could not be placed."""
    following: dict[int, tuple[int, int]] = {}
    for p, c, row in zip(parent.tolist(), child.tolist(), rows.tolist(), strict=True):
        if not placed[p] and not placed[c] and p not in following:
            following[p] = (c, row)
    role = next(iter(following))
    path: list[int] = []
    seen: dict[int, int] = {}
    while role not in seen:
        seen[role] = len(path)
        role, row = following[role]
        path.append(row)
    return path[seen[role] :]


def _cycle_error(arrays: RuleArrays) -> Callable[[list[int]], Exception]:
    def error(edge_rows: list[int]) -> Exception:
        return InputError("<rules>", None, cycle_message(arrays, edge_rows))

    return error


def cycle_message(arrays: RuleArrays, edge_rows: list[int]) -> str:
    """``cycle in the role hierarchy: a → b → a``, from the rows of the cycle's edges."""
    roles = [arrays.role_ids[int(arrays.parent[r])] for r in edge_rows]
    return f"cycle in the role hierarchy: {' → '.join([*roles, roles[0]])}"


@dataclass(frozen=True)
class _Layout:
    words: int
    slot_function: Ints  # per slot bit, the function it stands for, else -1
    risk_word: Ints
    risk_shift: Ints
    groups: tuple[tuple[int, int, int], ...]
    field_starts: Words
    slot_risk: Ints


def _layout(risk_ptr: npt.NDArray[np.int64], risk_function: Ints) -> _Layout:
    """Place every risk's field: risks of one size share words, fields never cross words."""
    sizes = np.diff(risk_ptr)
    n_risks = len(sizes)
    risk_word = np.zeros(n_risks, dtype=np.int32)
    risk_shift = np.zeros(n_risks, dtype=np.int32)
    groups = []
    word = 0
    for size in sorted(set(sizes.tolist())):
        members = np.flatnonzero(sizes == size)
        per_word = 64 // size
        risk_word[members] = word + np.arange(len(members)) // per_word
        risk_shift[members] = (np.arange(len(members)) % per_word) * size
        n_words = -(-len(members) // per_word)
        groups.append((word, word + n_words, int(size)))
        word += n_words
    start = risk_word.astype(np.int64) * 64 + risk_shift
    slot_risk = np.full(word * 64, -1, dtype=np.int32)
    slot_risk[start] = np.arange(n_risks, dtype=np.int32)
    slot_function = np.full(word * 64, -1, dtype=np.int32)
    slot_function[concat_ranges(start, sizes)] = risk_function
    starts = np.zeros(word * 64, dtype=bool)
    starts[start] = True
    field_starts = np.packbits(starts, bitorder="little").view(np.dtype("<u8")).astype(np.uint64)
    return _Layout(
        words=word,
        slot_function=slot_function,
        risk_word=risk_word,
        risk_shift=risk_shift,
        groups=tuple(groups),
        field_starts=field_starts,
        slot_risk=slot_risk,
    )


def rules_from_data(
    roles: Iterable[str],
    grants: Iterable[tuple[str, str]],
    contains: Iterable[tuple[str, str]],
    functions: Iterable[tuple[str, str]],
    risks: Iterable[tuple[str, str, str]],
) -> CompiledRules:
    """Compile a rule set given as plain data (the database, a test, a what-if request).

    ``grants`` are (role, permission), ``contains`` (parent, child), ``functions``
    (function, permission) and ``risks`` (risk, level, function) pairs and triples, the
    rows of the CSV files of the same names. Errors are :class:`InputError` on ``<rules>``.
    """
    role_ids = list(dict.fromkeys(roles))
    role_index = {role: i for i, role in enumerate(role_ids)}
    function_rows = list(functions)
    function_ids = list(dict.fromkeys(f for f, _ in function_rows))
    function_index = {f: i for i, f in enumerate(function_ids)}
    permissions = list(dict.fromkeys(p for _, p in function_rows))
    permission_index = {p: i for i, p in enumerate(permissions)}

    def known(index: dict[str, int], value: str, what: str) -> int:
        if value not in index:
            raise InputError("<rules>", None, f"unknown {what} {value!r}")
        return index[value]

    grant_pairs = []
    for role, permission in grants:
        r = known(role_index, role, "role")
        if permission in permission_index:
            grant_pairs.append((r, permission_index[permission]))
    edges = [(known(role_index, p, "role"), known(role_index, c, "role")) for p, c in contains]
    by_risk: dict[str, tuple[str, list[int]]] = {}
    for risk, level, function in risks:
        if level not in LEVELS:
            raise InputError("<rules>", None, f"risk {risk!r}: unknown level {level!r}")
        entry = by_risk.setdefault(risk, (level, []))
        if entry[0] != level:
            raise InputError("<rules>", None, f"risk {risk!r} has two levels")
        entry[1].append(known(function_index, function, "function"))
    risk_ids = sorted(by_risk)
    risk_functions = [sorted(set(by_risk[k][1])) for k in risk_ids]
    for risk, members in zip(risk_ids, risk_functions, strict=True):
        check_risk_size(risk, len(members), "<rules>", None)
    return compile_rules(
        RuleArrays(
            role_ids=role_ids,
            function_ids=function_ids,
            permissions=permissions,
            grant_role=_ints(r for r, _ in grant_pairs),
            grant_permission=_ints(p for _, p in grant_pairs),
            parent=_ints(p for p, _ in edges),
            child=_ints(c for _, c in edges),
            function_of=_ints(function_index[f] for f, _ in function_rows),
            permission_of=_ints(permission_index[p] for _, p in function_rows),
            risk_ids=risk_ids,
            risk_level=np.array([LEVELS.index(by_risk[k][0]) for k in risk_ids], dtype=np.int8),
            risk_ptr=np.cumsum([0] + [len(m) for m in risk_functions], dtype=np.int64),
            risk_function=_ints(f for members in risk_functions for f in members),
        )
    )


def check_risk_size(risk: str, size: int, file: str, line: int | None) -> None:
    """A risk combines 2..5 distinct functions; one function alone is no conflict."""
    if not MIN_FUNCTIONS <= size <= MAX_FUNCTIONS:
        raise InputError(
            file,
            line,
            f"risk {risk!r} has {size} distinct function{'s' if size != 1 else ''}; "
            f"a risk combines {MIN_FUNCTIONS} to {MAX_FUNCTIONS}",
        )


def _ints(values: Iterable[int]) -> Ints:
    return np.fromiter(values, dtype=np.int32)
