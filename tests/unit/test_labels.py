"""#19: labels of the policy in more than one language, and what ``policy check`` says of a
malformed one (file, line and the field, as for every other problem)."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

import pytest

from backoffice.core.labels import Label
from backoffice.core.policy import PolicyInvalid, parse_policy
from backoffice.policy_cli import policy_check
from tests.unit.test_policy import GOOD

PROCESS = """\
processes:
  - id: pay
    name: {name}
    description: A payment.
    starter: {{lines: [market]}}
    payload:
      - {{name: creditor, type: string, label: {label}}}
    steps:
      - {{id: release, name: {step}, who: {{lines: [back_office]}}}}
"""


def policy(name: str = "Pay", label: str = "Creditor", step: str = "Release") -> bytes:
    return (GOOD + PROCESS.format(name=name, label=label, step=step)).encode()


def test_a_label_reads_in_the_chosen_language_and_falls_back_to_english() -> None:
    parsed = parse_policy(
        policy(
            name="{en: Payment release, de: Zahlungsfreigabe}",
            label="{en: Creditor, de: Zahlungsempfänger}",
        ),
        "p.yaml",
    ).policy
    process = parsed.processes[0]
    assert process.name.text("de") == "Zahlungsfreigabe"
    assert process.name.text("de-de") == "Zahlungsfreigabe"
    assert process.name.text("en") == "Payment release"
    assert process.payload[0].label.text("de") == "Zahlungsempfänger"
    # no German given: English on a German page
    assert process.steps[0].name.text("de") == "Release"
    assert process.description.text("de") == "A payment."


def test_the_stable_form_stays_english() -> None:
    """Ids, exports and the audit trail compare and show the English text."""
    process = parse_policy(
        policy(name="{en: Payment release, de: Zahlungsfreigabe}"), "p.yaml"
    ).policy.processes[0]
    assert process.name == "Payment release"
    assert f"{process.name}" == "Payment release"


def test_a_policy_without_translations_is_stored_exactly_as_before() -> None:
    """A plain label dumps as a plain string, so loading the same policy changes nothing."""
    plain = parse_policy(policy(), "p.yaml").policy.processes[0]
    assert plain.model_dump(mode="json")["name"] == "Pay"
    translated = parse_policy(policy(name="{en: Pay, de: Zahlen}"), "p.yaml").policy
    dumped = translated.processes[0].model_dump(mode="json")
    assert dumped["name"] == {"en": "Pay", "de": "Zahlen"}
    again = type(translated.processes[0]).model_validate(dumped)
    assert again.name.text("de") == "Zahlen"


@pytest.mark.parametrize(
    ("where", "written", "message"),
    [
        (
            "name",
            "{en: Pay, fr: Payer}",
            "p.yaml:18:5: processes.0.name: unknown language 'fr' in a label (known: en, de)",
        ),
        (
            "label",
            "{de: Empfänger}",
            "p.yaml:22:40: processes.0.payload.0.label: a translated label needs its English "
            "text under 'en'",
        ),
        (
            "step",
            "{en: Release, de: 3}",
            "p.yaml:24:23: processes.0.steps.0.name: the label's 'de' text must be a non-empty "
            "string",
        ),
        (
            "name",
            "{en: Pay, de: ''}",
            "p.yaml:18:5: processes.0.name: the label's 'de' text must be a non-empty string",
        ),
        ("name", "[Pay]", "p.yaml:18:5: processes.0.name: a label is a string or a mapping"),
        ("name", "''", "p.yaml:18:5: processes.0.name: must not be empty"),
    ],
)
def test_a_malformed_label_is_refused_where_it_is_written(
    where: str, written: str, message: str
) -> None:
    with pytest.raises(PolicyInvalid) as caught:
        parse_policy(policy(**{where: written}), "p.yaml")
    problems = [str(p) for p in caught.value.problems]
    assert len(problems) == 1 and problems[0].startswith(message), problems


def test_policy_check_reports_a_malformed_label_and_fails(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_bytes(policy(name="{en: Pay, it: Pagare}"))
    out = io.StringIO()
    assert policy_check([str(path)], out) == 1
    assert f"{path}:18:5: processes.0.name: unknown language 'it'" in out.getvalue()


#: labels that read the same in German, so the demo policies leave them plain
SAME_IN_GERMAN = {"IBAN", "Name (create, name)", "Rating", "Person", "Administrator"}


def test_the_demo_policies_carry_german_for_what_people_read() -> None:
    root = Path(__file__).parents[2] / "backoffice" / "policies"
    for name in ("demo-bank.yaml", "demo-retail.yaml"):
        parsed = parse_policy((root / name).read_bytes(), name).policy
        for process in parsed.processes:
            assert process.name.translations.get("de"), process.id
            for step in process.steps:
                assert step.name.translations.get("de"), (process.id, step.id)
            for field in process.payload:
                if field.label and field.label not in SAME_IN_GERMAN:
                    assert field.label.translations.get("de"), (process.id, field.name)


def test_a_label_is_a_str_with_its_translations_beside_it() -> None:
    label = Label.parse({"en": "Release", "de": "Freigabe"})
    assert isinstance(label, str) and label == "Release"
    assert label.to_policy() == {"en": "Release", "de": "Freigabe"}
    assert Label.parse("Release").to_policy() == "Release"
    assert textwrap.shorten(label, 20) == "Release"
