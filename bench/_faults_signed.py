"""bench/faults.py's signed pushes: hostile plaintexts DingTalk's signature vouches for."""

from __future__ import annotations

import base64
import json
import os
import sys
from dataclasses import dataclass

from _callbacks_stack import ROOT, alnum
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

sys.path.insert(0, str(ROOT))

from dingtalk.crypto import CallbackCrypto  # noqa: E402


@dataclass
class SuiteInfo:
    key: str
    suite_id: str
    push_style: str
    secret: str
    token: str
    aes_key: str

    def crypto(self, key: str | None = None) -> CallbackCrypto:
        return CallbackCrypto(token=self.token, encoding_aes_key=self.aes_key,
                              key=key or self.key)

    def secrets(self) -> list[str]:
        return [self.secret, self.token, self.aes_key]


@dataclass
class Signed:
    name: str
    plaintext: str | bytes  # bytes: sent as is, even when not UTF-8
    expect: str = "stored"  # "stored" (200 + success + a row) or "refused" (4xx, nothing)
    sign_as: SuiteInfo | None = None  # another suite's token and AES key
    trailing_key: str | None = None  # another $key inside the ciphertext


def encrypt_bytes(aes_key: str, message: bytes, key: str) -> str:
    """dingtalk.crypto's layout for a message that need not be UTF-8."""
    raw_key = base64.b64decode(aes_key + "=")
    buf = os.urandom(16) + len(message).to_bytes(4, "big") + message + key.encode()
    pad = 32 - len(buf) % 32
    buf += bytes([pad]) * pad
    encryptor = Cipher(algorithms.AES(raw_key), modes.CBC(raw_key[:16])).encryptor()
    return base64.b64encode(encryptor.update(buf) + encryptor.finalize()).decode("ascii")


def push_request(suite: SuiteInfo, case: Signed) -> tuple[str, bytes]:
    """(query, body) of a push signed with the suite's token (or case.sign_as's)."""
    signer = case.sign_as or suite
    key = case.trailing_key or suite.key
    text = case.plaintext
    message = text if isinstance(text, bytes) else text.encode("utf-8")
    encrypt = encrypt_bytes(signer.aes_key, message, key)
    timestamp, nonce = "1700000000000", alnum(10)
    signature = signer.crypto().signature(timestamp, nonce, encrypt)
    query = f"signature={signature}&timestamp={timestamp}&nonce={nonce}"
    return query, json.dumps({"encrypt": encrypt}).encode("ascii")


def fill(template: str, **values: str) -> str:
    """The template with each <name> replaced (JSON braces make %- and {}-formats unreadable);
    biz_data goes last in row() so that its own text is never filled in."""
    for name, value in values.items():
        template = template.replace(f"<{name}>", value)
    return template


def ticket(suite_key: str, value: str, ts: int | str = 1_700_000_000_000) -> str:
    return fill('{"EventType": "suite_ticket", "SuiteKey": "<k>", "SuiteTicket": "<v>", '
                '"TimeStamp": <ts>}', k=suite_key, v=value, ts=str(ts))


def row(suite_id: str, *, biz_type: int = 13, biz_data: str | None = None,
        modified: str = "1700000000000", biz_id: str | None = None) -> str:
    biz_id = biz_id or f"user{alnum(6)}"
    if biz_data is None:
        biz_data = json.dumps(json.dumps({"syncAction": "user_add_org", "userid": biz_id}))
    return fill('{"gmt_create": 1700000000000, "gmt_modified": <mod>, "biz_type": <type>, '
                '"open_cursor": 0, "subscribe_id": "<sid>_0", "id": 1, "biz_id": "<id>", '
                '"corp_id": "dingcorp1", "status": 0, "biz_data": <data>}', mod=modified,
                type=str(biz_type), sid=suite_id, id=biz_id, data=biz_data)


def sync(*rows: str) -> str:
    return '{"EventType": "SYNC_HTTP_PUSH_HIGH", "bizData": [' + ", ".join(rows) + "]}"


