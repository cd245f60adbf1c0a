"""#19: the audit page downloads the trail in the CLI's three formats, streamed, and the file
is the one ``backoffice audit export`` writes for the same filters; others are refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction

from backoffice.audit.models import AuditEvent
from backoffice.audit.services import record
from tests.audit.conftest import audit


@pytest.fixture
def trail(demo_bank: Any) -> int:
    """The demo bank's events plus a few with a formula-like reason; the head seq."""
    for n in range(3):
        with transaction.atomic():
            record(
                "test.exported",
                actor="martin.jung",
                object_type="case",
                object_id=n,
                reason="=HYPERLINK(1)" if n == 1 else "",
                after={"case": n, "note": "Grüße"},
            )
    head = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    assert head is not None
    return int(head)


def cli_file(tmp_path: Path, *args: str) -> bytes:
    target = tmp_path / "cli.out"
    status, _, _ = audit("export", *args, "--output", str(target))
    assert status == 0
    return target.read_bytes()


def download(client: Any, **query: str) -> tuple[Any, bytes]:
    response = client.get("/audit/export/", query)
    assert response.status_code == 200, response.content
    assert response.streaming
    return response, b"".join(response.streaming_content)


@pytest.mark.parametrize(
    "query",
    [{"to": "TO"}, {"from": "3", "to": "TO"}, {"object": "case:1", "to": "TO"}],
    ids=["whole", "range", "object"],
)
def test_csv_and_ocel_downloads_are_byte_for_byte_the_cli_files(
    trail: int, login: Any, tmp_path: Path, query: dict[str, str]
) -> None:
    query = {k: str(trail) if v == "TO" else v for k, v in query.items()}
    client = login("martin.jung")
    args = [a for k, v in query.items() for a in (f"--{k}", v)]
    for fmt, media_type in (("csv", "text/csv"), ("ocel", "application/json")):
        response, body = download(client, format=fmt, **query)
        assert response["Content-Type"].startswith(media_type)
        assert "attachment" in response["Content-Disposition"]
        assert body == cli_file(tmp_path, "--format", fmt, *args)
    assert b"'=HYPERLINK(1)" in download(client, format="csv", to=str(trail))[1]


def test_the_jsonl_download_is_the_cli_file_but_for_the_export_time(
    trail: int, login: Any, tmp_path: Path
) -> None:
    client = login("clara.vogel")  # compliance reads the trail too
    _, body = download(client, format="jsonl", to=str(trail))
    cli = cli_file(tmp_path, "--format", "jsonl", "--to", str(trail))
    web_lines, cli_lines = body.splitlines(), cli.splitlines()
    assert web_lines[1:] == cli_lines[1:] and len(web_lines) == trail + 2
    web_head, cli_head = json.loads(web_lines[0]), json.loads(cli_lines[0])
    assert web_head.pop("exported_at") and cli_head.pop("exported_at")
    assert web_head == cli_head


def test_people_who_may_not_read_the_trail_get_no_file_and_the_refusal_is_on_record(
    trail: int, login: Any
) -> None:
    client = login("anna.schmidt")
    response = client.get("/audit/export/", {"format": "csv"})
    assert response.status_code == 403
    assert not response.streaming
    assert AuditEvent.objects.filter(action="audit.denied", actor="anna.schmidt").exists()


def test_bad_filters_are_named_and_no_file_is_sent(trail: int, login: Any) -> None:
    client = login("martin.jung")
    response = client.get("/audit/export/", {"format": "xml"})
    assert response.status_code == 422 and b"format" in response.content
    response = client.get("/audit/export/", {"object": "case"})
    assert response.status_code == 422 and b"TYPE:ID" in response.content


def test_the_audit_page_offers_the_download(trail: int, login: Any) -> None:
    page = login("martin.jung").get("/audit/").content.decode()
    assert 'action="/audit/export/"' in page and 'value="ocel"' in page
