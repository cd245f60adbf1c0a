"""What a case's payload may name: people, units, roles — looked up by the app that owns them.

A payload field of type ``person``, ``unit`` or ``role`` names an id another app keeps.
The cases app checks that the ids exist and offers them in forms without importing those
apps: each registers its lookup here in ``AppConfig.ready`` (people are Django's users).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Directory", "register_directory", "directory"]


@dataclass(frozen=True)
class Directory:
    """``existing(ids)``: the ids of those that exist and are in use; ``choices()``: every
    one in use as ``(id, name)``, for a form."""

    existing: Callable[[set[str]], frozenset[str]]
    choices: Callable[[], list[tuple[str, str]]]


_DIRECTORIES: dict[str, Directory] = {}


def register_directory(kind: str, found: Directory) -> None:
    _DIRECTORIES[kind] = found


def directory(kind: str) -> Directory:
    """The lookup of ``kind`` (a payload field type's value: ``person``, ``unit``, ``role``)."""
    return _DIRECTORIES[kind]
