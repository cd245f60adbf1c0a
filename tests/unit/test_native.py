"""The C loops of ``sod actual`` (``_native.c``, issue #15): the reader of the common CSV
form against Arrow's reader, the signature filter against plain Python.

Whatever the C reader accepts it must read exactly as Arrow does; whatever it cannot read
it must refuse (None), so that Arrow reads the file and names what is wrong. And it must
accept the common form itself, or ``sod actual`` silently falls back to the slow path.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backoffice.core.accessrisk import _native, csvinput
from backoffice.core.accessrisk.csvinput import STRING, TIME, CsvFile, Ids, key, optional

USERS = ["u01", "u02", "ann", "bob.smith", "a-very-long-user-name-x", "a-very-long-user-name-y"]
ACTIONS = ["FB60", "F110", "vendor.note.delete.v2", "vendor.note.create.v2", "payment.release"]
users = Ids(pa.array(USERS, pa.string()), "users.csv")
actions = Ids(pa.array(ACTIONS, pa.string()), "actions")
KINDS = "kost"  # actor, action, object, time
TABLES = (users.table(), actions.table())

zone = st.one_of(
    st.just("Z"),
    st.builds(
        lambda sign, h, m: f"{sign}{h:02d}:{m:02d}",
        st.sampled_from("+-"),
        st.integers(0, 23),
        st.integers(0, 59),
    ),
)
fraction = st.one_of(
    st.just(""),
    st.integers(1, 6).flatmap(
        lambda n: st.text("0123456789", min_size=n, max_size=n).map(lambda d: "." + d)
    ),
)
moment = st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(9999, 12, 31))
common_time = st.builds(
    lambda t, f, z: t.strftime("%Y-%m-%dT%H:%M:%S") + f + z, moment, fraction, zone
)
common_object = st.text(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/: äÖß€𝄞", max_size=24
)
common_line = st.builds(
    lambda a, b, o, t: f"{a},{b},{o},{t}",
    st.sampled_from(USERS),
    st.one_of(st.sampled_from(ACTIONS), st.sampled_from(["", "DISPLAY", "FB6", "FB600"])),
    common_object,
    common_time,
)


def arrow(text: bytes) -> pa.Table:
    """The log as Arrow reads it (``CsvFile.batches``' options)."""
    return pcsv.read_csv(
        io.BytesIO(text),
        read_options=pcsv.ReadOptions(column_names=["actor", "action", "object", "time"]),
        convert_options=pcsv.ConvertOptions(
            column_types={
                "actor": pa.string(),
                "action": pa.string(),
                "object": pa.string(),
                "time": pa.timestamp("us", tz="UTC"),
            }
        ),
    )


def c_read(text: bytes, block: int = 1 << 19) -> list[np.ndarray | pa.Array] | None:
    parsed = _native.read(text, KINDS, TABLES, block)
    if parsed is None:
        return None
    actor, action, offsets, data, time = parsed
    rows = len(actor) // 4
    objects = pa.Array.from_buffers(
        pa.string(), rows, [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )
    return [
        np.frombuffer(actor, np.int32),
        np.frombuffer(action, np.int32),
        objects,
        np.frombuffer(time, np.int64),
    ]


def assert_as_arrow_reads(text: bytes, block: int = 1 << 19) -> bool:
    """If the C reader accepts ``text``, Arrow reads the same; whether it accepted."""
    mine = c_read(text, block)
    if mine is None:
        return False
    table = arrow(text)  # raises if the C reader accepted what Arrow refuses
    actor, action, objects, time = mine
    position = {u: i for i, u in enumerate(USERS)}
    assert actor.tolist() == [position[a] for a in table["actor"].to_pylist()]
    action_at = {a: i for i, a in enumerate(ACTIONS)}
    assert action.tolist() == [action_at.get(a, -1) for a in table["action"].to_pylist()]
    assert objects.to_pylist() == table["object"].to_pylist()
    expected = table["time"].cast(pa.int64()).to_pylist()
    assert time.tolist() == expected
    return True


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(common_line, min_size=1, max_size=30),
    ending=st.sampled_from(["\n", ""]),
    block=st.sampled_from([1, 7, 64, 1 << 19]),
)
def test_the_common_form_is_read_as_arrow_reads_it(
    lines: list[str], ending: str, block: int
) -> None:
    """Keys of any length (prefixes shared, longer than 8 and 16 bytes), optional keys not
    in the table, empty objects, times with fractions and zones, a last line without its
    break, and blocks from one byte (every line a block of its own) to the default."""
    text = ("\n".join(lines) + ending).encode()
    assert assert_as_arrow_reads(text, block)


#: What may break the common form, put anywhere in a line.
breakers = st.sampled_from(
    [b'"', b"\r", b",", b"\n", b"\n\n", b"", b"x", b"9", b":", b"T", b"Z", b"+"]
    # text: two-, three- and four-byte characters; bytes that are no UTF-8: a stray
    # continuation, a lead without its tail, an overlong '/', a surrogate, past U+10FFFF
    + ["é".encode(), "€".encode(), "𝄞".encode(), b"\x80", b"\xc3", b"\xc0\xaf"]
    + [b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xff"]
)


@settings(max_examples=500, deadline=None)
@given(lines=st.lists(common_line, min_size=1, max_size=8), where=st.data())
def test_anything_accepted_off_the_common_form_is_read_as_arrow_reads_it(
    lines: list[str], where: st.DataObject
) -> None:
    """A quote, a carriage return, text in UTF-8 or bytes that are not, a field too many
    or too few, a blank line, a changed digit of a time: the C reader refuses, or reads it
    as Arrow does. Refused input is read by Arrow, which names the line
    (tests/unit/test_sod_actual.py)."""
    line = where.draw(st.integers(0, len(lines) - 1))
    text = lines[line].encode()
    at = where.draw(st.integers(0, len(text)))
    cut = where.draw(st.integers(0, 2))
    changed = text[:at] + where.draw(breakers) + text[at + cut :]
    raw = (
        b"\n".join(
            [*(x.encode() for x in lines[:line]), changed, *(x.encode() for x in lines[line + 1 :])]
        )
        + b"\n"
    )
    try:
        assert_as_arrow_reads(raw)
    except (pa.ArrowInvalid, KeyError) as exc:  # accepted what Arrow refuses, or a new key
        raise AssertionError(f"accepted {raw!r}, which Arrow does not read alike: {exc}") from exc


def test_text_in_utf8_is_the_common_form_and_other_bytes_are_not() -> None:
    """Objects and actions in any language; bytes that are no UTF-8 are Arrow's to name."""
    text = "u01,Zahlung-Ä,Rechnung-€1,2025-03-01T10:00:00Z\nann,FB60,𝄞,2025-03-01T10:00:00Z\n"
    assert assert_as_arrow_reads(text.encode())
    for bad in (b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xc0\xaf"):
        assert _native.read(b"u01,FB60,o" + bad + b",2025-03-01T10:00:00Z\n", KINDS, TABLES) is None
        assert _native.read(b"u01,F" + bad + b",o,2025-03-01T10:00:00Z\n", KINDS, TABLES) is None
    skipped = b"u01,FB60,o\xff,2025-03-01T10:00:00Z\n"  # a column not read is not looked at
    assert _native.read(skipped, "ko-t", TABLES) is not None


@pytest.mark.parametrize("length", range(1, 18))
def test_a_byte_that_is_no_utf8_is_found_anywhere_in_a_short_object(length: int) -> None:
    """Objects up to 16 bytes are checked in the two words they are copied with: a bad
    byte in either word is refused, and what follows the object is not part of it."""
    for at in range(length):
        obj = b"x" * at + b"\xff" + b"x" * (length - at - 1)
        line = b"u01,FB60," + obj + b",2025-03-01T10:00:00Z\n"
        assert _native.read(line, KINDS, TABLES) is None, (length, at)
    after = b"u01,FB60," + b"x" * length + b",\xff\xff\xff\xff,2025-03-01T10:00:00Z\n"
    parsed = _native.read(after, "kos-t", TABLES)  # the fourth column is skipped
    assert parsed is not None
    assert bytes(parsed[3]) == b"x" * length


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (b'u01,FB60,"o,1",2025-03-01T10:00:00Z\n', "a quoted field"),
        (b"u01,FB60,o1,2025-03-01T10:00:00Z\r\n", "a carriage return"),
        (b"u01,FB60,\xd6lfeld,2025-03-01T10:00:00Z\n", "not UTF-8 (Latin-1)"),
        (b"u01,FB60,o1,2025-03-01T10:00:00Z\n\nu02,FB60,o1,2025-03-01T10:00:00Z\n", "a blank line"),
        (b"u01,FB60,2025-03-01T10:00:00Z\n", "a field too few"),
        (b"u01,FB60,o1,x,2025-03-01T10:00:00Z\n", "a field too many"),
        (b",FB60,o1,2025-03-01T10:00:00Z\n", "no actor"),
        (b"zoe,FB60,o1,2025-03-01T10:00:00Z\n", "an actor not in the table"),
        (b"u01,FB60,o1,\n", "no time"),
        (b"u01,FB60,o1,2025-03-01 10:00:00Z\n", "a space for the T"),
        (b"u01,FB60,o1,2025-03-01T10:00:00\n", "no zone"),
        (b"u01,FB60,o1,2025-03-01T10:00Z\n", "no seconds"),
        (b"u01,FB60,o1,2025-03-01T10:00:00+0100\n", "a zone without its colon"),
        (b"u01,FB60,o1,2025-03-01T10:00:00.1234567Z\n", "more than microseconds"),
        (b"u01,FB60,o1,2025-02-29T10:00:00Z\n", "no such day"),
        (b"u01,FB60,o1,2024-13-01T10:00:00Z\n", "no such month"),
        (b"u01,FB60,o1,2024-12-01T24:00:00Z\n", "no such hour"),
        (b"u01,FB60,o1,2024-12-01T23:00:60Z\n", "a leap second"),
    ],
)
def test_what_is_not_the_common_form_is_refused(text: bytes, why: str) -> None:
    assert _native.read(text, KINDS, TABLES) is None, why


def test_a_date_seen_before_is_still_checked_in_full_after_another() -> None:
    """The reader keeps the last date it parsed (a log in time order repeats it): a
    bad date after a good one, and a good one after a bad one, are judged on their own."""
    good = b"u01,FB60,o1,2024-02-29T10:00:00Z\n"
    assert _native.read(good + b"u01,FB60,o1,2023-02-29T10:00:00Z\n", KINDS, TABLES) is None
    assert assert_as_arrow_reads(good * 3 + b"u01,FB60,o1,2024-03-01T00:00:00+01:00\n")


def test_a_repeated_id_keeps_its_first_place_and_an_empty_id_is_found() -> None:
    """As Arrow's index_in: the first of equal ids; an empty id is an id like any other
    for an optional key (a missing one is refused for a required key)."""
    table = Ids(pa.array(["a", "", "a", "abcdefghijklmnopq"], pa.string()), "t").table()
    assert table is not None
    found = _native.read(b"a\n\nabcdefghijklmnopq\n", "o", (table,))
    assert found is None  # a blank line is never the common form
    found = _native.read(b"a,\n,\nabcdefghijklmnopq,\nabcdefghijklmnopz,\n", "o-", (table,))
    assert found is not None
    assert np.frombuffer(found[0], np.int32).tolist() == [0, 1, 3, -1]


@pytest.mark.parametrize("block", [1, 64, 1 << 19])
def test_runs_of_one_key_take_what_their_first_line_found(block: int) -> None:
    """A file grouped by user finds each run's key once: keys that differ only in their
    last byte end a run, a run goes on across a block's end, and an unknown optional key
    repeated is still unknown."""
    actors = ["u01"] * 5 + ["a-very-long-user-name-x"] * 3 + ["a-very-long-user-name-y"] * 2
    actors += ["u01", "u02", "u02"]
    verbs = ["FB60"] * 4 + ["DISPLAY"] * 3 + ["payment.release"] * 6
    lines = [
        f"{a},{v},o{i},2025-03-01T10:00:0{i % 10}Z"
        for i, (a, v) in enumerate(zip(actors, verbs, strict=True))
    ]
    assert assert_as_arrow_reads(("\n".join(lines) + "\n").encode(), block)


def test_a_line_longer_than_a_block_is_read_whole() -> None:
    lines = [f"u01,FB60,{'o' * 300},2025-03-01T10:00:0{i}Z" for i in range(3)]
    assert assert_as_arrow_reads(("\n".join(lines) + "\n").encode(), block=64)


def test_read_common_reads_a_file_in_pieces_and_skips_other_columns(tmp_path: Path) -> None:
    """Through ``CsvFile``: a quoted header with a column more, in another order, read as
    two pieces; and a file off the common form is None, for Arrow to read."""
    path = tmp_path / "log.csv"
    rows = [
        f"{t:%Y-%m-%dT%H:%M:%SZ},x{i},{USERS[i % 3]},{ACTIONS[i % 5]},o{i}"
        for i, t in enumerate(
            datetime(2025, 1, 1, tzinfo=UTC) + timedelta(hours=h) for h in range(40)
        )
    ]
    path.write_text('"time","note","actor","action","object"\n' + "\n".join(rows) + "\n")
    file = CsvFile(tmp_path, "events", path)
    fields = {"actor": key(users), "action": optional(actions), "object": STRING, "time": TIME}
    pieces = [file.read_common(fields, piece) for piece in file.pieces(2)]
    actor = np.concatenate([p["actor"] for p in pieces if p is not None])
    assert actor.tolist() == [i % 3 for i in range(40)]
    times = np.concatenate([p["time"] for p in pieces if p is not None])
    assert times[1] - times[0] == 3600 * 10**6
    assert pa.concat_arrays([p["object"] for p in pieces if p is not None]).to_pylist() == [
        f"o{i}" for i in range(40)
    ]
    path.write_text(path.read_text().replace("o7", '"o7"'))
    assert CsvFile(tmp_path, "events", path).read_common(fields) is None


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(st.tuples(st.integers(0, 5), st.integers(-1, 6)), max_size=60),
    risks=st.lists(st.lists(st.integers(0, 6), min_size=1, max_size=3), min_size=1, max_size=5),
)
def test_signatures_and_the_rows_that_may_complete_a_risk(
    rows: list[tuple[int, int]], risks: list[list[int]]
) -> None:
    """The C loops of ``find_actual``'s first filter against plain Python: a person's
    signature is the OR of the bits of the functions they performed, in each of two words;
    a row is kept when its function has a risk whose every bit is in its person's
    signature, in both words. Functions share bits here (three per word), as they do."""
    user = np.array([r[0] for r in rows], dtype=np.int32)
    function = np.array([r[1] for r in rows], dtype=np.int32)
    word_bits = [(1 << (f % 3), 1 << (f % 2)) for f in range(7)] + [(1 << 63, 1 << 63)]
    bits = np.array(word_bits, dtype=np.uint64)
    signature = np.zeros((6, 2), dtype=np.uint64)
    _native.signatures(user, function, bits, signature)
    expected = [[0, 0] for _ in range(6)]
    for u, f in rows:
        for w in range(2):
            expected[u][w] |= word_bits[f][w]
    assert signature.tolist() == expected
    needs = [[sum({word_bits[f][w] for f in risk}) for w in range(2)] for risk in risks]
    of_function = [[needs[k] for k, risk in enumerate(risks) if f in risk] for f in range(7)]
    ptr = np.cumsum([0] + [len(n) for n in of_function]).astype(np.int64)
    flat = np.array([n for ns in of_function for n in ns], dtype=np.uint64).reshape(-1, 2)
    kept = np.frombuffer(_native.maybe(user, function, signature, ptr, flat), np.int64)
    assert kept.tolist() == [
        i
        for i, (u, f) in enumerate(rows)
        if f >= 0
        and any(all(n[w] & expected[u][w] == n[w] for w in range(2)) for n in of_function[f])
    ]


