"""Bulk access-risk analysis: every user against every risk (issue #6, RULES.md SOD-1).

Users are evaluated in chunks, so memory stays bounded whatever the population. Inside
a chunk the users are ordered by how many roles they hold, most first; then the k-th role
of every user that has one is a contiguous slice, and the users' slot bitsets are built
with one gather and one in-place OR per k: vectorised, with no per-user work. This runs
per group of words of one field size, so the risk test (:func:`full_fields`) works on
whole contiguous arrays. Mitigations are looked up by ``user * risks + risk`` keys.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from backoffice.core.accessrisk.load import (
    Population,
    index_population,
    load_mitigations,
    load_rules,
    read_population,
)
from backoffice.core.accessrisk.rules import LEVELS, CompiledRules, Ints, Words, full_fields

__all__ = ["Analysis", "Progress", "analyze", "evaluate"]

#: Called with (users done, users in all) after each chunk.
Progress = Callable[[int, int], None]

_CHUNK = 16384  # users per chunk: their slots (16k x words x 8 bytes) stay in cache
_THREADS = 2  # numpy releases the GIL in gathers and ORs; the machines have two cores
_PRUNE_BELOW = 0.9  # share of roles touching a risk below which inert roles are dropped


@dataclass(frozen=True, eq=False)
class Analysis:
    """The violations of a population, sorted by user and risk, with mitigation status."""

    rules: CompiledRules
    population: Population
    as_of: date
    user: Ints
    risk: Ints
    mitigated: npt.NDArray[np.bool_]

    def __len__(self) -> int:
        return len(self.user)

    def table(self) -> pa.Table:
        """``violations.csv`` as an Arrow table: user_id, risk_id, level, mitigated."""
        risk_ids = pa.array(self.rules.risk_ids)
        level_names = pa.array(LEVELS)
        return pa.table(
            {
                "user_id": self.population.user_ids.take(pa.array(self.user)),
                "risk_id": risk_ids.take(pa.array(self.risk)),
                "level": level_names.take(pa.array(self.rules.risk_level[self.risk])),
                "mitigated": pa.array(self.mitigated),
            }
        )


def analyze(folder: Path, as_of: date, progress: Progress | None = None) -> Analysis:
    """Read and check ``folder``, then evaluate every user; raises ``InputError`` first."""
    with ThreadPoolExecutor(1) as pool:
        compiling = pool.submit(load_rules, folder)  # beside the big read of assignments
        try:
            raw = read_population(folder)
        finally:
            rules = compiling.result()  # a bad rule file is reported first, as if read first
    population = index_population(raw, rules)
    mitigations = load_mitigations(folder, rules, population, as_of)
    keys = _violation_keys(rules, population, progress)
    user, risk = _split(keys, rules)
    return Analysis(rules, population, as_of, user, risk, _mitigated(keys, mitigations))


def _mitigated(
    keys: npt.NDArray[np.int64], mitigations: npt.NDArray[np.int64]
) -> npt.NDArray[np.bool_]:
    """Which violation keys have a valid mitigation (both arrays sorted)."""
    if not len(mitigations):
        return np.zeros(len(keys), dtype=bool)
    at = np.minimum(np.searchsorted(mitigations, keys), len(mitigations) - 1)
    found: npt.NDArray[np.bool_] = mitigations[at] == keys
    return found


def evaluate(
    rules: CompiledRules, population: Population, progress: Progress | None = None
) -> tuple[Ints, Ints]:
    """(user, risk) of every violation, sorted by user then risk id."""
    return _split(_violation_keys(rules, population, progress), rules)


def _split(keys: npt.NDArray[np.int64], rules: CompiledRules) -> tuple[Ints, Ints]:
    n_risks = max(len(rules.risk_ids), 1)
    return (keys // n_risks).astype(np.int32), (keys % n_risks).astype(np.int32)


def _violation_keys(
    rules: CompiledRules, population: Population, progress: Progress | None
) -> npt.NDArray[np.int64]:
    """Sorted ``user * risks + risk`` keys of every violation."""
    roles, kept = population.roles, population.ptr
    touches_a_risk: npt.NDArray[np.bool_] = np.any(rules.role_slots != 0, axis=1)
    if len(touches_a_risk) and touches_a_risk.mean() < _PRUNE_BELOW:
        # dropping the assignments of inert roles costs a pass over all assignments
        relevant = touches_a_risk[population.roles]
        roles = population.roles[relevant]
        kept = np.concatenate(([0], np.cumsum(relevant, dtype=np.int64)))[population.ptr]
    counts = np.diff(kept)
    active = np.flatnonzero(counts)
    chunks = [active[lo : lo + _CHUNK] for lo in range(0, len(active), _CHUNK)]

    tables = rules.group_tables  # built once, before the threads share it

    def run(users: npt.NDArray[np.intp]) -> npt.NDArray[np.int64]:
        return _chunk(rules, tables, roles, kept[users], counts[users], users)

    found: list[npt.NDArray[np.int64]] = []
    done = 0
    with ThreadPoolExecutor(_THREADS) as pool:
        for users, keys in zip(chunks, pool.map(run, chunks), strict=True):
            found.append(keys)
            done += len(users)
            if progress is not None:
                progress(done, len(active))
    return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)


def _chunk(
    rules: CompiledRules,
    tables: tuple[tuple[int, Words, int], ...],
    roles: Ints,
    first: npt.NDArray[np.int64],
    count: npt.NDArray[np.int64],
    users: npt.NDArray[np.intp],
) -> npt.NDArray[np.int64]:
    """Sorted ``user * risks + risk`` keys of the violations of one chunk of users."""
    order = np.argsort(-count, kind="stable")
    first, count = first[order], count[order]
    # the users holding more than k roles are the first more_than[k] after the sort
    more_than = np.searchsorted(-count, -np.arange(1, int(count[0]) + 1), side="right")
    picks = [roles.take(first[: int(n)] + k) for k, n in enumerate(more_than)]
    rows, risks = [], []
    for first_word, table, size in tables:
        slots = table.take(picks[0], axis=0)  # take: several times faster than table[...]
        for pick in picks[1:]:
            slots[: len(pick)] |= table.take(pick, axis=0)
        hits = full_fields(slots, size)
        where = np.flatnonzero(hits)
        width = table.shape[1]
        row, word, value = where // width, first_word + where % width, hits.reshape(-1).take(where)
        # a word holds many risks' fields, but rarely more than one full one: peel bits off
        while value.size:
            lowest = value & (~value + np.uint64(1))
            bit = np.frexp(lowest.astype(np.float64))[1] - 1  # exact: a power of two
            rows.append(row)
            risks.append(rules.slot_risk[word * 64 + bit])
            value ^= lowest
            more = value != 0
            row, word, value = row[more], word[more], value[more]
    if not rows:
        return np.zeros(0, dtype=np.int64)
    user = users[order[np.concatenate(rows)]].astype(np.int64)
    return np.sort(user * len(rules.risk_ids) + np.concatenate(risks))
