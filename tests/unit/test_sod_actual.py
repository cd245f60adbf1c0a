"""``backoffice sod actual``: conflicts people performed, from CSV and OCEL event logs.

The hand-made log has a known answer; the engine is checked against a brute-force
reference (loops over every event) with hypothesis; bad input names file and line, exits
2 and writes nothing.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backoffice.core.accessrisk import csvinput, rules_from_data
from backoffice.core.accessrisk.actual import KINDS, Findings, find_actual
from backoffice.core.accessrisk.events import EventLog
from backoffice.sod_actual_report import iso_times
from backoffice.sod_cli import sod_actual
from tests.unit.sod_data import write_folder

HEADER = "user_id,risk_id,level,kind,object,start,end,possible,mitigated,evidence"

#: The TINY folder's people at work. ann (holds lead: ENTER and APPROVE) enters and
#: approves INV-1 within the hour and releases a payment four days later; cid (only a
#: clerk) parks one invoice and approves another in the ERP 19 days later; ben (both
#: juniors, R1 mitigated) enters and approves INV-4, five months apart.
LOG = """actor,action,object,time
ann,invoice.enter,INV-1,2025-03-01T09:00:00Z
ann,invoice.approve,INV-1,2025-03-01T10:00:00Z
ann,report.read,,2025-03-01T11:00:00Z
ann,payment.release,PAY-9,2025-03-05T12:00:00+01:00
cid,invoice.park,INV-2,2025-03-01T08:00:00Z
cid,ERP_APPROVE,INV-3,2025-03-20T08:00:00Z
ben,invoice.enter,INV-4,2025-01-01T08:00:00Z
ben,invoice.approve,INV-4,2025-06-01T08:00:00Z
"""
MAPPING = "action,function_id\nERP_APPROVE,APPROVE\n"

EXPECTED = [
    HEADER,
    "ann,R1,high,object,INV-1,2025-03-01T09:00:00Z,2025-03-01T10:00:00Z,true,false,"
    "APPROVE 2025-03-01T10:00:00Z INV-1; ENTER 2025-03-01T09:00:00Z INV-1",
    "ann,R1,high,window,,2025-03-01T09:00:00Z,2025-03-01T10:00:00Z,true,false,"
    "APPROVE 2025-03-01T10:00:00Z INV-1; ENTER 2025-03-01T09:00:00Z INV-1",
    "ann,R2,critical,window,,2025-03-01T09:00:00Z,2025-03-05T11:00:00Z,false,false,"
    "APPROVE 2025-03-01T10:00:00Z INV-1; ENTER 2025-03-01T09:00:00Z INV-1; "
    "PAY 2025-03-05T11:00:00Z PAY-9",
    "ben,R1,high,object,INV-4,2025-01-01T08:00:00Z,2025-06-01T08:00:00Z,true,true,"
    "APPROVE 2025-06-01T08:00:00Z INV-4; ENTER 2025-01-01T08:00:00Z INV-4",
    "cid,R1,high,window,,2025-03-01T08:00:00Z,2025-03-20T08:00:00Z,false,false,"
    "APPROVE 2025-03-20T08:00:00Z INV-3; ENTER 2025-03-01T08:00:00Z INV-2",
]


def setup(tmp_path: Path, log: str = LOG, mapping: str | None = MAPPING) -> tuple[Path, Path]:
    folder = write_folder(tmp_path / "in")
    if mapping is not None:
        (folder / "actions.csv").write_text(mapping, encoding="utf-8")
    events = tmp_path / "log.csv"
    events.write_text(log, encoding="utf-8")
    return folder, events


def run(folder: Path, events: Path, out: Path, *extra: str) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = sod_actual(
        [str(folder), "--events", str(events), "--as-of", "2025-06-30", "--out", str(out), *extra],
        stdout,
        stderr,
    )
    return code, stdout.getvalue(), stderr.getvalue()


def assert_refused(tmp_path: Path, log: str, message: str) -> None:
    """Exit 2 with ``file:line: message``, and nothing written, not even a temporary file."""
    folder, events = setup(tmp_path, log=log)
    out = tmp_path / "actual.csv"
    code, _, err = run(folder, events, out)
    assert code == 2
    assert f"backoffice sod actual: {events.parent}/{message}" in err
    assert not out.exists()
    assert list(tmp_path.glob(".actual.csv*")) == []


def test_hand_made_log_gives_the_known_answer(tmp_path: Path) -> None:
    folder, events = setup(tmp_path)
    code, stdout, _ = run(folder, events, tmp_path / "actual.csv")
    assert code == 0
    assert (tmp_path / "actual.csv").read_text().splitlines() == EXPECTED
    assert stdout.startswith("5 actual conflicts of 3 people (2 not possible today) in 8 events")


def test_the_window_is_inclusive_and_a_day_more_is_outside_it(tmp_path: Path) -> None:
    folder, events = setup(tmp_path)
    assert run(folder, events, tmp_path / "w19.csv", "--window", "19d")[0] == 0
    assert run(folder, events, tmp_path / "w18.csv", "--window", "18d")[0] == 0
    cid = [line for line in (tmp_path / "w19.csv").read_text().splitlines() if line[:3] == "cid"]
    assert len(cid) == 1
    assert "cid," not in (tmp_path / "w18.csv").read_text()


def test_an_ocel_log_gives_the_same_answer_as_the_csv(tmp_path: Path) -> None:
    """Backoffice's own audit export: the actor related as ``person:ann``, or an attribute."""
    folder, _ = setup(tmp_path)
    rows = [line.split(",") for line in LOG.splitlines()[1:]]
    ocel_events = []
    for n, (actor, action, obj, time) in enumerate(rows):
        relationships = [{"objectId": f"person:{actor}", "qualifier": "actor"}]
        if obj:
            relationships.append({"objectId": obj, "qualifier": "object"})
        ocel_events.append(
            {"id": f"e{n}", "type": action, "time": time, "attributes": [],
             "relationships": relationships}
        )  # fmt: skip
    document = {"objectTypes": [], "eventTypes": [], "objects": [], "events": ocel_events}
    log = tmp_path / "log.json"
    log.write_text(json.dumps(document, indent=1))
    code, _, _ = run(folder, log, tmp_path / "actual.csv")
    assert code == 0
    assert (tmp_path / "actual.csv").read_text().splitlines() == EXPECTED


