"""Building signed DingTalk callback pushes for the endpoint tests (with dingtalk.crypto)."""

import json

from dingtalk.crypto import CallbackCrypto

TS, NONCE = "1700000000000", "nOnCe123"


def crypto_for(suite, *, key=None, aes=None, token=None):
    return CallbackCrypto(token=token or suite.callback_token,
                          encoding_aes_key=aes or suite.encoding_aes_key,
                          key=key or suite.suite_key)


def signed(suite, payload, **crypto_kwargs):
    """(query string, body) of a push, built with dingtalk.crypto."""
    crypto = crypto_for(suite, **crypto_kwargs)
    text = payload if isinstance(payload, str) else json.dumps(payload)
    encrypt = crypto.encrypt(text)
    signature = crypto_for(suite).signature(TS, NONCE, encrypt)
    return f"signature={signature}&timestamp={TS}&nonce={NONCE}", {"encrypt": encrypt}


def post(client, suite_key, query, body):
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    return client.post(f"/callbacks/{suite_key}/?{query}", data=data,
                       content_type="application/json")


def push(client, suite, payload, **crypto_kwargs):
    query, body = signed(suite, payload, **crypto_kwargs)
    return post(client, suite.suite_key, query, body)


def reply_text(suite, response, *, key=None):
    reply = response.json()
    assert set(reply) == {"msg_signature", "timeStamp", "nonce", "encrypt"}
    return crypto_for(suite, key=key).verify_and_decrypt(
        signature=reply["msg_signature"], timestamp=reply["timeStamp"],
        nonce=reply["nonce"], encrypt=reply["encrypt"])


def http_ticket(suite, ticket, ts):
    return {"SuiteKey": suite.suite_key, "EventType": "suite_ticket", "TimeStamp": ts,
            "SuiteTicket": ticket}


def sync_rows(*rows):
    return {"EventType": "SYNC_HTTP_PUSH_HIGH", "bizData": list(rows)}


def sync_row(suite, biz_type, biz_id, biz_data, *, corp_id="dingcorp1",
             modified=1_700_000_000_000):
    return {"gmt_create": modified, "gmt_modified": modified, "biz_type": biz_type,
            "open_cursor": 0, "subscribe_id": f"{suite.suite_id}_0", "id": modified % 100000,
            "biz_id": biz_id, "biz_data": json.dumps(biz_data), "corp_id": corp_id, "status": 0}


def user_row(suite, userid="user1", modified=1_700_000_000_000):
    return sync_row(suite, 13, userid, {"syncAction": "user_add_org", "userid": userid,
                                        "name": "Zhang San"}, modified=modified)


# Internal apps: their own token and AES key; the trailing key is the corp id by default.


def app_crypto(tenant, *, key=None, token=None):
    return CallbackCrypto(token=token or tenant.callback_token,
                          encoding_aes_key=tenant.encoding_aes_key, key=key or tenant.corp_id)


def app_signed(tenant, payload, *, key=None, token=None):
    """(query string, body) of a push to an internal app, built with dingtalk.crypto."""
    text = payload if isinstance(payload, str) else json.dumps(payload)
    encrypt = app_crypto(tenant, key=key).encrypt(text)
    signature = app_crypto(tenant, token=token).signature(TS, NONCE, encrypt)
    return f"signature={signature}&timestamp={TS}&nonce={NONCE}", {"encrypt": encrypt}


def app_post(client, app_key, query, body):
    return client.post(f"/callbacks/apps/{app_key}/?{query}", data=json.dumps(body),
                       content_type="application/json")


def app_reply_text(tenant, response, *, key=None):
    reply = response.json()
    assert set(reply) == {"msg_signature", "timeStamp", "nonce", "encrypt"}
    return app_crypto(tenant, key=key).verify_and_decrypt(
        signature=reply["msg_signature"], timestamp=reply["timeStamp"],
        nonce=reply["nonce"], encrypt=reply["encrypt"])


def contact_push(corp_id, userid="user1", ts=1_700_000_000_000):
    """An internal app's HTTP push of a contact change (PROTOCOL 7.3)."""
    return {"EventType": "user_add_org", "UserId": [userid], "CorpId": corp_id, "TimeStamp": ts}
