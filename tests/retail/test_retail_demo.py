"""#16: ``backoffice demo --policy retail`` sets up and serves the demo retailer."""

from __future__ import annotations

from pathlib import Path

import pytest

from backoffice.ops.demo import RETAIL_LOGINS, RETAIL_PASSWORD
from tests.support import (
    browser_login,
    cli_env,
    http_get,
    run_cli,
    running_server,
    scratch_database,
)

pytestmark = pytest.mark.django_db


def test_the_retail_demo_sets_up_and_serves_musterhandel(tmp_path: Path) -> None:
    with scratch_database(tmp_path) as url:
        env = cli_env(url, tmp_path / "var", BACKOFFICE_PLAIN_HTTP="1")
        setup = run_cli("demo", "--policy", "retail", "--no-serve", env=env, timeout=300)
        assert setup.returncode == 0, setup.stderr
        assert "demo-retail.yaml: loaded as policy version 1" in setup.stdout
        assert f"password for all: {RETAIL_PASSWORD}" in setup.stdout
        assert all(login in setup.stdout for login, _ in RETAIL_LOGINS)
        assert "seeded 10 demo cases" in setup.stdout
        with running_server(env) as base:
            opener, home = browser_login(base, "ute.beck", RETAIL_PASSWORD)
            assert "Ute Beck" in home  # (she reads German)
            status, inbox, _ = http_get(f"{base}/api/v1/cases?actionable=true", opener)
            # the mismatched invoice waits for her; the payment to the vendor she just
            # maintained does not (cooling-off), and the journal entry is Dirk's to post
            assert status == 200 and "RE-77120" in inbox
            assert "V10002" not in inbox
        again = run_cli("demo", "--policy", "retail", "--no-serve", env=env, timeout=300)
        assert again.returncode == 0, again.stderr
        assert "unchanged, already loaded" in again.stdout and "seeded" not in again.stdout
