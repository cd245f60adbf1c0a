"""Hostile and broken policy files: one clear error each, bounded memory, nothing written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from backoffice.base.actor import Actor
from tests.conftest import DEMO_POLICY
from tests.support import BACKOFFICE, cli_env, run_cli, scratch_database

LAUGHS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{c}: &{c} [{','.join([f'*{chr(ord(c) - 1)}'] * 9)}]\n" for c in "bcdefghijklm"
)

#: Runs a command as its only child and prints that child's peak memory (KiB) last on stderr,
#: so other processes of the test run (browsers, servers) cannot blur the figure.
MEASURE = (
    "import resource, subprocess, sys; done = subprocess.run(sys.argv[1:]); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
    "sys.exit(done.returncode)"
)

HOSTILE: dict[str, tuple[bytes, str]] = {
    "billion-laughs.yaml": (LAUGHS.encode(), "anchors and aliases"),
    "python-tag.yaml": (b"version: !!python/object/apply:os.system ['touch owned']\n", "tag"),
    "deep.yaml": (("version: " + "[" * 5000 + "]" * 5000 + "\n").encode(), "nested deeper"),
    "huge.yaml": (b"version: 1\n# " + b"x" * 6_000_000 + b"\n", "limited to"),
    "latin1.yaml": ("version: 1\ninstitution: {name: Müller}\n".encode("latin-1"), "not UTF-8"),
    "empty.yaml": (b"", "the file is empty"),
    "not-yaml.yaml": (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 10, "not UTF-8"),
    "list.yaml": (b"- just\n- a list\n", "a policy is a YAML mapping"),
    "broken.yaml": (b"version: 1\nunits: [\n", "not valid YAML"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_policy_check_gives_one_clear_line(tmp_path: Path, name: str) -> None:
    raw, expected = HOSTILE[name]
    path = tmp_path / name
    path.write_bytes(raw)
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, BACKOFFICE, "policy", "check", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    peak_kib = int(result.stderr.strip().splitlines()[-1])
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 2 and lines[0].startswith(f"{path}:") and expected in lines[0]
    assert "Traceback" not in result.stdout + result.stderr
    assert peak_kib < 400 * 1024, f"peak memory {peak_kib} KiB"
    assert not (tmp_path / "owned").exists()


@pytest.mark.django_db(transaction=True)
def test_init_with_a_hostile_policy_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "laughs.yaml"
    path.write_text(LAUGHS)
    with scratch_database(tmp_path, migrated=True) as url:
        env = cli_env(url, tmp_path / "var")
        result = run_cli("init", "--policy", str(path), env=env)
        assert result.returncode != 0 and "anchors and aliases" in result.stderr
        count = run_cli(
            "shell",
            "--no-imports",
            "-c",
            "from backoffice.org.models import PolicyVersion, Unit;"
            "from backoffice.audit.models import AuditEvent;"
            "print(PolicyVersion.objects.count(), Unit.objects.count(),"
            " AuditEvent.objects.exclude(action__startswith='auth.').count())",
            env=env,
        )
        assert count.stdout.split() == ["0", "0", "0"]


def test_backoffice_command_is_the_installed_one() -> None:
    assert Path(BACKOFFICE).parent == Path(sys.executable).parent


def measured(*argv: str, cwd: Path) -> tuple[subprocess.CompletedProcess[str], int]:
    """Run the installed command under MEASURE: its result and its peak memory in KiB."""
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, BACKOFFICE, *argv],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=cwd,
    )
    return result, int(result.stderr.strip().splitlines()[-1])


def test_sod_analyze_refuses_a_giant_line_with_file_and_line_in_bounded_memory(
    tmp_path: Path,
) -> None:
    """#13: a 1 GB line took 3.3 GB and ended in a traceback. 64 MB shows the same."""
    from tests.unit.sod_data import write_folder

    folder = write_folder(tmp_path / "in")
    users = folder / "users.csv"
    with users.open("ab") as handle:
        handle.write(b"eve,")
        for _ in range(64):
            handle.write(b"E" * (1 << 20))
        handle.write(b"\nfay,Fay\n")
    result, peak_kib = measured("sod", "analyze", str(folder), "--out", "v.csv", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert f"{users}:5: line longer than 1,048,576 bytes" in result.stderr
    assert "Traceback" not in result.stderr
    assert peak_kib < 300 * 1024, f"peak memory {peak_kib} KiB"
    assert not (tmp_path / "v.csv").exists()


def huge_condition_policy(size: int) -> tuple[str, int]:
    """The demo policy with a condition of about ``size`` characters, and its line."""
    text = DEMO_POLICY.read_text()
    old = 'when: "amount < 10000"'
    condition = " || ".join(["amount < 10000"] * (size // 18))
    line = text.count("\n", 0, text.index(old)) + 1
    return text.replace(old, f'when: "{condition}"', 1), line


def test_policy_check_refuses_a_huge_condition_with_its_place_in_bounded_memory(
    tmp_path: Path,
) -> None:
    """#13: a 3.6 MB ``when`` took 19 s and 1.6 GB; it is refused before CEL sees it."""
    text, line = huge_condition_policy(3_600_000)
    path = tmp_path / "huge-condition.yaml"
    path.write_text(text)
    result, peak_kib = measured("policy", "check", str(path), cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    first = result.stdout.splitlines()[0]
    assert (
        first.startswith(f"{path}:{line}:") and "a condition has at most 1,000 characters" in first
    )
    assert "Traceback" not in result.stdout + result.stderr
    assert peak_kib < 300 * 1024, f"peak memory {peak_kib} KiB"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('when: "amount < 10000"', None, "a condition has at most 1,000 characters"),
        ('pattern: "C[0-9]{6}"', r'pattern: "(C)\\1"', "invalid escape sequence"),
        ('pattern: "C[0-9]{6}"', 'pattern: "(a+)+$' + "x" * 200 + '"', "at most 200 characters"),
    ],
)
def test_a_policy_change_case_applies_the_same_limits(
    demo_bank: Any, old: str, new: str | None, expected: str
) -> None:
    from tests.cases.conftest import Person, problem

    if new is None:
        text, line = huge_condition_policy(900_000)  # under the payload's 1,000,000 characters
    else:
        text = DEMO_POLICY.read_text()
        line = text.count("\n", 0, text.index(old)) + 1
        text = text.replace(old, new, 1)
    body = problem(
        Person("oliver.richter").start("policy-change", {"summary": "x", "policy": text}),
        422,
        "policy.invalid",
    )
    [error] = body["errors"]
    assert error["message"].startswith(f"proposed policy:{line}:") and expected in error["message"]


# -- Text that cannot be stored: a lone surrogate, a NUL (#13) ---------------------------------

#: Each as a JSON string escape, which is how it reaches the API.
BAD_TEXT = {"surrogate": "\ud800", "nul": "\u0000"}
#: Each as it can appear in a URL: a NUL percent-encoded, a surrogate as the UTF-8 bytes it
#: would have (not valid UTF-8, so no URL can carry the character itself).
BAD_URL_TEXT = {"surrogate": "%ED%A0%80", "nul": "%00"}


def invalid_text(response: Any, loc: list[str]) -> None:
    """A 400 problem+json with code ``input.invalid_text`` that names where the text was."""
    from tests.cases.conftest import problem

    body = problem(response, 400, "input.invalid_text")
    assert [e["loc"] for e in body["errors"]] == [loc], body
    assert loc[-1] in body["detail"]


def audit_count() -> int:
    from backoffice.audit.models import AuditEvent

    return AuditEvent.objects.count()


@pytest.mark.django_db
@pytest.mark.parametrize("kind", sorted(BAD_TEXT))
def test_bad_text_in_a_payload_is_refused_before_anything_is_stored(
    demo_bank: Any, kind: str
) -> None:
    from backoffice.cases.models import Case
    from tests.cases.conftest import Person, payment

    anna = Person("anna.schmidt")
    before = audit_count()
    started = anna.start("payment-release", payment(purpose=f"a{BAD_TEXT[kind]}b"))
    invalid_text(started, ["body", "payload", "purpose"])
    assert not Case.objects.exists() and audit_count() == before


@pytest.mark.django_db
@pytest.mark.parametrize("kind", sorted(BAD_TEXT))
def test_bad_text_in_a_comment_is_refused(demo_bank: Any, kind: str) -> None:
    from tests.cases.conftest import Person, payment

    anna = Person("anna.schmidt")
    refused = anna.post(
        "/cases",
        {"process": "payment-release", "payload": payment(), "comment": BAD_TEXT[kind]},
    )
    invalid_text(refused, ["body", "comment"])
    case_id = anna.start("payment-release", payment()).json()["id"]
    maria = Person("maria.keller")
    before = audit_count()
    acted = maria.act(case_id, "approve", comment=f"ok {BAD_TEXT[kind]}")
    invalid_text(acted, ["body", "comment"])
    assert audit_count() == before


@pytest.mark.django_db
@pytest.mark.parametrize("kind", sorted(BAD_TEXT))
def test_bad_text_in_a_reason_is_refused(demo_bank: Any, kind: str) -> None:
    from tests.cases.conftest import Person

    clara = Person("clara.vogel")
    before = audit_count()
    refused = clara.post(
        "/walls/watch-list", {"issuer": "autowerk", "reason": f"x{BAD_TEXT[kind]}"}
    )
    invalid_text(refused, ["body", "reason"])
    assert audit_count() == before


@pytest.mark.django_db
@pytest.mark.parametrize("kind", sorted(BAD_URL_TEXT))
def test_bad_text_in_a_query_parameter_is_refused(demo_bank: Any, kind: str) -> None:
    from tests.cases.conftest import Person

    auditor = Person("martin.jung")
    invalid_text(auditor.get(f"/audit?actor=a{BAD_URL_TEXT[kind]}b"), ["query", "actor"])
    shown = "x" + "\ufffd" * (3 if kind == "surrogate" else 1)  # the name, made printable
    invalid_text(auditor.get(f"/cases?x{BAD_URL_TEXT[kind]}=1"), ["query", shown])
    assert auditor.get("/audit?actor=anna.schmidt").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("kind", sorted(BAD_TEXT))
def test_bad_text_in_a_path_or_header_is_refused(demo_bank: Any, kind: str) -> None:
    from backoffice.walls.models import ListEntry
    from tests.cases.conftest import Person

    clara = Person("clara.vogel")
    if kind == "nul":
        invalid_text(clara.get("/walls/projects/a%00b"), ["path"])
    else:  # Django re-escapes bytes that are not UTF-8 in a path: harmless text, not found
        assert clara.get("/walls/projects/a%ED%A0%80b").status_code == 404
    refused = clara.post(
        "/walls/watch-list",
        {"issuer": "autowerk", "reason": "x"},
        **{"Idempotency-Key": f"k{BAD_TEXT[kind]}"},
    )
    invalid_text(refused, ["header", "Idempotency-Key"])
    assert not ListEntry.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("kind", sorted(BAD_TEXT))
def test_bad_text_in_a_json_key_or_nested_value_is_refused(demo_bank: Any, kind: str) -> None:
    from tests.cases.conftest import Person, payment

    anna = Person("anna.schmidt")
    bad = BAD_TEXT[kind]
    invalid_text(
        anna.start("payment-release", payment() | {f"k{bad}": 1}), ["body", "payload", "k\ufffd"]
    )
    nested = anna.start("payment-release", payment() | {"amount": {"amount": "1", "currency": bad}})
    invalid_text(nested, ["body", "payload", "amount", "currency"])
    listed = anna.post("/delegations", {"substitute": "x", "tags": ["ok", bad]})
    invalid_text(listed, ["body", "tags", "1"])


@pytest.mark.django_db
@pytest.mark.parametrize("kind", sorted(BAD_URL_TEXT))
def test_bad_text_in_a_form_post_gets_the_error_page(
    demo_bank: Any, client: Any, kind: str
) -> None:
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username="anna.schmidt"))
    before = audit_count()
    response = client.post(
        "/cases/new/payment-release/",
        f"creditor=ACME&purpose=a{BAD_URL_TEXT[kind]}b&comment=",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert b"input.invalid_text" in response.content and b"purpose" in response.content
    assert audit_count() == before
    page = client.get(f"/cases/?q=a{BAD_URL_TEXT[kind]}", headers={"Accept-Language": "de"})
    assert page.status_code == 400 and b"input.invalid_text" in page.content
    assert '<html lang="de">' in page.content.decode()  # the browser's language


@pytest.mark.django_db
def test_a_nul_in_the_session_cookie_is_refused_before_the_session_is_looked_up(
    demo_bank: Any, client: Any
) -> None:
    client.cookies["sessionid"] = "abcdefgh\0ijklmnop"
    page = client.get("/")
    assert page.status_code == 400 and b"input.invalid_text" in page.content
    assert b"cookie.sessionid" in page.content


@pytest.mark.django_db
@pytest.mark.parametrize("kind", sorted(BAD_TEXT))
def test_the_core_refuses_bad_text_in_a_payload_for_every_caller(demo_bank: Any, kind: str) -> None:
    """The CLI and services do not pass the HTTP edge: the payload validation refuses too."""
    from django.contrib.auth import get_user_model

    from backoffice.cases.models import Case
    from backoffice.cases.services import do_start_case
    from backoffice.core.errors import DomainError
    from tests.cases.conftest import payment

    anna = get_user_model().objects.get(username="anna.schmidt")
    try:
        outcome = do_start_case(Actor(anna), "payment-release", payment(purpose=BAD_TEXT[kind]))
    except DomainError as exc:
        code, message = exc.code, exc.message
    else:
        assert outcome.denied is not None
        code, message = outcome.denied.code, outcome.denied.message
    assert code == "payload.invalid" and "purpose: " in message
    assert not Case.objects.exists()
