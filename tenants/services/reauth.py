"""Recovering HTTP-push authorizations lost in transit, the way DingTalk allows (PROTOCOL 6.9).

A tmp_auth_code is good for one get_permanent_code. If that answer is lost (a timeout, a worker
killed between the trade and the store), the retry hears 42008 and no tenant exists. DingTalk
lists such corps (authorized, never activated) in get_unactive_corp, and reauth_corp makes it
push a fresh tmp_auth_code for them, which arrives as a new callback event and becomes the
tenant. SyncHTTP suites cannot lose an authorization this way: their push carries everything.
"""

from __future__ import annotations

import logging
from collections import defaultdict

from core import clock
from dingtalk.errors import ApiError
from dingtalk.repeat import retryable_error
from tenants.errors import NoSuiteTicket, ReauthUnavailable
from tenants.models import CallbackEvent, Suite, Tenant
from tenants.selectors.tenants import tenant_find
from tenants.services.clients import suite_api_for

logger = logging.getLogger("tenants.events")

Status = CallbackEvent.Status


def _close(events: list[CallbackEvent], status: str, note: str) -> None:
    CallbackEvent.objects.filter(pk__in=[e.pk for e in events],
                                 status=Status.AWAITING_REAUTH).update(
        status=status, last_error=note[:2000], processed_at=clock.now(), next_attempt_at=None)


def authorizations_recover(*, limit: int = 200) -> int:
    """Ask DingTalk to re-push every lost authorization; returns how many corps were asked."""
    waiting = list(CallbackEvent.objects.filter(status=Status.AWAITING_REAUTH)
                   .select_related("suite").order_by("id")[:limit])
    by_suite: dict[int, list[CallbackEvent]] = defaultdict(list)
    for event in waiting:
        by_suite[event.suite_id].append(event)
    asked = 0
    for events in by_suite.values():
        asked += _recover_suite(events[0].suite, events)
    return asked


def corp_reauthorize(*, suite: Suite, corp_id: str) -> bool:
    """An operator's action for one corp: True when DingTalk was asked to push it again."""
    if suite.push_style != Suite.PushStyle.HTTP or not suite.app_id:
        raise ReauthUnavailable("re-authorization needs an HTTP-push suite with its app id set",
                                extra={"suite_key": suite.suite_key})
    api = suite_api_for(suite)
    if corp_id not in api.get_unactive_corp(int(suite.app_id)):
        return False
    api.reauth_corp(int(suite.app_id), [corp_id])
    logger.info("suite %s: DingTalk asked to re-push the authorization of %s", suite.suite_key,
                corp_id)
    return True


def _recover_suite(suite: Suite, events: list[CallbackEvent]) -> int:
    if suite.push_style != Suite.PushStyle.HTTP or not suite.app_id:
        _close(events, Status.DEAD, "authorization lost, and the suite has no app id to ask "
               "DingTalk for a re-push: set it in the admin, then reprocess this event")
        return 0
    try:
        api = suite_api_for(suite)
        unactive = set(api.get_unactive_corp(int(suite.app_id)))
    except (ApiError, NoSuiteTicket) as exc:
        if retryable_error(exc) or isinstance(exc, NoSuiteTicket):
            logger.warning("suite %s: get_unactive_corp failed (%s); next sweep tries again",
                           suite.suite_key, type(exc).__name__)
            return 0
        _close(events, Status.DEAD, f"get_unactive_corp refused: {type(exc).__name__}: {exc}")
        return 0
    except Exception as exc:  # transport errors: the next sweep tries again
        logger.warning("suite %s: get_unactive_corp failed (%s); next sweep tries again",
                       suite.suite_key, type(exc).__name__)
        return 0
    wanted = {e.corp_id for e in events if e.corp_id}
    # An event without a corp id (DingTalk's push need not name it) stands for every stuck corp.
    targets = sorted(unactive if any(not e.corp_id for e in events) else wanted & unactive)
    if targets:
        try:
            api.reauth_corp(int(suite.app_id), targets)
        except Exception as exc:  # not repeated blindly: the next sweep asks again
            logger.warning("suite %s: reauth_corp failed (%s); next sweep tries again",
                           suite.suite_key, type(exc).__name__)
            return 0
    asked = [e for e in events if not e.corp_id or e.corp_id in targets]
    _close(asked, Status.DONE, "DingTalk was asked to push this authorization again "
           "(reauth_corp); the fresh tmp_auth_code arrives as a new event")
    for event in [e for e in events if e.corp_id and e.corp_id not in targets]:
        tenant = tenant_find(suite=suite, corp_id=event.corp_id)
        if tenant is not None and tenant.status == Tenant.Status.AUTHORIZED:
            _close([event], Status.DONE, "the corp is authorized and activated already")
        else:
            _close([event], Status.DEAD, "DingTalk lists no unactivated authorization for "
                   "this corp (withdrawn?): nothing to recover")
    logger.info("suite %s: asked DingTalk to re-push %s authorization(s)", suite.suite_key,
                len(targets))
    return len(targets)
