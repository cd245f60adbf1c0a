"""#18 ``backoffice demo --with-mail``: the local SMTP sink and the page that shows its mails,
each person only their own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.mail import EmailMessage, get_connection

from backoffice.notify.sink import start_sink
from tests.notify.conftest import free_port


def test_the_demo_page_shows_a_person_the_mails_sent_to_them(
    demo_bank: Any, login: Any, settings: Any, tmp_path: Path
) -> None:
    port = free_port()
    sink = start_sink(tmp_path / "sink", port)
    try:
        connection = get_connection(
            "django.core.mail.backends.smtp.EmailBackend", host="127.0.0.1", port=port
        )
        connection.send_messages(
            [
                EmailMessage("For Lena", "hello Lena", None, ["lena.schulz@musterbank.example"]),
                EmailMessage("For Maria", "hello Maria", None, ["maria.keller@musterbank.example"]),
            ]
        )
    finally:
        sink.stop()
    assert login("lena.schulz").get("/demo/mail/").status_code == 404  # not without the sink
    settings.MAIL_SINK_DIR = str(tmp_path / "sink")
    page = login("lena.schulz").get("/demo/mail/").content.decode()
    assert "For Lena" in page and "hello Lena" in page
    assert "For Maria" not in page