@pytest.mark.parametrize(("user", "function"), [([6], [0]), ([-1], [0]), ([0], [7]), ([0], [-2])])
def test_the_signature_loops_refuse_indices_outside_their_arrays(
    user: list[int], function: list[int]
) -> None:
    """Checked before the loops run: a wrong index is an error, never a write elsewhere."""
    u, f = np.array(user, np.int32), np.array(function, np.int32)
    bits = np.ones((8, 2), dtype=np.uint64)
    signature = np.zeros((6, 2), dtype=np.uint64)
    with pytest.raises(ValueError, match="out of range"):
        _native.signatures(u, f, bits, signature)
    with pytest.raises(ValueError, match="out of range"):
        _native.maybe(u, f, signature, np.zeros(8, np.int64), np.zeros((0, 2), np.uint64))
    assert not signature.any()


@pytest.mark.parametrize("block", [1, 64, 1 << 19])
def test_an_optional_key_can_give_its_values_instead_of_its_place(block: int) -> None:
    """The event log's actions become functions while read: each row gets its action's
    first function (-1: none, also for an action not in the table), and the further
    functions of an action of several are listed as (row, function), in row order, also
    for a run of lines with one action and across blocks."""
    # FB60: 10; F110: 20, 21, 22; vendor.note.delete.v2: none; vendor.note.create.v2: 40;
    # payment.release: 50, 51; an action not in the table: none
    ptr = np.array([0, 1, 4, 4, 5, 7, 7], dtype=np.int64)
    values = np.array([10, 20, 21, 22, 40, 50, 51], dtype=np.int32)
    verbs = [
        "F110",
        "DISPLAY",
        "payment.release",
        "payment.release",
        "FB60",
        "vendor.note.delete.v2",
    ]
    text = "".join(f"u01,{verb},o{i},2025-03-01T10:00:0{i}Z\n" for i, verb in enumerate(verbs))
    parsed = _native.read(text.encode(), KINDS, (TABLES[0], (TABLES[1], ptr, values)), block)
    assert parsed is not None
    assert np.frombuffer(parsed[1], np.int32).tolist() == [20, -1, 50, 50, 10, -1]
    further = np.frombuffer(parsed[2], np.int32).reshape(-1, 2).tolist()
    assert further == [[0, 21], [0, 22], [2, 51], [3, 51]]
    assert np.frombuffer(parsed[5], np.int64).size == len(verbs)  # the time, after the object


