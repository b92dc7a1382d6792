"""The limiter's vocabulary: rules, decisions, the backend protocol and the argument checks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from core import clock


@dataclass(frozen=True)
class Rule:
    """At most `limit` units per sliding `window_seconds`, counted under `key`.

    A rule counts the `amount` of an acquire (recipients of a send), or 1 per acquire when
    `counts_calls` is set (a send is one call however many recipients it has), so one acquire
    can hold a send's recipient rules and its call rules all-or-nothing.
    """

    key: str
    limit: int
    window_seconds: float
    counts_calls: bool = False

    def cost(self, amount: int) -> int:
        return 1 if self.counts_calls else amount

    @property
    def window_ms(self) -> int:
        return max(1, round(self.window_seconds * 1000))


@dataclass(frozen=True)
class Decision:
    """The answer to an acquire.

    Refused by a rule: `blocking_rule` is its key and `retry_after_s` is when that rule (the
    one that frees last) will have room for this amount, if nobody else takes it first.
    Refused because the backend could not answer in time (Redis down or hung): `blocking_rule`
    is None and `retry_after_s` is settings.MESSAGING_LIMITER_UNAVAILABLE_RETRY_S.
    """

    allowed: bool
    retry_after_s: float = 0.0
    blocking_rule: str | None = None

    @property
    def unavailable(self) -> bool:
        return not self.allowed and self.blocking_rule is None


ALLOWED = Decision(True)


@dataclass(frozen=True)
class RuleUsage:
    """How much of a rule is taken now: `used` of `limit` units in its sliding window.

    `frees_in_s` is how long until the oldest admission still in the window leaves it (some
    room comes back then); None when nothing is in the window.
    """

    key: str
    limit: int
    window_seconds: float
    used: int
    frees_in_s: float | None


class LimiterUnavailable(Exception):
    """The backend could not be read in time (Redis down or hung): usage is unknown."""


class LimiterBackend(Protocol):
    """What every backend offers: one all-or-nothing acquire across any number of rules, and
    a read-only look at the rules' current usage (for operators; it changes nothing)."""

    def acquire(self, rules: Sequence[Rule], amount: int = 1) -> Decision: ...

    def usage(self, rules: Sequence[Rule]) -> list[RuleUsage]: ...


def check_acquire(rules: Sequence[Rule], amount: int) -> None:
    """Refuse what could never be admitted or would be counted twice (programming errors)."""
    if not isinstance(amount, int) or amount < 1:
        raise ValueError(f"amount must be a positive int, not {amount!r}")
    keys = [rule.key for rule in rules]
    if len(set(keys)) != len(keys):
        raise ValueError(f"a key appears twice in one acquire: {keys!r}")
    for rule in rules:
        if rule.limit < 1 or rule.window_seconds <= 0:
            raise ValueError(f"a rule needs a positive limit and window: {rule!r}")
        if rule.cost(amount) > rule.limit:
            raise ValueError(f"{rule.cost(amount)} can never fit {rule.key} (limit {rule.limit})")


def now_ms() -> int:
    """dingsuite's clock in integer milliseconds, the emulator's unit for its windows."""
    return int(clock.time() * 1000)
