"""Serializer fields that take exactly what the OpenAPI schema says they take.

DRF is lenient where a schema is not: its IntegerField takes "1.0" and " 1", its BooleanField
"yes", "on" and "1", its CharField a number (made text). A request the schema calls invalid
should be refused, so these refuse it (a 400 naming the field).
"""

from __future__ import annotations

import re

from rest_framework import serializers

# Some text besides whitespace and no NUL, as a JSON Schema pattern (patterns search, so it
# is anchored) for path parameters the views take as text.
TEXT_PATTERN = r"^[^\x00]*[^\s\x00][^\x00]*$"


class WholeNumberField(serializers.IntegerField):
    """A JSON integer, or with `from_text` (path and query values are text) an integer written
    as digits, a leading minus allowed."""

    def __init__(self, *, from_text: bool = True, **kwargs) -> None:
        super().__init__(**kwargs)
        self.from_text = from_text

    def to_internal_value(self, data):
        if isinstance(data, str):
            if not (self.from_text and re.fullmatch(r"-?[0-9]+", data)):
                self.fail("invalid")
        elif isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class TrueFalseField(serializers.BooleanField):
    """A flag as OpenAPI writes booleans in a query: `true` or `false`, or a JSON boolean."""

    TRUE_VALUES = {"true", True}
    FALSE_VALUES = {"false", False}
    NULL_VALUES: set = set()


class TextField(serializers.CharField):
    """Text only: a number or a boolean is not turned into text."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)
