"""factory_boy factories for the tenants models (shared by every tenants test)."""

import hashlib
import secrets
import string
from datetime import timedelta

import factory
from django.utils import timezone

from tenants.models import AccessToken, CallbackEvent, Suite, SuiteTicket, Tenant

_ALNUM = string.ascii_letters + string.digits


def random_text(length: int) -> str:
    """Random letters and digits (the alphabet DingTalk allows for tokens and AES keys)."""
    return "".join(secrets.choice(_ALNUM) for _ in range(length))


def ticket_digest(ticket: str) -> str:
    return hashlib.sha256(ticket.encode("utf-8")).hexdigest()


class SuiteFactory(factory.django.DjangoModelFactory):
    """A registered suite with valid random secrets (readable in plain text on the instance)."""

    class Meta:
        model = Suite
        django_get_or_create = ("suite_key",)

    name = factory.Sequence(lambda n: f"Test suite {n}")
    suite_key = factory.Sequence(lambda n: f"suitetest{n:010d}")
    suite_id = factory.Sequence(lambda n: str(14_000_000_000 + n))
    app_id = factory.Sequence(lambda n: str(100_000 + n))
    suite_secret = factory.LazyFunction(lambda: random_text(64))
    callback_token = factory.LazyFunction(lambda: random_text(24))
    encoding_aes_key = factory.LazyFunction(lambda: random_text(43))
    push_style = Suite.PushStyle.SYNC_HTTP
    message_api = Suite.MessageApi.ASYNCSEND_V2
    template_ids = factory.LazyFunction(dict)

    class Params:
        http_push = factory.Trait(push_style=Suite.PushStyle.HTTP)


class SuiteTicketFactory(factory.django.DjangoModelFactory):
    """One pushed ticket; pushed_at_ms defaults to now."""

    class Meta:
        model = SuiteTicket

    suite = factory.SubFactory(SuiteFactory)
    ticket = factory.LazyFunction(lambda: random_text(40))
    ticket_digest = factory.LazyAttribute(lambda o: ticket_digest(o.ticket))
    pushed_at_ms = factory.LazyFunction(lambda: int(timezone.now().timestamp() * 1000))


class TenantFactory(factory.django.DjangoModelFactory):
    """An authorized corp of a suite (SyncHTTP style: no permanent code)."""

    class Meta:
        model = Tenant

    suite = factory.SubFactory(SuiteFactory)
    corp_id = factory.Sequence(lambda n: f"ding{n:016x}")
    corp_name = factory.Sequence(lambda n: f"Corp {n}")
    full_corp_name = factory.LazyAttribute(lambda o: f"{o.corp_name} Ltd.")
    status = Tenant.Status.AUTHORIZED
    agent_id = factory.Sequence(lambda n: 900_000_000 + n)
    app_id = factory.Sequence(lambda n: 200_000 + n)
    auth_user_id = factory.Sequence(lambda n: f"admin{n}")
    auth_info = factory.LazyAttribute(
        lambda o: {"agent": [{"agentid": o.agent_id, "appid": o.app_id, "agent_name": "app"}]}
    )
    auth_scopes = factory.LazyFunction(
        lambda: {"auth_org_scopes": {"authed_dept": [1], "authed_user": []}}
    )
    permanent_code = ""
    authorized_at = factory.LazyFunction(timezone.now)

    class Params:
        legacy = factory.Trait(permanent_code=factory.LazyFunction(lambda: random_text(40)))


class InternalAppFactory(factory.django.DjangoModelFactory):
    """An internal app (appkey + appsecret) with its own callback token and AES key."""

    class Meta:
        model = Tenant

    kind = Tenant.Kind.INTERNAL_APP
    suite = None
    corp_id = factory.Sequence(lambda n: f"dingapp{n:012x}")
    corp_name = factory.Sequence(lambda n: f"App corp {n}")
    app_name = factory.Sequence(lambda n: f"Internal app {n}")
    appkey = factory.Sequence(lambda n: f"dingkey{n:012d}")
    appsecret = factory.LazyFunction(lambda: random_text(64))
    callback_token = factory.LazyFunction(lambda: random_text(24))
    encoding_aes_key = factory.LazyFunction(lambda: random_text(43))
    status = Tenant.Status.AUTHORIZED
    agent_id = factory.Sequence(lambda n: 800_000_000 + n)
    authorized_at = factory.LazyFunction(timezone.now)

    class Params:
        corpsecret_app = factory.Trait(
            appkey="", appsecret="", corpsecret=factory.LazyFunction(lambda: random_text(64)))


class AccessTokenFactory(factory.django.DjangoModelFactory):
    """A cached corp token of a tenant, valid for two hours."""

    class Meta:
        model = AccessToken

    tenant = factory.SubFactory(TenantFactory)
    suite = factory.SelfAttribute("tenant.suite")
    kind = AccessToken.Kind.CORP
    key = factory.LazyAttribute(lambda o: f"suite:{o.suite.suite_key}:corp:{o.tenant.corp_id}")
    value = factory.LazyFunction(lambda: random_text(32))
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=2))


class CallbackEventFactory(factory.django.DjangoModelFactory):
    """A stored SyncHTTP biz_type 13 row, pending."""

    class Meta:
        model = CallbackEvent

    suite = factory.SubFactory(SuiteFactory)
    kind = "contact_user"
    corp_id = factory.Sequence(lambda n: f"ding{n:016x}")
    dedupe_key = factory.Sequence(lambda n: f"sync:13:{n}")
    payload = factory.LazyAttribute(
        lambda o: {"biz_type": 13, "corp_id": o.corp_id, "biz_id": "user1",
                   "biz_data": '{"syncAction":"user_add_org"}'}
    )
    status = CallbackEvent.Status.PENDING
