"""Type checks for control-API input: a wrong type is a 400 at once, not a crash in a later call."""

import types
import typing
from dataclasses import MISSING, Field, asdict, fields
from typing import Any, ClassVar, Self


class ConfigSection:
    """Base of the emulator's config dataclasses, with one rule for every change.

    An unknown key or a wrongly typed value raises ValueError naming the key (the control API
    answers 400) and nothing changes: every key is checked before any is applied. A field
    named in `sections` is a dict of a nested section's keys, checked by that section under
    "<name>." and merged into the dict.
    """

    sections: ClassVar[dict[str, type["ConfigSection"]]] = {}

    def __post_init__(self) -> None:
        self.check(self.as_dict())

    @classmethod
    def check(cls, changes: Any, prefix: str = "") -> None:
        check_fields(cls, changes, prefix)
        for name, section in cls.sections.items():
            if changes.get(name):
                section.check(changes[name], f"{prefix}{name}.")

    @classmethod
    def from_dict(cls, values: dict) -> Self:
        """Defaults changed by `values` (a set_config section), under the same rule."""
        config = cls()
        config.update(values)
        return config

    def update(self, changes: dict) -> None:
        self.check(changes)
        for key, value in changes.items():
            if key in self.sections:
                getattr(self, key).update(value)
            else:
                setattr(self, key, value)

    def as_dict(self) -> dict:
        return asdict(self)


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
