"""#19 Accessibility: axe-core (from the npm registry, tests/axe) checks the main pages in the
browser; none may have a serious or critical violation.

Each page is checked once, as the first persona whose day it belongs to: axe judges the
markup, and a page's markup is the same template whoever opens it (the personas' different
rows are what the phone tests look at). The tests only look, so the module shares one full
demo bank (``shared_bank``)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import screenshot
from tests.browser.test_phones import (
    JOURNEYS,
    PHONE,
    a_case_with_the_longest_timeline,
    a_credit_case,
    slug,
)

DESKTOP = {"width": 1280, "height": 900}

pytestmark = [pytest.mark.browser]


def _first_visits() -> dict[str, tuple[str, ...]]:
    """``JOURNEYS`` with each page kept only for the first persona (by name) who opens it."""
    seen: set[str] = set()
    visits: dict[str, tuple[str, ...]] = {}
    for persona in sorted(JOURNEYS):
        pages = tuple(p for p in JOURNEYS[persona] if p not in seen)
        seen.update(pages)
        if pages:
            visits[persona] = pages
    return visits


PAGES = _first_visits()

AXE_DIR = Path(__file__).resolve().parents[1] / "axe"
AXE = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="session")
def axe_script() -> Path:
    """``npm ci`` from the committed lock, once (``.ci/run`` does it too)."""
    if not AXE.is_file():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"], cwd=AXE_DIR, check=True, timeout=600
        )
    return AXE


def serious_violations(page: Any, axe: Path) -> list[str]:
    """axe-core's serious and critical findings on the page as it stands, one line each."""
    # evaluated through the browser's protocol: the page's own CSP (script-src 'self') stays on
    page.evaluate(axe.read_text(encoding="utf-8"))
    violations = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
            .filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => ({id: v.id, impact: v.impact, help: v.help,
                        nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))"""
    )
    return [f"{v['impact']} {v['id']}: {v['help']} at {v['nodes']}" for v in violations]


@pytest.mark.parametrize(("language", "phone"), [("en", False), ("de", True)])
@pytest.mark.parametrize("persona", sorted(PAGES))
def test_main_pages_have_no_serious_accessibility_violation(
    shared_session: Callable[..., Any],
    shared_bank: str,
    axe_script: Path,
    persona: str,
    language: str,
    phone: bool,
) -> None:
    """English on a desktop, German on a phone (where wide tables scroll within themselves)."""
    case, credit = a_case_with_the_longest_timeline(), a_credit_case()
    page = shared_session(persona, language=language)
    if phone:
        page.set_viewport_size(PHONE)
    found: dict[str, list[str]] = {}
    for path in PAGES[persona]:
        url = path.format(case=case, credit=credit)
        page.goto(f"{shared_bank}{url}")
        if violations := serious_violations(page, axe_script):
            found[url] = violations
        # #19 screenshots (var/screenshots/): English on a desktop here, German on a phone and
        # on a desktop; test_phones takes English on a phone
        name = f"{persona.split('.')[0]}-{slug(path.format(case='case', credit='credit'))}"
        screenshot(page, f"{'phone' if phone else 'desktop'}-{language}-{name}")
        if phone:
            page.set_viewport_size(DESKTOP)
            screenshot(page, f"desktop-{language}-{name}")
            page.set_viewport_size(PHONE)
    assert not found, "\n".join(f"{url}: {v}" for url, vs in found.items() for v in vs)
