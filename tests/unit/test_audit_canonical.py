"""#14: the fast route writes canonical_json's bytes, and reads an export as json reads it.

The chain's hashes are defined by ``canonical_json`` (the standard library's encoder). The
verifiers build those bytes with msgspec instead; these properties are what lets them.
"""

from __future__ import annotations

import io
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from backoffice.audit_cli import audit_verify_export
from backoffice.core import audit_verify
from backoffice.core.audit import (
    CANONICAL,
    HASHED_FIELDS,
    CanonicalEvent,
    canonical_json,
    decode_canonical_event,
    decode_json_value,
    fields_hash,
)
from backoffice.core.audit_export import write_jsonl
from backoffice.core.audit_verify import (
    ExportReader,
    HashedEvents,
    StoredEvent,
    Verification,
    verify_export,
)
from tests.unit.test_audit_chain import KEY, make_chain, signed

#: Every code point, unpaired surrogates included, with the corners of JSON's escaping
#: drawn often: control characters, DEL, U+2028/2029, '/', quotes, backslashes, non-BMP.
CORNERS = "\x00\x01\x08\t\n\x0b\x0c\r\x1f\x20\"'/\\\x7f\x80\u00e9\u2028\u2029\ufeff\uffff"
texts = st.text(
    st.one_of(
        st.sampled_from(CORNERS),
        st.characters(codec=None, categories=None),
        st.characters(min_codepoint=0x10000, max_codepoint=sys.maxunicode),
    ),
    max_size=12,
)
integers = st.one_of(
    st.integers(),
    st.sampled_from([0, -1, 2**53 + 1, 2**63 - 1, -(2**63), 2**64 - 1, 2**64, -(2**64)]),
    st.integers(min_value=-(10**300), max_value=10**300),
)
json_values = st.recursive(
    st.none() | st.booleans() | integers | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=20,
)


def is_encodable(value: Any) -> bool:
    """Whether UTF-8 can hold it: an unpaired surrogate cannot (and record() refuses it)."""
    try:
        canonical_json(value)
    except UnicodeEncodeError:
        return False
    return True


@given(json_values)
@example({"b": 1, "a": 2, "\u00e9": 3, "\U0001f600": 4, "\uffff": 5, "": 6, "B": 7})
@example(['\x00\x1f\x7f\u2028\u2029/\\"\b\f\n\r\t', 2**64, -(2**63) - 1, 10**200])
@example({"\ud800": "unpaired surrogate"})
def test_the_fast_route_writes_canonical_json_byte_for_byte(value: Any) -> None:
    if not is_encodable(value):
        with pytest.raises(UnicodeEncodeError):
            CANONICAL.encode(value)
        return
    assert CANONICAL.encode(value) == canonical_json(value)


@given(json_values, st.booleans())
def test_the_fast_route_reads_json_text_as_json_does(value: Any, ascii_only: bool) -> None:
    # Any spelling of the text: escaped (\u00e9, surrogate pairs) or not, spaced or not.
    text = json.dumps(value, ensure_ascii=ascii_only, indent=1 if ascii_only else None)
    if not is_encodable(value):
        with pytest.raises(ValueError):  # noqa: PT011 - msgspec's DecodeError is a ValueError
            decode_json_value(text.encode("utf-8", "surrogatepass"))
        return
    decoded = decode_json_value(text)
    assert decoded == json.loads(text)
    assert CANONICAL.encode(decoded) == canonical_json(json.loads(text))


@pytest.mark.parametrize("text", ["1.5", "[1.0]", '{"a": 1e16}', "-0.0", "1E400", "NaN"])
def test_a_float_is_refused_so_it_takes_the_reference_route(text: str) -> None:
    # The trail never holds one (to_json_value turns floats into text), and msgspec would
    # write some differently from json (1e16 against 1e+16): never on the fast route.
    with pytest.raises(ValueError):  # noqa: PT011 - msgspec's DecodeError is a ValueError
        decode_json_value(text)


def test_the_event_struct_holds_the_hashed_fields_in_canonical_order() -> None:
    assert CanonicalEvent.__struct_fields__[:12] == tuple(sorted(HASHED_FIELDS))
    assert CanonicalEvent.__struct_fields__[12:] == ("hash", "kind")


# -- export lines: the fast reader against the reference reader ---------------------------------


def export_lines(length: int = 12, checkpoint_at: tuple[int, ...] = (5,)) -> list[str]:
    events = make_chain(length)
    out = io.StringIO()
    write_jsonl(out, events, [signed(events[i]) for i in checkpoint_at], header={})
    return out.getvalue().splitlines(keepends=True)


