"""identity.services.jsapi against the emulator over HTTP: dd.config signed with the cached
ticket (both hashes), verified the container's way; one fetch per expiry, the 24 h cap, the
refused-ticket path in legacy mode, internal apps, and refusals before any DingTalk call."""

import pytest
import requests
from django.test import override_settings

from identity.errors import JsapiAgentUnknown, JsapiInputInvalid
from identity.jsapi_tickets import jsapi_ticket_get, jsapi_ticket_key
from identity.services.jsapi import JSAPI_REJECTION_COOLDOWN_S, RejectedConfig, jsapi_config
from tenants.errors import TenantInactive
from tests.conftest import advance_time
from tests.tenants.conftest import authorized_tenant

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

PAGE = "https://h5.example.com:8443/app/?corpId=$CORPID$&q=a%20b+c#/detail?id=7"


def verify(emulator, config, page=PAGE):
    return emulator.jsapi_verify(config.corp_id, url=page, nonce_str=config.nonce_str,
                                 timestamp=config.timestamp, signature=config.signature,
                                 agent_id=config.agent_id)


def fetches(emulator, corp_id):
    return sum(row["count"] for row in emulator.counters()["calls_by"]
               if row["endpoint"] == "get_jsapi_ticket" and row["corp_id"] == corp_id)


def test_jsapi_config_verifies_with_the_default_sha256(emulator, make_suite):
    tenant, corp = authorized_tenant(emulator, make_suite)
    config = jsapi_config(tenant=tenant, url=PAGE)
    assert (config.agent_id, config.corp_id, config.hash) == (tenant.agent_id, corp["corp_id"],
                                                              "sha256")
    assert config.url == "https://h5.example.com:8443/app/?corpId=$CORPID$&q=a b c"
    assert len(config.signature) == 64 and len(config.nonce_str) == 16
    answer = verify(emulator, config)
    assert (answer["ok"], answer["hash"]) == (True, "sha256"), answer
    # The ticket is cached: more pages, no more fetches.
    for _ in range(5):
        assert verify(emulator, jsapi_config(tenant=tenant, url=PAGE))["ok"] is True
    assert fetches(emulator, corp["corp_id"]) == 1


@override_settings(IDENTITY_JSAPI_SIGNATURE_HASH="sha1")
def test_jsapi_config_sha1_when_configured(emulator, make_suite):
    tenant, _corp = authorized_tenant(emulator, make_suite)
    config = jsapi_config(tenant=tenant, url=PAGE, nonce="abcdefg", timestamp=1414588745)
    assert (config.hash, len(config.signature), config.nonce_str, config.timestamp) == (
        "sha1", 40, "abcdefg", 1414588745)
    assert verify(emulator, config)["hash"] == "sha1"


def test_jsapi_ticket_refetched_once_per_expiry(emulator, make_suite):
    tenant, corp = authorized_tenant(emulator, make_suite)
    first = jsapi_ticket_get(tenant=tenant)
    advance_time(emulator, 7200 - 601)  # still outside the 600 s refresh-ahead margin
    assert jsapi_ticket_get(tenant=tenant).ticket == first.ticket
    assert fetches(emulator, corp["corp_id"]) == 1
    advance_time(emulator, 2)  # inside it: refreshed once; DingTalk extends the same ticket
    again = jsapi_ticket_get(tenant=tenant)
    assert (again.ticket, again.born) == (first.ticket, first.born)
    assert fetches(emulator, corp["corp_id"]) == 2
    advance_time(emulator, 7201)  # long past expiry: a new ticket, fetched once
    config = jsapi_config(tenant=tenant, url=PAGE)
    assert jsapi_ticket_get(tenant=tenant).ticket != first.ticket
    assert fetches(emulator, corp["corp_id"]) == 3
    assert verify(emulator, config)["ok"] is True


