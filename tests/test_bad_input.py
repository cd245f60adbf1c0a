"""Hostile and broken policy files: one clear error each, bounded memory, nothing written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

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
    with scratch_database(tmp_path) as url:
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
