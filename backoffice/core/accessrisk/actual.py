"""Actual conflicts: who performed every function of a risk, not only who could (issue #15).

Two findings, for every risk of the rule set (RULES.md SOD-1 and OBJ-SOD):

* ``window``: the person performed every function of the risk within ``window`` of time
  (created a vendor, and within 30 days released a payment). The finding is the *earliest*
  such window: its start ``t*`` is the earliest time from which every function has an
  event in ``[t*, t* + window]``, and the evidence is, per function, the first of its
  events at or after ``t*`` (earliest time, then smallest object id).
* ``object``: the person performed every function of the risk on the *same object*, at
  any time apart (entered and approved invoice 4711). OBJ-SOD allows this whatever
  mitigations exist. One finding per object; the evidence is, per function, its first
  event on that object.

All of it is array work: every (event, function) row is joined to the risks its function
belongs to, and only (person, risk) groups in which every function occurs at all — found
with one sort of packed integer keys — are looked at further. Those groups are few, so the
exact sort by time and the window test (per function, "the next event of this function at
or after here", as a reversed running minimum) run on a small remainder.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

import backoffice.core.accessrisk._native as _native
from backoffice.core.accessrisk.analysis import Analysis, _mitigated, _violation_keys
from backoffice.core.accessrisk.events import (
    ActionMap,
    EventLog,
    load_action_map,
    merge_logs,
    read_event_parts,
)
from backoffice.core.accessrisk.load import (
    Population,
    load_assignments,
    load_mitigations,
    load_rules,
    read_function_ids,
    read_role_ids,
    read_users,
)
from backoffice.core.accessrisk.rules import (
    MAX_FUNCTIONS,
    CompiledRules,
    Ints,
    distinct,
    run_heads,
)

#: Bits of a person's signature of functions performed (:func:`_maybe_complete`).
_BITS = 64
_THREADS = 2

__all__ = ["KINDS", "ActualReport", "Findings", "analyze_actual", "find_actual", "merge_logs"]

#: The kinds of finding, in the order they are listed for one person and risk.
KINDS = ("object", "window")


@dataclass(frozen=True, eq=False)
class Findings:
    """Actual conflicts sorted by user, risk, kind and object id.

    ``evidence_*[i, s]`` is the event that shows function ``s`` of finding ``i``'s risk,
    functions in id order (the columns beyond the risk's size are -1 / unused).
    """

    user: Ints
    risk: Ints
    kind: npt.NDArray[np.int8]  # index into KINDS
    obj: Ints  # the shared object of an ``object`` finding, else -1
    start: npt.NDArray[np.int64]
    end: npt.NDArray[np.int64]
    evidence_function: Ints  # (findings, MAX_FUNCTIONS)
    evidence_time: npt.NDArray[np.int64]
    evidence_obj: Ints
    objects: pa.Array

    def __len__(self) -> int:
        return len(self.user)


def find_actual(rules: CompiledRules, log: EventLog | Sequence[EventLog], window: int) -> Findings:
    """Every actual conflict in ``log`` (one log, or the parts of one or more logs, as
    ``read_event_parts`` reads them); ``window`` in microseconds (inclusive)."""
    parts = [log] if isinstance(log, EventLog) else list(log)
    n_risks = len(rules.risk_ids)
    sizes = np.diff(rules.risk_ptr).astype(np.int64)
    members = _memberships(rules)
    kept = _maybe_complete(rules, members, parts)
    user = _joined([p.user[k] for p, k in zip(parts, kept, strict=True)], np.int32)
    function = _joined([p.function[k] for p, k in zip(parts, kept, strict=True)], np.int32)
    times = _joined([p.time[k] for p, k in zip(parts, kept, strict=True)], np.int64)
    everything = np.arange(len(user), dtype=np.int64)
    rows, group, slot_ = _complete_rows(members, sizes, n_risks, everything, user, function)
    slot = slot_.astype(np.int64)
    time = times[rows]
    obj, objects = _encode_objects(_object_names(parts, kept, rows))
    rank = _object_rank(obj, objects)

    windowed = _windows(group, slot, time, obj, rank, sizes, n_risks, window)
    objected = _same_object(group, slot, time, obj, rank, sizes, n_risks)
    return _assemble(windowed, objected, n_risks, sizes, rules, objects)


def _object_names(
    parts: list[EventLog], kept: list[npt.NDArray[np.intp]], rows: npt.NDArray[np.int64]
) -> pa.Array:
    """The object of each of ``rows`` (places among the kept rows of all parts, in order),
    taken part by part: only the rows that matter ever become strings again."""
    starts = np.cumsum([0] + [len(k) for k in kept])
    order = np.argsort(rows, kind="stable")
    ordered = rows[order]
    bounds = np.searchsorted(ordered, starts)
    pieces: list[pa.Array] = [pa.array([], pa.string())]
    for i, part in enumerate(parts):
        if bounds[i] < bounds[i + 1]:
            local = kept[i][ordered[bounds[i] : bounds[i + 1]] - starts[i]]
            places = local if part.source is None else part.source[local]
            pieces.extend(part.object_column.take(pa.array(places)).chunks)
    inverse = np.empty(len(order), dtype=np.int64)
    inverse[order] = np.arange(len(order))
    return pa.concat_arrays(pieces).take(pa.array(inverse))


def _joined(arrays: list[npt.NDArray[Any]], dtype: type) -> npt.NDArray[Any]:
    return np.concatenate(arrays) if arrays else np.zeros(0, dtype=dtype)


def _maybe_complete(
    rules: CompiledRules,
    members: tuple[npt.NDArray[np.int64], Ints, Ints],
    parts: list[EventLog],
) -> list[npt.NDArray[np.intp]]:
    """Per part, the rows that may belong to a complete (person, risk) group.

    Each function sets a bit in each of two words; a person's signature is the OR of the
    bits of every function they performed (bit 63: an event that performs none). A row
    can only be in a complete group if one of its function's risks has all its bits in
    the person's signature. That is necessary, not sufficient (functions may share bits),
    so the exact test follows on the few rows kept: one in 125 on ``large`` (one in 20
    with one word), instead of sorting them all. Both passes are loops in C (``_native.c``):
    numpy needed a 64 MB flag per person and bit, and a pass per risk of a function.
    """
    member_ptr, member_risk, _ = members
    n_users = max((int(p.user.max()) + 1 for p in parts if len(p.user)), default=0)
    # a bit per function in each of two words, f % 63 and f // 63 % 63: two functions
    # share both only 3,969 apart; function -1 (performs none) reads the last entry, bit 63
    f = np.arange(len(rules.function_ids), dtype=np.int64)
    bit = np.stack([f % (_BITS - 1), f // (_BITS - 1) % (_BITS - 1)], axis=1)
    bit = np.append(bit, [[_BITS - 1, _BITS - 1]], axis=0)
    one = np.left_shift(np.uint64(1), bit.astype(np.uint64))

    def mark(share: list[EventLog]) -> npt.NDArray[np.uint64]:
        """The signatures of a thread's share of the parts (C, without the GIL)."""
        signature = np.zeros((n_users, 2), dtype=np.uint64)
        for part in share:
            _native.signatures(_int32(part.user), _int32(part.function), one, signature)
        return signature

    shares: list[list[EventLog]] = [[] for _ in range(_THREADS)]
    for part in sorted(parts, key=lambda p: -len(p.user)):  # about as many rows each
        min(shares, key=lambda share: sum(len(p.user) for p in share)).append(part)
    with ThreadPoolExecutor(_THREADS) as pool:
        signature, *others = pool.map(mark, shares)
    for other in others:  # in place: reduce() would first stack them, a copy of each
        np.bitwise_or(signature, other, out=signature)
    # the bits each risk needs, in the order of each function's risks (``members``)
    risk_of = np.repeat(np.arange(len(rules.risk_ids)), np.diff(rules.risk_ptr))
    needs = np.zeros((len(rules.risk_ids), 2), dtype=np.uint64)
    np.bitwise_or.at(needs, risk_of, one[rules.risk_function])
    member_needs = needs[member_risk]

    def test(part: EventLog) -> npt.NDArray[np.intp]:
        kept = _native.maybe(
            _int32(part.user), _int32(part.function), signature, member_ptr, member_needs
        )
        return np.frombuffer(kept, np.int64).astype(np.intp, copy=False)

    with ThreadPoolExecutor(_THREADS) as pool:
        return list(pool.map(test, parts))


def _int32(values: npt.NDArray[Any]) -> Ints:
    return np.ascontiguousarray(values, dtype=np.int32)


def _complete_rows(
    members: tuple[npt.NDArray[np.int64], Ints, Ints],
    sizes: npt.NDArray[np.int64],
    n_risks: int,
    source: npt.NDArray[np.intp],
    user: Ints,
    function: Ints,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], Ints]:
    """(log row, group, slot) of the rows whose (person, risk) group has every function.

    Each row becomes one row per risk of its function; packed ``group * 5 + slot`` keys are
    sorted once, and a group is complete when it has as many distinct slots as its risk
    has functions. Rows of people with no complete group are dropped by a dense mask first.
    """
    member_ptr, member_risk, member_slot = members
    per_row = np.diff(member_ptr)[function]
    rows = np.repeat(np.arange(len(function), dtype=np.int32), per_row)
    at = np.arange(len(rows), dtype=np.int64)
    at -= np.repeat(np.cumsum(per_row) - per_row, per_row)
    at += member_ptr[function[rows]]
    group = user[rows].astype(np.int64)
    group *= max(n_risks, 1)
    group += member_risk[at]
    slot = member_slot[at]
    del at
    keys = group * MAX_FUNCTIONS
    keys += slot
    keys.sort()
    distinct = keys[run_heads(keys)]
    del keys
    distinct //= MAX_FUNCTIONS
    heads = run_heads(distinct)
    count = np.diff(np.append(heads, len(distinct)))
    candidates = distinct[heads]
    complete = candidates[count == sizes[candidates % max(n_risks, 1)]]
    if not len(complete):
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int32)
    first_user = int(user.min())
    suspects = np.zeros(int(user.max()) - first_user + 1, dtype=bool)
    suspects[complete // max(n_risks, 1) - first_user] = True
    near = np.flatnonzero(suspects[user[rows] - first_user])
    keep = near[_members(group[near], complete)]
    return source[rows[keep]].astype(np.int64), group[keep], slot[keep]


def _encode_objects(column: pa.Array) -> tuple[Ints, pa.Array]:
    """Object ids as indices into their distinct values; the empty string (none) is -1."""
    encoded = pc.dictionary_encode(column)
    objects = encoded.dictionary
    obj = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int32)
    empty = np.flatnonzero(pc.equal(objects, "").to_numpy(zero_copy_only=False))
    if empty.size:
        obj = np.where(obj == int(empty[0]), np.int32(-1), obj)
    return obj, objects


