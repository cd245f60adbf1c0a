"""The outputs of ``backoffice sod analyze``: ``violations.csv``, JSON and an HTML report.

The CSV is written by Arrow straight from the violation arrays (it is on the hot path of
the benchmark), with spreadsheet formulas defused (``core.csvsafe``); JSON and HTML add the
root cause and the fix for each user. The HTML report is one self-contained file: inline
CSS and SVG charts drawn here, no script, no CDN, every value escaped.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape
from typing import BinaryIO

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from backoffice.core.accessrisk import (
    LEVELS,
    Analysis,
    Fix,
    Supply,
    causing_roles,
    explain,
    remediate,
    supply,
)
from backoffice.core.csvsafe import write_arrow_table

__all__ = ["FORMATS", "write_csv", "write_html", "write_json"]

#: Rows of the HTML report's tables; the JSON output has them all.
HTML_ROWS = 200
#: Bars per chart.
CHART_BARS = 20


def write_csv(analysis: Analysis, handle: BinaryIO, *, explain_roles: bool = False) -> None:
    """``user_id,risk_id,level,mitigated`` sorted by user and risk; ``--explain`` adds
    ``functions`` (``FN1: r1 r2; FN2: r3``: per function, the user's roles that supply it)."""
    table = analysis.table()
    if explain_roles:
        pairs = supply(analysis)
        causes = [_causes(analysis, pairs, v) for v in range(len(analysis))]
        table = table.append_column("functions", pa.array(causes, pa.string()))
    handle.write((",".join(table.column_names) + "\n").encode())
    quoting = "needed" if any(_has_structural(c) for c in table.columns) else "none"
    write_arrow_table(
        table, handle, include_header=False, quoting_style=quoting, batch_size=1 << 16
    )


def write_json(analysis: Analysis, handle: BinaryIO, *, explain_roles: bool = False) -> None:
    """Summary, violations (with causes under ``--explain``) and the fix per user."""
    pairs = supply(analysis)
    rules, user_ids = analysis.rules, analysis.population.user_ids
    as_of, summary = json.dumps(analysis.as_of.isoformat()), json.dumps(_summary(analysis))
    handle.write(f'{{\n "as_of": {as_of},\n "summary": {summary},\n "violations": ['.encode())
    table = analysis.table()
    columns = [table[name].to_pylist() for name in table.column_names]
    for v, row in enumerate(zip(*columns, strict=True)):
        item: dict[str, object] = dict(zip(table.column_names, row, strict=True))
        if explain_roles:
            item["functions"] = dict(explain(analysis, pairs, v))
        handle.write((",\n  " if v else "\n  ").encode() + json.dumps(item).encode())
    handle.write(b'\n ],\n "remediation": [')
    for i, fix in enumerate(remediate(analysis, pairs)):
        item = {
            "user_id": user_ids[fix.user].as_py(),
            "remove": [rules.role_ids[r] for r in fix.remove],
            "clears": fix.clears,
        }
        handle.write((",\n  " if i else "\n  ").encode() + json.dumps(item).encode())
    handle.write(b"\n ]\n}\n")


def write_html(analysis: Analysis, handle: BinaryIO, *, explain_roles: bool = False) -> None:
    """The report a compliance officer acts on: charts, then root cause and fix per user."""
    pairs = supply(analysis)
    fixes = remediate(analysis, pairs)
    handle.write(_html(analysis, pairs, fixes, explain_roles).encode())


FORMATS = {"csv": write_csv, "json": write_json, "html": write_html}


def _causes(analysis: Analysis, pairs: Supply, v: int) -> str:
    """``FN1: r1 r2; FN2: r3``: per function of violation v, the roles that supply it."""
    return "; ".join(f"{f}: {' '.join(roles)}" for f, roles in explain(analysis, pairs, v))


def _has_structural(column: pa.ChunkedArray) -> bool:
    """Whether a string column holds a comma, quote or line break (then values are quoted)."""
    if not pa.types.is_string(column.type):
        return False
    for chunk in column.chunks:
        if len(chunk) == 0:
            continue
        offsets = np.frombuffer(chunk.buffers()[1], np.int32, len(chunk) + 1, chunk.offset * 4)
        data = np.frombuffer(
            chunk.buffers()[2], np.uint8, int(offsets[-1] - offsets[0]), int(offsets[0])
        )
        if bool(np.isin(data, np.frombuffer(b',"\r\n', np.uint8)).any()):
            return True
    return False


def _summary(analysis: Analysis) -> dict[str, int]:
    mitigated = int(np.count_nonzero(analysis.mitigated))
    return {
        "users": analysis.population.size,
        "users_with_violations": len(np.unique(analysis.user)),
        "violations": len(analysis),
        "mitigated": mitigated,
        "open": len(analysis) - mitigated,
        "risks": len(analysis.rules.risk_ids),
        "roles": len(analysis.rules.role_ids),
    }


def _top(counts: npt.NDArray[np.int64], n: int = CHART_BARS) -> list[int]:
    """Indices of the n largest counts, largest first, ties by index; zeros left out."""
    order = np.lexsort((np.arange(len(counts)), -counts))[:n]
    return [int(i) for i in order if counts[i] > 0]


_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:64rem;color:#1d2430}
body{padding:0 1rem}h1{font-size:1.5rem}
h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #d5dae1}
table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{text-align:left;padding:.25rem .5rem;border-bottom:1px solid #e6e9ee;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.cards{display:flex;gap:1rem;flex-wrap:wrap}.card{border:1px solid #d5dae1;border-radius:6px;
padding:.6rem 1rem}.card b{display:block;font-size:1.3rem}
svg text{font:12px system-ui,sans-serif;fill:#1d2430}.note{color:#5a6472}code{font-size:12px}
.legend span{display:inline-block;width:.8rem;height:.8rem;margin:0 .3rem 0 1rem}
"""

_OPEN, _MITIGATED = "#c2410c", "#94a3b8"


def _bars(title: str, rows: Sequence[tuple[str, Sequence[int]]], colours: Sequence[str]) -> str:
    """A horizontal (stacked) bar chart as inline SVG; each row is (label, values)."""
    if not rows:
        return '<p class="note">Nothing to show.</p>'
    label_width, chart_width, bar, gap = 190, 440, 16, 6
    top = max(sum(values) for _, values in rows) or 1
    height = len(rows) * (bar + gap)
    parts = [
        f'<svg role="img" aria-label="{escape(title)}" width="{label_width + chart_width + 90}" '
        f'height="{height}" viewBox="0 0 {label_width + chart_width + 90} {height}">'
    ]
    for i, (label, values) in enumerate(rows):
        y = i * (bar + gap)
        x = float(label_width)
        for value, colour in zip(values, colours, strict=True):
            w = value / top * chart_width
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar}" fill="{colour}">'
                f"<title>{escape(label)}: {value:,}</title></rect>"
            )
            x += w
        baseline = y + bar - 4
        parts.append(
            f'<text x="{label_width - 8}" y="{baseline}" text-anchor="end">{escape(label)}</text>'
            f'<text x="{x + 6:.1f}" y="{baseline}">{sum(values):,}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _legend(items: Sequence[tuple[str, str]]) -> str:
    spans = "".join(
        f'<span style="background:{colour}"></span>{escape(name)}' for name, colour in items
    )
    return f'<p class="legend">{spans}</p>'


def _html(analysis: Analysis, pairs: Supply, fixes: list[Fix], explain_roles: bool) -> str:
    rules, users = analysis.rules, analysis.population.user_ids
    summary = _summary(analysis)
    level = rules.risk_level[analysis.risk].astype(np.int64)
    mitigated = analysis.mitigated.astype(np.int64)
    by_level = np.bincount(level * 2 + mitigated, minlength=2 * len(LEVELS)).reshape(-1, 2)
    open_ = analysis.risk[~analysis.mitigated]
    by_risk_open = np.bincount(open_, minlength=len(rules.risk_ids))
    by_risk = np.bincount(analysis.risk, minlength=len(rules.risk_ids))
    by_role = causing_roles(analysis, pairs)
    by_user = np.bincount(analysis.user, minlength=analysis.population.size)
    by_user_open = np.bincount(analysis.user[~analysis.mitigated], minlength=len(by_user))
    in_fixes = np.bincount(
        np.array([r for fix in fixes for r in fix.remove], dtype=np.int64),
        minlength=len(rules.role_ids),
    )
    open_legend = _legend([("open", _OPEN), ("mitigated", _MITIGATED)])

    out = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Access-risk analysis as of {analysis.as_of.isoformat()}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Access-risk analysis as of {analysis.as_of.isoformat()}</h1>",
        '<div class="cards">',
    ]
    for label, key in [
        ("users", "users"),
        ("users with violations", "users_with_violations"),
        ("violations", "violations"),
        ("open", "open"),
        ("mitigated", "mitigated"),
    ]:
        out.append(f'<div class="card"><b>{summary[key]:,}</b>{label}</div>')
    out.append("</div>")

    out.append("<h2>Violations by level</h2>" + open_legend)
    out.append(
        _bars(
            "Violations by level",
            [(name, by_level[i].tolist()) for i, name in enumerate(LEVELS)],
            [_OPEN, _MITIGATED],
        )
    )
    out.append(f"<h2>Violations by risk (top {CHART_BARS})</h2>" + open_legend)
    out.append(
        _bars(
            "Violations by risk",
            [
                (
                    f"{rules.risk_ids[k]} ({LEVELS[int(rules.risk_level[k])]})",
                    [int(by_risk_open[k]), int(by_risk[k] - by_risk_open[k])],
                )
                for k in _top(by_risk)
            ],
            [_OPEN, _MITIGATED],
        )
    )
    out.append(f"<h2>Roles that cause the most violations (top {CHART_BARS})</h2>")
    out.append(
        '<p class="note">A role causes a violation when it supplies at least one function '
        "of the risk to the user, directly or through the roles it contains.</p>"
    )
    out.append(
        _bars(
            "Roles that cause the most violations",
            [(rules.role_ids[r], [int(by_role[r])]) for r in _top(by_role)],
            [_OPEN],
        )
    )
    out.append(f"<h2>Users with the most violations (top {CHART_BARS})</h2>" + open_legend)
    out.append(
        _bars(
            "Users with the most violations",
            [
                (users[u].as_py(), [int(by_user_open[u]), int(by_user[u] - by_user_open[u])])
                for u in _top(by_user)
            ],
            [_OPEN, _MITIGATED],
        )
    )

    out.append("<h2>Root cause and fix</h2>")
    out.append(
        '<p class="note">For each user with open (unmitigated) violations: the fewest role '
        "removals that clear all of them. Removing a role clears a violation when the role was "
        "the last to supply one of the risk's functions. The search is greedy and exact when "
        "few roles are in play; see docs/access-risk.md.</p>"
    )
    out.append(f"<h3>Roles most often in a fix (top {CHART_BARS})</h3>")
    out.append(
        _bars(
            "Roles most often in a fix",
            [(rules.role_ids[r], [int(in_fixes[r])]) for r in _top(in_fixes)],
            [_OPEN],
        )
    )
    shown = sorted(fixes, key=lambda f: (-f.clears, users[f.user].as_py()))[:HTML_ROWS]
    out.append(
        f"<h3>Users and their fix ({len(shown):,} of {len(fixes):,}, most open violations "
        "first)</h3>"
    )
    out.append(
        '<table><tr><th>user</th><th class="n">open violations</th><th>remove roles</th>'
        "<th>risks (function: supplying roles)</th></tr>"
    )
    first_of_user = np.searchsorted(analysis.user, np.arange(analysis.population.size + 1))
    for fix in shown:
        risks = []
        for v in range(int(first_of_user[fix.user]), int(first_of_user[fix.user + 1])):
            if analysis.mitigated[v]:
                continue
            risk = escape(rules.risk_ids[int(analysis.risk[v])])
            risks.append(f"<code>{risk}</code> {escape(_causes(analysis, pairs, v))}")
        out.append(
            f"<tr><td>{escape(users[fix.user].as_py())}</td><td class=n>{fix.clears:,}</td>"
            f"<td>{escape(' '.join(rules.role_ids[r] for r in fix.remove))}</td>"
            f"<td>{'<br>'.join(risks)}</td></tr>"
        )
    out.append("</table>")

    if explain_roles:
        out.append(f"<h2>Violations (first {min(HTML_ROWS, len(analysis)):,})</h2>")
        out.append(
            "<table><tr><th>user</th><th>risk</th><th>level</th><th>mitigated</th>"
            "<th>function: supplying roles</th></tr>"
        )
        for v in range(min(HTML_ROWS, len(analysis))):
            out.append(
                f"<tr><td>{escape(users[int(analysis.user[v])].as_py())}</td>"
                f"<td>{escape(rules.risk_ids[int(analysis.risk[v])])}</td>"
                f"<td>{LEVELS[int(level[v])]}</td>"
                f"<td>{'yes' if analysis.mitigated[v] else 'no'}</td>"
                f"<td>{escape(_causes(analysis, pairs, v))}</td></tr>"
            )
        out.append("</table>")
    out.append("</body></html>\n")
    return "\n".join(out)
