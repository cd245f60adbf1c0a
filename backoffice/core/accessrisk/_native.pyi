"""The hot loops of ``sod actual`` in C (``_native.c``)."""

from typing import Any

import numpy as np
from typing_extensions import Buffer

#: Anything with the buffer protocol; numpy's stubs do not say that arrays have it.
_Bytes = Buffer | np.ndarray[Any, Any]

class KeyTable:
    def __init__(self, offsets: _Bytes, data: _Bytes, /) -> None: ...

def read(
    data: _Bytes,
    kinds: str,
    tables: tuple[KeyTable | tuple[KeyTable, _Bytes, _Bytes], ...],
    block: int = ...,
    /,
) -> list[bytearray] | None: ...
def signatures(user: _Bytes, function: _Bytes, bits: _Bytes, out: _Bytes, /) -> None: ...
def maybe(
    user: _Bytes, function: _Bytes, signature: _Bytes, ptr: _Bytes, needs: _Bytes, /
) -> bytearray: ...