def both_routes(lines: list[str]) -> Verification:
    """The verdict, after checking that both routes give the very same one."""
    keys = [KEY.public_key()]
    fast = verify_export(lines, public_keys=keys)
    reference = verify_export(lines, public_keys=keys, fast=False)
    assert fast == reference
    return fast


def _dup_first(key: str, value: str) -> Callable[[str], str]:
    """The key once more, before its own occurrence: json (and msgspec) keep the last."""
    return lambda line: line.replace(f'"{key}":', f'"{key}":{value},"{key}":', 1)


#: Other spellings of an event line, and whether it then still holds the same event.
SPELLINGS: dict[str, tuple[Callable[[str], str], bool]] = {
    "ascii": (lambda line: json.dumps(json.loads(line)) + "\n", True),
    "spaced": (
        lambda line: json.dumps(json.loads(line), indent=1).replace("\n", " ") + "\r\n",
        True,
    ),
    "escaped": (lambda line: line.replace("a", "\\u0061").replace("e", "\\u0065"), True),
    "reason twice, hidden first": (_dup_first("reason", '"hidden"'), True),
    "reason twice, shown last": (lambda line: line[:-2] + ',"reason":"shown"}\n', False),
    "seq a float": (lambda line: re.sub(r'"seq":(\d+)', r'"seq":\1.0', line, count=1), False),
    "float inside, overwritten": (_dup_first("votes", "1.5"), True),
    "float inside": (lambda line: line.replace('"after":{', '"after":{"f":1e16,', 1), False),
    "-0 inside, overwritten": (_dup_first("votes", "-0"), True),
    "-0 inside": (lambda line: line.replace('"after":{', '"after":{"zero":-0,', 1), False),
    "big integer, overwritten": (_dup_first("votes", str(10**30)), True),
    "big integer": (lambda line: line.replace('"after":{', f'"after":{{"big":{2**70},', 1), False),
    "integer of 5000 digits": (_dup_first("votes", "9" * 5000), False),
    "unpaired surrogate": (lambda line: line.replace('"reason":"', '"reason":"\\ud800', 1), False),
    "raw surrogate": (lambda line: line.replace('"reason":"', '"reason":"\udcff', 1), False),
    "extra field": (lambda line: line.replace('{"kind"', '{"extra":1,"kind"', 1), False),
    "no kind": (lambda line: line.replace('"kind":"event",', "", 1), False),
    "no hash": (lambda line: line[: line.index(',"hash"')] + "}\n", False),
    "kind twice": (_dup_first("kind", '"end"'), True),
    "seq true": (lambda line: re.sub(r'"seq":\d+', '"seq":true', line, count=1), False),
    "seq 0": (lambda line: re.sub(r'"seq":\d+', '"seq":0', line, count=1), False),
    "seq -1": (lambda line: re.sub(r'"seq":\d+', '"seq":-1', line, count=1), False),
    "two records on a line": (lambda line: line.rstrip("\n") + line, False),
    "an empty line before": (lambda line: "\n" + line, False),
}


@settings(max_examples=200)
@given(st.integers(1, 12), st.sampled_from(sorted(SPELLINGS)), st.booleans())
def test_an_export_line_in_any_spelling_gets_the_reference_verdict(
    seq: int, how: str, as_bytes: bool
) -> None:
    lines: list[Any] = export_lines()
    i = next(n for n, line in enumerate(lines) if f'"kind":"event","seq":{seq},' in line)
    spell, same_event = SPELLINGS[how]
    lines[i : i + 1] = spell(lines[i]).splitlines(keepends=True)
    if as_bytes:  # as a file opened "rb" gives them; a raw surrogate becomes invalid UTF-8
        lines = [line.encode("utf-8", "surrogateescape") for line in lines]
    outcome = both_routes(lines)
    assert outcome.ok == same_event, outcome.summary()


