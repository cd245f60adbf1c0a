"""``backoffice serve``: the production WSGI server (gunicorn), static files by WhiteNoise."""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


def run_gunicorn(host: str, port: int, workers: int, threads: int) -> None:
    from gunicorn.app.base import BaseApplication

    from backoffice.wsgi import application

    class _Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("accesslog", os.environ.get("BACKOFFICE_ACCESS_LOG") or None)
            self.cfg.set("graceful_timeout", 10)
            self.cfg.set("timeout", 120)
            # keep idle connections longer than a proxy or client pool does (nginx: 60 s);
            # gunicorn's 2 s default breaks clients that pause between requests
            self.cfg.set("keepalive", 75)
            self.cfg.set("control_socket_disable", True)

        def load(self) -> Any:
            return application

    _Server().run()


class Command(BaseCommand):
    help = "Serve Backoffice with gunicorn (not the development server)."
    requires_system_checks = []  # noqa: RUF012 - Django's own attribute

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("BACKOFFICE_HOST", "127.0.0.1"))
        parser.add_argument(
            "--port", type=int, default=int(os.environ.get("BACKOFFICE_PORT", "8000"))
        )
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("BACKOFFICE_WORKERS", "2"))
        )
        parser.add_argument(
            "--threads", type=int, default=int(os.environ.get("BACKOFFICE_THREADS", "4"))
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"Backoffice on http://{options['host']}:{options['port']}/")
        self.stdout.flush()
        run_gunicorn(options["host"], options["port"], options["workers"], options["threads"])
