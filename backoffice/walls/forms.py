"""The compliance forms of the walls pages. They only read input; the services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from backoffice.walls.models import Issuer, ListEntry

__all__ = ["ListEntryForm", "ReasonForm", "MemberForm"]


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500)


class ListEntryForm(ReasonForm):
    kind = forms.ChoiceField(
        label=_("List"),
        choices=[
            (ListEntry.Kind.WATCH, _("watch list")),
            (ListEntry.Kind.RESTRICTED, _("restricted list")),
        ],
    )
    issuer = forms.ChoiceField(label=_("Issuer"), choices=[])

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        issuers = Issuer.objects.filter(retired_at__isnull=True).order_by("name")
        self.fields["issuer"].choices = [(i.key, i.name) for i in issuers]  # type: ignore[attr-defined]
        self.order_fields(["kind", "issuer", "reason"])


class MemberForm(ReasonForm):
    field_order = ["person", "reason"]
    person = forms.CharField(label=_("Person (login)"), max_length=150)
