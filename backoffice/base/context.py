"""What belongs to one request (or one CLI command) and nothing longer.

``request_id_var`` names the request on every audit event it writes. ``request_cache``
holds answers that stay true for one request and are asked for again and again (the live
policy's version, say): the middleware opens a fresh one per request, a command per run,
and whatever writes the answer's source clears it (``forget``). Outside a scope nothing is
kept, so a long-running process never serves an answer from another request.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

__all__ = ["request_id_var", "request_scope", "cached", "remember", "forget"]

T = TypeVar("T")

#: Set by the request middleware so every event of one request carries its id.
request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")

_cache: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "request_cache", default=None
)


@contextmanager
def request_scope() -> Iterator[None]:
    """A fresh cache for the answers of one request or command."""
    token = _cache.set({})
    try:
        yield
    finally:
        _cache.reset(token)


def cached(key: str, compute: Callable[[], T]) -> T:
    """``compute()`` once per scope (every time outside one)."""
    cache = _cache.get()
    if cache is None:
        return compute()
    if key not in cache:
        cache[key] = compute()
    value: T = cache[key]
    return value


def remember(key: str, value: Any) -> None:
    """Note an answer found on the way (by a query that was made anyway) for ``cached``."""
    cache = _cache.get()
    if cache is not None:
        cache[key] = value


def forget(*keys: str) -> None:
    """Drop answers whose source this request has just changed."""
    cache = _cache.get()
    if cache is not None:
        for key in keys:
            cache.pop(key, None)
