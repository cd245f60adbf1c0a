"""The ``backoffice`` command as an operator runs it: real processes, a real database."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from backoffice.ops.demo import DEMO_PASSWORD
from tests.conftest import DEMO_POLICY, EXAMPLES
from tests.support import (
    browser_login,
    cli_env,
    http_get,
    run_cli,
    running_server,
    scratch_database,
)


def test_policy_check_accepts_the_demo_bank_with_a_summary() -> None:
    result = run_cli("policy", "check", str(DEMO_POLICY))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{DEMO_POLICY}: OK" in result.stdout
    assert "units: 24 (advisory 1, back_office 3," in result.stdout
    assert "people: 33" in result.stdout  # with #8's second analyst, #17's trading floor
    assert "board: Sabine Roth (sabine.roth) for back-office, operations, research" in result.stdout
    assert "access: 14 functions, 11 risks (5 critical, 4 high, 1 medium, 1 low), 9 SSD" in (
        result.stdout
    )
    assert "bootstrap administrators: oliver.richter, hanna.schroeder" in result.stdout
    assert (
        "trading: 5 instruments; off-market beyond government-bonds 0.5%, corporate-bonds "
        "1.0%, equities 2.0%; late after 17:30; cooling-off 180 days"
    ) in result.stdout


@pytest.mark.parametrize(
    ("example", "rule", "names"),
    [
        (
            "market-under-back-office.yaml",
            "ORG-1",
            ["'Retail Banking' (market) lies under 'Back Office'"],
        ),
        (
            "person-in-both-lines.yaml",
            "ORG-2",
            ["'Lukas Becker'", "'Corporate Clients'", "'Credit Analysis'"],
        ),
        (
            "risk-control-not-independent.yaml",
            "RC-2",
            ["'Max Weber'", "'Trading'", "'Risk Control'"],
        ),
    ],
)
def test_policy_check_names_the_rule_and_the_people_of_each_broken_example(
    example: str, rule: str, names: list[str]
) -> None:
    result = run_cli("policy", "check", str(EXAMPLES / example))
    assert result.returncode == 1
    first = result.stdout.splitlines()[0]
    assert first.startswith(f"{EXAMPLES / example}:")
    assert f": {rule}: " in first
    for name in names:
        assert name in first


def test_policy_check_on_a_missing_file_and_on_garbage(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.yaml"
    garbage.write_bytes(b"\x00\x01binary")
    result = run_cli("policy", "check", str(tmp_path / "missing.yaml"), str(garbage))
    assert result.returncode == 1
    assert f"{tmp_path / 'missing.yaml'}:1:1: cannot read the file" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert str(garbage) in result.stdout


def test_policy_verify_proves_every_demo_process_safe() -> None:
    """#15: as the product runs (the policy and the engine's maker rule), nobody completes a
    demo process alone: exit 0, one line per process saying what asks a second person."""
    result = run_cli("policy", "verify", str(DEMO_POLICY))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(
        "payment-release: safe – step 'release' always applies and needs at least 1"
    )
    assert "sod.self_approval" in lines[0]
    processes = len(yaml.safe_load(DEMO_POLICY.read_text())["processes"])
    assert processes >= 14 and len(lines) == processes + 1
    assert lines[-1] == f"{DEMO_POLICY}: all {processes} process(es) proven safe"


@pytest.mark.parametrize(
    "name",
    [
        "market-under-back-office.yaml",
        "person-in-both-lines.yaml",
        "risk-control-not-independent.yaml",
        "trade-roles-overlap.yaml",
    ],
)
def test_policy_verify_proves_each_example_policy_safe_where_it_is_valid(name: str) -> None:
    """Examples broken for `policy check` exit 2; a valid one is proven safe."""
    example = EXAMPLES / name
    check = run_cli("policy", "check", str(example))
    result = run_cli("policy", "verify", str(example))
    assert result.returncode == (0 if check.returncode == 0 else 2), result.stdout


def test_policy_verify_show_roles_notes_what_only_the_maker_rule_keeps_apart() -> None:
    example = EXAMPLES / "trade-roles-overlap.yaml"
    result = run_cli("policy", "verify", "--show-roles", str(example))
    assert result.returncode == 0, result.stdout + result.stderr
    assert (
        "note: trade-settlement: one person with roles {settlement-clerk, trader} starts the "
        "case, then takes settle directly; only the maker rule keeps this apart"
    ) in result.stdout
    assert "note: trade-cancellation" not in result.stdout
    assert f"{example}: all 2 process(es) proven safe" in result.stdout


def test_policy_verify_on_bad_input_exits_2_naming_file_and_line(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    result = run_cli("policy", "verify", str(missing))
    assert result.returncode == 2
    assert f"{missing}:1:1: cannot read the file" in result.stdout
    invalid = tmp_path / "invalid.yaml"
    text = (EXAMPLES / "trade-roles-overlap.yaml").read_text()
    invalid.write_text(text.replace("who: {permissions: [settlement.release]}", "who: {}"))
    result = run_cli("policy", "verify", str(invalid))
    assert result.returncode == 2
    first = result.stdout.splitlines()[0]
    step = next(i for i, t in enumerate(text.splitlines(), 1) if "- id: settle" in t)
    assert first.startswith(f"{invalid}:{step}:"), first
    assert "processes.0.steps.0: a step must say who may act" in first
    assert f"{invalid}: not a valid policy, nothing verified" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["invalid.yaml"]


@pytest.mark.django_db(transaction=True)
def test_init_migrates_loads_and_is_idempotent(tmp_path: Path) -> None:
    with scratch_database(tmp_path) as url:
        env = cli_env(url, tmp_path / "var")
        first = run_cli("init", "--policy", str(DEMO_POLICY), env=env)
        assert first.returncode == 0, first.stderr
        assert "loaded as policy version 1" in first.stdout
        # #13: no superuser; the policy's two bootstrap administrators get a link by e-mail
        for admin in ("hanna.schroeder", "oliver.richter"):
            assert f"sent a set-password link to {admin} <{admin}@musterbank.example>" in (
                first.stdout
            )
        assert first.stdout.count("/password/set/") == 2  # the console mail backend's copy
        second = run_cli("init", "--policy", str(DEMO_POLICY), env=env)
        assert second.returncode == 0 and "unchanged, already loaded" in second.stdout
        assert "set-password link" not in second.stdout
        assert (tmp_path / "var" / "secret_key").stat().st_mode & 0o077 == 0


@pytest.mark.django_db(transaction=True)
def test_init_refuses_a_policy_that_breaks_separation_and_writes_nothing(tmp_path: Path) -> None:
    with scratch_database(tmp_path, migrated=True) as url:
        env = cli_env(url, tmp_path / "var")
        broken = EXAMPLES / "person-in-both-lines.yaml"
        result = run_cli("init", "--policy", str(broken), env=env)
        assert result.returncode != 0
        assert "ORG-2" in result.stderr and "Lukas Becker" in result.stderr
        assert "Traceback" not in result.stderr
        shell = run_cli(
            "shell",
            "--no-imports",
            "-c",
            "from backoffice.org.models import Unit; print(Unit.objects.count())",
            env=env,
        )
        assert shell.stdout.strip() == "0"


@pytest.mark.django_db(transaction=True)
def test_init_refuses_a_fresh_install_without_two_bootstrap_administrators(
    tmp_path: Path,
) -> None:
    without = DEMO_POLICY.read_text().replace(
        "bootstrap:\n  administrators: [oliver.richter, hanna.schroeder]\n", ""
    )
    policy = tmp_path / "no-bootstrap.yaml"
    policy.write_text(without)
    with scratch_database(tmp_path, migrated=True) as url:
        env = cli_env(url, tmp_path / "var")
        result = run_cli("init", "--policy", str(policy), env=env)
        assert result.returncode != 0
        assert "needs two administrators in the policy's bootstrap section" in result.stderr
        shell = run_cli(
            "shell",
            "--no-imports",
            "-c",
            "from backoffice.org.models import PolicyVersion; print(PolicyVersion.objects.count())",
            env=env,
        )
        assert shell.stdout.strip() == "0"


@pytest.mark.django_db(transaction=True)
def test_django_management_commands_work_through_backoffice_but_not_superusers(
    tmp_path: Path,
) -> None:
    with scratch_database(tmp_path, migrated=True) as url:
        env = cli_env(url, tmp_path / "var", DJANGO_SUPERUSER_PASSWORD="a-long-Passphrase-9")
        assert run_cli("migrate", "--noinput", env=env).returncode == 0
        created = run_cli(
            "createsuperuser", "--noinput", "--username", "root", "--email", "r@x.example", env=env
        )
        assert created.returncode != 0  # #13: Backoffice has no superusers
        assert "Backoffice has no superusers" in created.stderr
        changed = run_cli("changepassword", "root", env=env)
        assert changed.returncode != 0 and "Nobody sets another person's password" in (
            changed.stderr
        )
        check = run_cli(
            "shell",
            "--no-imports",
            "-c",
            "from django.contrib.auth.hashers import make_password; "
            "from django.contrib.auth.models import User; "
            "print(make_password('x').split('$')[0], User.objects.count())",
            env=env,
        )
        assert check.stdout.strip() == "argon2 0"


@pytest.mark.django_db(transaction=True)
def test_demo_sets_up_and_serves_a_bank_a_demo_user_can_log_in_to(tmp_path: Path) -> None:
    with scratch_database(tmp_path, migrated=True) as url:
        env = cli_env(url, tmp_path / "var", BACKOFFICE_PLAIN_HTTP="1")
        setup = run_cli("demo", "--no-serve", env=env)
        assert setup.returncode == 0, setup.stderr
        assert f"password for all: {DEMO_PASSWORD}" in setup.stdout
        assert "anna.schmidt" in setup.stdout and "market officer" in setup.stdout
        assert "seeded 12 demo cases" in setup.stdout
        assert "signed an audit checkpoint" in setup.stdout  # with its own key under var/
        with running_server(env) as base:
            status, body, _ = http_get(f"{base}/healthz")
            assert (status, body) == (200, '{"status": "ok", "database": "ok"}')
            status, css, headers = http_get(f"{base}/static/backoffice/app.css")
            assert status == 200 and "--accent" in css
            _, home = browser_login(base, "anna.schmidt", DEMO_PASSWORD)
            assert "Welcome, Anna Schmidt" in home
            assert "Corporate Clients" in home
            assert "All separation checks pass." in home
            opener, _ = browser_login(base, "lena.schulz", DEMO_PASSWORD)
            status, inbox, _ = http_get(f"{base}/api/v1/cases?actionable=true", opener)
            assert status == 200 and "Maschinenbau Roth GmbH" in inbox
            # #13: a person makes their own token from the shell with their own password
            created = run_cli(
                "token", "create", "martin.jung", "--password-stdin", env=env, stdin=DEMO_PASSWORD
            )
            assert created.returncode == 0, created.stderr
            token = created.stdout.strip()
            assert token.startswith("bo_")
            import urllib.request

            auth = {"Authorization": f"Bearer {token}"}
            request = urllib.request.Request(f"{base}/api/v1/me", headers=auth)
            with urllib.request.urlopen(request, timeout=30) as response:
                assert b'"username": "martin.jung"' in response.read()
        nobody_super = run_cli(  # #13: the demo has no superuser and no staff
            "shell",
            "--no-imports",
            "-c",
            "from django.contrib.auth.models import User; from django.db.models import Q; "
            "print(User.objects.filter(Q(is_superuser=True) | Q(is_staff=True)).count())",
            env=env,
        )
        assert nobody_super.stdout.strip() == "0"


def test_healthz_answers_503_when_the_database_is_unreachable(tmp_path: Path) -> None:
    env = cli_env("postgresql://nobody@127.0.0.1:1/nothing", tmp_path / "var")
    with running_server(env) as base:
        status, body, _ = http_get(f"{base}/healthz")
    assert status == 503
    assert '"status": "unavailable"' in body


@pytest.mark.django_db(transaction=True)
def test_token_create_is_refused_without_the_persons_own_password(tmp_path: Path) -> None:
    """#13: the shell does not make a credential for someone else (the demo test shows the
    person making their own)."""
    with scratch_database(tmp_path, migrated=True) as url:
        env = cli_env(url, tmp_path / "var")
        assert run_cli("init", "--demo-policy", env=env).returncode == 0
        for username in ("martin.jung", "nobody"):
            created = run_cli(
                "token", "create", username, "--password-stdin", env=env, stdin="a guess\n"
            )
            assert created.returncode != 0
            assert "bo_" not in created.stdout
            assert "a token for someone else is a user-admin case" in created.stderr
