"""German translations, kept as data: ``python backoffice/locale/de.py`` fills django.po.

Kept next to the catalogue so a translator edits one readable table; ``compilemessages``
turns the .po into the .mo Django reads.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

GERMAN: dict[str, str | tuple[str, str]] = {
    "Currency": "Währung",
    "Comment": "Kommentar",
    "Substitute": "Vertretung",
    "From": "Von",
    "Until (first day back)": "Bis (erster Tag zurück)",
    "Reason": "Grund",
    "draft": "Entwurf",
    "submitted": "eingereicht",
    "returned": "zurückgegeben",
    "released": "freigegeben",
    "rejected": "abgelehnt",
    "withdrawn": "zurückgezogen",
    "%(n)s case": ("%(n)s Vorgang", "%(n)s Vorgänge"),
    "Case": "Vorgang",
    "Process": "Prozess",
    "Amount": "Betrag",
    "Maker": "Erfasser",
    "State": "Status",
    "Changed": "Geändert",
    "No cases.": "Keine Vorgänge.",
    "Pages": "Seiten",
    "previous": "zurück",
    "next": "weiter",
    "%(n)s case waits for me": ("%(n)s Vorgang wartet auf mich", "%(n)s Vorgänge warten auf mich"),
    "oldest first": "älteste zuerst",
    "Why me": "Warum ich",
    "Age": "Alter",
    "%(d)s day": ("%(d)s Tag", "%(d)s Tage"),
    "Nothing waits for you.": "Nichts wartet auf Sie.",
    "Open cases I started": "Offene Vorgänge, die ich erfasst habe",
    "Waiting for": "Wartet auf",
    "None.": "Keine.",
    "entered by": "erfasst von",
    "Refused": "Abgelehnt",
    "What was entered": "Erfasste Daten",
    "Version": "Version",
    "Payload hash": "Prüfsumme der Daten",
    "What the release will change": "Was die Freigabe ändert",
    "before": "vorher",
    "after": "nachher",
    "Changes to the policy": "Änderungen an der Richtlinie",
    "No differences.": "Keine Unterschiede.",
    "Next": "Als Nächstes",
    "%(given)s of %(needed)s approvals": "%(given)s von %(needed)s Freigaben",
    "%(given)s of %(needed)s from the board": "%(given)s von %(needed)s durch den Vorstand",
    "The maker has to submit the case.": "Der Erfasser muss den Vorgang einreichen.",
    "Nothing; the case is closed.": "Nichts; der Vorgang ist abgeschlossen.",
    "needed to reject or return": "nötig zum Ablehnen oder Zurückgeben",
    "Correct": "Korrigieren",
    "As substitute for %(who)s:": "Als Vertretung für %(who)s:",
    "There is nothing you may do on this case now.": "Sie können an diesem Vorgang jetzt nichts tun.",
    "Why can't I …?": "Warum kann ich nicht …?",
    "Timeline": "Verlauf",
    "from the audit trail": "aus dem Prüfpfad",
    "When": "Wann",
    "What": "Was",
    "Who": "Wer",
    "Step": "Schritt",
    "Audit": "Prüfpfad",
    "for %(who)s": "für %(who)s",
    "board": "Vorstand",
    "(earlier version)": "(frühere Version)",
    "Submit for release": "Zur Freigabe einreichen",
    "Save as draft": "Als Entwurf speichern",
    "Cancel": "Abbrechen",
    "Cases": "Vorgänge",
    "all": "alle",
    "Filter": "Filtern",
    "Substitutes": "Vertretungen",
    "Delegations": "Vertretungen",
    "Absent": "Abwesend",
    "Until": "Bis",
    "ended": "beendet",
    "End": "Beenden",
    "Name a substitute": "Vertretung benennen",
    "Save": "Speichern",
    "Inbox": "Eingang",
    "Start a case": "Vorgang erfassen",
    "There is no process you may start.": "Es gibt keinen Prozess, den Sie beginnen dürfen.",
    "The action could not be read.": "Die Aktion konnte nicht gelesen werden.",
    "Done: %(action)s.": "Erledigt: %(action)s.",
    "Start: %(process)s": "Erfassen: %(process)s",
    "Case %(id)s was created.": "Vorgang %(id)s wurde angelegt.",
    "Correct case %(id)s": "Vorgang %(id)s korrigieren",
    "Case %(id)s was corrected.": "Vorgang %(id)s wurde korrigiert.",
    "The delegation was ended.": "Die Vertretung wurde beendet.",
    "Your substitute was named.": "Ihre Vertretung wurde benannt.",
    "the command does not apply in the case's current state": "der Befehl passt nicht zum aktuellen Status des Vorgangs",
    "only the maker may do this": "nur der Erfasser darf das",
    "the actor may not start this process": "dieser Prozess darf von Ihnen nicht begonnen werden",
    "the payload does not match the process's schema": "die Daten passen nicht zum Prozess",
    "the payload changed since the actor looked at it": "die Daten haben sich seit Ihrem Aufruf geändert",
    "the actor does not belong to those who may act on this step": "Sie gehören nicht zu denen, die in diesem Schritt handeln dürfen",
    "this step is completed by another command": "dieser Schritt wird mit einem anderen Befehl abgeschlossen",
    "the maker may not check their own case": "der Erfasser darf seinen eigenen Vorgang nicht prüfen",
    "one person counts once per step": "eine Person zählt je Schritt nur einmal",
    "the actor already acted on an earlier step this step excludes": "Sie waren an einem früheren Schritt beteiligt, der diesen ausschließt",
    "the actor's line may not act on this step": "Ihr Bereich darf in diesem Schritt nicht handeln",
    "a person may not act on a case in their own favour": "niemand darf an einem Vorgang zu eigenen Gunsten mitwirken",
    "the amount exceeds the actor's competence limit": "der Betrag übersteigt Ihre Kompetenz",
    "the remaining approvals must come from board members": "die übrigen Freigaben müssen vom Vorstand kommen",
    "no active delegation lets the actor act for that person": "keine aktive Vertretung erlaubt Ihnen, für diese Person zu handeln",
    "a reason is needed": "eine Begründung ist nötig",
    "the actor's account is not active": "das Benutzerkonto ist nicht aktiv",
    "Organisation": "Organisation",
    "Separation checks": "Prüfung der Funktionstrennung",
    "No organisation loaded yet.": "Noch keine Organisation geladen.",
    "Units and members on %(day)s": "Einheiten und Mitglieder am %(day)s",
    "Unit": "Einheit",
    "Line": "Bereich",
    "Board member": "Vorstand",
    "Members": "Mitglieder",
    "Skip to content": "Zum Inhalt springen",
    "Main": "Hauptnavigation",
    "Home": "Start",
    "Settings": "Einstellungen",
    "Log out": "Abmelden",
    "Not possible": "Nicht möglich",
    "Not found": "Nicht gefunden",
    "Back to the start page": "Zurück zur Startseite",
    "Log in": "Anmelden",
    "User name": "Benutzername",
    "Password": "Passwort",
    "Password changed": "Passwort geändert",
    "Your password was changed.": "Ihr Passwort wurde geändert.",
    "Change password": "Passwort ändern",
    "Submit": "Einreichen",
    "Approve": "Zustimmen",
    "Release": "Freigeben",
    "Return": "Zurückgeben",
    "Reject": "Ablehnen",
    "Withdraw": "Zurückziehen",
    "Amend": "Ändern",
    "submit": "einreichen",
    "approve": "zustimmen",
    "release": "freigeben",
    "return": "zurückgeben",
    "reject": "ablehnen",
    "withdraw": "zurückziehen",
    "comment": "kommentieren",
    "started": "erfasst",
    "amended": "geändert",
    "approved": "zugestimmt",
    "commented": "kommentiert",
    "denied": "verweigert",
    "member": "Mitglied",
    "head": "Leitung",
    "deputy": "Stellvertretung",
    "management": "Geschäftsleitung",
    "market": "Markt",
    "back office": "Marktfolge",
    "risk control": "Risikocontrolling",
    "trading": "Handel",
    "settlement": "Abwicklung",
    "research": "Research",
    "advisory": "Anlageberatung",
    "underwriting": "Emission",
    "compliance": "Compliance",
    "internal audit": "Interne Revision",
    "service": "Service",
    "staff": "Stab",
    "support": "Support",
    "Welcome, %(name)s": "Willkommen, %(name)s",
    "cases wait for me": "Vorgänge warten auf mich",
    "open cases I started": "offene eigene Vorgänge",
    "returned to me for correction": "zur Korrektur zurückgegeben",
    "separation violations": "Verstöße gegen die Funktionstrennung",
    "Waiting longest": "Warten am längsten",
    "My inbox by process": "Mein Eingang nach Prozess",
    "Inbox by process": "Eingang nach Prozess",
    "Cases I can see, by state": "Sichtbare Vorgänge nach Status",
    "Cases by state": "Vorgänge nach Status",
    "Where I work": "Wo ich arbeite",
    "since": "seit",
    "No current unit.": "Derzeit keine Einheit.",
    "Competence limit": "Kompetenz",
    "Before": "Früher",
    "Separation status": "Funktionstrennung",
    "%(n)s violation": ("%(n)s Verstoß", "%(n)s Verstöße"),
    "See the organisation": "Zur Organisation",
    "All separation checks pass.": "Alle Prüfungen der Funktionstrennung bestanden.",
    "Change my password": "Mein Passwort ändern",
    "Language": "Sprache",
    "Your language was saved.": "Ihre Sprache wurde gespeichert.",
    "Market and back office are separated up to the board; trading is separated from "
    "settlement; risk control is independent.": "Markt und Marktfolge sind bis in den Vorstand getrennt; der Handel ist von der "
    "Abwicklung getrennt; das Risikocontrolling ist unabhängig.",
    "Too many failed attempts for this user name. Try again in %(minutes)s minutes.": "Zu viele Fehlversuche für diesen Benutzernamen. Bitte in %(minutes)s Minuten erneut versuchen.",
    "While you are away, a substitute may act in your place. Every separation rule still "
    "applies to them as a person, and they never get a higher competence limit than their own.": "Während Sie abwesend sind, kann eine Vertretung an Ihrer Stelle handeln. Jede Regel der "
    "Funktionstrennung gilt auch für sie als Person, und ihre Kompetenz wird nie höher als ihre eigene.",
    "Events, newest first": "Ereignisse, neueste zuerst",
    "Actor": "Handelnde Person",
    "Action": "Aktion",
    "Object": "Objekt",
    "Hash": "Hash",
    "No events.": "Keine Ereignisse.",
    "Older events": "Ältere Ereignisse",
    "Intact: %(n)s events verified up to #%(head)s.": "Unverändert: %(n)s Ereignisse bis #%(head)s geprüft.",
    "%(n)s signed checkpoint checked.": (
        "%(n)s signierter Prüfpunkt geprüft.",
        "%(n)s signierte Prüfpunkte geprüft.",
    ),
    "Head hash": "Hash des letzten Ereignisses",
    "Broken at event #%(seq)s: %(kind)s.": "Verletzt bei Ereignis #%(seq)s: %(kind)s.",
    "Audit trail": "Prüfpfad",
    "Object type": "Objekttyp",
    "Object id": "Objekt-ID",
    "Is the chain intact?": "Ist die Kette unverändert?",
    "Every event carries a SHA-256 hash over its content and the previous event's hash; signed checkpoints fix the head. Verifying recomputes all of it.": "Jedes Ereignis trägt einen SHA-256-Hash über seinen Inhalt und den Hash des vorigen Ereignisses; signierte Prüfpunkte halten den Stand fest. Die Prüfung rechnet alles nach.",
    "Last signed checkpoint: event #%(seq)s at %(at)s.": "Letzter signierter Prüfpunkt: Ereignis #%(seq)s am %(at)s.",
    "No signed checkpoint yet (backoffice audit checkpoint).": "Noch kein signierter Prüfpunkt (backoffice audit checkpoint).",
    "Verify the chain now": "Kette jetzt prüfen",
    "Checked: ORG-1 and ORG-4 (separate lines up to the board, different board members), ORG-2 (nobody on both sides at the same time), RC-2 (independent risk control). See docs/separation.md.": "Geprüft: ORG-1 und ORG-4 (getrennte Bereiche bis in den Vorstand, verschiedene Vorstände), ORG-2 (niemand gleichzeitig auf beiden Seiten), RC-2 (unabhängiges Risikocontrolling). Siehe docs/separation.md.",
    "%(n)s earlier": ("%(n)s früher", "%(n)s früher"),
}


def _unquote(block: str) -> str:
    return (
        "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', block))
        .encode()
        .decode("unicode_escape")
        .encode("latin-1")
        .decode("utf-8")
    )


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def fill(po: Path) -> list[str]:
    """Write the translations into ``po``; return msgids that have none."""
    entries = po.read_text(encoding="utf-8").split("\n\n")
    missing = []
    out = []
    for entry in entries:
        match = re.search(r'^msgid ((?:".*"\n?)+)', entry, re.M)
        if not match or _unquote(match.group(1)) == "":
            out.append(entry)
            continue
        msgid = _unquote(match.group(1))
        german = GERMAN.get(msgid)
        if german is None:
            missing.append(msgid)
            out.append(entry)
            continue
        head = entry.split("\nmsgstr", 1)[0]
        # a filled entry is no longer a guess: drop gettext's fuzzy flag and its old msgid
        lines = [line for line in head.split("\n") if not line.startswith("#|")]
        lines = [line.replace("#, fuzzy, ", "#, ").replace("#, fuzzy", "") for line in lines]
        head = "\n".join(line for line in lines if line)
        if isinstance(german, tuple):
            out.append(f"{head}\nmsgstr[0] {_quote(german[0])}\nmsgstr[1] {_quote(german[1])}")
        else:
            out.append(f"{head}\nmsgstr {_quote(german)}")
    po.write_text("\n\n".join(out), encoding="utf-8")
    return missing


if __name__ == "__main__":
    missing = fill(Path(__file__).parent / "de" / "LC_MESSAGES" / "django.po")
    for msgid in missing:
        print(f"no German for: {msgid!r}", file=sys.stderr)
    sys.exit(1 if missing else 0)