def test_jsapi_ticket_retired_at_dingtalks_24_hour_death(emulator, make_suite):
    tenant, corp = authorized_tenant(emulator, make_suite)
    first = jsapi_ticket_get(tenant=tenant)
    for _ in range(13):  # refreshed every 6,601 s: the same ticket, extended, for 23.8 h
        advance_time(emulator, 6601)
        assert jsapi_ticket_get(tenant=tenant).ticket == first.ticket
    advance_time(emulator, 86_400 - 13 * 6601 + 1)  # DingTalk has killed it now
    config = jsapi_config(tenant=tenant, url=PAGE)
    assert jsapi_ticket_get(tenant=tenant).ticket != first.ticket
    assert verify(emulator, config)["ok"] is True
    assert fetches(emulator, corp["corp_id"]) == 15


def test_jsapi_refused_ticket_replaced_once_in_legacy_mode(emulator, make_suite):
    emulator.set_config(jsapi_ticket_legacy=True)
    tenant, corp = authorized_tenant(emulator, make_suite)
    config = jsapi_config(tenant=tenant, url=PAGE)
    assert verify(emulator, config)["ok"] is True
    # Someone else fetched the ticket (another backend on the same app): ours is dead.
    jsapi_ticket_get(tenant=tenant)  # cached: no call
    requests.get(f"{emulator.base_url}/get_jsapi_ticket", timeout=10, params={
        "access_token": _corp_token(tenant)})
    assert verify(emulator, config)["errorCode"] == 52013
    rejected = RejectedConfig(timestamp=config.timestamp, nonce_str=config.nonce_str,
                              signature=config.signature)
    before = fetches(emulator, corp["corp_id"])
    fresh = jsapi_config(tenant=tenant, url=PAGE, rejected=rejected)
    assert verify(emulator, fresh)["ok"] is True
    # The same refusal reported again (another page, another process) costs nothing more.
    again = jsapi_config(tenant=tenant, url=PAGE, rejected=rejected)
    assert verify(emulator, again)["ok"] is True
    assert fetches(emulator, corp["corp_id"]) == before + 1


def test_jsapi_rejections_cannot_force_a_fetch_per_request(emulator, make_suite):
    # Anyone who loads a page gets a config signed with the cached ticket and could report it
    # as refused: a replaced ticket is not replaced again on a report within the cooldown.
    emulator.set_config(jsapi_ticket_legacy=True)
    tenant, corp = authorized_tenant(emulator, make_suite)
    config = jsapi_config(tenant=tenant, url=PAGE)
    for _ in range(5):
        config = jsapi_config(tenant=tenant, url=PAGE, rejected=RejectedConfig(
            timestamp=config.timestamp, nonce_str=config.nonce_str,
            signature=config.signature))
        assert verify(emulator, config)["ok"] is True
    assert fetches(emulator, corp["corp_id"]) == 2  # the first report replaced it, once
    advance_time(emulator, JSAPI_REJECTION_COOLDOWN_S + 1)
    fresh = jsapi_config(tenant=tenant, url=PAGE, rejected=RejectedConfig(
        timestamp=config.timestamp, nonce_str=config.nonce_str, signature=config.signature))
    assert verify(emulator, fresh)["ok"] is True
    assert fetches(emulator, corp["corp_id"]) == 3


def test_jsapi_rejection_not_signed_with_the_cached_ticket_changes_nothing(emulator, make_suite):
    tenant, corp = authorized_tenant(emulator, make_suite)
    cached = jsapi_ticket_get(tenant=tenant)
    forged = RejectedConfig(timestamp=1, nonce_str="x", signature="0" * 64)
    assert verify(emulator, jsapi_config(tenant=tenant, url=PAGE, rejected=forged))["ok"]
    assert jsapi_ticket_get(tenant=tenant).stored == cached.stored
    assert fetches(emulator, corp["corp_id"]) == 1


def _corp_token(tenant):
    from tenants.services.clients import corp_token_fetch

    return corp_token_fetch(tenant=tenant).value


