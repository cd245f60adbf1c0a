"""#18 ``backoffice demo --with-mail``: a local SMTP server that keeps each mail as a file,
for the demo page that shows them (``/demo/mail/``). Never for production."""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

__all__ = ["start_sink"]


class _Folder:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = itertools.count(1)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        name = f"{time.time_ns()}-{next(self.count)}.eml"
        (self.folder / name).write_bytes(envelope.content)
        return "250 OK"


def start_sink(folder: Path, port: int) -> Controller:
    """Start the sink on 127.0.0.1:``port``; the caller stops it."""
    folder.mkdir(parents=True, exist_ok=True)
    controller = Controller(_Folder(folder), hostname="127.0.0.1", port=port)
    controller.start()
    return controller
