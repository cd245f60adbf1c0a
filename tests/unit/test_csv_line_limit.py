"""The access-risk reader's line limit: probing each window finds exactly the lines too long."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backoffice.core.accessrisk import InputError, csvinput
from backoffice.core.accessrisk.csvinput import CsvFile

LIMIT = 16


def first_long_line(data: bytes) -> int | None:
    """The obvious way: split and measure (line numbers from 1)."""
    for number, line in enumerate(data.split(b"\n"), start=1):
        if len(line) > LIMIT:
            return number
    return None


@settings(max_examples=300, deadline=None)
@given(lengths=st.lists(st.integers(0, 3 * LIMIT), max_size=12), final_break=st.booleans())
def test_the_probe_finds_the_first_line_longer_than_the_limit(
    lengths: list[int], final_break: bool
) -> None:
    data = b"\n".join(b"x" * n for n in lengths) + (b"\n" if final_break and lengths else b"")
    with tempfile.TemporaryDirectory() as folder, pytest.MonkeyPatch.context() as patch:
        patch.setattr(csvinput, "MAX_LINE", LIMIT)
        patch.setattr(csvinput, "_PROBE", 3)  # pieces smaller than a window, as in real use
        (Path(folder) / "users.csv").write_bytes(data)
        file = CsvFile(Path(folder), "users")
        expected = first_long_line(data)
        if expected is None:
            file.check_line_lengths()
            return
        with pytest.raises(InputError) as raised:
            file.check_line_lengths()
        assert raised.value.line == expected
        assert raised.value.message == f"line longer than {LIMIT} bytes"