def _memberships(rules: CompiledRules) -> tuple[npt.NDArray[np.int64], Ints, Ints]:
    """Per function, the risks it belongs to and its slot there (functions in id order)."""
    function_order = np.argsort(np.array(rules.function_ids, dtype=object)).astype(np.int64)
    id_rank = np.empty(len(function_order), dtype=np.int64)
    id_rank[function_order] = np.arange(len(function_order))
    risk_of = np.repeat(np.arange(len(rules.risk_ids), dtype=np.int32), np.diff(rules.risk_ptr))
    function = rules.risk_function.astype(np.int64)
    # slot: the function's place in its risk, by function id
    order = np.lexsort((id_rank[function], risk_of))
    slot = np.empty(len(function), dtype=np.int32)
    slot[order] = (np.arange(len(function)) - rules.risk_ptr[risk_of[order]]).astype(np.int32)
    by_function = np.argsort(function, kind="stable")
    ptr = np.zeros(len(rules.function_ids) + 1, dtype=np.int64)
    np.cumsum(np.bincount(function, minlength=len(rules.function_ids)), out=ptr[1:])
    return ptr, risk_of[by_function], slot[by_function]


def _members(
    values: npt.NDArray[np.int64], sorted_set: npt.NDArray[np.int64]
) -> npt.NDArray[np.bool_]:
    if not len(sorted_set):
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_set, values), len(sorted_set) - 1)
    found: npt.NDArray[np.bool_] = sorted_set[at] == values
    return found


