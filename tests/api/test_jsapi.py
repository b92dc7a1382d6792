"""POST /api/v1/tenants/<corp>/jsapi-config end to end against the emulator: the answer is what
dd.config takes and the emulator's container check accepts it (SHA-256 and SHA-1, a page with
port, query and fragment); a refused config replaced once; 400/401/404/409 without a call."""

import pytest
import requests
from django.test import override_settings

from tests.api.conftest import key_client

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PAGE = "https://h5.example.com:8443/micro/index.html?corpId=$CORPID$&dd_nav=a%26b+c#/todo?x=1"
SIGNED = "https://h5.example.com:8443/micro/index.html?corpId=$CORPID$&dd_nav=a&b c"


def url_for(corp_id):
    return f"/api/v1/tenants/{corp_id}/jsapi-config"


def container_check(emulator, corp_id, answer, page=PAGE):
    body = {"url": page, "nonceStr": answer["nonceStr"], "timeStamp": answer["timeStamp"],
            "signature": answer["signature"], "agentId": answer["agentId"]}
    response = requests.post(f"{emulator.base_url}/_emulator/corps/{corp_id}/jsapi/verify",
                             json=body, timeout=10)
    return response.json()


def ticket_calls(emulator):
    return emulator.counters()["calls"].get("get_jsapi_ticket", 0)


@pytest.mark.parametrize("algorithm", ["sha256", "sha1"])
def test_jsapi_config_verifies_in_the_container(emulator, make_suite_side, algorithm):
    side = make_suite_side(tenants=2, users=1)
    tenant, corp_id = side.tenants[1], side.corps[1]["corp_id"]
    with override_settings(IDENTITY_JSAPI_SIGNATURE_HASH=algorithm):
        response = side.client.post(url_for(corp_id), {"url": PAGE}, format="json")
    assert response.status_code == 200, response.content[:300]
    answer = response.json()
    assert set(answer) == {"agentId", "corpId", "timeStamp", "nonceStr", "signature", "url"}
    assert (answer["agentId"], answer["corpId"], answer["url"]) == (tenant.agent_id, corp_id,
                                                                    SIGNED)
    assert len(answer["signature"]) == {"sha256": 64, "sha1": 40}[algorithm]
    checked = container_check(emulator, corp_id, answer)
    assert (checked["ok"], checked["hash"]) == (True, algorithm), checked
    # The other tenant's page is not signed by this answer (another corp's ticket).
    other = side.corps[0]["corp_id"]
    side.client.post(url_for(other), {"url": PAGE}, format="json")
    assert container_check(emulator, other, {**answer, "agentId": side.tenants[0].agent_id})[
        "errorCode"] == 52013


def test_jsapi_config_ticket_fetched_once_for_many_pages(emulator, make_suite_side):
    side = make_suite_side(tenants=1, users=1)
    corp_id = side.corps[0]["corp_id"]
    for n in range(6):
        page = f"http://h5.example.com/p{n}.html"
        answer = side.client.post(url_for(corp_id), {"url": page}, format="json").json()
        assert container_check(emulator, corp_id, answer, page)["ok"] is True
    assert ticket_calls(emulator) == 1


def test_jsapi_config_rejected_ticket_replaced(emulator, make_suite_side):
    emulator.set_config(jsapi_ticket_legacy=True)
    side = make_suite_side(tenants=1, users=1)
    tenant, corp_id = side.tenants[0], side.corps[0]["corp_id"]
    first = side.client.post(url_for(corp_id), {"url": PAGE}, format="json").json()
    from tenants.services.clients import client_for

    client_for(tenant).jsapi.ticket()  # a second fetch elsewhere: ours is dead (legacy)
    assert container_check(emulator, corp_id, first)["errorCode"] == 52013
    rejected = {k: first[k] for k in ("timeStamp", "nonceStr", "signature")}
    again = side.client.post(url_for(corp_id), {"url": PAGE, "rejected": rejected},
                             format="json")
    assert again.status_code == 200, again.content[:300]
    assert container_check(emulator, corp_id, again.json())["ok"] is True
    assert ticket_calls(emulator) == 3


@pytest.mark.parametrize("body", [
    {"url": "ftp://h5.example.com/"}, {"url": "http:///x"}, {"url": "index.html"},
    {"url": "http://h5.example.com/\n"}, {"url": "http://h/" + "a" * 2100}, {"url": 7},
    {"url": "http://h5.example.com/\x00"}, {},
    {"url": PAGE, "rejected": {"timeStamp": "1", "nonceStr": "n", "signature": "s"}},
])
def test_jsapi_config_bad_input_400_without_a_call(emulator, make_suite_side, body):
    side = make_suite_side(tenants=1, users=1)
    response = side.client.post(url_for(side.corps[0]["corp_id"]), body, format="json")
    assert response.status_code == 400, response.content[:300]
    assert response.json()["error"]["code"] in ("jsapi_input_invalid", "invalid", "parse_error")
    assert ticket_calls(emulator) == 0


def test_jsapi_config_url_error_names_the_rule(make_suite_side):
    side = make_suite_side(tenants=1, users=1)
    response = side.client.post(url_for(side.corps[0]["corp_id"]),
                                {"url": "javascript:alert(1)"}, format="json")
    error = response.json()["error"]
    assert (response.status_code, error["code"]) == (400, "jsapi_input_invalid")
    assert "http" in error["message"]


def test_jsapi_config_another_suites_corp_404_and_no_key_401(emulator, make_suite_side):
    mine, theirs = make_suite_side(tenants=1, users=1), make_suite_side(tenants=1, users=1)
    response = mine.client.post(url_for(theirs.corps[0]["corp_id"]), {"url": PAGE},
                                format="json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "tenant_not_found"
    anonymous = key_client(None).post(url_for(mine.corps[0]["corp_id"]), {"url": PAGE},
                                      format="json")
    assert anonymous.status_code == 401
    assert ticket_calls(emulator) == 0


def test_jsapi_config_inactive_tenant_409(emulator, make_suite_side):
    side = make_suite_side(tenants=1, users=1)
    tenant = side.tenants[0]
    tenant.suspended = True
    tenant.save(update_fields=["suspended"])
    response = side.client.post(url_for(tenant.corp_id), {"url": PAGE}, format="json")
    assert response.status_code == 409, response.content[:300]
    assert response.json()["error"]["code"] == "tenant_inactive"
    assert ticket_calls(emulator) == 0


def test_jsapi_config_internal_app(emulator, make_app_side):
    tenant, corp, key = make_app_side(users=1)
    response = key_client(key).post(url_for(corp["corp_id"]), {"url": PAGE}, format="json")
    assert response.status_code == 200, response.content[:300]
    answer = response.json()
    assert answer["agentId"] == tenant.agent_id
    assert container_check(emulator, corp["corp_id"], answer)["ok"] is True
