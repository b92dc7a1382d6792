"""Tests for callback crypto against PROTOCOL 8.2 vectors, plus property tests."""

import base64
import os
import string
import struct
from collections import Counter

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given, settings
from hypothesis import strategies as st

import dingtalk.crypto as crypto_module
from dingtalk.crypto import CREATE_SUITE_KEY, CallbackCrypto
from dingtalk.errors import CallbackDecryptError, CallbackError, CallbackSignatureError

TOKEN = "123456"
AES_KEY = "4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij"
TIMESTAMP = "1445827045067"
NONCE = "nEXhMP4r"
PLAINTEXT = (
    '{"EventType":"check_create_suite_url","Random":"LPIdSnlF",'
    '"TestSuiteKey":"suite4xxxxxxxxxxxxxxx"}'
)
A_SIGNATURE = "5a65ceeef9aab2d149439f82dc191dd6c5cbe2c0"
A_ENCRYPT = (
    "1a3NBxmCFwkCJvfoQ7WhJHB+iX3qHPsc9JbaDznE1i03peOk1LaOQoRz3+nlyGNhwmwJ3vDMG+OzrHMeiZI7gTRWVdU"
    "BmfxjZ8Ej23JVYa9VrYeJ5as7XM/ZpulX8NEQis44w53h1qAgnC3PRzM7Zc/D6Ibr0rgUathB6zRHP8PYrfgnNOS9Ph"
    "SBdHlegK+AGGanfwjXuQ9+0pZcy0w9lQ=="
)
B_ENCRYPT = (
    "5DJFWzjRNOQk+5GSZxW+VrFMDWCIidPjEjg3//gm5x556BedVi62rDj1F9uXU97a4jw1R4FACUv9RCpoDobNqxhxRB2"
    "YtW901k4KHbP1/wpFJ3xdLG0n0A8U1VhENg80zKJd+YROR0YMGum4WYuoXJ6J98vt0ihYeIFoapNddLML5MyNAGM9sa"
    "SpkouDMSvD+iU14i7V8ix1ia1Tb9ogog=="
)
B_SIGNATURE = "bcf6dcefa4ce2dbaf7b0666c7264d46fd9aad4bd"


VECTOR_CRYPTO = CallbackCrypto(token=TOKEN, encoding_aes_key=AES_KEY, key=CREATE_SUITE_KEY)


@pytest.fixture
def crypto():
    return VECTOR_CRYPTO


def raw_encrypt(buf: bytes) -> str:
    """Encrypt an arbitrary (block-aligned) buffer with the vector key, bypassing the framing."""
    key = base64.b64decode(AES_KEY + "=")
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(enc.update(buf) + enc.finalize()).decode()


def test_crypto_vector_a_decrypts(crypto):
    assert crypto.signature(TIMESTAMP, NONCE, A_ENCRYPT) == A_SIGNATURE
    out = crypto.verify_and_decrypt(
        signature=A_SIGNATURE, timestamp=TIMESTAMP, nonce=NONCE, encrypt=A_ENCRYPT
    )
    assert out == PLAINTEXT


def test_crypto_vector_a_wrong_nonce_is_signature_error(crypto):
    with pytest.raises(CallbackSignatureError):
        crypto.verify_and_decrypt(
            signature=A_SIGNATURE, timestamp=TIMESTAMP, nonce="xxxxx", encrypt=A_ENCRYPT
        )


def test_crypto_vector_b_encrypts(crypto):
    assert crypto.encrypt(PLAINTEXT, random16=b"1234567890123456") == B_ENCRYPT
    reply = crypto.encrypted_reply(
        PLAINTEXT, timestamp=TIMESTAMP, nonce=NONCE, random16=b"1234567890123456"
    )
    assert reply == {
        "msg_signature": B_SIGNATURE,
        "timeStamp": TIMESTAMP,
        "nonce": NONCE,
        "encrypt": B_ENCRYPT,
    }


def test_crypto_encrypted_reply_defaults_are_fresh_and_verifiable(crypto):
    one = crypto.encrypted_reply()
    two = crypto.encrypted_reply()
    assert set(one) == {"msg_signature", "timeStamp", "nonce", "encrypt"}
    assert one["nonce"] != two["nonce"] and one["encrypt"] != two["encrypt"]
    assert one["timeStamp"].isdigit() and len(one["timeStamp"]) == 13
    plain = crypto.verify_and_decrypt(
        signature=one["msg_signature"], timestamp=one["timeStamp"],
        nonce=one["nonce"], encrypt=one["encrypt"],
    )
    assert plain == "success"


def test_crypto_random_prefix_and_nonce_are_sixteen_letters_or_digits(crypto):
    alphabet = set(string.ascii_letters + string.digits)
    reply = crypto.encrypted_reply()
    raw = crypto._decrypt_raw(reply["encrypt"])
    assert len(reply["nonce"]) == 16 and set(reply["nonce"]) <= alphabet
    assert set(raw[:16].decode("ascii")) <= alphabet


def test_crypto_random_text_is_unbiased_across_the_alphabet():
    counts = Counter(crypto_module._random_text(16 * 6200))
    assert set(counts) == set(string.ascii_letters + string.digits)
    # 1,600 expected per character; a byte-modulo bias would put 8 of them near 2,000.
    assert max(counts.values()) < 1850 and min(counts.values()) > 1350


