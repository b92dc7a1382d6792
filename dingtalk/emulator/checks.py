"""Type checks for control-API input: a wrong type is a 400 at once, not a crash in a later call."""

import types
import typing
from dataclasses import MISSING, Field, fields
from typing import Any


def check_fields(cls, changes: Any, prefix: str = "", *, skip: tuple[str, ...] = ()) -> None:
    """Every key must be a field of the dataclass `cls` and its value of the field's type."""
    if not isinstance(changes, dict):
        raise ValueError(f"{prefix.rstrip('.') or 'the body'} must be a JSON object")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(changes) - set(known))
    if unknown:
        raise ValueError(f"unknown fields: {', '.join(prefix + k for k in unknown)}")
    for key, value in changes.items():
        if key not in skip:
            check_value(known[key], value, prefix + key)


def check_value(spec: Field, value: Any, name: str) -> None:
    allowed = _allowed_types(spec)
    if value is None and type(None) in allowed:
        return
    if isinstance(value, bool):
        ok = bool in allowed
    else:
        ok = isinstance(value, tuple(t for t in allowed if t is not type(None))) or (
            isinstance(value, int) and float in allowed)
    if not ok:
        names = "/".join(t.__name__ for t in allowed if t is not type(None))
        raise ValueError(f"{name} must be {names}, not {value!r}")


def _allowed_types(spec: Field) -> tuple[type, ...]:
    if isinstance(spec.type, str):  # `from __future__ import annotations`: judge by default
        default = spec.default if spec.default is not MISSING else spec.default_factory()
        kinds = (type(default),) if default is not None else (int,)
        return (*kinds, type(None)) if default is None or "None" in spec.type else kinds
    union = typing.get_origin(spec.type) in (typing.Union, types.UnionType)
    args = typing.get_args(spec.type) if union else (spec.type,)
    return tuple(typing.get_origin(a) or a for a in args)


def int_list(value: Any, name: str) -> list[int]:
    if not isinstance(value, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise ValueError(f"{name} must be a list of integers")
    return value


def str_list(value: Any, name: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{name} must be a list of strings")
    return value