def _object_rank(obj: Ints, objects: pa.Array) -> npt.NDArray[np.int64]:
    """Each row's object in id order (no object first), for ties at the same time."""
    used = distinct(obj[obj >= 0])
    rank = np.full(len(obj), -1, dtype=np.int64)
    if used.size:
        names = objects.take(pa.array(used))
        order = np.asarray(pc.sort_indices(names).to_numpy(), dtype=np.int64)
        ranks = np.empty(len(used), dtype=np.int64)
        ranks[order] = np.arange(len(used))
        has = obj >= 0
        rank[has] = ranks[np.searchsorted(used, obj[has])]
    return rank


@dataclass(frozen=True)
class _Found:
    group: npt.NDArray[np.int64]
    obj: Ints
    evidence: npt.NDArray[np.int64]  # (found, MAX_FUNCTIONS) positions into the rows below
    time: npt.NDArray[np.int64]
    row_obj: Ints
    row_slot: npt.NDArray[np.int64]


def _nothing(time: npt.NDArray[np.int64], obj: Ints, slot: npt.NDArray[np.int64]) -> _Found:
    return _Found(
        np.zeros(0, np.int64),
        np.zeros(0, np.int32),
        np.zeros((0, MAX_FUNCTIONS), np.int64),
        time,
        obj,
        slot,
    )


