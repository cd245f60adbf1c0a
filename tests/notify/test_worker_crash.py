"""#18: 10 SIGKILLs of the mail worker while it sends: no mail lost, none sent twice."""

from __future__ import annotations

import sys
from pathlib import Path

from django.conf import settings

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))


def test_ten_kills_of_the_worker_lose_no_mail_and_send_none_twice() -> None:
    from mail_crash_test import fresh_postgres, run  # benchmarks/mail_crash_test.py

    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    url, drop = fresh_postgres() if on_postgres else (None, lambda: None)
    try:
        report = run(kills=10, cases=12, database_url=url)
    finally:
        drop()
    assert report.kills == 10 and 0 < report.before_last < report.expected  # real outages
    assert report.lost == [], report.lost
    assert report.duplicates == [], report.duplicates  # never two mails for one event
