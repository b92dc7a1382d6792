"""dingtalk.jsapi (dd.config signatures, PROTOCOL-ISV 2.2) and client.jsapi.ticket over HTTP."""

import hashlib

import pytest

from dingtalk.api import JsapiTicket
from dingtalk.jsapi import (
    MAX_URL_LENGTH,
    JsapiUrlError,
    normalize_url,
    sign,
    string_to_sign,
    verify,
)
from tests.dingtalk.test_client_support import world_fixture  # noqa: F401 (a fixture)
from tests.dingtalk.test_isv import Isv

# The 2016 documentation's inputs (DTDOC2016/_client.md); it published no output hash.
TICKET_2016 = ("mS5k98fdkdgDKxkXGEs8LORVREiweeWETE40P37wkidkfksDSKDJFD5h9nbSlYy3-Sl-HhTdfl2fzFy1"
               "AOcKIDU8l")
NONCE_2016, TIMESTAMP_2016, URL_2016 = "Zn4zmLFKD0wzilzM", "1414588745", "http://open.dingtalk.com"
# The string to sign written out by hand, key names in ASCII order.
PLAIN_2016 = ("jsapi_ticket=mS5k98fdkdgDKxkXGEs8LORVREiweeWETE40P37wkidkfksDSKDJFD5h9nbSlYy3-Sl-"
              "HhTdfl2fzFy1AOcKIDU8l&noncestr=Zn4zmLFKD0wzilzM&timestamp=1414588745"
              "&url=http://open.dingtalk.com")
# What PROTOCOL-ISV 2.2 lists as computed (not published) from those inputs.
PROTOCOL_SHA1 = "10de2b0a6763ec3685a50272b5b0eb2848098dc2"
PROTOCOL_SHA256 = "6d6e0580d57aac61e427c1e82e7545cca4eed5c59ae6bb468c6bf6f89753cdb2"


def _args(**changes):
    return {"ticket": TICKET_2016, "nonce_str": NONCE_2016, "timestamp": TIMESTAMP_2016,
            "url": URL_2016, **changes}


def test_jsapi_2016_vector_string_to_sign():
    assert string_to_sign(**_args()) == PLAIN_2016
    assert normalize_url(URL_2016) == URL_2016


def test_jsapi_2016_vector_both_hashes_independently_and_as_listed():
    sha1 = hashlib.sha1(PLAIN_2016.encode()).hexdigest()  # noqa: S324 (the 2016 algorithm)
    sha256 = hashlib.sha256(PLAIN_2016.encode()).hexdigest()
    assert sign(**_args(), algorithm="sha1") == sha1 == PROTOCOL_SHA1
    assert sign(**_args()) == sha256 == PROTOCOL_SHA256  # SHA-256 is the default
    assert verify(PROTOCOL_SHA256, **_args())
    assert verify(PROTOCOL_SHA1, **_args(), algorithm="sha1")
    assert not verify(PROTOCOL_SHA1, **_args())
    assert not verify(PROTOCOL_SHA256, **_args(timestamp=1414588746))
    with pytest.raises(ValueError, match="algorithm"):
        sign(**_args(), algorithm="md5")


def test_jsapi_timestamp_int_or_str_sign_alike():
    assert sign(**_args(timestamp=1414588745)) == PROTOCOL_SHA256


@pytest.mark.parametrize(("url", "expected"), [
    ("http://open.dingtalk.com", "http://open.dingtalk.com"),
    ("http://open.dingtalk.com/", "http://open.dingtalk.com/"),
    ("https://h5.example.com:8443/a/b.html#/route?x=1", "https://h5.example.com:8443/a/b.html"),
    ("http://h:80/p?a=%E4%B8%AD&b=c+d&e=%2B#frag", "http://h:80/p?a=中&b=c d&e=+"),
    ("http://h/p?a=%2520", "http://h/p?a=%20"),  # decoded once only
    ("http://h/p?", "http://h/p?"),
    ("http://user@h/p%20q?x=1", "http://user@h/p%20q?x=1"),  # before the query: as given
    # Scheme and host as location.href has them (the official sample lowercases the scheme).
    ("HTTP://H.example.com/P", "http://h.example.com/P"),
    ("https://Bücher.example:444/P?x=%C3%BC", "https://xn--bcher-kva.example:444/P?x=ü"),
    ("http://U:P@[::ABCD]:81/p", "http://U:P@[::abcd]:81/p"),
])
def test_jsapi_normalize_url(url, expected):
    assert normalize_url(url) == expected


@pytest.mark.parametrize("url", [
    "ftp://h/p", "javascript:alert(1)", "//h/p", "http:///p", "http:/h/p", "h/p", "",
    "http://h\x00/p", "http://h/p\n", "http://h:99999/p", "http://[::1/p",
    "http://h/" + "a" * MAX_URL_LENGTH, None, 42,
])
def test_jsapi_normalize_url_refuses(url):
    with pytest.raises(JsapiUrlError):
        normalize_url(url)


def test_jsapi_ticket_internal_app(emulator, world):
    first = world.client.jsapi.ticket()
    assert isinstance(first, JsapiTicket) and first.expires_in == 7200
    assert first.ticket not in repr(first)
    assert world.client.jsapi.ticket().ticket == first.ticket  # the same while it lives
    calls = [row for row in emulator.counters()["calls_by"]
             if row["endpoint"] == "get_jsapi_ticket"]
    assert calls == [{"endpoint": "get_jsapi_ticket", "corp_id": world.corp["corp_id"],
                      "suite_key": None, "appkey": world.app["appkey"], "count": 2}]


def test_jsapi_ticket_isv_corp_client_signs_what_the_container_accepts(emulator):
    import requests

    corp = emulator.create_corp(users=1)
    suite = emulator.create_suite(name="Suite")
    auth = emulator.authorize(suite["suite_key"], corp["corp_id"])
    isv = Isv(emulator, corp, suite, auth, None)
    api = isv.new_api()
    client = api.corp_client(corp["corp_id"])
    ticket = client.jsapi.ticket().ticket
    page = "http://h5.example.com:8080/index.html?corpId=x&q=a%20b#/home"
    for algorithm in ("sha256", "sha1"):
        signature = sign(ticket=ticket, nonce_str="abc", timestamp=17, url=normalize_url(page),
                         algorithm=algorithm)
        answer = requests.post(
            f"{emulator.base_url}/_emulator/corps/{corp['corp_id']}/jsapi/verify",
            json={"url": page, "nonceStr": "abc", "timeStamp": 17, "signature": signature,
                  "agentId": auth["agent_id"]}, timeout=10).json()
        assert (answer["ok"], answer["hash"]) == (True, algorithm), answer
    api.close()
