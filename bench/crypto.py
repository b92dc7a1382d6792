"""Benchmark: callback encrypt+sign per second, dingsuite's CallbackCrypto vs 007gzs's dingtalk-sdk.

One core, one thread, side by side in one run, for (a) the "success" reply every callback
answers with and (b) a 300-byte plaintext (the size of the emulator's pushes). Each figure is
the best of --repeats rounds, the two libraries interleaved so that load from other processes
hits both alike. Decrypt+verify of (b) is printed too.

The peer is dingtalk-sdk[cryptography]==1.3.8, whose import name is also `dingtalk`, so it runs
in a child interpreter (`-S`, PYTHONPATH = its own directory) and so does ours, through the same
timing code. The SDK is taken from the directory tests/emulator/test_third_party_sdk.py installs
it into (<venv>/dingsuite-test-cache/dingtalk-sdk-1.3.8); when that is missing it is
pip-installed into a throwaway directory; when that fails the peer column is skipped.

    .venv/bin/python bench/crypto.py [--repeats 5] [--seconds 0.5]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SDK = "dingtalk-sdk[cryptography]==1.3.8"
SDK_CACHE = Path(sys.prefix) / "dingsuite-test-cache" / "dingtalk-sdk-1.3.8"

TOKEN = "123456"
AES_KEY = "4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij"
SUITE_KEY = "suite4xxxxxxxxxxxxxxx"


def _payload_300() -> str:
    """A SyncHTTP-style push plaintext of exactly 300 UTF-8 bytes."""
    row = {"EventType": "SYNC_HTTP_PUSH_HIGH", "bizData": [{
        "gmt_create": 1700000000000, "biz_type": 13, "open_cursor": 0,
        "subscribe_id": "14999999001_0", "id": 42, "gmt_modified": 1700000000000,
        "biz_id": "manager7078", "corp_id": "dingb0f46e3a2bc9a3d0f2c3e9a1b3b5c7d9",
        "status": 0, "biz_data": ""}]}
    text = json.dumps(row, separators=(",", ":"))
    row["bizData"][0]["biz_data"] = "x" * (300 - len(text.encode("utf-8")))
    text = json.dumps(row, separators=(",", ":"))
    assert len(text.encode("utf-8")) == 300, len(text)
    return text


# Runs in the child interpreter for both libraries: `setup` defines encrypt(msg) and
# decrypt(reply); each case is timed for about `seconds`, best of the rounds the parent asks for.
CHILD = r"""
import json, sys, time
spec = json.loads(sys.stdin.read())
exec(spec["setup"])

def rate(fn, seconds):
    n, start = 0, time.perf_counter()
    while True:
        for _ in range(200):
            fn()
        n += 200
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return n / elapsed

big = spec["payload"]
reply = encrypt(big)
assert decrypt(reply) == big
out = {
    "success": rate(lambda: encrypt("success"), spec["seconds"]),
    "payload": rate(lambda: encrypt(big), spec["seconds"]),
    "decrypt": rate(lambda: decrypt(reply), spec["seconds"]),
}
print(json.dumps(out))
"""

OURS = f"""
from dingtalk.crypto import CallbackCrypto
c = CallbackCrypto(token={TOKEN!r}, encoding_aes_key={AES_KEY!r}, key={SUITE_KEY!r})
encrypt = c.encrypted_reply
def decrypt(r):
    return c.verify_and_decrypt(signature=r["msg_signature"], timestamp=r["timeStamp"],
                                nonce=r["nonce"], encrypt=r["encrypt"])
"""

PEER = f"""
import dingtalk
from dingtalk.crypto import DingTalkCrypto
assert "dingtalk-sdk" in dingtalk.__file__, dingtalk.__file__
c = DingTalkCrypto({TOKEN!r}, {AES_KEY!r}, {SUITE_KEY!r})
encrypt = c.encrypt_message
def decrypt(r):
    return c.decrypt_encrypt_str(r["msg_signature"], r["timeStamp"], r["nonce"], r["encrypt"])
"""


def _peer_dir(scratch: Path) -> tuple[Path | None, str]:
    if (SDK_CACHE / "dingtalk" / "crypto" / "__init__.py").exists():
        return SDK_CACHE, f"peer: {SDK} from {SDK_CACHE}"
    target = scratch / "dingtalk-sdk"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--target", str(target), SDK], capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["pip failed"])[-1]
        return None, f"peer: SKIPPED, {SDK} could not be installed ({last})"
    return target, f"peer: {SDK} installed into a throwaway directory"


def _run(setup: str, pythonpath: Path, *, isolated: bool, args: argparse.Namespace,
         payload: str) -> dict[str, float]:
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(pythonpath),
           "PYTHONHASHSEED": "0"}
    command = [sys.executable, *(["-S"] if isolated else []), "-c", CHILD]
    spec = {"setup": setup, "payload": payload, "seconds": args.seconds}
    done = subprocess.run(command, input=json.dumps(spec), capture_output=True, text=True,
                          env=env, cwd=str(pythonpath), timeout=300, check=False)
    if done.returncode != 0:
        raise SystemExit(f"benchmark child failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout)


def _best(rounds: list[dict[str, float]]) -> dict[str, float]:
    return {k: max(r[k] for r in rounds) for k in rounds[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=0.5, help="per case per round")
    args = parser.parse_args()
    payload = _payload_300()
    scratch = Path(tempfile.mkdtemp(prefix="dingsuite-bench-crypto-"))
    try:
        peer_dir, peer_line = _peer_dir(scratch)
        ours_rounds, peer_rounds = [], []
        for _ in range(args.repeats):
            ours_rounds.append(_run(OURS, ROOT, isolated=False, args=args, payload=payload))
            if peer_dir is not None:
                peer_rounds.append(_run(PEER, peer_dir, isolated=True, args=args,
                                        payload=payload))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    ours = _best(ours_rounds)
    peer = _best(peer_rounds) if peer_rounds else None
    print(peer_line)
    print(f"best of {args.repeats} rounds, one thread, {args.seconds:.2f} s per case per round")
    print(f"{'case':<34}{'dingsuite /s':>14}{'peer /s':>12}{'ratio':>8}")
    cases = (("encrypt+sign 'success' reply", "success"),
             ("encrypt+sign 300-byte payload", "payload"),
             ("verify+decrypt 300-byte payload", "decrypt"))
    for label, key in cases:
        other = f"{peer[key]:>12,.0f}{ours[key] / peer[key]:>7.2f}x" if peer else f"{'-':>12}"
        print(f"{label:<34}{ours[key]:>14,.0f}{other}")


if __name__ == "__main__":
    main()
