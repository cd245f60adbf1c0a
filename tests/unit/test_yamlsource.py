"""The safe YAML reader: positions for every value, and limits against hostile files."""

from __future__ import annotations

import pytest

from backoffice.core.yamlsource import MAX_BYTES, Location, YamlError, load_yaml


def test_positions_point_at_keys_and_items() -> None:
    data, source = load_yaml(b"units:\n  - id: a\n    name: A\n  - id: b\n")
    assert data == {"units": [{"id": "a", "name": "A"}, {"id": "b"}]}
    assert source.locate(("units", 1, "id")) == Location(4, 5)
    assert source.locate(("units", 0, "name")) == Location(3, 5)
    # a path that was not written falls back to its closest written ancestor
    assert source.locate(("units", 1, "missing")) == Location(4, 5)


def test_a_huge_file_is_refused_before_parsing() -> None:
    with pytest.raises(YamlError, match="limited to"):
        load_yaml(b"a: " + b"x" * (MAX_BYTES + 1))


def test_a_byte_order_mark_is_accepted() -> None:
    data, _ = load_yaml("\ufeffa: 1\n".encode())
    assert data == {"a": 1}
