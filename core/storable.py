"""Text and JSON from outside (DingTalk's answers and pushes) as PostgreSQL can keep them: one
rule for every app. A text column cannot hold NUL; UTF-8 (and so psycopg) cannot encode a lone
surrogate, which JSON may carry ("\\ud800"); jsonb refuses \\u0000 and non-finite numbers."""

from __future__ import annotations

import math
import re
from typing import Any

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
REPLACEMENT = "\ufffd"
MAX_JSON_DEPTH = 32


def storable_text(value: str, max_length: int | None = None) -> str:
    """Free text (a name, a title): each character PostgreSQL cannot hold as U+FFFD (so the
    reader sees something was there), cut to `max_length`."""
    cleaned = UNSTORABLE.sub(REPLACEMENT, value)
    return cleaned if max_length is None else cleaned[:max_length]


def is_storable_id(value: str, max_length: int) -> bool:
    """An identifier (a userid, an order id) can be kept exactly as given. Ids are never
    cleaned or cut: a changed id names another entity (or merges two) in every later lookup,
    so a caller refuses or skips what this says no to."""
    return len(value) <= max_length and UNSTORABLE.search(value) is None


def storable_json(value: Any, *, depth: int = 0) -> Any:
    """A JSON document as jsonb takes it: text and keys through storable_text, Infinity and NaN
    as text, nesting past MAX_JSON_DEPTH levels as a marker."""
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if not isinstance(value, dict | list):
        return value
    if depth >= MAX_JSON_DEPTH:
        return "(nested too deep)"
    if isinstance(value, list):
        return [storable_json(item, depth=depth + 1) for item in value]
    return {storable_text(str(key)): storable_json(item, depth=depth + 1)
            for key, item in value.items()}
