"""The CSV folder of PRODUCT.md ("Access-risk analysis input"), read with pyarrow.

Every value is read as a string and every id is mapped to a dense index, by binary search
over integer keys for sorted fixed-width ids and by Arrow's hash lookup otherwise, so
nothing here loops over rows in Python. The large files in the common form (no quotes,
UTF-8, complete lines, known ids) are read by the C extension instead
(:meth:`CsvFile.read_common`, ``_native.c``); anything else, and every error, by Arrow.

Problems name the file and the physical line. Arrow does not report line numbers, so they
are found by scanning the file again, only once an error is certain (blank lines are
skipped by the reader and counted by the scan).

A line may hold at most ``MAX_LINE`` bytes. That is checked before Arrow reads a file, by
probing each MiB of it for a line break, so a file with one giant line is refused with its
file and line in bounded memory instead of being read whole (#13: a 1 GB line took 3.3 GB).
"""

from __future__ import annotations

import csv
import io
import mmap
import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
from typing_extensions import override

import backoffice.core.accessrisk._native as _native
from backoffice.core.accessrisk.errors import InputError

__all__ = [
    "COLUMNS",
    "STRING",
    "TIME",
    "Block",
    "CsvFile",
    "Field",
    "Ids",
    "Index",
    "key",
    "lookup",
    "optional",
]

#: Each file of the folder and the columns it must have (more columns are ignored).
COLUMNS: dict[str, tuple[str, ...]] = {
    "users": ("user_id", "name"),
    "roles": ("role_id", "name"),
    "assignments": ("user_id", "role_id"),
    "role_permissions": ("role_id", "permission"),
    "role_hierarchy": ("parent_role_id", "child_role_id"),
    "functions": ("function_id", "permission"),
    "risks": ("risk_id", "level", "function_id"),
    "mitigations": ("user_id", "risk_id", "control_id", "valid_until"),
    "actions": ("action", "function_id"),
    "events": ("actor", "action", "object", "time"),
}

#: Blocks of the streaming reader: parsed values of one block stay in cache (4 MiB took
#: the least CPU time on ``large``; 16 MiB blocks on two threads took 1.7x as much).
_BLOCK_SIZE = 4 << 20
#: Bytes the C reader parses before it finds their keys (they stay in the second-level
#: cache: 512 KiB took the least CPU time on ``large``, 4 MiB 15 % more).
_COMMON_BLOCK = 512 << 10
#: The most the C reader takes at a time (an event log is cut into pieces smaller than this).
_COMMON_MAX = (1 << 31) - 1
#: A file's pages mapped in one call (Linux), private: the readers never write.
_MAP_FLAGS = mmap.MAP_PRIVATE | getattr(mmap, "MAP_POPULATE", 0)
#: The least size of a piece of a file read beside other pieces (:meth:`CsvFile.pieces`).
_PIECE = 32 << 20
#: How many unknown references an error message quotes.
_QUOTED = 3
#: The longest line a file may have, in bytes (ids and names are short; 1 MiB is generous).
MAX_LINE = 1 << 20
#: How much of a file is read at a time while looking for line breaks.
_PROBE = 8 << 10

Index = npt.NDArray[np.int32]
#: What :meth:`CsvFile.read_common` read: per column, its keys, times or strings.
Block = dict[str, Any]


@dataclass(frozen=True, eq=False)
class Field:
    """What :meth:`CsvFile.read_common` makes of a column: a kind of ``_native.c``, the ids
    of a key, and for an optional key the values to give for its ids instead of places
    (compressed rows: ``values[ptr[k]:ptr[k + 1]]``, see :func:`optional`)."""

    kind: str
    ids: Ids | None = None
    ptr: npt.NDArray[np.int64] | None = None
    values: Index | None = None

    @property
    def gives_values(self) -> bool:
        return self.ptr is not None and self.values is not None


TIME = Field("t")
STRING = Field("s")


def key(ids: Ids) -> Field:
    """A column whose every value is one of ``ids``."""
    return Field("k", ids)


def optional(
    ids: Ids, ptr: npt.NDArray[np.int64] | None = None, values: Index | None = None
) -> Field:
    """A column of values that are one of ``ids`` or not (-1). With ``ptr`` and
    ``values`` (id k has ``values[ptr[k]:ptr[k + 1]]``, a value not among the ids those of
    k = ``len(ids)``), each row's first value instead of its place (-1: none), and the
    further ones as (row, value) pairs in the block's ``name + "+"``: the functions of an
    action beyond its first, found by the C reader without a pass of numpy over the rows."""
    return Field("o", ids, ptr, values)


