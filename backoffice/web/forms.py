"""Forms of the personal pages: language, one's own password and API tokens (#13)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.utils.translation import gettext_lazy

from backoffice.accounts.services import do_change_own_password, do_set_password_by_link

__all__ = ["LanguageForm", "OwnPasswordChangeForm", "LinkSetPasswordForm", "TokenForm"]


class LanguageForm(forms.Form):
    language = forms.ChoiceField(
        label=gettext_lazy("Language"), choices=[("en", "English"), ("de", "Deutsch")]
    )


class OwnPasswordChangeForm(PasswordChangeForm):
    """Django checks the current password and the validators; the service saves and audits."""

    def save(self, commit: bool = True) -> Any:
        do_change_own_password(self.user, self.cleaned_data["new_password1"])
        return self.user


class LinkSetPasswordForm(SetPasswordForm):  # type: ignore[type-arg]
    """The password a person chooses through the link mailed to them, audited."""

    def save(self, commit: bool = True) -> Any:
        do_set_password_by_link(self.user, self.cleaned_data["new_password1"])
        return self.user


class TokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("What the token is for"), max_length=100, required=False
    )