def signed_cases(suite: SuiteInfo, tickets: list[str]) -> list[Signed]:
    """Pushes DingTalk could have signed: each must be stored and answered success.
    `tickets` collects every ticket value worth looking for in the logs."""
    good = f"tkt{alnum(29)}"
    tickets.append(good)
    k, sid = suite.key, suite.suite_id
    deep = '"' + "[" * 100_000 + '"'
    nested_obj = json.dumps('{"a":' * 5000 + "1" + "}" * 5000)
    cases = [
        Signed("valid suite_ticket (baseline)", ticket(k, good, 1_700_000_000_001)),
        Signed("valid SyncHTTP user row (baseline)", sync(row(sid))),
        Signed("not JSON", f"not json at all {alnum(6)}"),
        Signed("JSON array", "[1, 2]"),
        Signed("JSON null / string / number", '"just a string"'),
        Signed("empty plaintext", ""),
        Signed('{"TimeStamp": Infinity}', '{"TimeStamp": Infinity}'),
        Signed("suite_ticket TimeStamp 1e400",
               '{"EventType":"suite_ticket","SuiteTicket":"x","TimeStamp": 1e400}'),
        Signed("100,000 '[' (unclosed)", "[" * 100_000),
        Signed("95,000 nested arrays (balanced)", "[" * 95_000 + "]" * 95_000),
        Signed("NUL (\\u0000) in CorpId/SuiteTicket", fill(
               '{"EventType":"suite_ticket","SuiteKey":"<k>","SuiteTicket":"t\\u0000x",'
               '"CorpId":"ding\\u0000corp","TimeStamp":1700000000002}', k=k)),
        Signed("raw NUL bytes in CorpId/SuiteTicket", fill(
               '{"EventType":"suite_ticket","SuiteKey":"<k>","SuiteTicket":"t\x00x",'
               '"CorpId":"ding\x00corp","TimeStamp":1700000000003}', k=k)),
        Signed("raw NUL in non-JSON text", "not json\x00 at all"),
        Signed("lone surrogates (\\ud800) in values and keys", fill(
               '{"EventType":"suite_ticket","SuiteKey":"<k>","SuiteTicket":"\\ud800",'
               '"CorpId":"\\udfff","\\udbff":1,"TimeStamp":1700000000004}', k=k)),
        Signed("lone surrogate (\\ud800) in SuiteTicket only", ticket(k, "\\ud800")),
        Signed("lone surrogate (\\udc00) in a SyncHTTP row's corp_id",
               sync(row(sid).replace('"dingcorp1"', '"\\udc00"'))),
        Signed("lone surrogate as raw bytes (not UTF-8)",
               '{"EventType":"x","v":"\ud800"}'.encode("utf-8", "surrogatepass")),
        Signed("SyncHTTP row gmt_modified Infinity", sync(row(sid, modified="Infinity"))),
        Signed("SyncHTTP row gmt_modified 1e400", sync(row(sid, modified="1e400"))),
        Signed("SyncHTTP row gmt_modified -1e400", sync(row(sid, modified="-1e400"))),
        Signed("TimeStamp 10**30", ticket(k, f"tkt{alnum(8)}", 10**30)),
        Signed("TimeStamp -10**30", ticket(k, f"tkt{alnum(8)}", -(10**30))),
        Signed("TimeStamp 4,000 digits", ticket(k, f"tkt{alnum(8)}", "9" * 4000)),
        Signed("TimeStamp 5,000 digits (past int limit)", ticket(k, f"tkt{alnum(8)}", "9" * 5000)),
        Signed("TimeStamp 1.5e308", ticket(k, f"tkt{alnum(8)}", "1.5e308")),
        Signed("TimeStamp -0.0 and NaN", '{"EventType":"x","TimeStamp":-0.0,"n":NaN}'),
        Signed("biz_data string of 100,000 '['", sync(row(sid, biz_data=deep))),
        Signed("biz_data string nested 5,000 objects", sync(row(sid, biz_data=nested_obj))),
        Signed("biz_data as a nested object 900 deep",
               sync(row(sid, biz_data='{"a":' * 900 + "1" + "}" * 900))),
        Signed("bizData not a list", '{"EventType":"SYNC_HTTP_PUSH_HIGH","bizData":"x"}'),
        Signed("bizData of non-objects", '{"EventType":"SYNC_HTTP_PUSH_HIGH",'
                                         '"bizData":[1,null,"x",[]]}'),
        Signed("500 SyncHTTP rows", sync(*(row(sid) for _ in range(500)))),
        Signed("EventType an object", fill('{"EventType":{"a":1},"SuiteKey":"<k>"}', k=k)),
        Signed("SuiteKey an object", '{"EventType":"suite_ticket","SuiteKey":{"a":1}}'),
        Signed("150 KB SuiteTicket", ticket(k, "t" * 150_000)),
        Signed("duplicate EventType keys", '{"EventType":"suite_ticket","EventType":"zzz"}'),
        Signed("ANSI escapes and newlines in values",
               '{"EventType":"x\\n\\u001b[31m","CorpId":"c\\r\\nforged"}'),
    ]
    return cases + nesting_sweep()


def nesting_sweep() -> list[Signed]:
    """Nesting near Python's recursion limit: parsed at one stack depth, written at another."""
    out = []
    for depth in range(880, 1001, 2):
        out.append(Signed(f"JSON nested {depth} deep",
                          '{"EventType":"x","d":' + "[" * depth + "]" * depth + "}"))
    return out


def wrong_suite_cases(suite: SuiteInfo, other: SuiteInfo, tickets: list[str]) -> list[Signed]:
    """Pushes to `suite`'s URL that name or are sealed for `other`: refused, nothing stored."""
    value = f"tkt{alnum(29)}"
    tickets.append(value)
    bad_row = row(other.suite_id)
    ticket_row = row(suite.suite_id, biz_type=2, biz_data=json.dumps(json.dumps(
        {"syncAction": "suite_ticket", "suiteTicket": f"tkt{alnum(29)}",
         "suiteKey": other.key})))
    return [
        Signed(f"names the other suite's SuiteKey ({other.key})", ticket(other.key, value),
               expect="refused"),
        Signed(f"row with the other suite's subscribe_id ({other.suite_id}_0)", sync(bad_row),
               expect="refused"),
        Signed("good row + row with the other subscribe_id",
               sync(row(suite.suite_id), bad_row), expect="refused"),
        Signed("biz_type 2 ticket row naming the other suiteKey", sync(ticket_row),
               expect="refused"),
        Signed("signed and sealed with the other suite's secrets", ticket(suite.key, value),
               expect="refused", sign_as=other, trailing_key=other.key),
        Signed("own token and AES key, other suite's $key", ticket(suite.key, value),
               expect="refused", trailing_key=other.key),
    ]
