"""#19: a page read in German shows no English from a known list.

Each persona of the demo bank reads their main pages with German chosen on their profile:
the start page, inbox, cases list, every case page they can open (payments, role grants,
mitigations, credits in voting, escalated and decided, …), the forms to start a case, and
the pages of their trade (registers, risk report, walls, access, audit, organisation,
settings). The visible text (tags, scripts and styles stripped) must hold none of the
English words and phrases below once the data the pages show — names of people and units,
case titles, what was typed into cases, comments — is taken out.
"""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from django.utils import translation

from backoffice.audit.models import AuditEvent
from backoffice.base.refusals import field_error_text
from backoffice.cases.models import Case, CaseEvent
from backoffice.core.policy import parse_policy
from backoffice.credit.demo import seed_demo_credit
from backoffice.credit.models import Borrower
from backoffice.ops.seed import seed_demo_cases
from backoffice.org.models import Profile, Unit
from backoffice.walls.seed import seed_demo_walls
from tests.conftest import DEMO_POLICY
from tests.web.test_pages import BAD_IBAN_PAYMENT, as_user

pytestmark = pytest.mark.django_db

#: English the pages checked here would show if a string were left untranslated: their
#: words (buttons, headings, states), the policy's labels and refusals. Whole words, with
#: their case. Words German shares (Status, Version, Rating, Compliance) are not here.
# fmt: off
ENGLISH = (
    # pages, headings, columns
    "Inbox", "Cases", "Case", "Process", "Amount", "State", "Maker", "Changed", "Age",
    "Why me", "Waiting for", "Nothing waits for you", "Open cases I started", "Timeline",
    "from the audit trail", "What was entered", "entered by", "Why can't I", "Next:",
    "Start a case", "Save as draft", "Submit for release", "Filter", "Borrower", "Borrowers",
    "Risk report", "Escalations", "Settings", "Audit trail", "Search", "Download",
    "Organisation chart", "Members", "Unit", "Line", "since",
    # actions and what happened
    "Submit", "Approve", "Release", "Return", "Reject", "Withdraw", "Comment", "Correct",
    "Vote", "Decide", "Close", "submitted", "approved", "released", "rejected", "returned",
    "withdrawn", "voted", "decided", "escalated", "in voting", "Refused", "refused", "Denied",
    # credit
    "No vote yet", "Market", "Back office", "Escalation", "Requested", "Group exposure",
    "Required level", "Escalated to", "Risk-relevant", "Binding rating", "Level 3", "Level 4",
    "group exposure", "reaches", "market", "back office", "board", "committee", "full board",
    "large_exposure", "insider_loan",
    # the policy's labels on the demo bank's pages
    "Payment release", "Credit decision", "Role grant", "Role revocation",
    "Mitigation of an access risk", "Customer master data change", "Borrower master data",
    "Wall crossing", "Creditor", "Value date", "Purpose", "Internal beneficiary",
    "Requested amount", "Borrower number", "Term (months)", "Collateral", "Beneficiary",
    "Valid from", "Justification", "Unmitigated access risk", "Approval by", "Release by",
    "Market vote", "Back-office vote", "Payment releaser", "Board member", "below 10,000",
    "and more", "Credit officer", "Access approver",
    # refusals in the core's English
    "is for", "you do not qualify", "cannot be given", "The maker of a case",
    "Only the maker", "may not", "exceeds your level", "none",
)
# fmt: on
WORDS = re.compile("|".join(rf"(?<![\w-]){re.escape(w)}(?![\w-])" for w in ENGLISH))

HIDDEN = re.compile(
    r"<(script|style|title|code|svg|textarea)\b.*?</\1>|<!--.*?-->"
    r'|<(option)\b[^>]*translate="no"[^>]*>.*?</\2>',  # codes in a select (audit actions)
    re.S | re.I,
)
TAG = re.compile(r"<[^>]+>")


def visible_text(html: str) -> str:
    """What a reader sees: the body without tags, scripts and styles, spaces collapsed.
    Codes (``sod.self_approval``) stand in ``<code>`` beside the words and are left out."""
    body = html[html.find("<body") :] if "<body" in html else html
    return " ".join(unescape(TAG.sub(" ", HIDDEN.sub(" ", body))).split())


def data_shown() -> list[str]:
    """What people and the policy's organisation put in: names, titles, typed text. It is
    shown as written, in whatever language it was written; the test looks past it."""
    found: set[str] = set(Unit.objects.values_list("name", flat=True))
    found |= set(Profile.objects.values_list("display_name", flat=True))
    found |= set(Case.objects.values_list("title", flat=True))
    found |= set(CaseEvent.objects.exclude(comment="").values_list("comment", flat=True))
    for payload in Case.objects.values_list("payload", flat=True):
        found |= {v for v in payload.values() if isinstance(v, str)}
    found |= set(AuditEvent.objects.exclude(reason="").values_list("reason", flat=True))
    for name, group in Borrower.objects.values_list("name", "group__name"):
        found |= {name, group or ""}
    # the access section's risks are the policy's prose, not labels (yet): shown as written
    access = parse_policy(DEMO_POLICY.read_bytes(), "demo-bank.yaml").policy.access
    for risk in access.risks if access else []:
        found |= {risk.name, risk.description}
    found.discard("")
    # the audit list shortens a long reason to 80 characters
    found |= {text[:79] + "…" for text in found if len(text) > 80}
    return sorted(found, key=len, reverse=True)


