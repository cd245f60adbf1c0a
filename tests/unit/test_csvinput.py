"""The CSV reading under ``sod analyze`` and ``sod actual``: id lookups, and a file cut
into pieces for readers side by side (issue #15)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backoffice.core.accessrisk import csvinput
from backoffice.core.accessrisk.csvinput import CsvFile, Ids

#: Ids of one width (``r`` and three digits) and other strings.
fixed = st.integers(0, 999).map(lambda i: f"r{i:03d}")
other = st.one_of(fixed, st.text("r0123456789x", max_size=6))


@settings(max_examples=200, deadline=None)
@given(ids=st.lists(fixed, unique=True, min_size=1, max_size=40), wanted=st.lists(other))
def test_ids_in_any_order_are_found_where_they_are(ids: list[str], wanted: list[str]) -> None:
    """Ids of one width are looked up as numbers whether or not the file is sorted (roles
    are not); anything else, of any width, is not found."""
    place = {value: i for i, value in enumerate(ids)}
    found = Ids(pa.array(ids, pa.string()), "roles.csv").find(
        pa.chunked_array([wanted], pa.string())
    )
    assert found.tolist() == [place.get(value, -1) for value in wanted]


@pytest.mark.parametrize("count", [1, 2, 3])
def test_pieces_cover_every_row_once_and_start_at_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, count: int
) -> None:
    monkeypatch.setattr(csvinput, "_PIECE", 1)
    lines = [f"u{i:03d},a{i % 7},o{i},2025-01-01T00:00:{i % 60:02d}Z\n" for i in range(50)]
    path = tmp_path / "log.csv"
    path.write_text("actor,action,object,time\n" + "".join(lines), encoding="utf-8")
    file = CsvFile(tmp_path, "events", path)
    pieces = file.pieces(count)
    assert len(pieces) == count
    data = path.read_bytes()
    assert b"".join(data[a:b] for a, b in pieces) == "".join(lines).encode()
    assert all(data[a - 1 : a] == b"\n" for a, _ in pieces)
    rows = [batch.num_rows for piece in pieces for batch in file.batches("actor", piece=piece)]
    assert sum(rows) == 50


def test_a_header_alone_is_one_empty_piece(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text("actor,action,object,time\n", encoding="utf-8")
    file = CsvFile(tmp_path, "events", path)
    assert file.pieces(2) == [(25, 25)]
    (batch,) = file.batches("actor", "time", piece=file.pieces(2)[0])
    assert batch.num_rows == 0 and batch.schema.names == ["actor", "time"]


def test_unsorted_ids_need_no_sort_for_their_table() -> None:
    ids = Ids(pa.array(["r010", "r002", "r100"]), "roles.csv")
    assert ids.find(pa.chunked_array([["r100", "r002", "r010", "r003", "r10"]])).tolist() == [
        2,
        1,
        0,
        -1,
        -1,
    ]
    assert np.asarray(ids.find(pa.chunked_array([[]], pa.string()))).tolist() == []