def _windows(
    group: npt.NDArray[np.int64],
    slot: npt.NDArray[np.int64],
    time: npt.NDArray[np.int64],
    obj: Ints,
    rank: npt.NDArray[np.int64],
    sizes: npt.NDArray[np.int64],
    n_risks: int,
    window: int,
) -> _Found:
    """The earliest window of each group that holds every function of its risk."""
    order = np.lexsort((rank, time, group))
    group, slot, time, obj = group[order], slot[order], time[order], obj[order]
    n = len(group)
    if not n:
        return _nothing(time, obj, slot)
    heads = run_heads(group)
    group_end = np.repeat(np.append(heads[1:], n), np.diff(np.append(heads, n)))
    size = sizes[group % max(n_risks, 1)] if n else np.zeros(0, dtype=np.int64)
    positions = np.arange(n, dtype=np.int64)
    ok = np.ones(n, dtype=bool)
    end = time.copy()
    evidence = np.full((n, MAX_FUNCTIONS), -1, dtype=np.int64)
    for s in range(MAX_FUNCTIONS):
        used = size > s
        if not used.any():
            break
        # the first position at or after each one that performs function s
        mine = np.where(slot == s, positions, n)
        following = np.minimum.accumulate(mine[::-1])[::-1]
        present = following < group_end
        ok &= ~used | present
        safe = np.minimum(following, n - 1)
        np.maximum(end, np.where(used & present, time[safe], end), out=end)
        evidence[:, s] = np.where(used, following, -1)
    ok &= end - time <= window
    hits = np.flatnonzero(ok)
    first = hits[run_heads(group[hits])] if hits.size else hits
    return _Found(group[first], np.full(len(first), -1, np.int32), evidence[first], time, obj, slot)