def english_on(html: str, data: list[str]) -> list[str]:
    text = visible_text(html)
    for item in data:
        text = text.replace(item, " ")
    return sorted({m[0] for m in WORDS.finditer(text)})


#: each persona of the demo bank and the pages of their work (README, "Demo logins")
PERSONAS = {
    "anna.schmidt": ["/", "/inbox/", "/cases/", "/cases/new/", "/delegations/", "/settings/"],
    "maria.keller": ["/", "/inbox/", "/cases/", "/credit/borrowers/", "/organisation/"],
    "max.weber": [
        "/",
        "/inbox/",
        "/cases/",
        "/credit/escalations/",
        "/credit/risk-report/",
        "/credit/register/",
    ],
    "clara.vogel": [
        "/",
        "/inbox/",
        "/cases/",
        "/walls/",
        "/walls/restricted/",
        "/walls/crossings/",
        "/access/mitigations/",
        "/access/reviews/",
    ],
    "martin.jung": ["/", "/audit/", "/cases/", "/credit/risk-report/", "/organisation/"],
    "oliver.richter": ["/", "/inbox/", "/cases/", "/cases/new/", "/settings/"],
}

CASE_LINK = re.compile(r'href="/cases/(\d+)/"')
FORM_LINK = re.compile(r'href="(/cases/new/[a-z0-9-]+/)"')


@pytest.fixture
def demo_cases(demo_bank: Any) -> None:
    """The demo's cases: payments, role grants, mitigations, walls, credits in voting,
    escalated, approved and rejected."""
    seed_demo_cases()
    seed_demo_walls()
    seed_demo_credit()


@pytest.mark.parametrize("person", sorted(PERSONAS))
def test_a_german_page_shows_no_english(demo_cases: None, person: str) -> None:
    client = as_user(person, "de")
    data = data_shown()
    urls = list(PERSONAS[person])
    cases_page = client.get("/cases/").content.decode()
    urls += [f"/cases/{pk}/" for pk in sorted({int(pk) for pk in CASE_LINK.findall(cases_page)})]
    urls += sorted(set(FORM_LINK.findall(client.get("/cases/new/").content.decode())))
    assert len(urls) > 8, urls
    found = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        assert '<html lang="de">' in response.content.decode()
        english = english_on(response.content.decode(), data)
        if english:
            found[url] = english
    assert found == {}


def test_the_kinds_of_case_checked_include_credits_in_voting_and_escalated(
    demo_cases: None,
) -> None:
    """The case pages checked cover the credit states the issue names: the internal
    auditor reads every case, the board member those of the escalations."""
    page = as_user("martin.jung", "de").get("/cases/").content.decode()
    shown = {int(pk) for pk in CASE_LINK.findall(page)}
    states = set(Case.objects.filter(pk__in=shown).values_list("status", flat=True))
    assert {"in_voting", "escalated", "submitted"} <= states
    processes = set(Case.objects.filter(pk__in=shown).values_list("process__key", flat=True))
    assert {"credit-decision", "payment-release", "role-grant", "mitigation"} <= processes
    board = as_user("max.weber", "de").get("/cases/").content.decode()
    escalated = Case.objects.filter(status="escalated").values_list("pk", flat=True)
    assert {str(pk) for pk in escalated} <= set(CASE_LINK.findall(board))


def test_the_check_sees_english_where_it_is_left() -> None:
    """The test's own eye: an untranslated button or label is found, people's data is not."""
    html = (
        "<body><h1>Vorgang</h1><p>Corporate Clients</p><button>Release</button>"
        "<script>var Submit = 1;</script><code>case.wrong_state</code></body>"
    )
    assert english_on(html, ["Corporate Clients"]) == ["Release"]
    assert english_on("<body><p>Freigabe · unter 10.000</p></body>", []) == []


def test_a_form_in_german_says_what_is_wrong_in_german(demo_bank: Any) -> None:
    """Validation messages of the policy's fields, fixed and with a value, in German."""
    anna = as_user("anna.schmidt", "de")
    page = anna.post("/cases/new/payment-release/", BAD_IBAN_PAYMENT)
    assert page.status_code == 422
    html = page.content.decode()
    assert re.search(r'id="id_iban-error" role="alert">ist keine IBAN<', html)
    assert "Erfassen: Zahlungsfreigabe" in html and "Zahlungsempfänger" in html
    assert english_on(html, data_shown()) == []


def test_a_field_error_with_a_value_reads_in_german() -> None:
    with translation.override("de"):
        assert field_error_text("at most 140 characters") == "höchstens 140 Zeichen"
        assert field_error_text("unknown role 'x'") == "unbekannte Rolle 'x'"
        assert field_error_text("must be one of: iban, bic") == "muss eines davon sein: iban, bic"
    with translation.override("en"):
        assert field_error_text("unknown role 'x'") == "unknown role 'x'"


def test_the_escalation_the_engine_wrote_reads_in_german(demo_cases: None) -> None:
    """The credit engine's own comment is no person's text: it is shown in the reader's
    language, the level by its German name from the policy; English keeps it as stored."""
    escalated = Case.objects.get(process__key="credit-decision", status="escalated")
    german = as_user("max.weber", "de").get(f"/cases/{escalated.pk}/").content.decode()
    assert "die Voten weichen ab; eskaliert an Stufe 4 (CR-4)" in german
    english = as_user("max.weber", "en").get(f"/cases/{escalated.pk}/").content.decode()
    assert "the votes differ; escalated to Level 4 (CR-4)" in english
