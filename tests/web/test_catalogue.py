"""#19: the German catalogue is the .po, edited with makemessages and compilemessages.

These tests fail when a msgid waits for its German (empty or fuzzy) or when the committed
.mo, the file Django reads, was not compiled again after the .po changed.
"""

from __future__ import annotations

import gettext
from pathlib import Path

import polib

LOCALE = Path(__file__).resolve().parents[2] / "backoffice" / "locale" / "de" / "LC_MESSAGES"


def test_every_msgid_has_german_that_is_no_guess() -> None:
    po = polib.pofile(str(LOCALE / "django.po"))
    assert len(po) > 500
    assert [e.msgid for e in po.untranslated_entries()] == []
    assert [e.msgid for e in po.fuzzy_entries()] == []
    for entry in po.translated_entries():
        if entry.msgid_plural:
            assert all(entry.msgstr_plural.values()), entry.msgid
        else:
            assert entry.msgstr.strip(), entry.msgid


def test_the_committed_mo_is_the_po_compiled(tmp_path: Path) -> None:
    compiled = tmp_path / "django.mo"
    polib.pofile(str(LOCALE / "django.po")).save_as_mofile(str(compiled))
    with compiled.open("rb") as fresh, (LOCALE / "django.mo").open("rb") as committed:
        expected = gettext.GNUTranslations(fresh)._catalog  # type: ignore[attr-defined]
        found = gettext.GNUTranslations(committed)._catalog  # type: ignore[attr-defined]
    expected.pop("", None), found.pop("", None)  # the headers carry dates
    missing = sorted(str(k) for k in expected.keys() - found.keys())
    stale = sorted(str(k) for k in expected.keys() & found.keys() if expected[k] != found[k])
    extra = sorted(str(k) for k in found.keys() - expected.keys())
    assert (missing, stale, extra) == ([], [], []), "run: backoffice compilemessages"
