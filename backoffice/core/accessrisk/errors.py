"""Bad input to the access-risk analysis, named by file and line (issue #6)."""

from __future__ import annotations

from typing_extensions import override

__all__ = ["InputError", "UnknownRole"]


class InputError(Exception):
    """The input cannot be analysed; ``str()`` is ``FILE:LINE: message`` as editors expect.

    ``line`` is None when no line is to blame (a missing file).
    """

    def __init__(self, file: str, line: int | None, message: str) -> None:
        where = file if line is None else f"{file}:{line}"
        super().__init__(f"{where}: {message}")
        self.file = file
        self.line = line
        self.message = message


class UnknownRole(KeyError):
    """A what-if names a role the compiled rule set does not know."""

    def __init__(self, role_id: str) -> None:
        super().__init__(role_id)
        self.role_id = role_id

    @override
    def __str__(self) -> str:
        return f"unknown role {self.role_id!r}"