@pytest.mark.parametrize("run", [1, 2, 3, 7, 1000])
@pytest.mark.parametrize(
    "tamper",
    ["none", "delete", "delete two", "swap", "move later", "modify", "relink", "cut tail"],
)
def test_tampering_gets_the_reference_verdict_wherever_runs_break(
    monkeypatch: pytest.MonkeyPatch, run: int, tamper: str
) -> None:
    # Short runs put every tampering at a run's start, middle and end.
    monkeypatch.setattr(audit_verify, "_RUN", run)
    lines = export_lines(20, checkpoint_at=(4, 12))
    events = [n for n, line in enumerate(lines) if '"kind":"event"' in line]
    if tamper == "delete":
        del lines[events[8]]
    elif tamper == "delete two":
        del lines[events[8] : events[10]]
    elif tamper == "swap":
        lines[events[7]], lines[events[9]] = lines[events[9]], lines[events[7]]
    elif tamper == "move later":
        lines.insert(events[15], lines.pop(events[3]))
    elif tamper == "modify":
        lines[events[10]] = lines[events[10]].replace('"reason":""', '"reason":"x"')
    elif tamper == "relink":  # #10 rewritten and re-hashed: #11 no longer links to it
        record = json.loads(lines[events[9]])
        record["reason"] = "rewritten"
        record["hash"] = fields_hash({name: record[name] for name in HASHED_FIELDS})
        lines[events[9]] = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
    elif tamper == "cut tail":
        del lines[events[14] : -1]
    outcome = both_routes(lines)
    assert outcome.ok == (tamper == "none"), outcome.summary()


@given(st.data())
def test_anchors_get_the_reference_verdict_inside_runs(data: st.DataObject) -> None:
    lines = export_lines(15, checkpoint_at=())
    events = make_chain(15)
    anchored = data.draw(st.lists(st.integers(0, 17), max_size=3))
    anchors = [signed(events[min(i, 14)]) for i in anchored]
    cut = data.draw(st.integers(0, 15))
    kept = [line for n, line in enumerate(lines) if n <= cut or n == len(lines) - 1]
    keys = [KEY.public_key()]
    fast = verify_export(kept, public_keys=keys, checkpoints=anchors)
    assert fast == verify_export(kept, public_keys=keys, checkpoints=anchors, fast=False)


def test_an_unpaired_surrogate_in_an_export_is_modified_not_a_crash() -> None:
    # json reads "\ud800"; no event ever hashed can hold it (UTF-8 cannot).
    lines = export_lines()
    i = next(n for n, line in enumerate(lines) if '"kind":"event","seq":3,' in line)
    lines[i] = lines[i].replace('"reason":"', '"reason":"\\ud800', 1)
    problem = both_routes(lines).problem
    assert problem is not None and (problem.kind, problem.seq) == ("modified", 3)


def test_a_struct_decoded_from_an_export_line_is_what_json_reads() -> None:
    line = export_lines()[3]
    event = decode_canonical_event(line)
    record = json.loads(line)
    assert event.kind == record.pop("kind") and event.hash == record.pop("hash")
    assert {name: getattr(event, name) for name in HASHED_FIELDS} == record


def test_a_plain_export_is_read_in_runs_of_hashed_events() -> None:
    # The fast route is taken: no event of an untouched export goes the reference route.
    reader = ExportReader(export_lines(30))
    reader.read_header()
    items = list(reader.items())
    assert not any(isinstance(item, StoredEvent) for item in items)
    runs = [item for item in items if isinstance(item, HashedEvents)]
    assert sum(len(run.links) for run in runs) == 30 and reader.check_end() is None


def test_a_changed_event_alone_goes_the_reference_route() -> None:
    lines = export_lines(30)
    lines[9] = lines[9].replace('"reason":""', '"reason":"x"')
    reader = ExportReader(lines)
    reader.read_header()
    slow = [item for item in reader.items() if isinstance(item, StoredEvent)]
    assert [event.seq for event in slow] == [json.loads(lines[9])["seq"]]


def test_the_cli_names_an_unpaired_surrogate_in_an_export_modified(tmp_path: Path) -> None:
    # Before #14 this ended in a traceback (canonical_json cannot encode it).
    lines = export_lines()
    i = next(n for n, line in enumerate(lines) if '"kind":"event","seq":3,' in line)
    lines[i] = lines[i].replace('"reason":"', '"reason":"\\udfff', 1)
    path = tmp_path / "audit.jsonl"
    path.write_text("".join(lines), encoding="utf-8")
    out = io.StringIO()
    assert audit_verify_export(["--export", str(path)], out) == 1
    assert out.getvalue().startswith("FAILED at #3 modified: its content does not match")


@pytest.mark.parametrize("run", [1, 4, 1000])
def test_a_broken_line_after_runs_is_named_by_its_line_number(
    monkeypatch: pytest.MonkeyPatch, run: int
) -> None:
    monkeypatch.setattr(audit_verify, "_RUN", run)
    lines = export_lines(30, checkpoint_at=(5, 20))
    lines[25] = "not json\n"
    problem = both_routes(lines).problem
    assert problem is not None and problem.kind == "malformed"
    assert problem.message.startswith("line 26: not JSON")
