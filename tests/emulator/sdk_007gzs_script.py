"""Drive the emulator with 007gzs's dingtalk-sdk (run by test_third_party_sdk.py in a subprocess).

This file runs with ONLY the SDK's install dir on sys.path: `import dingtalk` is the SDK, not
dingsuite. It reads {"base_url", "corp", "app", "userid"} as JSON on stdin and prints one JSON
object of results. The SDK code is used unchanged; its settings are the class attribute
`API_BASE_URL` and, for the ISV client, a KvStorage (its documented storage). The control API
(/_emulator/) is called with plain requests: it is the test harness, not DingTalk.
"""
# ruff: noqa: I001 (`dingtalk` here is the third-party SDK, not the first-party package)

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests
from dingtalk.client import AppKeyClient, SecretClient
from dingtalk.client.base import BaseClient
from dingtalk.client.isv import ISVClient
from dingtalk.core.exceptions import DingTalkClientException
from dingtalk.storage.kvstorage import KvStorage

WAIT_S = 10.0  # deadline for an asynchronous push to arrive


class Kvdb(dict):
    """The get/set/delete store the SDK's KvStorage wraps (redis in production).

    The SDK's default MemoryStorage cannot keep a value without a ttl (`int + None`), and
    set_suite_ticket stores one without: an SDK bug, so the ISV client gets a KvStorage.
    """

    def set(self, key, value, ttl=None):
        self[key] = value

    def delete(self, key):
        self.pop(key, None)


def control(base_url: str, method: str, path: str, body: dict | None = None):
    response = requests.request(method, f"{base_url}/_emulator/{path}", json=body, timeout=10)
    response.raise_for_status()
    return response.json()


def errcode_of(call) -> int:
    try:
        call()
    except DingTalkClientException as exc:
        return exc.errcode
    return 0


def internal_app(base_url: str, corp: dict, app: dict, userid: str) -> dict:
    client = AppKeyClient(corp["corp_id"], app["appkey"], app["appsecret"])
    user = client.user.get(userid)
    dept_id = user["department"][0]
    out = {
        "token": client.access_token,
        "user": user,
        "departments": client.department.list(fetch_child=True),
        "list_ids": client.department.list_ids(1),
        "dept": client.department.get(dept_id),
        "parents_by_dept": client.department.list_parent_depts_by_dept(dept_id),
        "parents_of_user": client.department.list_parent_depts(userid),
        "dept_member": client.user.get_dept_member(dept_id),
        "simple_list": client.user.simple_list(dept_id)["userlist"],
        "listbypage": client.user.listbypage(dept_id)["userlist"],
        # The SDK's flag means "include inactive users": True sends onlyActive=0.
        "count_all": client.user.get_org_user_count(True),
        "count_active": client.user.get_org_user_count(False),
        "by_unionid": client.user.get_userid_by_unionid(user["unionid"])["userid"],
        "unknown_user": errcode_of(lambda: client.user.get("nobody-here")),
    }
    # The SDK drops its cached token and retries once on 40014: force an expiry.
    control(base_url, "POST", "tokens/expire", {"appkey": app["appkey"]})
    out["after_expiry"] = client.user.get(userid)["userid"]
    out["token_after_expiry"] = client.access_token
    out["chat"] = chat_round_trip(client, corp)
    out["notice"] = work_notice(client, app, userid)
    legacy = SecretClient(corp["corp_id"], corp["corpsecret"])
    out["legacy_user"] = legacy.user.get(userid)["name"]
    return out


def chat_round_trip(client, corp: dict) -> dict:
    owner, other = corp["userids"][:2]
    chatid = client.chat.create("SDK 群", owner, [owner, other])
    info = client.chat.get(chatid)
    message_id = client.chat.send(chatid, {"msgtype": "text", "text": {"content": "hi"}})
    return {"chatid": chatid, "members": info["useridlist"], "message_id": message_id,
            "read_list": client.chat.get_read_list(message_id, 0, 10)}


