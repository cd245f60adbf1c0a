"""``backoffice sod analyze``: outputs; bad input named by file and line, exit 2, no file."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import BinaryIO

import pytest

from backoffice.sod_cli import sod_analyze, write_atomically
from tests.unit.sod_data import TINY, write_folder

BACKOFFICE = shutil.which("backoffice", path=str(Path(sys.executable).parent)) or "backoffice"
TINY_CSV = "user_id,risk_id,level,mitigated\nann,R1,high,false\nben,R1,high,true\n"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def run(folder: Path, out: Path, *extra: str, err: io.StringIO | None = None) -> tuple[int, str]:
    err = err if err is not None else io.StringIO()
    code = sod_analyze(
        [str(folder), "--as-of", "2025-06-30", "--out", str(out), *extra], io.StringIO(), err
    )
    return code, err.getvalue()


def test_writes_violations_csv_and_says_what_it_found(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "in")
    stdout = io.StringIO()
    code = sod_analyze(
        [str(folder), "--as-of", "2025-06-30", "--out", str(tmp_path / "v.csv")], stdout
    )
    assert code == 0
    assert (tmp_path / "v.csv").read_text() == TINY_CSV
    assert stdout.getvalue().startswith("2 violations (1 open, 1 mitigated) among 3 users")


def test_explain_adds_the_supplying_roles_per_function(tmp_path: Path) -> None:
    code, _ = run(write_folder(tmp_path / "in"), tmp_path / "v.csv", "--explain")
    assert code == 0
    assert (tmp_path / "v.csv").read_text().splitlines() == [
        "user_id,risk_id,level,mitigated,functions",
        "ann,R1,high,false,ENTER: lead; APPROVE: lead",
        "ben,R1,high,true,ENTER: clerk; APPROVE: approver",
    ]


def test_json_has_violations_causes_and_the_fix(tmp_path: Path) -> None:
    code, _ = run(
        write_folder(tmp_path / "in"), tmp_path / "v.json", "--format", "json", "--explain"
    )
    assert code == 0
    report = json.loads((tmp_path / "v.json").read_text())
    assert report["summary"]["violations"] == 2 and report["summary"]["open"] == 1
    assert report["violations"][0] == {
        "user_id": "ann",
        "risk_id": "R1",
        "level": "high",
        "mitigated": False,
        "functions": {"ENTER": ["lead"], "APPROVE": ["lead"]},
    }
    assert report["remediation"] == [{"user_id": "ann", "remove": ["lead"], "clears": 1}]


def test_html_report_is_self_contained_and_escapes_ids(tmp_path: Path) -> None:
    tables = {
        **TINY,
        "users": [*TINY["users"], ("<b>eve</b>", "Eve")],
        "assignments": [*TINY["assignments"], ("<b>eve</b>", "lead")],
    }
    code, _ = run(write_folder(tmp_path / "in", tables), tmp_path / "r.html", "--format", "html")
    assert code == 0
    page = (tmp_path / "r.html").read_text()
    for heading in (
        "Violations by level",
        "Violations by risk",
        "Roles that cause the most violations",
        "Users with the most violations",
        "Root cause and fix",
    ):
        assert heading in page
    assert page.count("<svg") == 5
    assert "&lt;b&gt;eve&lt;/b&gt;" in page and "<b>eve" not in page
    assert "<script" not in page and "http://" not in page and "https://" not in page


def test_html_explain_lists_violations_and_a_clean_folder_says_so(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "in")
    code, _ = run(folder, tmp_path / "r.html", "--format", "html", "--explain")
    assert code == 0
    page = (tmp_path / "r.html").read_text()
    assert "<h2>Violations (first 2)</h2>" in page
    assert (
        "<td>ben</td><td>R1</td><td>high</td><td>yes</td><td>ENTER: clerk; APPROVE: approver"
        in page
    )
    (folder / "assignments.csv").write_text("user_id,role_id\nann,clerk\n")
    code, _ = run(folder, tmp_path / "clean.html", "--format", "html")
    assert code == 0
    assert "Nothing to show." in (tmp_path / "clean.html").read_text()


def test_a_failing_writer_leaves_neither_target_nor_temporary_file(tmp_path: Path) -> None:
    def half(handle: BinaryIO) -> None:
        handle.write(b"user_id,risk_id\n")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        write_atomically(tmp_path / "v.csv", half)
    assert list(tmp_path.iterdir()) == []


def test_ids_with_commas_and_quotes_are_quoted_in_the_csv(tmp_path: Path) -> None:
    tables = {**TINY, "users": [("o'neil, jr", "X")], "assignments": [("o'neil, jr", "lead")]}
    tables["mitigations"] = []
    code, _ = run(write_folder(tmp_path / "in", tables), tmp_path / "v.csv")
    assert code == 0
    rows = list(csv.reader((tmp_path / "v.csv").open()))
    assert rows == [
        ["user_id", "risk_id", "level", "mitigated"],
        ["o'neil, jr", "R1", "high", "false"],
    ]


def test_progress_bar_only_on_a_terminal(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "in")
    assert run(folder, tmp_path / "a.csv") == (0, "")
    terminal = Terminal()
    code, shown = run(folder, tmp_path / "b.csv", err=terminal)
    assert code == 0 and "evaluating [" in shown and "100% 3/3 users" in shown


def lines(*rows: str) -> str:
    return "\n".join(rows) + "\n"


# (what is broken, replaced files, file:line and message expected)
BAD_INPUT = [
    ("missing file", {"risks": None}, "risks.csv: missing file"),
    (
        "missing column",
        {"assignments": "user_id,role\nann,lead\n"},
        "assignments.csv:1: missing column 'role_id'",
    ),
    (
        "unknown users, counted, the first three quoted",
        {
            "assignments": lines(
                "user_id,role_id", "ann,lead", "zed,clerk", "ben,clerk", "yan,clerk", "zed,lead",
                "xi,lead",
            )
        },
        "assignments.csv:3: unknown user_id 'zed' (not in users.csv); 4 unknown user_id "
        "references in all, first: line 3 'zed', line 5 'yan', line 6 'zed'",
    ),
    (
        "unknown role in an assignment",
        {"assignments": "user_id,role_id\nann,boss\n"},
        "assignments.csv:2: unknown role_id 'boss' (not in roles.csv); 1 unknown role_id "
        "reference in all",
    ),
    (
        "unknown role in a grant",
        {"role_permissions": "role_id,permission\nclerk,invoice.enter\nboss,invoice.approve\n"},
        "role_permissions.csv:3: unknown role_id 'boss'",
    ),
    (
        "unknown role in the hierarchy",
        {"role_hierarchy": "parent_role_id,child_role_id\nlead,clerk\nlead,boss\n"},
        "role_hierarchy.csv:3: unknown child_role_id 'boss'",
    ),
    (
        "unknown function in a risk",
        {"risks": "risk_id,level,function_id\nR1,high,ENTER\nR1,high,APPROVAL\n"},
        "risks.csv:3: unknown function_id 'APPROVAL' (not in functions.csv)",
    ),
    (
        "unknown user in a mitigation",
        {"mitigations": "user_id,risk_id,control_id,valid_until\nbob,R1,C1,2025-12-31\n"},
        "mitigations.csv:2: unknown user_id 'bob' (not in users.csv)",
    ),
    (
        "unknown risk in a mitigation",
        {"mitigations": "user_id,risk_id,control_id,valid_until\nben,R9,C1,2025-12-31\n"},
        "mitigations.csv:2: unknown risk_id 'R9' (not in risks.csv)",
    ),
    (
        "cycle in the hierarchy",
        {
            "role_hierarchy": lines(
                "parent_role_id,child_role_id", "lead,clerk", "clerk,approver", "approver,lead"
            )
        },
        "role_hierarchy.csv:3: cycle in the role hierarchy: clerk → approver → lead → clerk "
        "(lines 3, 4, 2)",
    ),
    (
        "a role containing itself",
        {"role_hierarchy": "parent_role_id,child_role_id\nlead,clerk\ntreasurer,treasurer\n"},
        "role_hierarchy.csv:3: cycle in the role hierarchy: treasurer → treasurer (lines 3)",
    ),
    (
        "risk with one function (named twice)",
        {"risks": "risk_id,level,function_id\nR1,high,ENTER\nR2,low,PAY\nR2,low,PAY\n"},
        "risks.csv:2: risk 'R1' has 1 distinct function; a risk combines 2 to 5",
    ),
    (
        "risk with six functions",
        {"risks": "risk_id,level,function_id\n" + "".join(f"R1,low,F{i}\n" for i in range(6)),
         "functions": "function_id,permission\n" + "".join(f"F{i},p{i}\n" for i in range(6))},
        "risks.csv:2: risk 'R1' has 6 distinct functions; a risk combines 2 to 5",
    ),
    (
        "unknown level",
        {"risks": "risk_id,level,function_id\nR1,high,ENTER\nR1,severe,APPROVE\n"},
        "risks.csv:3: unknown level 'severe' (expected critical, high, medium or low)",
    ),
    (
        "two levels for one risk",
        {"risks": "risk_id,level,function_id\nR1,high,ENTER\nR1,low,APPROVE\n"},
        "risks.csv:3: risk 'R1' has level 'low' here but 'high' on line 2",
    ),
    (
        "malformed date",
        {
            "mitigations": lines(
                "user_id,risk_id,control_id,valid_until",
                "ben,R1,C1,2025-12-31",
                "ann,R1,C2,31.12.2025",
            )
        },
        "mitigations.csv:3: valid_until '31.12.2025' is not a date (expected YYYY-MM-DD)",
    ),
    (
        "impossible date",
        {"mitigations": "user_id,risk_id,control_id,valid_until\nben,R1,C1,2025-02-30\n"},
        "mitigations.csv:2: valid_until '2025-02-30' is not a date",
    ),
    (
        "a row with too many fields, after a blank line",
        {"users": "user_id,name\nann,Ann\n\nben,Ben,Ito\n"},
        "users.csv:4: expected 2 fields, found 3",
    ),
    (
        "blank lines do not shift line numbers",
        {"assignments": "user_id,role_id\nann,lead\n\n\nzed,clerk\n"},
        "assignments.csv:5: unknown user_id 'zed'",
    ),
    ("an empty file", {"roles": ""}, "roles.csv:1: missing header row role_id,name"),
    (
        "a line over 1 MiB",
        {"users": "user_id,name\nann,Ann\n\n" + "x" * 1_500_000 + ",Big\nben,Ben\n"},
        "users.csv:4: line longer than 1,048,576 bytes",
    ),
    (
        "a last line over 1 MiB without a line break",
        {"assignments": "user_id,role_id\nann,lead\nben," + "r" * (1 << 20)},
        "assignments.csv:3: line longer than 1,048,576 bytes",
    ),
    (
        "a header over 1 MiB",
        {"roles": "role_id,name," + "c" * 1_200_000 + "\nclerk,Clerk\n"},
        "roles.csv:1: line longer than 1,048,576 bytes",
    ),
    (
        "a field the csv module refuses, in a row with too many fields",
        {"users": "user_id,name\nann,Ann\nben,Ben," + "y" * 200_000 + "\n"},
        "users.csv:3: cannot parse the line: field larger than field limit",
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("replace", "expected"),
    [pytest.param(replace, expected, id=case) for case, replace, expected in BAD_INPUT],
)
def test_bad_input_names_file_and_line_exits_2_and_writes_nothing(
    tmp_path: Path, replace: dict[str, str | None], expected: str
) -> None:
    folder = write_folder(tmp_path / "in")
    for name, text in replace.items():
        if text is None:
            (folder / f"{name}.csv").unlink()
        else:
            (folder / f"{name}.csv").write_text(text)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    code, err = run(folder, out_dir / "violations.csv")
    assert code == 2
    assert f"{folder}/{expected}" in err, err
    assert list(out_dir.iterdir()) == []


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"role_id,name\nclerk,Clerk\nl\xe9ad,Lead\n", "roles.csv:3: not valid UTF-8"),
        (b"role_id,n\xe4me\nclerk,Clerk\n", "roles.csv:1: the header is not valid UTF-8"),
        (None, "roles.csv: cannot read the file: Is a directory"),
    ],
)
def test_unreadable_files_are_reported_with_their_line(
    tmp_path: Path, content: bytes | None, expected: str
) -> None:
    folder = write_folder(tmp_path / "in")
    (folder / "roles.csv").unlink()
    if content is None:
        (folder / "roles.csv").mkdir()
    else:
        (folder / "roles.csv").write_bytes(content)
    code, err = run(folder, tmp_path / "v.csv")
    assert (code, err.strip()) == (2, f"backoffice sod analyze: {folder}/{expected}")


def test_a_failed_run_leaves_an_earlier_output_alone(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "in")
    out = tmp_path / "v.csv"
    out.write_text("earlier result\n")
    (folder / "users.csv").unlink()
    assert run(folder, out)[0] == 2
    assert out.read_text() == "earlier result\n"


def test_bad_arguments_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        sod_analyze([str(tmp_path), "--as-of", "2025-06-31"])
    assert exit_.value.code == 2
    assert "'2025-06-31' is not a date (expected YYYY-MM-DD)" in capsys.readouterr().err
    code, err = run(tmp_path / "nowhere", tmp_path / "v.csv")
    assert code == 2 and f"{tmp_path / 'nowhere'}: no such folder" in err
    code, err = run(write_folder(tmp_path / "in"), tmp_path / "missing" / "v.csv")
    assert code == 2 and "v.csv: cannot write: No such file or directory" in err


def test_the_real_command_runs_without_django(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "in")
    out = tmp_path / "v.csv"
    script = (
        "import sys; from backoffice.cli import main; "
        f"code = main(['sod', 'analyze', {str(folder)!r}, '--as-of', '2025-06-30', "
        f"'--out', {str(out)!r}]); "
        "assert not [m for m in sys.modules if m.split('.')[0] == 'django'], 'django imported'; "
        "sys.exit(code)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert out.read_text() == TINY_CSV


def test_the_installed_command_writes_to_standard_output(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "in")
    result = subprocess.run(
        [BACKOFFICE, "sod", "analyze", str(folder), "--as-of", "2025-06-30", "--out", "-"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, TINY_CSV, "")


def test_the_installed_command_reports_bad_input_with_exit_code_2(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "in")
    (folder / "risks.csv").write_text("risk_id,level,function_id\nR1,high,ENTER\n")
    result = subprocess.run(
        [BACKOFFICE, "sod", "analyze", str(folder), "--out", str(tmp_path / "v.csv")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert f"{folder}/risks.csv:2: risk 'R1' has 1 distinct function" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "v.csv").exists()