def test_an_ocel_event_on_two_objects_counts_for_both(tmp_path: Path) -> None:
    """The payment released to the vendor it was created for: one event, two objects."""
    folder, _ = setup(tmp_path, mapping="action,function_id\nvendor.create,ENTER\n")
    document = {
        "events": [
            {"id": "e1", "type": "vendor.create", "time": "2025-03-01T09:00:00Z",
             "attributes": [{"name": "actor", "value": "cid"}],
             "relationships": [{"objectId": "vendor:V1", "qualifier": "object"}]},
            {"id": "e2", "type": "invoice.approve", "time": "2025-05-01T09:00:00Z",
             "attributes": [{"name": "actor", "value": "cid"}],
             "relationships": [{"objectId": "payment:P7", "qualifier": "object"},
                               {"objectId": "vendor:V1", "qualifier": "vendor"}]},
        ]
    }  # fmt: skip
    log = tmp_path / "log.json"
    log.write_text(json.dumps(document))
    assert run(folder, log, tmp_path / "a.csv")[0] == 0
    assert (tmp_path / "a.csv").read_text().splitlines()[1:] == [
        "cid,R1,high,object,vendor:V1,2025-03-01T09:00:00Z,2025-05-01T09:00:00Z,false,false,"
        "APPROVE 2025-05-01T09:00:00Z vendor:V1; ENTER 2025-03-01T09:00:00Z vendor:V1"
    ]


def test_json_puts_possible_and_actual_side_by_side_per_person(tmp_path: Path) -> None:
    folder, events = setup(tmp_path, log=LOG.replace("ben,", "cid,"))
    assert run(folder, events, tmp_path / "a.json", "--format", "json")[0] == 0
    report = json.loads((tmp_path / "a.json").read_text())
    people = {p["user_id"]: p for p in report["people"]}
    assert people["ben"]["possible"] == [{"risk_id": "R1", "level": "high", "mitigated": True}]
    assert people["ben"]["actual"] == []  # could, but did not
    assert [a["risk_id"] for a in people["cid"]["actual"]] == ["R1", "R1"]  # did, cannot
    assert people["cid"]["possible"] == []
    evidence = people["ann"]["actual"][0]["evidence"]
    assert evidence[1] == {"function": "ENTER", "time": "2025-03-01T09:00:00Z", "object": "INV-1"}
    assert report["summary"]["actual_same_object"] == 2


