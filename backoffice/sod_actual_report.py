"""The outputs of ``backoffice sod actual``: CSV, JSON and a self-contained HTML report.

Each puts what a person *could* do (the possible conflicts of ``sod analyze``) beside what
they *did* (the actual ones, with the events that show it). The CSV has one row per actual
finding, with ``possible`` and ``mitigated`` beside it; JSON and HTML list every person
with either, the possible and the actual side by side.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from html import escape
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from backoffice.core.accessrisk import LEVELS
from backoffice.core.accessrisk.actual import KINDS, ActualReport
from backoffice.core.csvsafe import write_arrow_table
from backoffice.sod_report import _CSS, _has_structural

__all__ = [
    "ACTUAL_FORMATS",
    "iso_times",
    "write_actual_csv",
    "write_actual_html",
    "write_actual_json",
]

#: People shown in the HTML report (most actual findings first); the JSON has them all.
HTML_PEOPLE = 200
#: Lines in one cell of the HTML report (a super-user may hold hundreds of risks).
HTML_CELL = 20
CSV_COLUMNS = (
    "user_id",
    "risk_id",
    "level",
    "kind",
    "object",
    "start",
    "end",
    "possible",
    "mitigated",
    "evidence",
)


def iso_times(micros: npt.NDArray[np.int64]) -> pa.Array:
    """``2025-03-01T10:00:00Z``; fractions of a second only where there are any.

    The digits are computed as numbers and written into one buffer, Arrow's string
    layout: half the time of ``np.datetime_as_string``, which made up half of writing the
    CSV on ``large``."""
    micros = np.asarray(micros, dtype=np.int64)
    seconds = micros // 1_000_000
    day = (seconds // 86_400).astype("datetime64[D]")
    month = day.astype("datetime64[M]")
    second = seconds % 86_400
    fields = (  # (value, digits) in the order written, and the separator after each
        (month.astype("datetime64[Y]").astype(np.int64) + 1970, 4, "-"),
        (month.astype(np.int64) % 12 + 1, 2, "-"),
        ((day - month).astype(np.int64) + 1, 2, "T"),
        (second // 3600, 2, ":"),
        (second // 60 % 60, 2, ":"),
        (second % 60, 2, "Z"),
    )
    text = np.empty((len(micros), 20), dtype=np.uint8)
    at = 0
    for value, digits, separator in fields:
        for place in range(digits):
            text[:, at + place] = value // 10 ** (digits - 1 - place) % 10 + ord("0")
        text[:, at + digits] = ord(separator)
        at += digits + 1
    offsets = np.arange(0, 20 * len(micros) + 1, 20, dtype=np.int32)
    plain = pa.Array.from_buffers(
        pa.string(), len(micros), [None, pa.py_buffer(offsets), pa.py_buffer(text)]
    )
    fraction = micros % 1_000_000
    if not fraction.any():
        return plain
    bare = pc.utf8_slice_codeunits(plain, 0, 19)
    tails = pa.array([f".{int(f):06d}Z" if f else "Z" for f in fraction.tolist()], pa.string())
    return pc.binary_join_element_wise(bare, tails, "")


def _objects(report: ActualReport, index: npt.NDArray[np.int32]) -> pa.Array:
    """Object ids; '' where there is none."""
    objects = report.findings.objects
    taken = objects.take(pa.array(np.maximum(index, 0))) if len(objects) else None
    if taken is None:
        return pa.array([""] * len(index), pa.string())
    return pc.if_else(pa.array(index >= 0), taken, "")


def _evidence(report: ActualReport) -> pa.Array:
    """``FN1 TIME OBJECT; FN2 TIME`` per finding, functions in id order."""
    f = report.findings
    function_ids = pa.array(report.analysis.rules.function_ids, pa.string())
    columns = []
    for s in range(f.evidence_function.shape[1] if len(f) else 0):
        present = f.evidence_function[:, s] >= 0
        if not present.any():
            break
        name = function_ids.take(pa.array(np.maximum(f.evidence_function[:, s], 0)))
        when = iso_times(f.evidence_time[:, s])
        obj = _objects(report, f.evidence_obj[:, s])
        with_obj = pc.binary_join_element_wise(name, when, obj, " ")
        part = pc.if_else(
            pa.array(f.evidence_obj[:, s] >= 0),
            with_obj,
            pc.binary_join_element_wise(name, when, " "),
        )
        columns.append(pc.if_else(pa.array(present), part, pa.scalar(None, pa.string())))
    if not columns:
        return pa.array([""] * len(f), pa.string())
    return pc.binary_join_element_wise(*columns, "; ", null_handling="skip")


def actual_table(report: ActualReport) -> pa.Table:
    f = report.findings
    rules, users = report.analysis.rules, report.analysis.population.user_ids
    return pa.table(
        {
            "user_id": users.take(pa.array(f.user)),
            "risk_id": pa.array(rules.risk_ids, pa.string()).take(pa.array(f.risk)),
            "level": pa.array(LEVELS).take(pa.array(rules.risk_level[f.risk])),
            "kind": pa.array(KINDS).take(pa.array(f.kind)),
            "object": _objects(report, f.obj),
            "start": iso_times(f.start),
            "end": iso_times(f.end),
            "possible": pa.array(report.possible),
            "mitigated": pa.array(report.mitigated),
            "evidence": _evidence(report),
        }
    )


def write_actual_csv(report: ActualReport, handle: BinaryIO) -> None:
    """One row per actual finding, sorted by user, risk, kind and object."""
    table = actual_table(report)
    handle.write((",".join(CSV_COLUMNS) + "\n").encode())
    quoting = "needed" if any(_has_structural(c) for c in table.columns) else "none"
    write_arrow_table(
        table, handle, include_header=False, quoting_style=quoting, batch_size=1 << 16
    )


def summary(report: ActualReport) -> dict[str, int]:
    f, a = report.findings, report.analysis
    return {
        "events": report.events,
        "events_mapped": report.mapped,
        "window_seconds": report.window // 1_000_000,
        "actual": len(f),
        "actual_window": int(np.count_nonzero(f.kind == KINDS.index("window"))),
        "actual_same_object": int(np.count_nonzero(f.kind == KINDS.index("object"))),
        "people_with_actual": len(np.unique(f.user)),
        "actual_not_possible": int(np.count_nonzero(~report.possible)),
        "possible": len(a),
        "people_with_possible": len(np.unique(a.user)),
    }


def people(report: ActualReport, only: set[int] | None = None) -> Iterator[dict[str, object]]:
    """Per person with a possible or an actual conflict, both lists, sorted by user id;
    ``only`` restricts it to those user indices."""
    f, a = report.findings, report.analysis
    rules, users = a.rules, a.population.user_ids
    table = actual_table(report)
    rows = table.to_pylist()
    evidence_functions = f.evidence_function
    everyone = np.union1d(a.user, f.user)
    if only is not None:
        everyone = np.intersect1d(everyone, np.array(sorted(only), dtype=np.int64))
    a_at = np.searchsorted(a.user, np.append(everyone, a.population.size))
    f_at = np.searchsorted(f.user, np.append(everyone, a.population.size))
    for i, u in enumerate(everyone.tolist()):
        possible = [
            {
                "risk_id": rules.risk_ids[int(a.risk[v])],
                "level": LEVELS[int(rules.risk_level[a.risk[v]])],
                "mitigated": bool(a.mitigated[v]),
            }
            for v in range(int(a_at[i]), int(a_at[i + 1]))
        ]
        actual = []
        for j in range(int(f_at[i]), int(f_at[i + 1])):
            row = dict(rows[j])
            del row["user_id"], row["evidence"]
            row["evidence"] = [
                {
                    "function": rules.function_ids[int(evidence_functions[j, s])],
                    "time": iso_times(f.evidence_time[j, s : s + 1])[0].as_py(),
                    "object": f.objects[int(f.evidence_obj[j, s])].as_py()
                    if f.evidence_obj[j, s] >= 0
                    else "",
                }
                for s in range(evidence_functions.shape[1])
                if evidence_functions[j, s] >= 0
            ]
            actual.append(row)
        yield {"user_id": users[u].as_py(), "possible": possible, "actual": actual}


def write_actual_json(report: ActualReport, handle: BinaryIO) -> None:
    as_of = json.dumps(report.analysis.as_of.isoformat())
    handle.write(f'{{\n "as_of": {as_of},\n "summary": {json.dumps(summary(report))},\n'.encode())
    handle.write(b' "people": [')
    for i, person in enumerate(people(report)):
        handle.write((",\n  " if i else "\n  ").encode() + json.dumps(person).encode())
    handle.write(b"\n ]\n}\n")


def write_actual_html(report: ActualReport, handle: BinaryIO) -> None:
    """The compliance view: totals, then per person what they could and what they did."""
    totals = summary(report)
    as_of = report.analysis.as_of.isoformat()
    f = report.findings
    counts = np.bincount(f.user, minlength=report.analysis.population.size) if len(f) else None
    shown: set[int] = set()
    if counts is not None:
        order = np.lexsort((np.arange(len(counts)), -counts))[:HTML_PEOPLE]
        shown = {int(u) for u in order if counts[u] > 0}
    out = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Actual conflicts as of {as_of}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Actual conflicts as of {as_of}</h1>",
        '<p class="note">Possible: the person holds every function of the risk today '
        "(<code>sod analyze</code>). Actual: the person performed every function, within "
        f"{totals['window_seconds'] // 86400:,} days ({totals['window_seconds']:,} s) "
        "(<em>window</em>) or on the same object at any time (<em>object</em>, OBJ-SOD: "
        "never allowed, whatever the mitigations).</p>",
        '<div class="cards">',
    ]
    for label, key in [
        ("events read", "events"),
        ("events that perform a function", "events_mapped"),
        ("actual conflicts", "actual"),
        ("of them on the same object", "actual_same_object"),
        ("people with actual conflicts", "people_with_actual"),
        ("actual but not possible today", "actual_not_possible"),
        ("possible conflicts", "possible"),
    ]:
        out.append(f'<div class="card"><b>{totals[key]:,}</b>{label}</div>')
    out.append("</div>")
    out.append(
        f"<h2>People with actual conflicts ({len(shown):,} of "
        f"{totals['people_with_actual']:,}, most first)</h2>"
    )
    out.append(
        "<table><tr><th>person</th><th>possible (risk, level)</th>"
        "<th>actual (risk, kind, evidence)</th></tr>"
    )
    listed = list(people(report, shown))
    listed.sort(key=lambda p: (-len(p["actual"]), p["user_id"]))  # type: ignore[arg-type]
    for person in listed:
        possible_rows: list[dict[str, Any]] = list(person["possible"])  # type: ignore[call-overload]
        actual_rows: list[dict[str, Any]] = list(person["actual"])  # type: ignore[call-overload]
        done = {a["risk_id"] for a in actual_rows}
        possible_rows.sort(key=lambda p: p["risk_id"] not in done)  # what was done, first
        possible = _capped(
            [
                f"<code>{escape(str(p['risk_id']))}</code> {p['level']}"
                + (" (mitigated)" if p["mitigated"] else "")
                + (" — done" if p["risk_id"] in done else "")
                for p in possible_rows
            ]
        )
        actual = _capped(
            [
                f"<code>{escape(str(a['risk_id']))}</code> {a['level']} {a['kind']}"
                + ("" if a["possible"] else " <b>not possible today</b>")
                + ": "
                + escape(
                    "; ".join(
                        f"{e['function']} {e['time']} {e['object']}".strip() for e in a["evidence"]
                    )
                )
                for a in actual_rows
            ]
        )
        out.append(
            f"<tr><td>{escape(str(person['user_id']))}</td><td>{possible or '—'}</td>"
            f"<td>{actual}</td></tr>"
        )
    out.append("</table></body></html>\n")
    handle.write("\n".join(out).encode())


def _capped(items: list[str]) -> str:
    """At most ``HTML_CELL`` lines in a cell; the JSON has them all."""
    shown = items[:HTML_CELL]
    if len(items) > HTML_CELL:
        shown.append(f"… and {len(items) - HTML_CELL:,} more (the JSON has all)")
    return "<br>".join(shown)


ACTUAL_FORMATS = {"csv": write_actual_csv, "json": write_actual_json, "html": write_actual_html}