def _same_object(
    group: npt.NDArray[np.int64],
    slot: npt.NDArray[np.int64],
    time: npt.NDArray[np.int64],
    obj: Ints,
    rank: npt.NDArray[np.int64],
    sizes: npt.NDArray[np.int64],
    n_risks: int,
) -> _Found:
    """Every (group, object) in which every function of the risk was performed (OBJ-SOD)."""
    has = obj >= 0
    group, slot, time, obj, rank = group[has], slot[has], time[has], obj[has], rank[has]
    order = np.lexsort((time, slot, rank, group))
    group, slot, time, obj, rank = group[order], slot[order], time[order], obj[order], rank[order]
    n = len(group)
    if not n:
        return _nothing(time, obj, slot)
    # the first event of each (group, object, function): the heads of its runs
    key_change = np.ones(n, dtype=bool)
    if n:
        key_change[1:] = (
            (group[1:] != group[:-1]) | (rank[1:] != rank[:-1]) | (slot[1:] != slot[:-1])
        )
    firsts = np.flatnonzero(key_change)
    pair_change = np.ones(len(firsts), dtype=bool)
    if len(firsts):
        g, r = group[firsts], rank[firsts]
        pair_change[1:] = (g[1:] != g[:-1]) | (r[1:] != r[:-1])
    pair_heads = np.flatnonzero(pair_change)
    distinct = np.diff(np.append(pair_heads, len(firsts)))
    pair_group = group[firsts[pair_heads]] if len(firsts) else np.zeros(0, np.int64)
    full = distinct == sizes[pair_group % max(n_risks, 1)] if len(firsts) else pair_change
    chosen = pair_heads[full]
    evidence = np.full((len(chosen), MAX_FUNCTIONS), -1, dtype=np.int64)
    width = distinct[full]
    for s in range(MAX_FUNCTIONS):
        used = width > s
        evidence[used, s] = firsts[chosen[used] + s]  # runs are in slot order
    heads = firsts[chosen]
    return _Found(group[heads], obj[heads], evidence, time, obj, slot)


