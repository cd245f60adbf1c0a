"""``backoffice policy check FILE``: every problem of a policy, as FILE:LINE:COL: message;
``backoffice policy verify FILE``: no process can be completed by one person (#15)."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from datetime import date
from typing import Any, TextIO

from backoffice.core.org import Violation, check_separation
from backoffice.core.policy import (
    PolicyDocument,
    PolicyInvalid,
    Problem,
    parse_policy,
    summarise,
    to_organisation,
)

__all__ = ["policy_check", "policy_verify", "check_file"]


def check_file(path: str) -> tuple[list[Problem], dict[str, Any] | None]:
    """Problems (syntax, shape, references, separation) and, if there are none, a summary."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        return [Problem(path, 1, 1, f"cannot read the file: {exc.strerror}")], None
    try:
        document = parse_policy(raw, path)
    except PolicyInvalid as exc:
        return exc.problems, None
    org = to_organisation(document.policy)
    problems = []
    for violation in check_separation(org):
        where = _place(document, violation)
        problems.append(document.problem(where, f"{violation.rule}: {violation.message}"))
    if problems:
        return sorted(problems), None
    summary = summarise(org, date.today())  # noqa: DTZ011 - the calendar day of the check
    credit = document.policy.credit
    if credit is not None:  # #5: the Kompetenzordnung at a glance
        levels = ", ".join(
            f"{lv.id} {lv.limit.amount:,.0f}" if lv.limit else f"{lv.id} unlimited"
            for lv in credit.levels
        )
        summary["credit"] = (
            f"levels {levels} {credit.currency}; risk-relevant from "
            f"{credit.risk_relevance.threshold.amount:,.0f}; on dissent {credit.on_dissent}"
        )
    access = document.policy.access
    if access is not None:  # #6: the access rule set at a glance
        per_level = Counter(r.level for r in access.risks)
        by_level = ", ".join(
            f"{per_level[lv]} {lv}" for lv in ("critical", "high", "medium", "low")
        )
        summary["access"] = (
            f"{len(access.functions)} functions, {len(access.risks)} risks ({by_level}), "
            f"{len(access.ssd)} SSD constraints"
        )
    trading = document.policy.trading
    if trading is not None:  # #17: tolerances and cut-off at a glance
        tolerances = ", ".join(f"{a.id} {a.tolerance_pct}%" for a in trading.asset_classes)
        summary["trading"] = (
            f"{len(trading.instruments)} instruments; off-market beyond {tolerances}; "
            f"late after {trading.cut_off:%H:%M}; cooling-off {trading.cooling_off.days} days"
        )
    bootstrap = document.policy.bootstrap
    summary["bootstrap"] = (  # #13: who gets the first logins of a fresh install
        ", ".join(bootstrap.administrators)
        if bootstrap
        else "none named: `backoffice init` refuses it on an empty database"
    )
    return [], summary


def _place(document: PolicyDocument, violation: Violation) -> tuple[str | int, ...]:
    """Point at the membership that breaks a personal rule, else at the first unit named."""
    policy = document.policy
    for index in reversed(range(len(policy.memberships))):
        m = policy.memberships[index]
        if m.person in violation.people and m.unit in violation.units:
            return ("memberships", index)
    return document.unit_path(violation.units[0]) if violation.units else ()


def policy_check(argv: Sequence[str], out: TextIO | None = None) -> int:
    out = out or sys.stdout
    parser = argparse.ArgumentParser(
        prog="backoffice policy check",
        description="Validate a policy file and its separation rules.",
    )
    parser.add_argument("file", nargs="+")
    args = parser.parse_args(argv)
    status = 0
    for path in args.file:
        problems, summary = check_file(path)
        if problems:
            status = 1
            for problem in problems:
                print(problem, file=out)
            print(f"{path}: {len(problems)} problem(s)", file=out)
            continue
        assert summary is not None
        per_line = ", ".join(f"{line} {n}" for line, n in summary["units_per_line"].items())
        print(f"{path}: OK", file=out)
        print(f"  units: {summary['units']} ({per_line})", file=out)
        print(f"  people: {summary['people']}", file=out)
        for member in summary["board"]:
            units = ", ".join(member["responsible_for"]) or "no units"
            print(f"  board: {member['name']} ({member['person']}) for {units}", file=out)
        if summary.get("credit"):
            print(f"  credit: {summary['credit']}", file=out)
        if summary.get("access"):
            print(f"  access: {summary['access']}", file=out)
        if summary.get("trading"):
            print(f"  trading: {summary['trading']}", file=out)
        print(f"  bootstrap administrators: {summary['bootstrap']}", file=out)
    return status


def policy_verify(argv: Sequence[str], out: TextIO | None = None) -> int:
    """``backoffice policy verify FILE``: for each process, a proof that one person cannot
    complete it alone, or a witness (#15). Exit 0 when every process is safe, 1 when one
    is not, 2 when the file cannot be read or is not a valid policy (nothing is written)."""
    from backoffice.core.policy_verify import verify_policy, verify_policy_roles

    out = out or sys.stdout
    parser = argparse.ArgumentParser(
        prog="backoffice policy verify",
        description="Prove for each process that no single person can complete it alone.",
    )
    parser.add_argument("file")
    parser.add_argument(
        "--show-roles",
        action="store_true",
        help="also note the role sets that could hold every function of a process, which "
        "only the maker rule keeps apart",
    )
    args = parser.parse_args(argv)
    problems, _ = check_file(args.file)
    if problems:
        for problem in problems:
            print(problem, file=out)
        print(f"{args.file}: not a valid policy, nothing verified", file=out)
        return 2
    with open(args.file, "rb") as handle:
        policy = parse_policy(handle.read(), args.file).policy
    verdicts = verify_policy(policy)
    for verdict in verdicts:
        print(verdict.text(), file=out)
    if args.show_roles:
        for note in verify_policy_roles(policy):
            if note.witness is not None:
                print(
                    f"note: {note.process}: {note.witness.text()}; only the maker rule keeps "
                    "this apart",
                    file=out,
                )
    unsafe = [v.process for v in verdicts if not v.safe]
    if unsafe:
        print(
            f"{args.file}: {len(unsafe)} of {len(verdicts)} process(es) can be completed by one "
            f"person alone: {', '.join(unsafe)}",
            file=out,
        )
        return 1
    print(f"{args.file}: all {len(verdicts)} process(es) proven safe", file=out)
    return 0