def test_html_report_shows_each_person_with_both_sides(tmp_path: Path) -> None:
    folder, events = setup(tmp_path)
    assert run(folder, events, tmp_path / "a.html", "--format", "html")[0] == 0
    html = (tmp_path / "a.html").read_text()
    assert "<script" not in html
    assert "<td>cid</td><td>—</td>" in html  # nothing possible, but done
    assert "not possible today" in html
    assert "ENTER 2025-01-01T08:00:00Z INV-4" in html


# -- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("log", "message"),
    [
        (LOG + "ann,invoice.enter,INV-9\n", "log.csv:10: expected 4 fields, found 3"),
        (
            LOG.replace("2025-03-20T08:00:00Z", "20.03.2025"),
            "log.csv:7: time '20.03.2025' is not an ISO 8601 time with a zone",
        ),
        (
            LOG.replace("2025-03-20T08:00:00Z", "2025-03-20T08:00:00"),
            "log.csv:7: time '2025-03-20T08:00:00' is not an ISO 8601 time with a zone",
        ),
        (
            LOG.replace("2025-03-20T08:00:00Z", "2025-02-30T08:00:00Z"),
            "log.csv:7: time '2025-02-30T08:00:00Z' is not an ISO 8601 time with a zone",
        ),
        (LOG.replace("ben,", "zed,", 1), "log.csv:8: unknown actor 'zed' (not in users.csv)"),
        (LOG.replace("ben,", ",", 1), "log.csv:8: missing actor"),
        ("actor,action,time\nann,x,2025-01-01T00:00:00Z\n", "log.csv:1: missing column 'object'"),
    ],
)
def test_a_malformed_log_is_named_by_file_and_line_and_nothing_is_written(
    tmp_path: Path, log: str, message: str
) -> None:
    assert_refused(tmp_path, log, message)


def read_in_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read every log in pieces side by side (``CsvFile.pieces``), as a large one is."""
    monkeypatch.setattr(csvinput, "_PIECE", 1)


#: The hand-made log off the common form the C reader takes (CRLF, quotes, a time with a
#: space for its T): Arrow's reader reads it.
UNCOMMON = (
    LOG.replace("\n", "\r\n")
    .replace("INV-1,", '"INV-1",')
    .replace("2025-01-01T08:00:00Z", "2025-01-01 08:00:00Z")
)


@pytest.mark.parametrize("log", [LOG, UNCOMMON], ids=["C reader", "Arrow's reader"])
@pytest.mark.parametrize("pieces", [False, True], ids=["one piece", "in pieces"])
def test_a_log_read_in_small_blocks_gives_the_same_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pieces: bool, log: str
) -> None:
    """The log is converted a block at a time: with blocks of a line or two, people's
    events, objects and actions performing two functions span many blocks (and, read as
    pieces side by side, several pieces). Either reader gives the known answer."""
    # invoice.enter also approves (a second function), so ann and ben approve on entering
    folder, events = setup(tmp_path, log=log, mapping=MAPPING + "invoice.enter,APPROVE\n")
    assert run(folder, events, tmp_path / "whole.csv")[0] == 0
    monkeypatch.setattr(csvinput, "_BLOCK_SIZE", 64)
    monkeypatch.setattr(csvinput, "_COMMON_BLOCK", 64)
    if pieces:
        read_in_pieces(monkeypatch)
    assert run(folder, events, tmp_path / "blocks.csv")[0] == 0
    whole = (tmp_path / "whole.csv").read_text()
    assert (tmp_path / "blocks.csv").read_text() == whole
    assert "ben,R1,high,window,,2025-01-01T08:00:00Z,2025-01-01T08:00:00Z" in whole
    folder, events = setup(tmp_path / "known", log=log)
    assert run(folder, events, tmp_path / "known.csv")[0] == 0
    assert (tmp_path / "known.csv").read_text().splitlines() == EXPECTED
    fields = {"actor": csvinput.STRING}
    common = csvinput.CsvFile(events.parent, "events", events).read_common(fields)
    assert (common is None) == (log == UNCOMMON)  # which reader read it


@pytest.mark.parametrize(
    ("log", "message"),
    [
        (LOG.replace("ben,", "zed,", 1), "log.csv:8: unknown actor 'zed' (not in users.csv)"),
        (LOG.replace("ben,", ",", 1), "log.csv:8: missing actor"),
        (LOG + "ann,invoice.enter,INV-9,\n", "log.csv:10: missing time"),
        (
            LOG.replace("2025-03-20T08:00:00Z", "20.03.2025"),
            "log.csv:7: time '20.03.2025' is not an ISO 8601 time with a zone",
        ),
        (LOG + "ann,invoice.enter,INV-9\n", "log.csv:10: expected 4 fields, found 3"),
    ],
)
@pytest.mark.parametrize("pieces", [False, True], ids=["one piece", "in pieces"])
def test_an_error_in_a_later_block_is_named_by_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, log: str, message: str, pieces: bool
) -> None:
    monkeypatch.setattr(csvinput, "_BLOCK_SIZE", 64)
    if pieces:  # the bad line is in a later piece
        read_in_pieces(monkeypatch)
    assert_refused(tmp_path, log, message)


def test_the_command_runs_without_pandas_and_the_cycle_collector(tmp_path: Path) -> None:
    """``backoffice sod actual`` keeps pyarrow from importing pandas (0.3 s of its start)
    and the collector off while it runs, imports numpy without huge pages and with one
    OpenBLAS thread, and gives everything back when it is done."""
    folder, events = setup(tmp_path)
    script = f"""