def test_crypto_random_text_draws_again_when_bytes_are_rejected(monkeypatch):
    draws = iter([b"\xff" * 20 + b"abcd", bytes(range(24))])
    monkeypatch.setattr(crypto_module.os, "urandom", lambda n: next(draws))
    text = crypto_module._random_text(16)
    assert text == "JKLM" + "abcdefghijkl"


def test_crypto_wrong_trailing_key_is_decrypt_error():
    other = CallbackCrypto(token=TOKEN, encoding_aes_key=AES_KEY, key="suiteOther")
    with pytest.raises(CallbackDecryptError, match="trailing key"):
        other.decrypt(A_ENCRYPT)


def test_crypto_wrong_aes_key_is_decrypt_error():
    other = CallbackCrypto(token=TOKEN, encoding_aes_key="a" * 43, key=CREATE_SUITE_KEY)
    with pytest.raises(CallbackDecryptError):
        other.decrypt(A_ENCRYPT)


@pytest.mark.parametrize("bad_key", ["", "a" * 42, "a" * 44, "!" * 43, AES_KEY[:-1] + "é", None])
def test_crypto_bad_encoding_aes_key_rejected(bad_key):
    with pytest.raises(CallbackDecryptError) as info:
        CallbackCrypto(token=TOKEN, encoding_aes_key=bad_key, key="k")
    if bad_key:
        assert bad_key not in str(info.value)


@pytest.mark.parametrize(
    "encrypt",
    ["", "not base64!!", "YWJj", base64.b64encode(b"x" * 17).decode(), None, 12],
)
def test_crypto_malformed_ciphertext_is_decrypt_error(crypto, encrypt):
    with pytest.raises(CallbackDecryptError):
        crypto.decrypt(encrypt)


def test_crypto_huge_declared_length_is_decrypt_error(crypto):
    buf = b"r" * 16 + struct.pack(">I", 0xFFFFFFFF) + b"hi" + CREATE_SUITE_KEY.encode()
    pad = 32 - len(buf) % 32
    with pytest.raises(CallbackDecryptError, match="length"):
        crypto.decrypt(raw_encrypt(buf + bytes([pad]) * pad))


@pytest.mark.parametrize("pad_byte", [0, 33, 255])
def test_crypto_bad_pad_byte_is_decrypt_error(crypto, pad_byte):
    buf = b"r" * 16 + struct.pack(">I", 2) + b"hi" + CREATE_SUITE_KEY.encode()
    buf += b"\x01" * (63 - len(buf)) + bytes([pad_byte])
    with pytest.raises(CallbackDecryptError, match="padding"):
        crypto.decrypt(raw_encrypt(buf))


def test_crypto_accepts_16_byte_padding(crypto):
    buf = b"r" * 16 + struct.pack(">I", 2) + b"hi" + CREATE_SUITE_KEY.encode()
    pad = 16 - len(buf) % 16
    assert crypto.decrypt(raw_encrypt(buf + bytes([pad]) * pad)) == "hi"


def test_crypto_repr_hides_secrets(crypto):
    text = repr(crypto)
    assert TOKEN not in text and AES_KEY not in text
    assert CREATE_SUITE_KEY in text


def test_crypto_signature_missing_fields_is_signature_error(crypto):
    with pytest.raises(CallbackSignatureError):
        crypto.verify_and_decrypt(signature=None, timestamp=TIMESTAMP, nonce=NONCE,
                                  encrypt=A_ENCRYPT)


def test_crypto_errors_are_callback_errors():
    assert issubclass(CallbackDecryptError, CallbackError)
    assert issubclass(CallbackSignatureError, CallbackError)


aes_keys = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
    min_size=43, max_size=43,
)


@settings(max_examples=150, deadline=None)
@given(plaintext=st.text(), key=st.text(min_size=1, max_size=40), aes_key=aes_keys,
       token=st.text(min_size=1, max_size=64))
def test_crypto_round_trip(plaintext, key, aes_key, token):
    crypto = CallbackCrypto(token=token, encoding_aes_key=aes_key, key=key)
    reply = crypto.encrypted_reply(plaintext)
    out = crypto.verify_and_decrypt(
        signature=reply["msg_signature"], timestamp=reply["timeStamp"],
        nonce=reply["nonce"], encrypt=reply["encrypt"],
    )
    assert out == plaintext


@settings(max_examples=300, deadline=None)
@given(garbage=st.one_of(
    st.text(),
    st.binary().map(lambda b: base64.b64encode(b).decode()),
    st.binary(min_size=1, max_size=40).map(lambda b: base64.b64encode(b * 16).decode()),
))
def test_crypto_garbage_only_raises_decrypt_error(garbage):
    try:
        VECTOR_CRYPTO.decrypt(garbage)
    except CallbackDecryptError:
        pass


def test_crypto_random_ciphertexts_never_decrypt(crypto):
    for i in range(500):
        with pytest.raises(CallbackDecryptError):
            crypto.decrypt(base64.b64encode(os.urandom(16 * (1 + i % 8))).decode())