def _assemble(
    windowed: _Found,
    objected: _Found,
    n_risks: int,
    sizes: npt.NDArray[np.int64],
    rules: CompiledRules,
    objects: pa.Array,
) -> Findings:
    parts = []
    for kind, found in enumerate((objected, windowed)):
        evidence = found.evidence
        valid = evidence >= 0
        safe = np.where(valid, evidence, 0)
        if len(found.time):
            e_time = np.where(valid, found.time[safe], 0)
            e_obj = np.where(valid, found.row_obj[safe], -1).astype(np.int32)
            e_slot = np.where(valid, found.row_slot[safe], 0)
        else:
            e_time = np.zeros(evidence.shape, np.int64)
            e_obj = np.full(evidence.shape, -1, np.int32)
            e_slot = np.zeros(evidence.shape, np.int64)
        parts.append((kind, found, e_time, e_obj, e_slot, valid))
    group = np.concatenate([p[1].group for p in parts])
    kinds = np.concatenate([np.full(len(p[1].group), p[0], np.int8) for p in parts])
    obj = np.concatenate([p[1].obj for p in parts])
    e_time = np.concatenate([p[2] for p in parts])
    e_obj = np.concatenate([p[3] for p in parts])
    valid = np.concatenate([p[5] for p in parts])
    risk = (group % max(n_risks, 1)).astype(np.int32)
    user = (group // max(n_risks, 1)).astype(np.int32)
    obj_rank = _object_rank(obj, objects)
    order = np.lexsort((obj_rank, kinds, risk, user))
    big = np.iinfo(np.int64).max
    start = np.where(valid, e_time, big).min(axis=1) if len(group) else np.zeros(0, np.int64)
    end = np.where(valid, e_time, -big).max(axis=1) if len(group) else np.zeros(0, np.int64)
    evidence_function = _slot_functions(rules, risk, valid)
    return Findings(
        user=user[order],
        risk=risk[order],
        kind=kinds[order],
        obj=obj[order],
        start=start[order],
        end=end[order],
        evidence_function=evidence_function[order],
        evidence_time=e_time[order],
        evidence_obj=e_obj[order],
        objects=objects,
    )


def _slot_functions(rules: CompiledRules, risk: Ints, valid: npt.NDArray[np.bool_]) -> Ints:
    """(findings, MAX_FUNCTIONS): the function of each slot of each finding's risk."""
    table = np.full((max(len(rules.risk_ids), 1), MAX_FUNCTIONS), -1, dtype=np.int32)
    for k in range(len(rules.risk_ids)):
        functions = rules.functions_of(k)
        ordered = sorted(functions.tolist(), key=lambda f: rules.function_ids[f])
        table[k, : len(ordered)] = ordered
    out = table[risk] if len(risk) else np.zeros((0, MAX_FUNCTIONS), np.int32)
    return np.where(valid, out, -1).astype(np.int32)


@dataclass(frozen=True, eq=False)
class ActualReport:
    """Possible conflicts (``sod analyze``) and actual ones of the same people, side by side.

    ``possible[i]`` and ``mitigated[i]`` say whether finding ``i``'s person holds the
    risk's functions today and whether a mitigation accepts it (OBJ-SOD ignores it).
    """

    analysis: Analysis
    findings: Findings
    possible: npt.NDArray[np.bool_]
    mitigated: npt.NDArray[np.bool_]
    window: int
    events: int
    mapped: int


def analyze_actual(
    folder: Path,
    logs: Sequence[Path],
    as_of: date,
    window: int,
    mapping: Path | None = None,
    *,
    everyone: bool = True,
    people_only: Collection[Path] = (),
) -> ActualReport:
    """Read and check everything, then find the actual conflicts; raises ``InputError``.

    ``everyone=False`` evaluates the possible conflicts only of the people with actual
    ones (all the CSV shows); the whole folder is read and checked all the same.
    In the logs named in ``people_only`` events of actors who are nobody are left out
    (``read_events``): Backoffice's own trail.
    """

    def action_map() -> ActionMap:
        return load_action_map(folder, read_function_ids(folder), mapping)

    # the rules compile, and the assignments are read and checked, beside the read of the
    # logs, which needs only the ids; errors in the folder still come first (the one raised
    # in the last ``finally`` is the one reported)
    with ThreadPoolExecutor(3) as pool:
        compiling = pool.submit(load_rules, folder)
        mapping_actions = pool.submit(action_map)  # beside the users, which it does not need
        try:
            users = read_users(folder)
            indexing = pool.submit(load_assignments, folder, users, read_role_ids(folder))
            try:
                actions = mapping_actions.result()
                parts = [
                    part
                    for path in logs
                    for part in read_event_parts(
                        path, users, actions, people_only=path in people_only
                    )
                ]
            finally:
                population = indexing.result()
        finally:
            rules = compiling.result()
    mitigations = load_mitigations(folder, rules, population, as_of)
    findings = find_actual(rules, parts, window)
    n_risks = max(len(rules.risk_ids), 1)
    if everyone:
        keys = _violation_keys(rules, population, None)
    else:
        people = distinct(findings.user.astype(np.int64))
        local = _violation_keys(rules, _subset(population, people), None)
        keys = people[local // n_risks] * n_risks + local % n_risks
    user, risk = (keys // n_risks).astype(np.int32), (keys % n_risks).astype(np.int32)
    mitigated_all = _mitigated(keys, mitigations)
    analysis = Analysis(rules, population, as_of, user, risk, mitigated_all)
    wanted = findings.user.astype(np.int64) * n_risks + findings.risk
    possible = _members(wanted, keys)
    at = np.minimum(np.searchsorted(keys, wanted), max(len(keys) - 1, 0))
    mitigated = possible & mitigated_all[at] if len(keys) else possible
    events, mapped = sum(p.events for p in parts), sum(p.mapped for p in parts)
    return ActualReport(analysis, findings, possible, mitigated, window, events, mapped)


def _subset(population: Population, people: npt.NDArray[np.int64]) -> Population:
    """The assignments of ``people`` only, as a population numbered 0.. in their order."""
    counts = population.ptr[people + 1] - population.ptr[people]
    ptr = np.zeros(len(people) + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    at = np.arange(int(ptr[-1]), dtype=np.int64) - np.repeat(ptr[:-1], counts)
    at += np.repeat(population.ptr[people], counts)
    return Population(users=population.users, ptr=ptr, roles=population.roles[at])
