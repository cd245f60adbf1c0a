"""Load and check the CSV folder: the rule set, the population and the mitigations.

Everything is checked before anything is evaluated, so a bad file fails in seconds and
never after a long run. Duplicate rows are harmless everywhere.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from backoffice.core.accessrisk.csvinput import STRING, CsvFile, Ids, Index, key, lookup
from backoffice.core.accessrisk.rules import (
    LEVELS,
    MAX_FUNCTIONS,
    MIN_FUNCTIONS,
    CompiledRules,
    RuleArrays,
    check_risk_size,
    compile_rules,
    cycle_message,
    distinct,
    run_heads,
)

__all__ = [
    "Population",
    "RawPopulation",
    "index_population",
    "load_assignments",
    "load_mitigations",
    "load_population",
    "load_rules",
    "parse_iso_date",
    "read_assignments",
    "read_function_ids",
    "read_population",
    "read_role_ids",
    "read_users",
]

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True, eq=False)
class Population:
    """Users sorted by id and their roles, grouped by user (compressed sparse rows)."""

    users: Ids
    ptr: npt.NDArray[np.int64]  # roles of user u: roles[ptr[u]:ptr[u+1]]
    roles: Index

    @property
    def user_ids(self) -> pa.Array:
        return self.users.ids

    @property
    def size(self) -> int:
        return len(self.users)


def load_rules(folder: Path) -> CompiledRules:
    """Roles, permissions, hierarchy, functions and risks of ``folder``, compiled."""
    role_ids = read_role_ids(folder)
    functions = CsvFile(folder, "functions")
    f_table = functions.read("function_id", "permission")
    function_ids = Ids(_unique(f_table["function_id"]), "functions.csv")
    permissions = _unique(f_table["permission"])

    grants = CsvFile(folder, "role_permissions")
    g_table = grants.read("role_id", "permission")
    grant_role = lookup(grants, "role_id", g_table["role_id"], role_ids)
    grant_permission = _positions(g_table["permission"], permissions)
    useful = grant_permission >= 0  # a permission in no function cannot make a risk

    hierarchy = CsvFile(folder, "role_hierarchy")
    h_table = hierarchy.read("parent_role_id", "child_role_id")
    parent = lookup(hierarchy, "parent_role_id", h_table["parent_role_id"], role_ids)
    child = lookup(hierarchy, "child_role_id", h_table["child_role_id"], role_ids)

    risk_ids, risk_level, risk_ptr, risk_function = _risks(CsvFile(folder, "risks"), function_ids)
    arrays = RuleArrays(
        role_ids=role_ids.ids.to_pylist(),
        function_ids=function_ids.ids.to_pylist(),
        permissions=permissions.to_pylist(),
        grant_role=grant_role[useful],
        grant_permission=grant_permission[useful],
        parent=parent,
        child=child,
        function_of=_positions(f_table["function_id"], function_ids.ids),
        permission_of=_positions(f_table["permission"], permissions),
        risk_ids=risk_ids,
        risk_level=risk_level,
        risk_ptr=risk_ptr,
        risk_function=risk_function,
    )

    def on_cycle(edge_rows: list[int]) -> Exception:
        lines = hierarchy.lines(edge_rows)
        where = ", ".join(str(line) for line in lines)
        return hierarchy.error(edge_rows[0], f"{cycle_message(arrays, edge_rows)} (lines {where})")

    return compile_rules(arrays, on_cycle)


def read_role_ids(folder: Path) -> Ids:
    """The role ids of roles.csv, in the order of the compiled rules' ``role_ids``."""
    return Ids(_unique(CsvFile(folder, "roles").read("role_id")["role_id"]), "roles.csv")


def read_function_ids(folder: Path) -> Ids:
    """The function ids of functions.csv, in the order of the compiled rules'
    ``function_ids``."""
    column = CsvFile(folder, "functions").read("function_id")["function_id"]
    return Ids(_unique(column), "functions.csv")