def work_notice(client, app: dict, userid: str) -> dict:
    # The SDK's message.asyncsend_v2 wrapper goes to the TOP gateway (eco.taobao.com), which
    # the emulator does not model; its generic post() reaches oapi's topapi path.
    sent = client.post("/topapi/message/corpconversation/asyncsend_v2", {
        "agent_id": app["agent_id"], "userid_list": userid,
        "msg": {"msgtype": "text", "text": {"content": "hello from 007gzs"}}})
    body = {"agent_id": app["agent_id"], "task_id": sent["task_id"]}
    return {"task_id": sent["task_id"], "request_id": sent["request_id"],
            "progress": client.post("/topapi/message/corpconversation/getsendprogress",
                                    body)["progress"],
            "result": client.post("/topapi/message/corpconversation/getsendresult",
                                  body)["send_result"]}


class CallbackReceiver:
    """The ISV's callback URL: SDK crypto decrypts each push and answers encrypted success."""

    def __init__(self, isv: ISVClient):
        self.isv = isv
        self.events: list[dict] = []
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                query = dict(p.split("=", 1) for p in self.path.split("?", 1)[1].split("&"))
                message = receiver.isv.parse_message(json.loads(raw), query["signature"],
                                                     query["timestamp"], query["nonce"])
                reply = json.dumps(receiver.isv.crypto.encrypt_message("success")).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)
                with receiver.arrived:
                    receiver.events.append(message)
                    receiver.arrived.notify_all()

            def log_message(self, *args):
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/callback"

    def wait_for(self, event_type: str) -> dict:
        with self.arrived:
            found = self.arrived.wait_for(
                lambda: any(e.get("EventType") == event_type for e in self.events), WAIT_S)
            if not found:
                raise AssertionError(f"no {event_type} push within {WAIT_S} s")
            return [e for e in self.events if e.get("EventType") == event_type][-1]


def isv_suite(base_url: str, corp: dict, userid: str) -> dict:
    suite_key = "suite007gzssdk"
    token, aes_key = "sdktoken", "4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij"
    isv = ISVClient(suite_key, "sdk-suite-secret", token, aes_key, storage=KvStorage(Kvdb()))
    receiver = CallbackReceiver(isv)
    control(base_url, "POST", "suites", {
        "suite_key": suite_key, "suite_secret": "sdk-suite-secret", "token": token,
        "aes_key": aes_key, "callback_url": receiver.url, "push_style": "http"})
    control(base_url, "POST", f"suites/{suite_key}/ticket")
    ticket = receiver.wait_for("suite_ticket")["SuiteTicket"]
    # On tmp_auth_code the SDK itself calls get_suite_token and get_permanent_code.
    control(base_url, "POST", f"suites/{suite_key}/authorize", {"corp_id": corp["corp_id"]})
    auth_push = receiver.wait_for("tmp_auth_code")
    corp_id = corp["corp_id"]
    out = {"ticket": ticket, "cached_ticket": isv.cache.suite_ticket.get(),
           "auth_code_corp": auth_push["AuthCorpId"],
           "permanent_code_data": auth_push["__permanent_code_data"],
           "activate": isv.activate_suite(corp_id)["errcode"],
           "auth_info": isv.get_auth_info(corp_id)}
    agent_id = out["auth_info"]["auth_info"]["agent"][0]["agentid"]
    out["agent"] = isv.get_agent(corp_id, agent_id)
    corp_client = isv.get_dingtalk_client(corp_id)
    out["isv_user"] = corp_client.user.get(userid)
    out["isv_scopes"] = corp_client.user.auth_scopes()
    out["isv_chat"] = errcode_of(lambda: corp_client.chat.get("chat-none"))
    control(base_url, "POST", f"suites/{suite_key}/relieve", {"corp_id": corp_id})
    receiver.wait_for("suite_relieve")
    out["code_after_relieve"] = isv.get_permanent_code_from_cache(corp_id)
    out["pushes"] = control(base_url, "GET", f"pushes?suite_key={suite_key}")
    receiver.server.shutdown()
    return out


def main() -> None:
    args = json.load(sys.stdin)
    base_url = args["base_url"]
    BaseClient.API_BASE_URL = base_url + "/"
    import dingtalk

    result = {"sdk_file": dingtalk.__file__,
              "internal": internal_app(base_url, args["corp"], args["app"], args["userid"]),
              "isv": isv_suite(base_url, args["corp"], args["userid"])}
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
