"""Words the policy shows people (process, field and step names), in more than one language.

A label is written either as a plain string or as ``{en: "Payment release", de:
"Zahlungsfreigabe"}``. It *is* its English text (a ``str``), so ids, exports, the audit
trail and every comparison keep the stable English form; a page asks ``label.text(lang)``
for the language its reader chose, and gets English where no translation is given.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import AfterValidator, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

__all__ = ["LANGUAGES", "Label", "Name", "text_of"]

#: the languages a label may carry; English is the one every label has
LANGUAGES = ("en", "de")


class Label(str):
    """English text with its translations beside it (``translations``, by language code)."""

    translations: Mapping[str, str]

    def __new__(cls, english: str = "", translations: Mapping[str, str] | None = None) -> Label:
        label = super().__new__(cls, english)
        label.translations = {k: v for k, v in (translations or {}).items() if k != "en"}
        return label

    def text(self, language: str | None) -> str:
        """The label in ``language`` (``de``, ``de-de``), else in English."""
        code = (language or "en").split("-")[0].lower()
        return self.translations.get(code) or str(self)

    @classmethod
    def parse(cls, value: Any) -> Label:
        """A label as the policy writes it; ``ValueError`` says what is wrong with it."""
        if isinstance(value, Label):
            return value
        if isinstance(value, str):
            return cls(value)
        if not isinstance(value, Mapping):
            raise ValueError("a label is a string or a mapping such as {en: ..., de: ...}")
        unknown = sorted(str(k) for k in value if k not in LANGUAGES)
        if unknown:
            known = ", ".join(LANGUAGES)
            raise ValueError(f"unknown language {unknown[0]!r} in a label (known: {known})")
        if "en" not in value:
            raise ValueError("a translated label needs its English text under 'en'")
        for code, text in value.items():
            if not isinstance(text, str) or not text.strip():
                raise ValueError(f"the label's {code!r} text must be a non-empty string")
        return cls(value["en"], {str(k): v for k, v in value.items()})

    def to_policy(self) -> str | dict[str, str]:
        """As written in the policy: a plain string unless translated, so a policy without
        translations is stored (and compared) exactly as before labels could carry them."""
        if not self.translations:
            return str(self)
        return {"en": str(self), **dict(sorted(self.translations.items()))}

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls.parse,
            serialization=core_schema.plain_serializer_function_ser_schema(
                lambda label: label.to_policy() if isinstance(label, Label) else label
            ),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        text = {"type": "string"}
        translated = {
            "type": "object",
            "properties": {code: text for code in LANGUAGES},
            "required": ["en"],
            "additionalProperties": False,
        }
        return {"anyOf": [text, translated]}


def _named(label: Label) -> Label:
    if not label.strip():
        raise ValueError("must not be empty")
    if len(label) > 200:
        raise ValueError("at most 200 characters")
    return label


#: a label that must be given: the name of a process, a step or a role
Name = Annotated[Label, AfterValidator(_named)]


def text_of(value: object, language: str | None) -> str:
    """``value`` in ``language`` if it is a label, else as it is (a plain string, a name)."""
    if isinstance(value, Label):
        return value.text(language)
    return "" if value is None else str(value)