@pytest.mark.parametrize(
    ("ptr", "values"),
    [
        ([0, 1, 4, 4, 5, 7], [10, 20, 21, 22, 40, 50, 51]),  # no entry for an unknown action
        ([0, 1, 4, 4, 5, 7, 8], [10, 20, 21, 22, 40, 50, 51]),  # past the values
        ([0, 1, 4, 3, 5, 7, 7], [10, 20, 21, 22, 40, 50, 51]),  # going back
        ([-1, 1, 4, 4, 5, 7, 7], [10, 20, 21, 22, 40, 50, 51]),  # before the values
    ],
)
def test_values_that_do_not_fit_the_table_are_refused(ptr: list[int], values: list[int]) -> None:
    """Checked before any line is read: the loops never read outside the values."""
    text = b"u01,F110,o,2025-03-01T10:00:00Z\n"
    given = (TABLES[1], np.array(ptr, np.int64), np.array(values, np.int32))
    with pytest.raises(ValueError, match="ptr per key"):
        _native.read(text, KINDS, (TABLES[0], given))


def test_a_piece_too_large_for_32_bit_offsets_goes_to_arrow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Strings' offsets are 32 bits (as Arrow's): a larger piece is left to Arrow's reader
    (an event log is cut into pieces under 1 GiB, so only another file can be that large)."""
    path = tmp_path / "log.csv"
    path.write_text("actor,action,object,time\nu01,FB60,o1,2025-03-01T10:00:00Z\n")
    file = CsvFile(tmp_path, "events", path)
    fields = {"actor": key(users), "object": STRING}
    assert file.read_common(fields) is not None
    monkeypatch.setattr(csvinput, "_COMMON_MAX", 10)
    assert file.read_common(fields) is None


def test_a_key_table_that_was_never_built_is_refused_not_read() -> None:
    """``KeyTable.__new__`` without its ``__init__`` has no slots: an error, not a crash."""
    empty = _native.KeyTable.__new__(_native.KeyTable)
    with pytest.raises(TypeError, match="a built KeyTable"):
        _native.read(b"u01,FB60,o,2025-03-01T10:00:00Z\n", KINDS, (empty, TABLES[1]))
    with pytest.raises(ValueError, match="offsets outside the data"):
        _native.KeyTable(np.array([5, 6], np.int32), b"abc")
