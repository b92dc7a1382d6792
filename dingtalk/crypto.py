"""DingTalk callback crypto (PROTOCOL section 8): signature, AES-256-CBC, the reply map."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import string
import struct
import time

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from dingtalk.errors import CallbackDecryptError, CallbackSignatureError

# The legacy $key of check_create_suite_url: the suite does not exist yet when it is pushed.
CREATE_SUITE_KEY = "suite4xxxxxxxxxxxxxxx"

_BLOCK = 32  # DingTalk pads PKCS#7 to 32 bytes, not to the AES block size
_AES_BLOCK = 16
_HEADER = 20  # 16 random bytes + uint32 big-endian message length
_PADS = [bytes([n]) * n for n in range(_BLOCK + 1)]
_ALPHABET = (string.ascii_letters + string.digits).encode("ascii")
# One urandom call per string: each byte below 248 (4 x 62) maps to a letter or digit without
# bias, the rest are dropped. 24 bytes leave fewer than 16 about once in 4e7 draws; then we draw
# again. (secrets.choice per character made encrypted_reply run at 0.6x 007gzs's SDK.)
_ACCEPT = len(_ALPHABET) * (256 // len(_ALPHABET))
_TO_ALPHABET = bytes(_ALPHABET[i % len(_ALPHABET)] for i in range(256))
_REJECT = bytes(range(_ACCEPT, 256))
_DRAW = 24


def _random_bytes(length: int) -> bytes:
    """`length` random ASCII letters and digits from the OS CSPRNG."""
    out = b""
    while len(out) < length:
        out += os.urandom(_DRAW).translate(_TO_ALPHABET, _REJECT)
    return out[:length]


def _random_text(length: int) -> str:
    return _random_bytes(length).decode("ascii")


def _aes_key(encoding_aes_key: str) -> bytes:
    if not isinstance(encoding_aes_key, str) or len(encoding_aes_key) != 43:
        raise CallbackDecryptError("EncodingAESKey must be 43 characters")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except (binascii.Error, ValueError):
        raise CallbackDecryptError("EncodingAESKey is not valid base64") from None
    if len(key) != 32:
        raise CallbackDecryptError("EncodingAESKey must decode to 32 bytes")
    return key


class CallbackCrypto:
    """Signs, encrypts and decrypts callback payloads for one app (one token/AES key/$key)."""

    def __init__(self, *, token: str, encoding_aes_key: str, key: str) -> None:
        self._token = token
        self._aes_key = _aes_key(encoding_aes_key)
        self.key = key
        self._key_bytes = key.encode("utf-8")
        # A Cipher is immutable and only makes contexts: one per app, shared by threads.
        self._aes = Cipher(algorithms.AES(self._aes_key), modes.CBC(self._aes_key[:_AES_BLOCK]))

    def __repr__(self) -> str:
        return f"CallbackCrypto(key={self.key!r}, token=***, encoding_aes_key=***)"

    def signature(self, timestamp: str, nonce: str, encrypt: str) -> str:
        """sha1 hex of the four strings sorted and concatenated."""
        parts = sorted([self._token, str(timestamp), str(nonce), encrypt])
        return hashlib.sha1("".join(parts).encode("utf-8")).hexdigest()  # noqa: S324

    def encrypt(self, plaintext: str, *, random16: bytes | None = None) -> str:
        """Base64 ciphertext of random16 ‖ uint32(len) ‖ msg ‖ $key, PKCS#7 padded to 32."""
        if random16 is None:
            random16 = _random_bytes(16)
        elif len(random16) != 16:
            raise ValueError("random16 must be 16 bytes")
        msg = plaintext.encode("utf-8")
        size = _HEADER + len(msg) + len(self._key_bytes)
        pad = _BLOCK - size % _BLOCK
        buf = b"".join((random16, len(msg).to_bytes(4, "big"), msg, self._key_bytes,
                        _PADS[pad]))
        encryptor = self._aes.encryptor()
        return binascii.b2a_base64(encryptor.update(buf) + encryptor.finalize(),
                                   newline=False).decode("ascii")

    def decrypt(self, encrypt: str, *, errors: str = "strict") -> str:
        """Plaintext of a payload; CallbackDecryptError if malformed or meant for another key.

        `errors` is how bytes that are not UTF-8 are decoded: "strict" refuses them; a receiver
        that must keep whatever a verified sender sent passes "surrogateescape".
        """
        buf = self._decrypt_raw(encrypt)
        pad = buf[-1]
        # Accept 1..32: 32-byte padders (the official SDK) and 16-byte ones (some Go SDKs).
        if not 1 <= pad <= _BLOCK or len(buf) - pad < _HEADER:
            raise CallbackDecryptError("invalid padding")
        content = buf[:-pad]
        (length,) = struct.unpack(">I", content[16:_HEADER])
        if _HEADER + length > len(content):
            raise CallbackDecryptError("message length exceeds the payload")
        tail = content[_HEADER + length:]
        if tail != self._key_bytes:
            raise CallbackDecryptError("trailing key does not match this app")
        try:
            return content[_HEADER:_HEADER + length].decode("utf-8", errors)
        except UnicodeDecodeError:
            raise CallbackDecryptError("message is not UTF-8") from None

    def _decrypt_raw(self, encrypt: str) -> bytes:
        if not isinstance(encrypt, str) or not encrypt:
            raise CallbackDecryptError("encrypt must be a non-empty string")
        try:
            data = base64.b64decode(encrypt, validate=True)
        except (binascii.Error, ValueError):
            raise CallbackDecryptError("encrypt is not valid base64") from None
        if not data or len(data) % _AES_BLOCK:
            raise CallbackDecryptError("ciphertext length is not a multiple of 16")
        decryptor = self._aes.decryptor()
        return decryptor.update(data) + decryptor.finalize()

    def verify_and_decrypt(self, *, signature: str, timestamp: str, nonce: str,
                           encrypt: str, errors: str = "strict") -> str:
        """Check the signature in constant time, then decrypt (`errors` as for decrypt)."""
        if not all(isinstance(v, str) for v in (signature, timestamp, nonce, encrypt)):
            raise CallbackSignatureError("signature, timestamp, nonce and encrypt are required")
        expected = self.signature(timestamp, nonce, encrypt)
        if not hmac.compare_digest(expected.encode("ascii"), signature.encode("utf-8")):
            raise CallbackSignatureError("callback signature mismatch")
        return self.decrypt(encrypt, errors=errors)

    def encrypted_reply(self, plaintext: str = "success", *, timestamp: str | None = None,
                        nonce: str | None = None, random16: bytes | None = None) -> dict:
        """`{"msg_signature", "timeStamp", "nonce", "encrypt"}`; new ms timestamp and nonce
        unless given (DingTalk accepts either)."""
        timestamp = str(int(time.time() * 1000)) if timestamp is None else str(timestamp)
        nonce = _random_text(16) if nonce is None else nonce
        encrypt = self.encrypt(plaintext, random16=random16)
        return {
            "msg_signature": self.signature(timestamp, nonce, encrypt),
            "timeStamp": timestamp,
            "nonce": nonce,
            "encrypt": encrypt,
        }
