"""Reading values out of decrypted callback JSON without ever raising: ids, numbers, digests."""

from __future__ import annotations

import hashlib
import json
import re
import reprlib
from typing import Any

MAX_ID = 255  # longer "ids" (corp, suite key, biz id, codes) are taken as absent
_BIGINT = 2**63  # numbers must fit a PostgreSQL bigint
_INT_TEXT = re.compile(r"-?[0-9]{1,19}")
# Decrypted JSON is hostile-but-valid input: too deep for json/str (RecursionError), numbers
# int() refuses (Infinity -> OverflowError), lone surrogates UTF-8 refuses (UnicodeError).
HOSTILE = (RecursionError, OverflowError, ValueError, TypeError, UnicodeError)
# A bounded repr for digesting what json.dumps cannot write (too deep, non-string keys).
_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother = 24, 10**6, 10**6
_REPR.maxdict = _REPR.maxlist = _REPR.maxtuple = _REPR.maxset = 10**4


def digest(value: Any, length: int = 16) -> str:
    """Hex sha256 of the canonical JSON (sorted keys); equal for equal documents."""
    try:
        canonical = json.dumps(value, sort_keys=True, ensure_ascii=False,
                               separators=(",", ":"), default=str)
    except (TypeError, ValueError, RecursionError):
        canonical = "repr:" + _REPR.repr(value)
    # surrogatepass: JSON may carry lone surrogates ("\ud800"), which strict UTF-8 refuses.
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()[:length]


def as_int(value: Any) -> int | None:
    """An integer that fits a bigint, from an int, an integral float or decimal digits."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        # Infinity and NaN are valid to Python's json; int() of them raises.
        value = int(value) if value.is_integer() else None
    elif isinstance(value, str):
        value = int(value) if _INT_TEXT.fullmatch(value) else None
    if not isinstance(value, int) or not -_BIGINT <= value < _BIGINT:
        return None
    return value


def as_timestamp(value: Any) -> int | None:
    """Milliseconds since the epoch; negative or beyond a bigint is absent."""
    stamp = as_int(value)
    return stamp if stamp is not None and stamp >= 0 else None


def as_id(value: Any) -> str | None:
    """An id-like string: a non-empty string or an int, at most MAX_ID characters, storable
    in PostgreSQL (no NUL, no lone surrogate). Anything else is absent."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = as_int(value)
        return None if value is None else str(value)
    if not isinstance(value, str) or not value or len(value) > MAX_ID or "\x00" in value:
        return None
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return None
    return value


def id_tuple(value: Any) -> tuple[str, ...]:
    """The sane ids of one value or a list of them."""
    values = value if isinstance(value, list | tuple) else (value,)
    return tuple(text for text in map(as_id, values) if text is not None)


def short_repr(value: Any) -> str:
    """A repr that stops at 24 levels of nesting (plain repr recurses without end)."""
    return _REPR.repr(value)
