"""A real ISV callback receiver (decrypts with dingtalk.crypto, answers as scripted), polling."""

import json
import threading
import time

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from dingtalk.crypto import CREATE_SUITE_KEY, CallbackCrypto

TOKEN = "tok123"
AES_KEY = "4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij"
FAST = {"retry_base_s": 0.001, "retry_factor": 1, "retry_cap_s": 0.001}


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


class Receiver:
    """An ISV callback endpoint: verifies, decrypts, records, then answers as scripted."""

    def __init__(self):
        self.cond = threading.Condition()
        self.reset()
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True,
                                  request_handler=QuietHandler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/callback"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def reset(self, suite_key="", modes=(), then="success"):
        with self.cond:
            self.suite_key, self.modes, self.then = suite_key, list(modes), then
            self.received: list[dict] = []

    def crypto(self, key):
        return CallbackCrypto(token=TOKEN, encoding_aes_key=AES_KEY, key=key)

    def _decrypt(self, request: Request) -> dict:
        args, encrypt = request.args, json.loads(request.get_data())["encrypt"]
        for key in (self.suite_key, CREATE_SUITE_KEY):
            try:
                text = self.crypto(key).verify_and_decrypt(
                    signature=args["signature"], timestamp=args["timestamp"],
                    nonce=args["nonce"], encrypt=encrypt)
                return {"key": key, "payload": json.loads(text), "query": dict(args)}
            except Exception:  # noqa: BLE001  (try the next $key)
                continue
        raise AssertionError("push did not decrypt with the suite's crypto")

    def app(self, environ, start_response):
        request = Request(environ)
        push = self._decrypt(request)
        with self.cond:
            mode = self.modes.pop(0) if self.modes else self.then
            self.received.append(push)
            self.cond.notify_all()
        return self.answer(mode, push)(environ, start_response)

    def answer(self, mode, push):
        crypto = self.crypto(push["key"])
        if mode == "nothing":
            return Response(b"", status=200)
        if mode == "http500":
            return Response(b"oops", status=500)
        if mode == "slow":
            time.sleep(0.6)  # a slow ISV: longer than the configured 0.3 s deadline
        text = {"wrong": "failure", "random": push["payload"].get("Random")}.get(mode, "success")
        reply = crypto.encrypted_reply(text)
        if mode == "lowercase":
            reply["timestamp"] = reply.pop("timeStamp")
        if mode == "badsig":
            reply["msg_signature"] = "0" * 40
        return Response(json.dumps(reply), content_type="application/json")

    def wait_for(self, count, timeout=5.0):
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"got {len(self.received)} pushes, wanted {count}")
                self.cond.wait(left)
            return list(self.received)




def poll(fn, timeout=5.0):
    """Call fn until it returns something truthy, or fail at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met before the deadline")
        threading.Event().wait(0.01)


def make_suite(emulator, receiver, *, modes=(), then="success", **fields):
    fields.setdefault("callback_url", receiver.url)
    suite = emulator.create_suite(token=TOKEN, aes_key=AES_KEY, **fields)
    receiver.reset(suite["suite_key"], modes, then)
    return suite


def settled(emulator, suite_key, count=1):
    """The suite's pushes once `count` of them are in a terminal state."""
    def done():
        pushes = emulator.pushes(suite_key=suite_key)
        finished = [p for p in pushes if p["status"] not in ("pending", "in_flight")]
        return pushes if len(finished) >= count else None
    return poll(done)
