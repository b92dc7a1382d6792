"""PROTOCOL section 8.2 vectors A, B and D against the emulator's own checks.

A and B: the emulator judges an ISV's reply to a push (signature, then decryption) exactly as
DingTalk's published data says. D: the emulator's accessKey signature check (PROTOCOL 6.6).
"""

import json

import requests

from dingtalk.crypto import CallbackCrypto
from dingtalk.emulator.auth import sign
from dingtalk.emulator.pushes.delivery import judge_reply

TOKEN, AES_KEY = "123456", "4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij"
KEY, TIMESTAMP, NONCE = "suite4xxxxxxxxxxxxxxx", "1445827045067", "nEXhMP4r"
PLAINTEXT = ('{"EventType":"check_create_suite_url","Random":"LPIdSnlF",'
             '"TestSuiteKey":"suite4xxxxxxxxxxxxxxx"}')
A_SIGNATURE = "5a65ceeef9aab2d149439f82dc191dd6c5cbe2c0"
A_ENCRYPT = ("1a3NBxmCFwkCJvfoQ7WhJHB+iX3qHPsc9JbaDznE1i03peOk1LaOQoRz3+nlyGNhwmwJ3vDMG+OzrHMeiZI7g"
             "TRWVdUBmfxjZ8Ej23JVYa9VrYeJ5as7XM/ZpulX8NEQis44w53h1qAgnC3PRzM7Zc/D6Ibr0rgUathB6zRHP8"
             "PYrfgnNOS9PhSBdHlegK+AGGanfwjXuQ9+0pZcy0w9lQ==")
B_SIGNATURE = "bcf6dcefa4ce2dbaf7b0666c7264d46fd9aad4bd"
B_ENCRYPT = ("5DJFWzjRNOQk+5GSZxW+VrFMDWCIidPjEjg3//gm5x556BedVi62rDj1F9uXU97a4jw1R4FACUv9RCpoDobNq"
             "xhxRB2YtW901k4KHbP1/wpFJ3xdLG0n0A8U1VhENg80zKJd+YROR0YMGum4WYuoXJ6J98vt0ihYeIFoapNddLM"
             "L5MyNAGM9saSpkouDMSvD+iU14i7V8ix1ia1Tb9ogog==")
CRYPTO = CallbackCrypto(token=TOKEN, encoding_aes_key=AES_KEY, key=KEY)


def _judge(signature, encrypt, *, nonce=NONCE, accepted=(PLAINTEXT,)):
    reply = {"msg_signature": signature, "encrypt": encrypt, "timeStamp": TIMESTAMP,
             "nonce": nonce}
    return judge_reply(json.dumps(reply).encode(), crypto=CRYPTO, accepted=accepted,
                       verify_signature=True)


def test_vector_a_reply_is_verified_and_decrypted():
    assert _judge(A_SIGNATURE, A_ENCRYPT).acknowledged


def test_vector_b_reply_is_verified_and_decrypted():
    assert _judge(B_SIGNATURE, B_ENCRYPT).acknowledged


def test_vectors_with_a_wrong_nonce_or_text_are_not_acknowledged():
    assert _judge(A_SIGNATURE, A_ENCRYPT, nonce="xxxxx").status == "reply signature mismatch"
    assert _judge(B_SIGNATURE, B_ENCRYPT, accepted=("success",)).status == "reply is not success"


def test_vector_d_signature():
    assert sign("secret", "1636725918388", "ticket") == \
        "LOZmXJzlQYpIu5emP6/1OF4hE3qlMzY/6y4FbDjXPbU="


def test_vector_d_accepted_over_http(emulator):
    """The published URL-encoded signature passes the emulator's check (window widened)."""
    suite = emulator.create_suite(suite_key="suitevectord", suite_secret="secret")
    corp = emulator.create_corp(users=1)
    emulator.authorize(suite["suite_key"], corp["corp_id"])
    emulator.set_config(signature_window_s=10**10, accept_any_ticket=True)
    query = ("accessKey=suitevectord&timestamp=1636725918388&suiteTicket=ticket"
             "&signature=LOZmXJzlQYpIu5emP6%2F1OF4hE3qlMzY%2F6y4FbDjXPbU%3D")
    url = f"{emulator.base_url}/service/get_corp_token?{query}"
    body = requests.post(url, json={"auth_corpid": corp["corp_id"]}, timeout=10).json()
    assert body["errcode"] == 0 and body["access_token"]
    tampered = requests.post(url.replace("LOZm", "LOZn"), json={"auth_corpid": corp["corp_id"]},
                             timeout=10).json()
    assert tampered["errcode"] == 853004
