"""Forms generated from a process's payload schema, and the action form of a case page.

The form only converts what the browser sends into payload values; the rules (required,
formats, references) are checked by the same core validation the API uses, and its
errors are shown next to the fields they concern.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils.formats import get_format
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from backoffice.base.references import directory
from backoffice.base.refusals import field_error_text
from backoffice.core.labels import text_of
from backoffice.core.payload import FieldSpec, FieldType
from backoffice.core.processes import ProcessSpec
from backoffice.org.queries import who_words

__all__ = ["PayloadForm", "ActionForm", "DelegationForm", "CURRENCIES"]

CURRENCIES = ["EUR", "USD", "CHF", "GBP"]


class AmountField(forms.DecimalField):
    """Accepts amounts as people type them in their language: ``1.250,00`` or ``1,250.00``."""

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip().replace("\u00a0", "").replace(" ", "")
            group, point = get_format("THOUSAND_SEPARATOR"), get_format("DECIMAL_SEPARATOR")
            grouped = rf"\d{{1,3}}({re.escape(group)}\d{{3}})+({re.escape(point)}\d{{1,2}})?"
            if re.fullmatch(grouped, text):
                text = text.replace(group, "")
            value = text
        return super().to_python(value)


class PickField(forms.ChoiceField):
    """#19 (defect 14): a select of what this person may pick (a wall crossing's project).

    A value that is not in the list is not refused here but by the service, exactly as
    before: it answers alike for what does not exist and for what the person may not know
    of, and records the attempt (#13) — the form must not become a second, quieter oracle.
    """

    def valid_value(self, value: Any) -> bool:
        return True


def _people() -> list[tuple[str, str]]:
    users = get_user_model().objects.filter(is_active=True, profile__isnull=False)
    return [("", "—")] + [
        (u.username, f"{u.profile.display_name} ({u.username})")
        for u in users.select_related("profile").order_by("profile__display_name")
    ]


def _field(spec: FieldSpec) -> forms.Field | tuple[forms.Field, forms.Field]:
    common: dict[str, Any] = {
        # #19: the policy's labels in the reader's language
        "label": text_of(spec.title, get_language()),
        "required": spec.required,
        "help_text": text_of(spec.help, get_language()),
    }
    match spec.type:
        case FieldType.TEXT:
            return forms.CharField(widget=forms.Textarea(attrs={"rows": 6}), strip=False, **common)
        case FieldType.AMOUNT:
            currencies = spec.currencies or CURRENCIES
            return (
                AmountField(decimal_places=2, max_digits=17, localize=True, **common),
                forms.ChoiceField(
                    choices=[(c, c) for c in currencies],
                    label=_("Currency"),
                    required=spec.required,
                ),
            )
        case FieldType.DATE:
            return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
        case FieldType.BOOLEAN:
            return forms.BooleanField(**(common | {"required": False}))
        case FieldType.INTEGER:
            return forms.IntegerField(**common)
        case FieldType.CHOICE:
            language = get_language()
            shown = [(c, text_of(spec.choice_labels.get(c, c), language)) for c in spec.choices]
            return forms.ChoiceField(choices=[("", "—"), *shown], **common)
        case FieldType.PERSON:
            return forms.ChoiceField(choices=_people, **common)
        case FieldType.UNIT | FieldType.ROLE:
            # #19: a role by the policy's name in the reader's language (units by their name)
            words, language = who_words(), get_language()
            choices = [
                ("", "—"),
                *(
                    (key, text_of(words.get(f"{spec.type.value}:{key}", name), language))
                    for key, name in directory(spec.type.value).choices()
                ),
            ]
            return forms.ChoiceField(choices=choices, **common)
        case _:
            return forms.CharField(max_length=spec.max_length or 200, **common)


class PayloadForm(forms.Form):
    """One form field per payload field (two for an amount: value and currency)."""

    comment = forms.CharField(
        label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(
        self,
        spec: ProcessSpec,
        *args: Any,
        initial_payload: Mapping[str, Any] | None = None,
        picks: Mapping[str, list[tuple[str, str]]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.spec = spec
        comment = self.fields.pop("comment")
        for field_spec in self.entered(spec):
            made = _field(field_spec)
            if isinstance(made, tuple):
                self.fields[field_spec.name], self.fields[f"{field_spec.name}__currency"] = made
            else:
                self.fields[field_spec.name] = made
        self.fields["comment"] = comment
        for name, choices in (picks or {}).items():
            # #19 (defect 14): picked from what this person may name, not typed
            if name in self.fields and (field_spec := spec.field(name)) is not None:
                self.fields[name] = PickField(
                    label=field_spec.title,
                    required=field_spec.required,
                    choices=[("", "—"), *choices],
                )
        for name, value in (initial_payload or {}).items():
            if isinstance(value, Mapping):
                self.initial[name] = value.get("amount")
                self.initial[f"{name}__currency"] = value.get("currency")
            elif value is not None:
                self.initial[name] = value
                field = self.fields.get(name)
                if isinstance(field, PickField) and value not in dict(field.choices):
                    # what the maker entered before stays, even if it left the list since
                    field.choices = [*field.choices, (value, value)]

    @staticmethod
    def entered(spec: ProcessSpec) -> list[FieldSpec]:
        """The fields a maker fills in; derived ones are the system's."""
        return [f for f in spec.payload if not f.derived]

    def payload(self) -> dict[str, Any]:
        """The payload as the services take it, from the cleaned data."""
        values: dict[str, Any] = {}
        for field_spec in self.entered(self.spec):
            value = self.cleaned_data.get(field_spec.name)
            if field_spec.type == FieldType.AMOUNT:
                currency = self.cleaned_data.get(f"{field_spec.name}__currency")
                values[field_spec.name] = (
                    {"amount": str(value), "currency": currency} if value is not None else None
                )
            elif field_spec.type == FieldType.DATE:
                values[field_spec.name] = value.isoformat() if value else None
            elif field_spec.type == FieldType.BOOLEAN:
                values[field_spec.name] = bool(value)
            else:
                values[field_spec.name] = value if value not in ("", None) else None
        return {k: v for k, v in values.items() if v is not None}

    def add_missed_errors(self, errors: list[tuple[str, str]]) -> None:
        """#19 (defect 14): the process's field rules' errors beside the form's own, for
        the fields the form found nothing wrong with (one error per field; the fields the
        system derives are not the maker's to correct)."""
        for name, message in errors:
            if name in self.fields and name not in self.errors:
                self.add_error(name, message)

    def add_payload_errors(self, errors: list[tuple[str, str]]) -> None:
        """Put the core's errors next to their fields (or on top if the field is unknown)."""
        for name, message in errors:
            self.add_error(name if name in self.fields else None, field_error_text(message))


class ActionForm(forms.Form):
    """Any action of the case page; credit votes and decisions carry their own fields."""

    action = forms.ChoiceField(
        choices=[
            (a, a)
            for a in (
                "submit",
                "approve",
                "release",
                "return",
                "reject",
                "withdraw",
                "comment",
                "vote",
                "decide",
                "close",
                "control",
            )
        ]
    )
    comment = forms.CharField(required=False, max_length=5000)
    on_behalf_of = forms.CharField(required=False, max_length=150)
    payload_hash = forms.CharField(required=False, max_length=64)
    decision = forms.ChoiceField(
        required=False, choices=[("", ""), ("approve", "approve"), ("reject", "reject")]
    )
    rating = forms.CharField(required=False, max_length=8)
    justification = forms.CharField(required=False, max_length=5000)


class DelegationForm(forms.Form):
    substitute = forms.ChoiceField(label=_("Substitute"), choices=_people)
    valid_from = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    valid_to = forms.DateField(
        label=_("Until (first day back)"), widget=forms.DateInput(attrs={"type": "date"})
    )
    reason = forms.CharField(label=_("Reason"), required=False, max_length=200)
