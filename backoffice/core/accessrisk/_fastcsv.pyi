"""The common form of large CSV inputs, parsed in C (``_fastcsv.c``)."""

from typing_extensions import Buffer

class KeyTable:
    def __init__(self, offsets: Buffer, data: Buffer, /) -> None: ...

def read(
    data: Buffer, kinds: str, tables: tuple[KeyTable, ...], block: int = ..., /
) -> list[bytearray] | None: ...
