"""The ``backoffice`` command: our own commands plus every Django management command.

Commands that need only the pure core (``policy check``, ``policy verify``, ``audit verify
--export``) run without starting Django, so they are quick and work on a machine without the
application database (an auditor's).
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:2] == ["sod", "analyze"]:  # numpy and pyarrow, but no Django (issue #6)
        with _bulk():
            from backoffice.sod_cli import sod_analyze

            return sod_analyze(args[2:])
    if args[:2] == ["sod", "actual"]:  # the same, over event logs (issue #15)
        with _bulk():
            from backoffice.sod_cli import sod_actual

            return sod_actual(args[2:])
    if args[:2] == ["policy", "check"]:
        from backoffice.policy_cli import policy_check

        return policy_check(args[2:])
    if args[:2] == ["policy", "verify"]:
        from backoffice.policy_cli import policy_verify

        return policy_verify(args[2:])
    if args[:2] == ["audit", "verify"]:
        from backoffice.audit_cli import audit_verify_export, wants_export

        if wants_export(args[2:]):
            return audit_verify_export(args[2:])
    if args[:1] == ["demo"]:
        # The demo serves plain http://127.0.0.1; production keeps Secure cookies and HSTS.
        os.environ.setdefault("BACKOFFICE_PLAIN_HTTP", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["backoffice", *args])
    return 0


class _NoPandas:
    """pandas, as not installed: pyarrow imports it (0.3 s, holding the interpreter) only
    to ask whether values are pandas objects, which ours never are. A plain finder (the
    protocol is one method): ``importlib.abc`` and ``typing_extensions`` would add 20 ms
    of imports to a command that takes a second."""

    def find_spec(self, name: str, path: object, target: object = None) -> None:
        if name == "pandas" or name.startswith("pandas."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)


#: Environment for numpy in the bulk commands (see :func:`_bulk`).
_NUMPY_SETTINGS = {"OPENBLAS_NUM_THREADS": "1", "NUMPY_MADVISE_HUGEPAGE": "0"}


@contextmanager
def _bulk() -> Iterator[None]:
    """The bulk commands (numpy and Arrow over millions of rows) make few Python objects
    and no cycles worth collecting, but the collector would run while imports and Arrow's
    batches make objects, stalling the threads that read; and they never use pandas.
    Both off for the command: together 0.5-0.7 s of 5 s on ``sod actual`` large. And
    numpy's settings for bulk work (``_NUMPY_SETTINGS``); everything is put back after."""
    was_enabled = gc.isenabled()
    gc.disable()
    # read once, when numpy is first imported: OpenBLAS's threads spin after the import,
    # taking CPU time from the readers, and nothing here multiplies matrices; huge pages
    # for numpy's arrays made ``sod actual`` on large slower (zeroing 2 MiB at a time)
    # and its time vary by a quarter from run to run
    saved = {name: os.environ.get(name) for name in _NUMPY_SETTINGS}
    os.environ.update(_NUMPY_SETTINGS)
    finder = None
    if "pandas" not in sys.modules:
        finder = _NoPandas()
        sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        if finder is not None:
            sys.meta_path.remove(finder)
        if was_enabled:
            gc.enable()


if __name__ == "__main__":
    raise SystemExit(main())
