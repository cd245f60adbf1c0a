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
    # #8 Chinese walls
    "the data is behind a Chinese wall and you are not inside it": "die Daten liegen hinter einer Vertraulichkeitsbereichsgrenze, und Sie sind nicht im Bereich",
    "you already read confidential data of a competitor in the same class": "Sie haben schon vertrauliche Daten eines Wettbewerbers derselben Konfliktklasse gelesen",
    "the issuer is on the restricted list": "der Emittent steht auf der Sperrliste",
    "the person is already inside the wall for this data": "die Person ist für diese Daten schon im Vertraulichkeitsbereich",
    "a wall crossing may not last that long": "ein Wall-Crossing darf nicht so lange dauern",
    "the deal project is closed": "das Projekt ist abgeschlossen",
    "a deal project of that name exists already": "ein Projekt mit diesem Namen gibt es schon",
    "there is no such issuer": "diesen Emittenten gibt es nicht",
    "there is no such deal project": "dieses Projekt gibt es nicht",
    "the request is not complete or not possible": "die Anfrage ist unvollständig oder nicht möglich",
    "only compliance may do this": "nur Compliance darf das",
    "there is nothing here you may see": "hier gibt es nichts, was Sie sehen dürfen",
    "Chinese walls": "Vertraulichkeitsbereiche",
    "List": "Liste",
    "watch list": "Beobachtungsliste",
    "restricted list": "Sperrliste",
    "Issuer": "Emittent",
    "Person (login)": "Person (Anmeldename)",
    "Lists and projects": "Listen und Projekte",
    "Restricted list": "Sperrliste",
    "Wall crossings": "Wall-Crossings",
    "Refused access attempts": "Abgewiesene Zugriffe",
    "Wall crossings, newest first": "Wall-Crossings, neueste zuerst",
    "CSV": "CSV",
    "Project": "Projekt",
    "Why": "Warum",
    "Requested by": "Beantragt von",
    "Approved by": "Genehmigt von",
    "End early": "Vorzeitig beenden",
    "No wall crossings.": "Keine Wall-Crossings.",
    "Refused by the walls, newest first (from the audit trail)": "Von den Vertraulichkeitsbereichen abgewiesen, neueste zuerst (aus dem Prüfpfad)",
    "Refused because": "Abgewiesen, weil",
    "Nothing was refused.": "Nichts wurde abgewiesen.",
    "Watch list and restricted list": "Beobachtungsliste und Sperrliste",
    "confidential: compliance only": "vertraulich: nur Compliance",
    "Class": "Klasse",
    "Since": "Seit",
    "By": "Von",
    "Take off the list": "Von der Liste nehmen",
    "Take off": "Entfernen",
    "Both lists are empty.": "Beide Listen sind leer.",
    "Put an issuer on a list": "Emittenten auf eine Liste setzen",
    "Put on the list": "Auf die Liste setzen",
    "Deal projects": "Projekte",
    "Mandate": "Mandat",
    "Lead": "Leitung",
    "Insiders now": "Insider jetzt",
    "No deal projects.": "Keine Projekte.",
    "Area": "Bereich",
    "Insider list": "Insiderliste",
    "How": "Wie",
    "wall crossing": "Wall-Crossing",
    "deal team": "Projektteam",
    "now": "jetzt",
    "Add to the deal team": "Zum Projektteam hinzufügen",
    "Only people inside the wall join the team; anyone else needs a wall crossing case.": "Nur Personen im Vertraulichkeitsbereich kommen ins Team; alle anderen brauchen einen Wall-Crossing-Vorgang.",
    "Add": "Hinzufügen",
    "Announce or close": "Veröffentlichen oder abschließen",
    "Announcing moves the issuer from the watch list to the restricted list. Closing ends the team and every crossing; a restricted entry stays until you take it off.": "Mit der Veröffentlichung wechselt der Emittent von der Beobachtungsliste auf die Sperrliste. Der Abschluss beendet das Team und jedes Wall-Crossing; ein Sperrlisteneintrag bleibt, bis Sie ihn entfernen.",
    "Announce": "Veröffentlichen",
    "Close the project": "Projekt abschließen",
    "No research is published and no personal or own-account trade is cleared in these issuers. Compliance decides when an issuer comes off the list.": "Zu diesen Emittenten wird kein Research veröffentlicht und kein Mitarbeiter- oder Eigengeschäft freigegeben. Compliance entscheidet, wann ein Emittent von der Liste kommt.",
    "Restricted issuers": "Gesperrte Emittenten",
    "No issuer is restricted.": "Kein Emittent ist gesperrt.",
    "confidential": "vertraulich",
    "public": "öffentlich",
    "closed": "abgeschlossen",
    "active": "aktiv",
    "expired": "abgelaufen",
    "The entry was taken off its list.": "Der Eintrag wurde von der Liste genommen.",
    "Say why the entry comes off its list.": "Sagen Sie, warum der Eintrag von der Liste kommt.",
    "The issuer was put on the list.": "Der Emittent wurde auf die Liste gesetzt.",
    "The person was added to the deal team.": "Die Person wurde zum Projektteam hinzugefügt.",
    "The project was changed.": "Das Projekt wurde geändert.",
    "Say why.": "Sagen Sie, warum.",
    "The wall crossing was ended.": "Das Wall-Crossing wurde beendet.",
    "Say why the crossing ends early.": "Sagen Sie, warum das Wall-Crossing vorzeitig endet.",
    "What the codes mean": "Was die Codes bedeuten",
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
        head = head.replace("#, fuzzy\n", "")
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