def _risks(
    file: CsvFile, function_ids: Ids
) -> tuple[list[str], npt.NDArray[np.int8], npt.NDArray[np.int64], Index]:
    """Risk ids (sorted), levels, and each risk's distinct functions; sizes are checked."""
    table = file.read("risk_id", "level", "function_id")
    function = lookup(file, "function_id", table["function_id"], function_ids)
    level = pc.index_in(table["level"], value_set=pa.array(LEVELS))
    if level.null_count:
        row = int(np.flatnonzero(pc.is_null(level).to_numpy(zero_copy_only=False))[0])
        raise file.error(
            row,
            f"unknown level {table['level'][row].as_py()!r} "
            f"(expected {', '.join(LEVELS[:-1])} or {LEVELS[-1]})",
        )
    levels = level.to_numpy().astype(np.int8)
    sorted_ids = _sorted_unique(table["risk_id"])
    risk = _positions(table["risk_id"], sorted_ids)
    n_risks = len(sorted_ids)

    # the level of a risk is the level of its first row; any other row must agree
    first_row = np.full(n_risks, len(risk), dtype=np.int64)
    np.minimum.at(first_row, risk, np.arange(len(risk)))
    risk_level = levels[first_row]
    clash = np.flatnonzero(levels != risk_level[risk])
    if clash.size:
        row = int(clash[0])
        line = file.lines([int(first_row[risk[row]])])[0]
        raise file.error(
            row,
            f"risk {sorted_ids[int(risk[row])].as_py()!r} has level {LEVELS[levels[row]]!r} here "
            f"but {LEVELS[risk_level[risk[row]]]!r} on line {line}",
        )

    width = max(len(function_ids), 1)
    keys = distinct(risk.astype(np.int64) * width + function)
    sizes = np.bincount(keys // width, minlength=n_risks)
    wrong = np.flatnonzero((sizes < MIN_FUNCTIONS) | (sizes > MAX_FUNCTIONS))
    if wrong.size:
        k = int(wrong[0])
        line = file.lines([int(first_row[k])])[0]
        check_risk_size(sorted_ids[k].as_py(), int(sizes[k]), file.label, line)
    risk_ptr = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
    return sorted_ids.to_pylist(), risk_level, risk_ptr, (keys % width).astype(np.int32)


def load_population(folder: Path, rules: CompiledRules) -> Population:
    """Users and their role assignments, as role indices of ``rules`` grouped by user."""
    return index_population(read_population(folder), rules)


@dataclass(frozen=True, eq=False)
class RawPopulation:
    """users.csv and assignments.csv as read, before roles are known."""

    users: Ids
    file: CsvFile
    table: pa.Table


def read_population(folder: Path) -> RawPopulation:
    """Read the users (sorted, distinct) and the assignments; needs no rule set."""
    return read_assignments(folder, read_users(folder))


def read_users(folder: Path) -> Ids:
    """The user ids of users.csv, sorted and distinct (by the C reader if the file is in
    the common form: a million users in a third of Arrow's time, which everything waits for)."""
    file = CsvFile(folder, "users")
    common = file.read_common({"user_id": STRING})
    if common is not None:
        column = pa.chunked_array([common["user_id"]])
    else:
        column = file.read("user_id")["user_id"]
    return Ids(_sorted_unique(column), "users.csv", is_sorted=True)


def read_assignments(folder: Path, users: Ids) -> RawPopulation:
    """assignments.csv as read, beside the users it will be checked against."""
    file = CsvFile(folder, "assignments")
    return RawPopulation(users, file, file.read("user_id", "role_id"))


def index_population(raw: RawPopulation, rules: CompiledRules) -> Population:
    """Check every assignment's user and role and group the roles by user."""
    return _indexed(raw, Ids(pa.array(rules.role_ids, pa.string()), "roles.csv"))


def _indexed(raw: RawPopulation, role_ids: Ids) -> Population:
    users, file, table = raw.users, raw.file, raw.table
    # both lookups release the GIL: roles are looked up beside users, on the second core
    with ThreadPoolExecutor(1) as pool:
        roles = pool.submit(lookup, file, "role_id", table["role_id"], role_ids)
        user = lookup(file, "user_id", table["user_id"], users, runs=True)
        role = roles.result()
    return _grouped(users, user, role)


def load_assignments(folder: Path, users: Ids, role_ids: Ids) -> Population:
    """:func:`read_assignments` and :func:`index_population` in one pass, a block at a
    time: each block's ids become indices while still in cache, and the 7.5 M assignments
    of ``large`` are never held as text. A block with an unknown id makes it read the file
    the plain way, which names the first unknown ids and their lines."""
    file = CsvFile(folder, "assignments")
    common = file.read_common({"user_id": key(users), "role_id": key(role_ids)})
    if common is not None:
        return _grouped(users, common["user_id"], common["role_id"])
    users_found, roles_found = [], []
    for batch in file.batches("user_id", "role_id"):
        user = users.find(pa.chunked_array([batch.column("user_id")]), runs=True)
        role = role_ids.find(pa.chunked_array([batch.column("role_id")]))
        if bool((user < 0).any()) or bool((role < 0).any()):
            return _indexed(read_assignments(folder, users), role_ids)  # raises
        users_found.append(user)
        roles_found.append(role)
    return _grouped(users, np.concatenate(users_found), np.concatenate(roles_found))


def _grouped(users: Ids, user: Index, role: Index) -> Population:
    """The roles grouped by user (the file is usually in user order already)."""
    if len(user) > 1 and bool(np.any(user[1:] < user[:-1])):
        order = np.argsort(user, kind="stable")
        user, role = user[order], role[order]
    # where each user's run starts, and a user without one starts where the next one does
    # (a fifth of the time of searching the column for each user, or of a bincount, which
    # would first copy the 7.5 M positions to 64 bits)
    heads = run_heads(user)
    ptr = np.full(len(users) + 1, len(user), dtype=np.int64)
    ptr[user[heads]] = heads
    np.minimum.accumulate(ptr[::-1], out=ptr[::-1])
    return Population(users=users, ptr=ptr, roles=role)


def load_mitigations(
    folder: Path, rules: CompiledRules, population: Population, as_of: date
) -> npt.NDArray[np.int64]:
    """Keys ``user * risks + risk`` of the mitigations still valid on ``as_of``, sorted."""
    file = CsvFile(folder, "mitigations")
    risk_ids = Ids(pa.array(rules.risk_ids, pa.string()), "risks.csv", is_sorted=True)
    fields = {"user_id": key(population.users), "risk_id": key(risk_ids)}
    common = file.read_common({**fields, "valid_until": STRING})
    if common is not None:  # the users' table is built: no index of a million ids for this
        user, risk = common["user_id"], common["risk_id"]
        valid_until = pa.chunked_array([common["valid_until"]])
    else:
        table = file.read("user_id", "risk_id", "valid_until")
        user = lookup(file, "user_id", table["user_id"], population.users)
        risk = lookup(file, "risk_id", table["risk_id"], risk_ids)
        valid_until = table["valid_until"]
    bad = [v for v in pc.unique(valid_until).to_pylist() if parse_iso_date(v) is None]
    if bad:
        row = int(np.flatnonzero(pc.is_in(valid_until, value_set=pa.array(bad)))[0])
        raise file.error(
            row, f"valid_until {valid_until[row].as_py()!r} is not a date (expected YYYY-MM-DD)"
        )
    valid = pc.greater_equal(valid_until, as_of.isoformat()).to_numpy(zero_copy_only=False)
    keys = user.astype(np.int64) * len(rules.risk_ids) + risk
    return distinct(keys[valid])


def parse_iso_date(text: str) -> date | None:
    """``YYYY-MM-DD`` as a date, else None (ISO week dates and the like are refused)."""
    if not _ISO_DATE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _unique(column: pa.ChunkedArray) -> pa.Array:
    """Distinct values in order of first appearance."""
    return pc.unique(column)


def _sorted_unique(column: pa.ChunkedArray) -> pa.Array:
    """Distinct values in string order; a sorted file without duplicates is taken as it is."""
    flat = column.combine_chunks()
    if len(flat) < 2 or pc.all(pc.less(flat[:-1], flat[1:])).as_py():
        return flat
    distinct = pc.unique(flat)
    return distinct.take(pc.sort_indices(distinct))


def _positions(column: pa.ChunkedArray, universe: pa.Array) -> Index:
    """Position of each value in ``universe``, -1 where it is not there."""
    return Ids(universe, "").find(column)
