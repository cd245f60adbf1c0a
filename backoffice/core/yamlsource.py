"""Safe YAML reading that remembers where every value came from.

Policy files are written by people, so every problem must point at a line.
We compose the YAML node tree ourselves to (a) refuse anchors, aliases and custom
tags (no billion laughs, no object construction), (b) refuse duplicate keys, which
PyYAML would silently overwrite, and (c) record ``path -> (line, column)``.
Parsing uses libyaml (PyYAML's C loader) where it is installed: the pure-Python scanner
took 11 s for a 3.6 MB scalar, libyaml a tenth of a second (#13).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

__all__ = ["Location", "SourceMap", "YamlError", "load_yaml", "MAX_BYTES", "MAX_DEPTH"]

MAX_BYTES = 5_000_000
MAX_DEPTH = 40

Path = tuple[str | int, ...]

#: The safe loader, in C where available; both give the same events, nodes and marks.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_STANDARD_TAGS = {
    "tag:yaml.org,2002:" + name
    for name in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp")
}


@dataclass(frozen=True)
class Location:
    line: int  # 1-based
    column: int  # 1-based


class YamlError(ValueError):
    """The file is not a YAML document we are willing to read."""

    def __init__(self, message: str, location: Location | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location


@dataclass
class SourceMap:
    """Where each value of a document was written, keyed by its path."""

    positions: dict[Path, Location] = field(default_factory=dict)

    def locate(self, path: Path) -> Location:
        """The position of ``path``, or of its closest ancestor that was written."""
        for end in range(len(path), -1, -1):
            found = self.positions.get(tuple(path[:end]))
            if found is not None:
                return found
        return Location(1, 1)


def _mark(node: yaml.Node) -> Location:
    return Location(node.start_mark.line + 1, node.start_mark.column + 1)


def load_yaml(raw: bytes) -> tuple[Any, SourceMap]:
    """Parse one YAML document from bytes into plain data and its source map."""
    if len(raw) > MAX_BYTES:
        raise YamlError(f"file is {len(raw):,} bytes; policy files are limited to {MAX_BYTES:,}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise YamlError(f"not UTF-8: byte {exc.start} cannot be decoded") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise YamlError("the file is empty")
    try:
        # Refuse aliases and deep nesting at the event level, before the (recursive)
        # composer builds anything: no billion laughs, no recursion error.
        depth = 0
        for event in yaml.parse(text, Loader=_LOADER):
            mark = event.start_mark
            where = Location(mark.line + 1, mark.column + 1) if mark else None
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise YamlError("anchors and aliases (&, *) are not allowed in policy files", where)
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise YamlError(f"nested deeper than {MAX_DEPTH} levels", where)
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
        nodes = list(yaml.compose_all(text, Loader=_LOADER))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Location(mark.line + 1, mark.column + 1) if mark else None
        if "maximum nesting depth" in str(exc.problem):  # libyaml's own limit, met first
            raise YamlError(f"nested deeper than {MAX_DEPTH} levels", where) from None
        raise YamlError(f"not valid YAML: {exc.problem or exc.context}", where) from None
    except yaml.YAMLError as exc:
        raise YamlError(f"not valid YAML: {exc}") from None
    if len(nodes) != 1:
        raise YamlError(f"expected one YAML document, found {len(nodes)}")
    source = SourceMap()
    data = _Converter(source).convert(nodes[0], (), 0)
    return data, source


class _Converter:
    def __init__(self, source: SourceMap) -> None:
        self.source = source
        self.scalars = yaml.constructor.SafeConstructor()

    def convert(self, node: yaml.Node, path: Path, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise YamlError(f"nested deeper than {MAX_DEPTH} levels", _mark(node))
        self.source.positions.setdefault(path, _mark(node))
        if node.tag not in _STANDARD_TAGS:
            raise YamlError(f"tag {node.tag!r} is not allowed", _mark(node))
        if isinstance(node, yaml.MappingNode):
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self.convert(key_node, path, depth + 1)
                if not isinstance(key, str | int):
                    raise YamlError("mapping keys must be plain words", _mark(key_node))
                if key in result:
                    raise YamlError(f"duplicate key {key!r}", _mark(key_node))
                self.source.positions[(*path, key)] = _mark(key_node)
                result[key] = self.convert(value_node, (*path, key), depth + 1)
            return result
        if isinstance(node, yaml.SequenceNode):
            return [
                self.convert(item, (*path, index), depth + 1)
                for index, item in enumerate(node.value)
            ]
        return self.scalars.construct_object(node, deep=True)