import gc, os, sys
os.environ["OPENBLAS_NUM_THREADS"] = "3"  # the caller's own, put back afterwards
from backoffice.cli import main
from backoffice import cli
seen = []  # collections while the command ran (its finder of no pandas in place)
running = lambda: any(isinstance(f, cli._NoPandas) for f in sys.meta_path)
gc.callbacks.append(lambda phase, info: running() and seen.append(phase))
code = main(["sod", "actual", {str(folder)!r}, "--events", {str(events)!r},
             "--as-of", "2025-06-30", "--out", {str(tmp_path / "a.csv")!r}])
assert code == 0, code
assert seen == [], "the collector ran"
assert "pandas" not in sys.modules, "pandas was imported"
assert gc.isenabled()
assert os.environ["OPENBLAS_NUM_THREADS"] == "3"
assert "NUMPY_MADVISE_HUGEPAGE" not in os.environ
from numpy._core import multiarray  # what numpy made of the setting at its import
assert not multiarray._get_madvise_hugepage()
import pandas  # installed (the test tools need it), and importable again afterwards
"""
    subprocess.run([sys.executable, "-c", script], check=True, cwd=Path(__file__).parents[2])
    assert (tmp_path / "a.csv").read_text().splitlines() == EXPECTED


def test_a_mapping_that_names_an_unknown_function_is_refused(tmp_path: Path) -> None:
    folder, events = setup(tmp_path, mapping=MAPPING + "vendor.create,VENDOR\n")
    out = tmp_path / "actual.csv"
    out.write_text("the earlier report\n")
    code, _, err = run(folder, events, out)
    assert code == 2
    assert err.strip().startswith(
        f"backoffice sod actual: {folder}/actions.csv:3: unknown function_id 'VENDOR' "
        "(not in functions.csv)"
    )
    assert out.read_text() == "the earlier report\n"  # left as it was


def test_a_mapping_given_with_mapping_is_checked_the_same_way(tmp_path: Path) -> None:
    folder, events = setup(tmp_path, mapping=None)
    mapping = tmp_path / "erp.csv"
    mapping.write_text("action,function_id\nERP_APPROVE,APPROVE\nX,NOPE\n")
    code, _, err = run(folder, events, tmp_path / "a.csv", "--mapping", str(mapping))
    assert code == 2
    assert f"{mapping}:3: unknown function_id 'NOPE'" in err
    assert not (tmp_path / "a.csv").exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"events": [\n{"id": "e1",\n "type": }]}', "log.json:3: not valid JSON"),
        ('{"objects": []}', "log.json:1: not an OCEL 2.0 log: no 'events' list"),
        (
            '{"events": [\n{"id": "e1", "type": "invoice.enter", "time": "2025-01-01T00:00:00Z",'
            ' "attributes": [{"name": "actor", "value": "ann"}]},\n'
            '{"id": "e2", "type": "invoice.enter", "time": "yesterday",'
            ' "attributes": [{"name": "actor", "value": "ann"}]}]}',
            "log.json:3: event 2: time 'yesterday' is not an ISO 8601 time",
        ),
        (
            '{"events": [\n{"id": "e1", "type": "invoice.enter", "time": "2025-01-01T00:00:00Z"}]}',
            "log.json:2: event 1: missing actor",
        ),
    ],
)
def test_a_malformed_ocel_log_is_named_by_file_and_line(
    tmp_path: Path, text: str, message: str
) -> None:
    folder, _ = setup(tmp_path)
    log = tmp_path / "log.json"
    log.write_text(text)
    code, _, err = run(folder, log, tmp_path / "a.csv")
    assert code == 2
    assert f"{tmp_path}/{message}" in err
    assert not (tmp_path / "a.csv").exists()


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.integers(-62_135_596_800 * 10**6, 253_402_300_799 * 10**6).flatmap(
            lambda t: st.sampled_from([t, t - t % 1_000_000])  # with and without a fraction
        ),
        max_size=20,
    )
)
def test_times_are_written_as_iso_8601_in_utc(micros: list[int]) -> None:
    """Years 1 to 9999 with four digits, a fraction only where there is one, and Z."""
    epoch = datetime(1970, 1, 1)
    expected = [(epoch + timedelta(microseconds=m)).isoformat() + "Z" for m in micros]
    assert iso_times(np.array(micros, dtype=np.int64)).to_pylist() == expected


def test_a_bad_window_is_refused_by_argparse(tmp_path: Path) -> None:
    folder, events = setup(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        run(folder, events, tmp_path / "a.csv", "--window", "2 weeks")
    assert exit_.value.code == 2


# -- against a brute-force reference --------------------------------------------------------

FUNCTIONS = ("A", "B", "C", "D")
RISKS = {"R1": ("A", "B"), "R2": ("A", "B", "C"), "R3": ("C", "D"), "R4": FUNCTIONS}
USERS = ("u1", "u2", "u3")
OBJECTS = ("", "o1", "o2", "o3")
SECOND = 1_000_000

Event = tuple[int, str, int, str]  # user, function, time (s), object
Finding = tuple[str, str, str, str, tuple[tuple[str, int, str], ...]]


def reference(events: list[Event], window: int) -> list[Finding]:
    """Both rules written as their definitions, over every event, with no cleverness."""
    found: list[Finding] = []
    for u, user in enumerate(USERS):
        mine = [e for e in events if e[0] == u]
        for risk, functions in RISKS.items():
            by_object: dict[str, dict[str, int]] = defaultdict(dict)
            for _, f, t, o in mine:
                if f in functions and o:
                    by_object[o][f] = min(t, by_object[o].get(f, t))
            for o in sorted(by_object):
                if len(by_object[o]) == len(functions):
                    evidence = tuple((f, by_object[o][f], o) for f in functions)
                    found.append((user, risk, "object", o, evidence))
            starts = sorted({t for _, f, t, _ in mine if f in functions})
            for start in starts:
                inside = all(
                    any(g == f and start <= t <= start + window for _, g, t, _ in mine)
                    for f in functions
                )
                if inside:
                    evidence = tuple(
                        (f, *min((t, o) for _, g, t, o in mine if g == f and t >= start))
                        for f in functions
                    )
                    found.append((user, risk, "window", "", evidence))
                    break
    order = {"object": 0, "window": 1}
    return sorted(found, key=lambda x: (x[0], x[1], order[x[2]], x[3]))


RULES = rules_from_data(
    roles=["r"],
    grants=[],
    contains=[],
    functions=[(f, f.lower()) for f in FUNCTIONS],
    risks=[(k, "high", f) for k, fs in RISKS.items() for f in fs],
)

events_strategy = st.lists(
    st.tuples(
        st.integers(0, len(USERS) - 1),
        st.sampled_from(FUNCTIONS),
        st.integers(0, 30),
        st.sampled_from(OBJECTS),
    ),
    max_size=40,
)


def event_log(events: list[Event]) -> EventLog:
    function_index = {f: i for i, f in enumerate(RULES.function_ids)}
    return EventLog(
        user=np.array([e[0] for e in events], dtype=np.int32),
        function=np.array([function_index[e[1]] for e in events], dtype=np.int32),
        time=np.array([e[2] * SECOND for e in events], dtype=np.int64),
        source=np.arange(len(events), dtype=np.int64),
        object_column=pa.chunked_array([pa.array([e[3] for e in events], pa.string())]),
        events=len(events),
        mapped=len(events),
    )


def as_found(findings: Findings) -> list[Finding]:
    """The findings as the reference writes them (and each one's start and end checked)."""
    got = []
    for i in range(len(findings)):
        evidence = tuple(
            (
                RULES.function_ids[int(findings.evidence_function[i, s])],
                int(findings.evidence_time[i, s]) // SECOND,
                findings.objects[int(findings.evidence_obj[i, s])].as_py()
                if findings.evidence_obj[i, s] >= 0
                else "",
            )
            for s in range(findings.evidence_function.shape[1])
            if findings.evidence_function[i, s] >= 0
        )
        obj = int(findings.obj[i])
        got.append(
            (
                USERS[int(findings.user[i])],
                RULES.risk_ids[int(findings.risk[i])],
                KINDS[int(findings.kind[i])],
                findings.objects[obj].as_py() if obj >= 0 else "",
                evidence,
            )
        )
        assert findings.start[i] == min(e[1] for e in evidence) * SECOND
        assert findings.end[i] == max(e[1] for e in evidence) * SECOND
    return got


@settings(max_examples=300, deadline=None)
@given(events=events_strategy, window=st.integers(0, 12))
def test_engine_agrees_with_the_brute_force_reference(events: list[Event], window: int) -> None:
    findings = find_actual(RULES, event_log(events), window * SECOND)
    assert as_found(findings) == reference(events, window)


@settings(max_examples=200, deadline=None)
@given(
    events=events_strategy,
    window=st.integers(0, 12),
    cuts=st.lists(st.integers(0, 40), max_size=3),
)
def test_a_log_read_in_parts_gives_the_answer_of_the_whole(
    events: list[Event], window: int, cuts: list[int]
) -> None:
    """A CSV log arrives in blocks, each its own part with its own objects; a person's
    events in different blocks are one person's events all the same."""
    bounds = sorted({0, len(events), *(min(c, len(events)) for c in cuts)})
    parts = [event_log(events[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]
    findings = find_actual(RULES, parts or [event_log([])], window * SECOND)
    assert as_found(findings) == reference(events, window)


def test_backoffice_own_audit_trail_exported_as_ocel_is_read(tmp_path: Path) -> None:
    """``backoffice audit export --format ocel``: ann starts case 7, a payment, and releases
    it herself (say, on behalf of someone); the mapping names Backoffice's audit actions."""
    from datetime import UTC, datetime, timedelta

    from backoffice.core.audit import GENESIS_HASH, ChainedEvent, event_hash
    from backoffice.core.audit_export import write_ocel
    from backoffice.core.audit_verify import StoredEvent

    folder, _ = setup(
        tmp_path, mapping="action,function_id\ncase.started,ENTER\ncase.released,APPROVE\n"
    )
    t0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
    events, prev = [], GENESIS_HASH
    for seq, (actor, action) in enumerate(
        [
            ("ann", "case.started"),
            ("cli:root", "case.started"),  # a system: skipped, not an unknown actor
            ("ben", "case.commented"),
            ("ann", "case.released"),
        ],
        start=1,
    ):
        chained = ChainedEvent(
            seq=seq, at=t0 + timedelta(hours=seq), actor=actor, on_behalf_of="",
            action=action, object_type="case", object_id="7", before=None, after={},
            reason="", request_id=f"r{seq}", prev_hash=prev,
        )  # fmt: skip
        prev = event_hash(chained)
        events.append(StoredEvent(chained.as_dict(), prev))
    log = tmp_path / "audit.json"
    with open(log, "w", encoding="utf-8") as handle:
        write_ocel(handle, lambda: iter(events))
    assert run(folder, log, tmp_path / "a.csv")[0] == 0
    rows = (tmp_path / "a.csv").read_text().splitlines()[1:]
    assert [row.split(",")[:5] for row in rows] == [
        ["ann", "R1", "high", "object", "case:7"],
        ["ann", "R1", "high", "window", ""],
    ]
    assert rows[0].endswith(
        "APPROVE 2025-03-01T13:00:00Z case:7; ENTER 2025-03-01T10:00:00Z case:7"
    )
