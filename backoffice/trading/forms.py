"""The trading pages' forms. They only read input; the services decide."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from backoffice.core.trading import Side, Terms

__all__ = ["TermsForm", "CloseForm"]


class TermsForm(forms.Form):
    """A trade's terms: a booking (traders) or the counterparty's confirmation (settlement)."""

    instrument = forms.ChoiceField(label=_("Instrument"), choices=[])
    side = forms.ChoiceField(label=_("Side"), choices=[("buy", _("buy")), ("sell", _("sell"))])
    quantity = forms.DecimalField(
        label=_("Quantity"), min_value=Decimal("0.0001"), max_digits=16, decimal_places=4
    )
    price = forms.DecimalField(
        label=_("Price"), min_value=Decimal("0.000001"), max_digits=18, decimal_places=6
    )
    counterparty = forms.CharField(label=_("Counterparty"), max_length=200)
    trade_date = forms.DateField(label=_("Trade date"), widget=forms.DateInput({"type": "date"}))
    value_date = forms.DateField(label=_("Value date"), widget=forms.DateInput({"type": "date"}))

    def __init__(self, *args: Any, instruments: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["instrument"].choices = instruments  # type: ignore[attr-defined]

    def terms(self) -> Terms:
        data = self.cleaned_data
        return Terms(
            instrument=data["instrument"],
            side=Side(data["side"]),
            quantity=data["quantity"],
            price=data["price"],
            trade_date=data["trade_date"],
            value_date=data["value_date"],
            counterparty=data["counterparty"],
        )


class CloseForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=2000)
