"""The rule catalogue: DingTalk's limits as `Rule`s, built from settings (PROTOCOL 3.1, 10).

Keys name who is limited, as the emulator's quota windows do (dingtalk/emulator/notices/
quotas.py): recipients per (app, corp) (143103 internal / 143203 ISV), per suite across all its
corps (143204, ISV only) and per corp across its internal apps (143104, internal only); calls per
(app, API) per second (90018); and every DingTalk call dingsuite makes under one egress-IP
budget (10,000 per 20 s, then a 5-minute ban).

Defaults are PROTOCOL's figures. PROTOCOL is UNCERTAIN about two of them, and we chose:
- 143204, the suite-wide per-minute total: DingTalk publishes the code, not the number; we use
  5000, the one per-minute figure it does publish (the emulator's `per_minute_suite` too).
- 143104, the corp-wide total of its internal apps: same, 5000 (the emulator's
  `per_minute_corp`).
Budgets that tenants share (the suite's, a corp's internal apps') get a second rule at the same
rate over a few seconds (smooth_rule): no tenant can take a whole minute in one burst.
Per-minute windows are padded by MESSAGING_LIMIT_MINUTE_MARGIN_S (1 s): DingTalk counts a
recipient when the send arrives, a little after we admitted it, and a recipient over a
per-minute quota is dropped silently; the QPS and egress rules are not padded (their breach is
a loud, retryable error). Any limit can be overridden per suite (or app key) in
MESSAGING_LIMIT_OVERRIDES: {"<suite_key or appkey>": {"<setting name>": value}}.
"""

from __future__ import annotations

from django.conf import settings

from .base import Rule

MINUTE_S = 60.0


def _setting(name: str, owner: str | None = None):
    overrides = settings.MESSAGING_LIMIT_OVERRIDES.get(owner, {}) if owner else {}
    return overrides.get(name, getattr(settings, name))


def _minute(owner: str | None) -> float:
    return MINUTE_S + float(_setting("MESSAGING_LIMIT_MINUTE_MARGIN_S", owner))


def app_corp_recipients_rule(*, app_key: str, corp_id: str) -> Rule:
    """Recipients per minute of one app (appkey or suite key) in one corp: 143103 / 143203."""
    return Rule(f"notice:app:{app_key}:corp:{corp_id}",
                int(_setting("MESSAGING_LIMIT_APP_CORP_PER_MINUTE", app_key)), _minute(app_key))


def suite_recipients_rule(*, suite_key: str) -> Rule:
    """Recipients per minute of one suite across all its corps: 143204 (UNCERTAIN default)."""
    return Rule(f"notice:suite:{suite_key}",
                int(_setting("MESSAGING_LIMIT_SUITE_PER_MINUTE", suite_key)), _minute(suite_key))


def corp_recipients_rule(*, corp_id: str) -> Rule:
    """Recipients per minute of every internal app of one corp together: 143104 (UNCERTAIN)."""
    return Rule(f"notice:corp:{corp_id}",
                int(_setting("MESSAGING_LIMIT_CORP_PER_MINUTE")), _minute(None))


def smooth_rule(rule: Rule, *, unit: int) -> Rule | None:
    """The same rate as `rule` over a short window (about MESSAGING_LIMIT_SMOOTH_S, never less
    than `unit`, one batch): None when that would not be shorter than the rule itself.

    A sliding minute alone lets one tenant spend a suite's whole minute in a burst of seconds;
    the minute then frees in the same burst a minute later, and every other tenant waits for
    it (up to a minute). Spread over the minute, the budget frees a batch's worth every batch
    interval, so another tenant's small send waits at most about one interval.
    """
    short = float(_setting("MESSAGING_LIMIT_SMOOTH_S"))
    if short <= 0:
        return None
    # A whole number of batches: 324 in 6 s would admit three batches of 100 and waste 24
    # (a tenth of the rate); 400 in 7.4 s admits four, at the same rate.
    batches = max(1, round(rule.limit * short / rule.window_seconds / unit))
    limit = batches * unit
    if limit >= rule.limit:
        return None
    return Rule(f"{rule.key}:smooth", limit, rule.window_seconds * limit / rule.limit)


def app_api_calls_rule(*, app_key: str, api: str) -> Rule:
    """Calls per second of one app to one API (20 QPS, 90018); counts calls, not recipients."""
    limit = int(_setting("MESSAGING_LIMIT_APP_API_PER_SECOND", app_key))
    return Rule(f"api:{app_key}:{api}", limit, 1.0, counts_calls=True)


def egress_rule(*, egress: str | None = None) -> Rule:
    """Every DingTalk call from one egress IP: 10,000 per 20 s (PROTOCOL 10); counts calls.
    `egress` names the IP's budget (MESSAGING_EGRESS_NAME: machines behind one NAT share one
    name, machines with their own IPs get their own)."""
    return Rule(f"egress:{egress or settings.MESSAGING_EGRESS_NAME}",
                int(_setting("MESSAGING_LIMIT_EGRESS_CALLS")),
                float(_setting("MESSAGING_LIMIT_EGRESS_WINDOW_S")), counts_calls=True)


def notice_send_rules(*, app_key: str, corp_id: str, suite_key: str | None,
                      api: str = "asyncsend_v2", egress: bool = True) -> list[Rule]:
    """Every rule one work-notification send is under, for one acquire with amount=recipients.

    As DingTalk's code table (and the emulator): an ISV send counts towards its suite's total,
    an internal app's towards its corp's; never both. `egress=False` leaves out the egress
    rule, for callers whose request the transport's egress gate counts already.
    """
    rules = [app_corp_recipients_rule(app_key=app_key, corp_id=corp_id)]
    shared = None
    if suite_key is not None:
        shared = suite_recipients_rule(suite_key=suite_key)
    elif int(_setting("MESSAGING_LIMIT_CORP_PER_MINUTE")) > 0:
        shared = corp_recipients_rule(corp_id=corp_id)
    if shared is not None:
        rules.append(shared)
        # Budgets shared between tenants are also spread over the minute (fairness).
        smooth = smooth_rule(shared, unit=int(settings.MESSAGING_BATCH_SIZE))
        if smooth is not None:
            rules.append(smooth)
    rules.append(app_api_calls_rule(app_key=app_key, api=api))
    if egress:
        rules.append(egress_rule())
    return rules