def test_jsapi_internal_app_ticket_per_appkey(emulator, make_app):
    tenant, corp, remote = make_app(users=1)
    config = jsapi_config(tenant=tenant, url="http://intranet.example.com/h5/")
    assert config.agent_id == int(remote["agent_id"])
    answer = verify(emulator, config, page="http://intranet.example.com/h5/")
    assert (answer["ok"], answer["owner"]) == (True, ["app", remote["appkey"]])
    assert jsapi_ticket_key(tenant) == f"jsapi:app:{remote['appkey']}"
    # A corp id of its own: the store outlives the emulator's world (generated ids repeat).
    legacy, _corp, _remote = make_app(users=1, corpsecret=True)
    assert jsapi_ticket_key(legacy) == f"jsapi:corpsecret:{legacy.corp_id}"
    assert verify(emulator, jsapi_config(tenant=legacy, url=PAGE))["ok"] is True


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"url": "ftp://h/p"}, "url"), ({"url": "http:///p"}, "url"), ({"url": "/relative"}, "url"),
    ({"url": "http://h/\x00"}, "url"), ({"url": "http://h/" + "a" * 2048}, "url"),
    ({"url": None}, "url"), ({"url": PAGE, "nonce": ""}, "nonceStr"),
    ({"url": PAGE, "nonce": "a&b"}, "nonceStr"), ({"url": PAGE, "nonce": "x" * 65}, "nonceStr"),
    ({"url": PAGE, "timestamp": -1}, "timeStamp"), ({"url": PAGE, "timestamp": True},
                                                    "timeStamp"),
])
def test_jsapi_bad_input_refused_before_any_call(emulator, make_suite, kwargs, field):
    tenant, corp = authorized_tenant(emulator, make_suite)
    with pytest.raises(JsapiInputInvalid) as caught:
        jsapi_config(tenant=tenant, **kwargs)
    assert caught.value.extra["field"] == field and caught.value.http_status == 400
    assert fetches(emulator, corp["corp_id"]) == 0


def test_jsapi_inactive_tenant_or_no_agent_refused(emulator, make_suite):
    tenant, corp = authorized_tenant(emulator, make_suite)
    jsapi_ticket_get(tenant=tenant)
    tenant.status = tenant.Status.RELIEVED
    with pytest.raises(TenantInactive):
        jsapi_config(tenant=tenant, url=PAGE)  # a cached ticket does not outlive the tenant
    other, _corp = authorized_tenant(emulator, make_suite)
    other.agent_id = None
    with pytest.raises(JsapiAgentUnknown):
        jsapi_config(tenant=other, url=PAGE)
    assert fetches(emulator, corp["corp_id"]) == 1


@pytest.mark.parametrize(("given", "href"), [
    # What a product builds from its settings vs what the browser's location.href says: the
    # scheme and host are lower case there, and a Unicode host is punycode (WHATWG URL).
    ("HTTPS://H5.Example.COM:8443/App/?Q=A%20b#/x", "https://h5.example.com:8443/App/?Q=A%20b"),
    ("https://例え.テスト/h5/?q=1", "https://xn--r8jz45g.xn--zckzah/h5/?q=1"),
    ("http://User@H5.EXAMPLE.com/p", "http://User@h5.example.com/p"),
    ("http://[::1]:8080/p?x=1", "http://[::1]:8080/p?x=1"),
])
def test_jsapi_scheme_and_host_signed_as_the_browser_has_them(emulator, make_suite, given,
                                                              href):
    tenant, _corp = authorized_tenant(emulator, make_suite)
    config = jsapi_config(tenant=tenant, url=given)
    answer = verify(emulator, config, page=href)
    assert answer["ok"] is True, (config.url, answer)


def test_jsapi_unencodable_host_refused(emulator, make_suite):
    tenant, corp = authorized_tenant(emulator, make_suite)
    with pytest.raises(JsapiInputInvalid) as caught:
        jsapi_config(tenant=tenant, url="https://a\u200f\u0661b.example/")
    assert caught.value.extra["field"] == "url"
    assert fetches(emulator, corp["corp_id"]) == 0