def _block(names: list[str], fields: dict[str, Field], parsed: list[bytearray]) -> Block:
    """The C reader's buffers as arrays, by column name."""
    block: Block = {}
    buffers = iter(parsed)
    for name in names:
        if name not in fields:
            continue
        kind = fields[name].kind
        if kind == "s":
            offsets, text = next(buffers), next(buffers)
            rows = len(offsets) // 4 - 1
            block[name] = pa.Array.from_buffers(
                pa.string(), rows, [None, pa.py_buffer(offsets), pa.py_buffer(text)]
            )
        else:
            block[name] = np.frombuffer(next(buffers), np.int64 if kind == "t" else np.int32)
        if fields[name].gives_values:
            block[name + "+"] = np.frombuffer(next(buffers), np.int32).reshape(-1, 2)
    return block


class CsvFile:
    """One input file: where it is, its columns, and line numbers for its rows."""

    def __init__(self, folder: Path, name: str, path: Path | None = None) -> None:
        """``path`` names a file outside the folder (an event log, a mapping) read as ``name``."""
        self.name = name
        self.path = path if path is not None else folder / f"{name}.csv"
        self.label = str(self.path)

    def error(self, row: int, message: str) -> InputError:
        """An error at data row ``row`` (0-based, as Arrow counts; -1 is the header)."""
        return InputError(self.label, self.lines([row])[0], message)

    def lines(self, rows: Sequence[int]) -> list[int]:
        """The physical line of each data row: the header is line 1, blank lines are skipped."""
        wanted = set(rows)
        found: dict[int, int] = {}
        row = -2  # the first non-blank line is the header, row -1
        with open(self.path, "rb") as handle:
            for number, raw in enumerate(_bounded_lines(handle), start=1):
                if not raw.strip(b"\r\n"):
                    continue
                row += 1
                if row in wanted:
                    found[row] = number
                    if len(found) == len(wanted):
                        break
        return [found.get(r, 1) for r in rows]

    def header(self) -> list[str]:
        """The column names, after checking that the file exists and has every column."""
        expected = COLUMNS[self.name]
        try:
            with open(self.path, "rb") as handle:
                first = handle.readline(MAX_LINE + 2)
        except FileNotFoundError:
            raise InputError(self.label, None, "missing file") from None
        except OSError as exc:
            raise InputError(self.label, None, f"cannot read the file: {exc.strerror}") from None
        try:
            text = first.decode("utf-8-sig").rstrip("\r\n")
        except UnicodeDecodeError:
            raise InputError(self.label, 1, "the header is not valid UTF-8") from None
        if not text:
            raise InputError(self.label, 1, f"missing header row {','.join(expected)}")
        if len(first.rstrip(b"\r\n")) > MAX_LINE:
            raise InputError(self.label, 1, f"line longer than {MAX_LINE:,} bytes")
        names = _fields(self.label, 1, text)
        for column in expected:
            if column not in names:
                raise InputError(
                    self.label,
                    1,
                    f"missing column {column!r} (the header is {text!r}; "
                    f"expected {','.join(expected)})",
                )
        return names

    def read(self, *columns: str, types: dict[str, pa.DataType] | None = None) -> pa.Table:
        """The named columns as strings, all rows (duplicates included).

        ``types`` asks Arrow to convert some columns while reading; a value it cannot
        convert raises ``pa.ArrowInvalid`` for the caller to locate (as strings).
        """
        return pa.Table.from_batches(list(self.batches(*columns, types=types)))

    def pieces(self, count: int) -> list[tuple[int, int]]:
        """The file's rows as up to ``count`` byte ranges of about one size, each from the
        start of a line to the start of another, the header left out (for readers that
        work on the pieces side by side). A file smaller than ``_PIECE`` is one piece."""
        self.header()
        self.check_line_lengths()
        size = os.path.getsize(self.path)
        with open(self.path, "rb") as handle:
            start = len(handle.readline())
            bounds = [start]
            pieces = min(count, max(1, (size - start) // max(_PIECE, 1)))
            for k in range(1, pieces):
                at = _find_break(handle, start + k * (size - start) // pieces, size)
                if at is not None and at + 1 > bounds[-1]:
                    bounds.append(at + 1)
        bounds.append(size)
        pieces_found = [(a, b) for a, b in zip(bounds, bounds[1:], strict=False) if b > a]
        return pieces_found or [(start, start)]  # a header alone: one empty piece

    def batches(
        self,
        *columns: str,
        types: dict[str, pa.DataType] | None = None,
        piece: tuple[int, int] | None = None,
    ) -> Iterator[pa.RecordBatch]:
        """The named columns a block at a time, as :meth:`read` reads them; only the rows
        of ``piece`` (one of :meth:`pieces`) if it is given.

        Arrow's streaming reader parses a block while the caller works on the one before,
        and the blocks are small enough to stay in cache: it costs about half the CPU
        time of ``read_csv`` with large blocks on many threads (measured on ``large``).
        """
        names = self.header()
        if piece is None:  # else checked by :meth:`pieces`
            self.check_line_lengths()
        kinds = {**dict.fromkeys(columns, pa.string()), **(types or {})}
        if piece is not None and piece[0] == piece[1]:  # no rows (Arrow reads no columns)
            yield pa.RecordBatch.from_pydict({c: pa.array([], kinds[c]) for c in columns})
            return
        try:
            source: str | pa.NativeFile = str(self.path)
            options = pcsv.ReadOptions(block_size=_BLOCK_SIZE)
            if piece is not None:  # the piece's bytes: no header, its names given
                source = pa.PythonFile(_Range(self.path, *piece), mode="r")
                options = pcsv.ReadOptions(block_size=_BLOCK_SIZE, column_names=names)
            reader = pcsv.open_csv(
                source,
                read_options=options,
                convert_options=pcsv.ConvertOptions(
                    include_columns=list(columns),
                    column_types=kinds,
                ),
            )
            empty = True
            for batch in reader:
                empty = False
                yield batch
            if empty:  # a header alone: one empty batch, so the columns are known
                schema = reader.schema
                yield pa.RecordBatch.from_arrays(
                    [pa.array([], field.type) for field in schema], schema=schema
                )
        except pa.ArrowInvalid as exc:
            if types and "conversion error" in str(exc):
                raise
            raise self._locate(len(names), str(exc)) from None

    def read_common(
        self, fields: dict[str, Field], piece: tuple[int, int] | None = None
    ) -> Block | None:
        """The rows (of ``piece``) if they are in the common form, else
        None: then the caller reads the file with Arrow, which also names what is wrong.

        ``fields`` says what a column is (other columns are skipped): ``key(ids)``, a
        value of ``ids`` (its position, as :meth:`Ids.find`); ``optional(ids)``, the same
        or -1; ``TIME``, microseconds UTC; ``STRING``, an Arrow string array. The common
        form is what most exports are: no quotes, no \\r, UTF-8, no blank or short line,
        no unknown key, times as ``2025-03-01T10:00:00Z`` (``_native.c`` says exactly).
        It is parsed in C without the interpreter's lock: several times Arrow's speed.
        """
        names = self.header()
        if len(set(names)) != len(names) or any(f not in names for f in fields):
            return None
        kinds = "".join(fields[n].kind if n in fields else "-" for n in names)
        tables: list[Any] = []
        for field in (fields[n] for n in names if n in fields):
            table = field.ids.table() if field.ids is not None else None
            if field.ids is not None and table is None:
                return None
            if field.gives_values:
                ptr = np.ascontiguousarray(field.ptr, np.int64)
                tables.append((table, ptr, np.ascontiguousarray(field.values, np.int32)))
            elif table is not None:
                tables.append(table)
        if piece is None:
            self.check_line_lengths()
            with open(self.path, "rb") as handle:
                piece = (len(handle.readline()), os.path.getsize(self.path))
        start, end = piece
        if end - start > _COMMON_MAX:  # a string's offsets are 32 bits, as Arrow's
            return None
        if start == end:  # no rows (mmap refuses an empty file)
            parsed = _native.read(b"", kinds, tuple(tables), _COMMON_BLOCK)
        else:  # only the piece is mapped, all its pages in one call (not a fault per 64 KiB)
            offset = start - start % mmap.ALLOCATIONGRANULARITY
            with (
                open(self.path, "rb") as handle,
                mmap.mmap(
                    handle.fileno(), end - offset, _MAP_FLAGS, mmap.PROT_READ, offset=offset
                ) as mapped,
                memoryview(mapped) as whole,
                whole[start - offset :] as data,
            ):
                parsed = _native.read(data, kinds, tuple(tables), _COMMON_BLOCK)
        return None if parsed is None else _block(names, fields, parsed)

    def check_line_lengths(self) -> None:
        """Refuse the first line longer than ``MAX_LINE`` bytes, reading ~1% of the file.

        Each MiB of the file is probed for its first and last line break. A line within
        one MiB is short enough; every longer line spans a boundary, and its length is the
        distance from the last break before it to the first one after it.
        """
        size = os.path.getsize(self.path)
        with open(self.path, "rb") as handle:
            line_start = 0  # just after the last line break seen
            for start in range(0, size, MAX_LINE):
                end = min(start + MAX_LINE, size)
                first = _find_break(handle, start, end)
                if first is None:
                    if end - line_start > MAX_LINE:
                        raise self._too_long(handle, line_start)
                    continue
                if first - line_start > MAX_LINE:
                    raise self._too_long(handle, line_start)
                last = _find_last_break(handle, first, end)
                line_start = last + 1
            if size - line_start > MAX_LINE:
                raise self._too_long(handle, line_start)

    def _too_long(self, handle: BinaryIO, offset: int) -> InputError:
        """The error for the line that starts at byte ``offset``: count the breaks before it."""
        handle.seek(0)
        breaks, done = 0, 0
        while done < offset:
            piece = handle.read(min(_PROBE, offset - done))
            breaks += piece.count(b"\n")
            done += len(piece)
        return InputError(self.label, breaks + 1, f"line longer than {MAX_LINE:,} bytes")

    def _locate(self, width: int, arrow_message: str) -> InputError:
        """Find the line Arrow refused: bad UTF-8 or the wrong number of fields."""
        with open(self.path, "rb") as handle:
            for number, raw in enumerate(_bounded_lines(handle), start=1):
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError:
                    return InputError(self.label, number, "not valid UTF-8")
                if not text.strip("\r\n"):
                    continue
                fields = _fields(self.label, number, text)
                if len(fields) != width:
                    return InputError(
                        self.label, number, f"expected {width} fields, found {len(fields)}"
                    )
        return InputError(self.label, 1, f"cannot parse the file: {arrow_message}")


class _Range(io.RawIOBase):
    """Bytes ``[start, end)`` of a file, as a file of their own."""

    def __init__(self, path: Path, start: int, end: int) -> None:
        self.handle = open(path, "rb", buffering=0)  # noqa: SIM115 - closed with the range
        self.handle.seek(start)
        self.left = end - start

    @override
    def readable(self) -> bool:
        return True

    @override
    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")[: self.left]
        done = self.handle.readinto(view) or 0
        self.left -= done
        return done

    @override
    def close(self) -> None:
        self.handle.close()
        super().close()


def _bounded_lines(handle: BinaryIO) -> Iterator[bytes]:
    """The file's lines, none read longer than ``MAX_LINE`` (checked before, bounded here)."""
    while line := handle.readline(MAX_LINE + 2):
        yield line


def _fields(label: str, number: int, text: str) -> list[str]:
    """One line split as CSV; a field the csv module refuses is an error at that line."""
    try:
        return next(csv.reader([text]))
    except csv.Error as exc:
        raise InputError(label, number, f"cannot parse the line: {exc}") from None


def _find_break(handle: BinaryIO, start: int, end: int) -> int | None:
    """The offset of the first line break in ``[start, end)``, reading a piece at a time."""
    handle.seek(start)
    at = start
    while at < end:
        piece = handle.read(min(_PROBE, end - at))
        if not piece:
            return None
        found = piece.find(b"\n")
        if found >= 0:
            return at + found
        at += len(piece)
    return None


def _find_last_break(handle: BinaryIO, start: int, end: int) -> int:
    """The offset of the last line break in ``[start, end)``; there is one at ``start``."""
    at = end
    while at > start:
        begin = max(start, at - _PROBE)
        handle.seek(begin)
        found = handle.read(at - begin).rfind(b"\n")
        if found >= 0:
            return begin + found
        at = begin
    return start


class Ids:
    """Distinct ids of one file, and how to find values among them.

    Sorted ids of at most 8 bytes and one width (zero-padded ids such as ``u0000001``, as
    identity systems export them) are found by binary search over integer keys read
    straight from Arrow's buffers, several times faster than hashing a million strings;
    any other ids through Arrow's hash lookup.

    When each byte position of ids of one width takes few values (``u`` then digits), in
    any order, an id is also a small number in mixed radix, and a table indexed by it finds
    each value with one probe instead of twenty (or a hash): what makes ten million event
    actors and 7.5 million assigned roles cheap to look up.
    """

    def __init__(self, ids: pa.Array, file: str, *, is_sorted: bool = False) -> None:
        self.ids = ids
        self.file = file
        self.is_sorted = is_sorted
        self._indexed = False  # the keys and digits below, built at the first find
        self._keys: npt.NDArray[np.uint64] | None = None
        self._digits: _Digits | None = None
        self._table: _native.KeyTable | None = None
        self._building = threading.Lock()

    def _index(self) -> None:
        """Built when first needed: the C reader finds the millions of values of a large
        input through :meth:`table`, and never needs these (0.1 s for a million users)."""
        with self._building:
            if not self._indexed:
                words = _words(pa.chunked_array([self.ids]))
                if words and self.is_sorted:
                    self._keys = _order_keys(np.concatenate(words))
                self._digits = _Digits.build(np.concatenate(words)) if words else None
                self._indexed = True

    def __len__(self) -> int:
        return len(self.ids)

    def table(self) -> _native.KeyTable | None:
        """The ids as the C reader's hash table (built once, by the first thread that asks);
        None for ids it cannot hold."""
        with self._building:
            if self._table is None and self.ids.type == pa.string() and not self.ids.null_count:
                n = len(self.ids)
                offsets = np.frombuffer(self.ids.buffers()[1], np.int32, n + 1, self.ids.offset * 4)
                data = self.ids.buffers()[2]
                self._table = _native.KeyTable(offsets, data or b"")
            return self._table

    def find(self, values: pa.ChunkedArray, *, runs: bool = False) -> Index:
        """Position of each value, -1 where it is unknown.

        ``runs=True`` looks up each run of equal neighbours once: assignment files are
        usually grouped by user, and eight lookups of the same user cost eight probes.
        """
        self._index()
        words = _words(values) if self._keys is not None or self._digits is not None else None
        if self._digits is not None and words is not None:
            return np.concatenate([self._digits.find(w) for w in words]) if words else _none()
        if self._keys is not None and words is not None:
            if not runs:
                return _search(self._keys, _order_keys(np.concatenate(words)))
            first, lengths = _runs(words)
            return np.repeat(_search(self._keys, _order_keys(first)), lengths)
        if not runs or len(values) < 2:
            return self._hashed(values)
        flat = values.combine_chunks()
        change = pc.not_equal(flat[1:], flat[:-1]).to_numpy(zero_copy_only=False)
        heads = np.flatnonzero(np.concatenate(([True], change)))
        lengths = np.diff(np.append(heads, len(flat)))
        return np.repeat(self._hashed(flat.take(pa.array(heads))), lengths)

    def _hashed(self, values: pa.Array | pa.ChunkedArray) -> Index:
        found = pc.index_in(values, value_set=self.ids)
        if found.null_count:
            found = found.fill_null(-1)
        return np.asarray(found.to_numpy(), dtype=np.int32)


def _none() -> Index:
    return np.zeros(0, dtype=np.int32)


class _Digits:
    """Fixed-width ids as mixed-radix numbers: each byte position's values, numbered.

    Values are looked up two bytes at a time (a table of 65,536 per pair of positions),
    so an id costs four gathers; a pair with a byte no id has there is a large negative
    number, which makes the sum negative: unknown.
    """

    #: The largest table (entries of 4 bytes) worth building.
    LIMIT = 1 << 26
    #: Entries per id above which a table is not worth its memory (a million-entry
    #: table is always allowed).
    PER_ID = 16
    _BAD = -(1 << 40)

    def __init__(self, pairs: npt.NDArray[np.int64], table: Index) -> None:
        self.pairs = pairs  # (4, 65536): each pair of bytes' part of the number, or _BAD
        self.table = table

    @classmethod
    def build(cls, words: npt.NDArray[np.uint64]) -> _Digits | None:
        data = words.view(np.uint8).reshape(-1, 8)
        codes = np.full((8, 256), cls._BAD, dtype=np.int64)
        size = 1
        limit = min(cls.LIMIT, max(1 << 20, cls.PER_ID * len(words)))
        for position in range(8):
            present = np.zeros(256, dtype=bool)
            present[data[:, position]] = True
            values = np.flatnonzero(present)
            codes[position, values] = np.arange(len(values), dtype=np.int64) * size
            size *= len(values)
            if size > limit:
                return None
        low, high = np.arange(1 << 16) & 0xFF, np.arange(1 << 16) >> 8
        pairs = np.stack(
            [np.maximum(codes[2 * p, low] + codes[2 * p + 1, high], cls._BAD) for p in range(4)]
        )
        digits = cls(pairs, np.full(size, -1, dtype=np.int32))
        digits.table[digits.numbers(words)] = np.arange(len(words), dtype=np.int32)
        return digits

    def numbers(self, words: npt.NDArray[np.uint64]) -> npt.NDArray[np.int64]:
        """Each word's number; negative where a byte is one no id has there."""
        data = words.view("<u2").reshape(-1, 4)
        number: npt.NDArray[np.int64] = self.pairs[0].take(data[:, 0])
        for p in range(1, 4):
            number += self.pairs[p].take(data[:, p])
        return number

    def find(self, words: npt.NDArray[np.uint64]) -> Index:
        number = self.numbers(words)
        bad = number < 0
        np.maximum(number, 0, out=number)
        found = self.table.take(number)
        found[bad] = -1
        return found


def _words(ids: pa.ChunkedArray) -> list[npt.NDArray[np.uint64]] | None:
    """Per chunk, each id's bytes as one 64-bit word; None unless all have one width ≤ 8.

    Ids of exactly 8 bytes are viewed in place (no copy); shorter ones are zero-padded.
    Equal words mean equal ids; :func:`_order_keys` makes them sort like the strings.
    """
    words, widths = [], set()
    for chunk in ids.chunks:
        n = len(chunk)
        if n == 0:
            continue
        offsets = np.frombuffer(chunk.buffers()[1], np.int32, n + 1, chunk.offset * 4)
        width = int(offsets[1] - offsets[0])
        if not 0 < width <= 8 or int(offsets[-1] - offsets[0]) != n * width:
            return None
        if bool(np.any(np.diff(offsets) != width)):
            return None
        data = np.frombuffer(chunk.buffers()[2], np.uint8, n * width, int(offsets[0]))
        if width < 8:
            padded = np.zeros((n, 8), dtype=np.uint8)
            padded[:, :width] = data.reshape(n, width)
            data = padded.reshape(-1)
        words.append(data.view("<u8"))
        widths.add(width)
    return words if len(widths) == 1 else None


def _order_keys(words: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """Keys that sort like the ids: the bytes read as a big-endian number."""
    return words.byteswap() if np.little_endian else words.copy()


def _runs(words: list[npt.NDArray[np.uint64]]) -> tuple[npt.NDArray[np.uint64], Index]:
    """The first word of each run of equal neighbours, and the runs' lengths.

    A run never spans two chunks: splitting one only costs a second lookup.
    """
    starts, firsts = [], []
    offset = 0
    for chunk in words:
        change = np.empty(len(chunk), dtype=bool)
        change[0] = True
        np.not_equal(chunk[1:], chunk[:-1], out=change[1:])
        heads = np.flatnonzero(change)
        starts.append(heads + offset)
        firsts.append(chunk[heads])
        offset += len(chunk)
    start = np.concatenate(starts)
    return np.concatenate(firsts), np.diff(np.append(start, offset)).astype(np.int32)


def _search(keys: npt.NDArray[np.uint64], wanted: npt.NDArray[np.uint64]) -> Index:
    at = np.searchsorted(keys, wanted)
    np.minimum(at, len(keys) - 1, out=at)
    return np.where(keys.take(at) == wanted, at, -1).astype(np.int32)


def lookup(
    file: CsvFile, column: str, values: pa.ChunkedArray, universe: Ids, *, runs: bool = False
) -> Index:
    """The position of each value in ``universe``; unknown values are an error."""
    found = universe.find(values, runs=runs)
    missing = np.flatnonzero(found < 0)
    if missing.size:
        raise _unknown(file, column, values, missing, universe.file)
    return found


def _unknown(
    file: CsvFile,
    column: str,
    values: pa.ChunkedArray,
    rows: npt.NDArray[np.intp],
    universe_file: str,
) -> InputError:
    """Unknown references: the count and the first few, each with its line."""
    first = [int(r) for r in rows[:_QUOTED]]
    lines = file.lines(first)
    quoted = ", ".join(
        f"line {line} {values[row].as_py()!r}" for row, line in zip(first, lines, strict=True)
    )
    count = len(rows)
    return InputError(
        file.label,
        lines[0],
        f"unknown {column} {values[first[0]].as_py()!r} (not in {universe_file}); "
        f"{count} unknown {column} reference{'s' if count > 1 else ''} in all, first: {quoted}",
    )
