"""EmulatorControl: a small requests wrapper over the /_emulator/ control API."""

from typing import Any

import requests


class EmulatorControlError(RuntimeError):
    """The control API refused a call (HTTP 4xx)."""


class EmulatorControl:
    """One method per control route; `base_url` is what a DingTalk client should point at."""

    def __init__(self, base_url: str, *, session: requests.Session | None = None,
                 timeout: float = 30.0):
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"EmulatorControl({self.base_url!r})"

    def _call(self, method: str, path: str, body: dict | None = None,
              params: dict | None = None) -> Any:
        response = self.session.request(method, f"{self.base_url}/_emulator/{path}",
                                        json=body, params=params, timeout=self.timeout)
        if response.status_code >= 400:
            raise EmulatorControlError(f"{method} /_emulator/{path}: {response.status_code} "
                                       f"{response.text[:500]}")
        return response.json()

    @staticmethod
    def _clean(**kwargs) -> dict:
        return {k: v for k, v in kwargs.items() if v is not None}

    # ---- world -------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, config: dict | None = None) -> None:
        self._call("POST", "reset", self._clean(seed=seed, config=config))

    def now_ms(self) -> int:
        return self._call("GET", "clock")["now_ms"]

    def advance(self, seconds: float) -> int:
        return self._call("POST", "clock/advance", {"seconds": seconds})["now_ms"]

    def set_config(self, **changes) -> dict:
        return self._call("POST", "config", changes)

    def get_config(self) -> dict:
        return self._call("GET", "config")

    def save_state(self, path: str | None = None) -> dict:
        return self._call("POST", "state/save", self._clean(path=path))

    # ---- corps and apps ------------------------------------------------------------------
    def create_corp(self, *, users: int = 0, name: str | None = None,
                    corp_id: str | None = None, seed: int | None = None,
                    depts: int | None = None) -> dict:
        """-> {corp_id, name, corpsecret, user_count, dept_count, dept_ids, userids};
        `depts` departments below the root (default users // 25, at least 2)."""
        return self._call("POST", "corps", self._clean(users=users, name=name, corp_id=corp_id,
                                                       seed=seed, depts=depts))

    def list_corps(self) -> list[dict]:
        return self._call("GET", "corps")

    def get_corp(self, corp_id: str, *, users: bool = True) -> dict:
        """Adds departments [{id, name, parent_id, ...}] and users [{userid, depts, ...}]."""
        return self._call("GET", f"corps/{corp_id}", params={"users": int(users)})

    def corp_update(self, corp_id: str, **changes) -> dict:
        """Change corp fields (name, industry, ...) and push biz_type 16 to its suites."""
        return self._call("POST", f"corps/{corp_id}/update", changes)

    def contact_change(self, corp_id: str, action: str, *, user: dict | None = None,
                       dept: dict | None = None, hold: bool | None = None,
                       drop: bool | None = None, duplicate: bool | None = None) -> dict:
        """user_add_org / user_modify_org / user_leave_org / org_dept_create / _modify / _remove.

        hold (kept until release_pushes), drop (applied, never pushed), duplicate (pushed
        twice): this call's delivery faults; -> {action, userids | dept_ids, records,
        notified, push_ids}."""
        return self._call("POST", f"corps/{corp_id}/contact_change", self._clean(
            action=action, user=user, dept=dept, hold=hold, drop=drop, duplicate=duplicate))

    def contact_batch(self, corp_id: str, changes: list[dict], *, hold: bool | None = None,
                      drop: bool | None = None, duplicate: bool | None = None) -> dict:
        """Several changes [{action, user | dept}], all or none, pushed as the rows of one
        SyncHTTP push; -> {changes, records, notified, push_ids}."""
        return self._call("POST", f"corps/{corp_id}/contact_change", self._clean(
            changes=changes, hold=hold, drop=drop, duplicate=duplicate))

    def create_app(self, corp_id: str, *, name: str | None = None, appkey: str | None = None,
                   appsecret: str | None = None, agent_id: int | None = None) -> dict:
        """-> {appkey, appsecret, corp_id, agent_id, app_id, name, state}."""
        return self._call("POST", "apps", self._clean(corp_id=corp_id, name=name, appkey=appkey,
                                                      appsecret=appsecret, agent_id=agent_id))

    def get_app(self, appkey: str) -> dict:
        return self._call("GET", f"apps/{appkey}")

    # ---- suites --------------------------------------------------------------------------
    def create_suite(self, **fields) -> dict:
        """Fields: suite_key, suite_id, suite_secret, token, aes_key, name, callback_url,
        push_style ("http"|"sync_http"), message_api ("asyncsend_v2"|"sendbytemplate"),
        templates, legacy_url_check. All optional; -> the suite incl. its current ticket."""
        return self._call("POST", "suites", fields)

    def get_suite(self, suite_key: str) -> dict:
        return self._call("GET", f"suites/{suite_key}")

    def current_ticket(self, suite_key: str) -> str:
        return self._call("GET", f"suites/{suite_key}/ticket")["ticket"]

    def push_ticket(self, suite_key: str) -> str:
        """Rotate the ticket now (the old one is superseded) and push it."""
        return self._call("POST", f"suites/{suite_key}/ticket")["ticket"]

    def authorize(self, suite_key: str, corp_id: str, *, authed_dept: list[int] | None = None,
                  authed_user: list[str] | None = None, activated: bool | None = None,
                  admin_userid: str | None = None) -> dict:
        """-> the auth record: agent_id, app_id, permanent_code, tmp_auth_code, auth_info, ..."""
        return self._call("POST", f"suites/{suite_key}/authorize", self._clean(
            corp_id=corp_id, authed_dept=authed_dept, authed_user=authed_user,
            activated=activated, admin_userid=admin_userid))

    def change_auth(self, suite_key: str, corp_id: str, *, authed_dept: list[int] | None = None,
                    authed_user: list[str] | None = None,
                    auth_user_field: list[str] | None = None, push: str | None = None) -> dict:
        """Change the authorised scope; push "change_auth" (biz_type 4 org_suite_change, the
        default), "scope_update" (biz_type 7 org_micro_app_scope_update) or "none"."""
        return self._call("POST", f"suites/{suite_key}/change_auth", self._clean(
            corp_id=corp_id, authed_dept=authed_dept, authed_user=authed_user,
            auth_user_field=auth_user_field, push=push))

    def relieve(self, suite_key: str, corp_id: str) -> dict:
        return self._call("POST", f"suites/{suite_key}/relieve", {"corp_id": corp_id})

    def get_auth(self, suite_key: str, corp_id: str) -> dict:
        return self._call("GET", f"suites/{suite_key}/auths/{corp_id}")

    def app_state(self, suite_key: str, corp_id: str, action: str) -> dict:
        """action: "stop", "restore" or "remove"."""
        return self._call("POST", f"suites/{suite_key}/app_state",
                          {"corp_id": corp_id, "action": action})

    # ---- faults, tokens, counters ------------------------------------------------------
    def add_fault(self, endpoint: str = "*", *, corp_id: str | None = None,
                  errcode: int | None = None, errmsg: str | None = None,
                  http_status: int | None = None, latency_ms: int = 0, drop: bool = False,
                  expire_token: bool = False, throttle: str | None = None, rate: float = 1.0,
                  count: int | None = None, sub_code: str | None = None,
                  sub_msg: str | None = None, ip_ban: bool = False,
                  raw_body: str | None = None, drop_after: bool = False) -> dict:
        """endpoint without its leading slash ("user/get") or "*"; -> the fault with its id."""
        return self._call("POST", "faults", self._clean(
            endpoint=endpoint, corp_id=corp_id, errcode=errcode, errmsg=errmsg,
            http_status=http_status, latency_ms=latency_ms, drop=drop,
            expire_token=expire_token, throttle=throttle, rate=rate, count=count,
            sub_code=sub_code, sub_msg=sub_msg, ip_ban=ip_ban or None, raw_body=raw_body,
            drop_after=drop_after or None))

    def faults(self) -> list[dict]:
        return self._call("GET", "faults")

    def clear_faults(self) -> None:
        self._call("DELETE", "faults")

    def expire_tokens(self, *, corp_id: str | None = None, appkey: str | None = None,
                      suite_key: str | None = None, kind: str | None = None) -> int:
        """Force matching tokens to expire now; kind: app, corpsecret, suite_corp or suite."""
        return self._call("POST", "tokens/expire", self._clean(
            corp_id=corp_id, appkey=appkey, suite_key=suite_key, kind=kind))["expired"]

    def counters(self) -> dict:
        return self._call("GET", "counters")

    def reset_counters(self) -> None:
        self._call("POST", "counters/reset")

    # ---- work notices and pushes (routes of notices/ and pushes/) -----------------------
    def mark_read(self, *, task_id: int | None = None, userids: list[str] | None = None,
                  corp_id: str | None = None) -> dict:
        return self._call("POST", "notices/mark_read",
                          self._clean(task_id=task_id, userids=userids, corp_id=corp_id))

    def task(self, task_id: int) -> dict:
        return self._call("GET", f"notices/tasks/{task_id}")

    def check_url(self, suite_key: str, *, kind: str = "update",
                  random: str | None = None) -> dict:
        """Push check_create_suite_url / check_update_suite_url -> {"random", "push"}."""
        return self._call("POST", f"suites/{suite_key}/check_url",
                          self._clean(kind=kind, random=random))

    def jsapi_verify(self, corp_id: str, *, url: str, nonce_str: str, timestamp: int | str,
                     signature: str, agent_id: int | None = None) -> dict:
        """The container's check of a dd.config -> {"ok", "hash"} or {"ok": False,
        "errorCode", "reason"} (handlers/jsapi.py)."""
        return self._call("POST", f"corps/{corp_id}/jsapi/verify", self._clean(
            url=url, nonceStr=nonce_str, timeStamp=timestamp, signature=signature,
            agentId=agent_id))

    def pushes(self, *, suite_key: str | None = None) -> list[dict]:
        return self._call("GET", "pushes", params=self._clean(suite_key=suite_key))

    def release_pushes(self, *, suite_key: str | None = None, corp_id: str | None = None,
                       order: str = "forward", coalesce: bool = False) -> list[dict]:
        """Queue held pushes in creation ("forward") or "reverse" order; coalesce merges each
        suite's held SyncHTTP contact pushes into one push of all their rows."""
        return self._call("POST", "pushes/release", self._clean(
            suite_key=suite_key, corp_id=corp_id, order=order, coalesce=coalesce))["released"]

    def mark_chat_read(self, message_id: str, userids: list[str]) -> dict:
        """Mark a chat/send messageId read by these members (chat/getReadList shows them)."""
        return self._call("POST", "chats/read", {"message_id": message_id, "userids": userids})

    def sso_code(self, corp_id: str, userid: str, *, suite_key: str | None = None,
                 appkey: str | None = None) -> str:
        """A single-use SSO auth code for the user (300 s on the emulator's clock)."""
        body = self._clean(userid=userid, suite_key=suite_key, appkey=appkey)
        return self._call("POST", f"corps/{corp_id}/sso_code", body)["code"]

    def isv_set(self, corp_id: str, *, sso_secret: str | None = None) -> dict:
        """Register (or update) the ISV's own corp for admin-console SSO -> {corp_id,
        sso_secret} (a secret is generated when none is given)."""
        return self._call("POST", "isv", self._clean(corp_id=corp_id, sso_secret=sso_secret))

    def sso_admin_code(self, corp_id: str, userid: str, *,
                       isv_corp_id: str | None = None) -> str:
        """A single-use admin-console SSO code for an admin of the corp (300 s)."""
        body = self._clean(userid=userid, isv_corp_id=isv_corp_id)
        return self._call("POST", f"corps/{corp_id}/sso_admin_code", body)["code"]

    def list_media(self, corp_id: str) -> list[dict]:
        """The corp's media/upload records (no bytes: size and sha256), oldest first."""
        return self._call("GET", f"corps/{corp_id}/media")

    # ---- the app market (routes of market/) ----------------------------------------------
    def market_order(self, suite_key: str, corp_id: str, item_code: str, **fields) -> dict:
        """A paid order (order_type, charge_type, in_app, pay_fee, push=False, ... as the
        route takes them), pushed as biz_type 17 / market_buy -> the order + "pushes"."""
        return self._call("POST", f"suites/{suite_key}/market/orders",
                          {"corp_id": corp_id, "item_code": item_code, **fields})

    def market_orders(self, suite_key: str, *, corp_id: str | None = None) -> list[dict]:
        return self._call("GET", f"suites/{suite_key}/market/orders",
                          params=self._clean(corp_id=corp_id))

    def market_refund(self, suite_key: str, order_id: str, **fields) -> dict:
        """Close the order (status 0); pushes 37 and/or 212 (via, refund_fee, push)."""
        return self._call("POST", f"suites/{suite_key}/market/orders/{order_id}/refund", fields)

    def market_open(self, suite_key: str, order_id: str, **fields) -> dict:
        """A renew-change order takes effect: 37 market_service_open (openType 3)."""
        return self._call("POST", f"suites/{suite_key}/market/orders/{order_id}/open", fields)

    def market_free_switch(self, suite_key: str, order_id: str, item_code: str,
                           **fields) -> dict:
        """The free order DingTalk places when the trial `order_id` ends."""
        return self._call("POST", f"suites/{suite_key}/market/orders/{order_id}/free_switch",
                          {"item_code": item_code, **fields})

    def market_tryout(self, suite_key: str, corp_id: str, **fields) -> dict:
        """An app open (biz_type 63): userid, tryout_type, item_type, days, item_code, push."""
        return self._call("POST", f"suites/{suite_key}/market/tryout",
                          {"corp_id": corp_id, **fields})
