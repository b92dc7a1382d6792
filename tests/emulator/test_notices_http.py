"""Work notifications over real HTTP: topapi/message/corpconversation/* against the emulator."""

import requests

from dingtalk.signing import signature_params

BASE = "/topapi/message/corpconversation"
TEXT = {"msgtype": "text", "text": {"content": "hello"}}


def internal(emulator, users=20):
    corp = emulator.create_corp(users=users)
    app = emulator.create_app(corp["corp_id"])
    token = requests.get(f"{emulator.base_url}/gettoken",
                         params={"appkey": app["appkey"], "appsecret": app["appsecret"]}).json()
    return corp, app, token["access_token"]


def isv(emulator, users=20, *, authed_dept=None, **suite_fields):
    corp = emulator.create_corp(users=users)
    suite = emulator.create_suite(**suite_fields)
    record = emulator.authorize(suite["suite_key"], corp["corp_id"], authed_dept=authed_dept)
    params = signature_params(access_key=suite["suite_key"], secret=suite["suite_secret"],
                              ticket=emulator.current_ticket(suite["suite_key"]))
    body = requests.post(f"{emulator.base_url}/service/get_corp_token", params=params,
                         json={"auth_corpid": corp["corp_id"]}).json()
    return corp, record, body["access_token"]


def call(emulator, token, path, **body):
    return requests.post(f"{emulator.base_url}{BASE}/{path}", params={"access_token": token},
                         json=body).json()


def test_notices_http_send_then_progress_and_result(emulator):
    corp, app, token = internal(emulator)
    users = corp["userids"][:3]
    sent = call(emulator, token, "asyncsend_v2", agent_id=app["agent_id"],
                userid_list=",".join(users + ["nobody"]), msg=TEXT)
    assert sent["errcode"] == 0 and isinstance(sent["task_id"], int) and sent["request_id"]
    emulator.advance(1)
    progress = call(emulator, token, "getsendprogress", agent_id=app["agent_id"],
                    task_id=sent["task_id"])
    assert progress["progress"] == {"progress_in_percent": 100, "status": 2}
    result = call(emulator, token, "getsendresult", agent_id=app["agent_id"],
                  task_id=sent["task_id"])["send_result"]
    assert result["unread_user_id_list"] == users
    assert result["invalid_user_id_list"] == ["nobody"]


def test_notices_http_form_body_with_msg_as_json_string(emulator):
    corp, app, token = internal(emulator)
    form = {"access_token": token, "agent_id": str(app["agent_id"]),
            "userid_list": corp["userids"][0], "to_all_user": "false",
            "msg": '{"msgtype":"text","text":{"content":"form"}}'}
    body = requests.post(f"{emulator.base_url}{BASE}/asyncsend_v2", data=form).json()
    assert body["errcode"] == 0 and body["task_id"] > 0


def test_notices_http_delivery_follows_the_emulated_clock(emulator):
    emulator.set_config(notices={"delivery_start_delay_s": 5, "delivery_rate_per_s": 1})
    corp, app, token = internal(emulator)
    sent = call(emulator, token, "asyncsend_v2", agent_id=app["agent_id"],
                userid_list=",".join(corp["userids"][:4]), msg=TEXT)

    def progress():
        return call(emulator, token, "getsendprogress", agent_id=app["agent_id"],
                    task_id=sent["task_id"])["progress"]

    assert progress() == {"progress_in_percent": 0, "status": 0}
    emulator.advance(6.5)
    assert progress()["status"] == 1 and 0 < progress()["progress_in_percent"] < 100
    emulator.advance(10)
    assert progress() == {"progress_in_percent": 100, "status": 2}


def test_notices_http_errors(emulator):
    corp, app, token = internal(emulator)
    user = corp["userids"][0]
    assert call(emulator, token, "asyncsend_v2", agent_id=app["agent_id"] + 1,
                userid_list=user, msg=TEXT)["errcode"] == 40056
    assert call(emulator, token, "asyncsend_v2", agent_id=app["agent_id"], userid_list=user,
                msg={"msgtype": "bogus"})["errcode"] == 40008
    assert call(emulator, token, "asyncsend_v2", agent_id="x", userid_list=user,
                msg=TEXT)["errcode"] == 40035
    assert call(emulator, token, "getsendresult", agent_id=app["agent_id"],
                task_id=42)["errcode"] == 40035
    assert call(emulator, token, "recall", agent_id=app["agent_id"],
                msg_task_id=42)["errcode"] == 400002
    bad = requests.get(f"{emulator.base_url}{BASE}/asyncsend_v2",
                       params={"access_token": token}).json()
    assert bad["errcode"] == 43002


def test_notices_http_tasks_expire_after_24_hours(emulator):
    corp, app, token = internal(emulator)
    sent = call(emulator, token, "asyncsend_v2", agent_id=app["agent_id"],
                userid_list=corp["userids"][0], msg=TEXT)
    emulator.advance(86_401)
    # The app token expired meanwhile: fetch it again (same app, same corp).
    _, _, token = corp, app, requests.get(
        f"{emulator.base_url}/gettoken",
        params={"appkey": app["appkey"], "appsecret": app["appsecret"]}).json()["access_token"]
    args = {"agent_id": app["agent_id"], "task_id": sent["task_id"]}
    assert call(emulator, token, "getsendprogress", **args)["errcode"] == 40035
    assert call(emulator, token, "getsendresult", **args)["errcode"] == 40035
    assert call(emulator, token, "recall", agent_id=app["agent_id"],
                msg_task_id=sent["task_id"])["errcode"] == 400002


def test_notices_http_recall_and_status_bar(emulator):
    corp, app, token = internal(emulator)
    oa = {"msgtype": "oa", "oa": {"message_url": "https://e.example/", "head": {"text": "h"},
                                  "body": {"title": "leave"},
                                  "status_bar": {"status_value": "pending"}}}
    sent = call(emulator, token, "asyncsend_v2", agent_id=app["agent_id"],
                userid_list=corp["userids"][0], msg=oa)
    updated = call(emulator, token, "status_bar/update", agent_id=app["agent_id"],
                   task_id=sent["task_id"], status_value="approved", status_bg="0xFF78C06E")
    assert updated["errcode"] == 0
    assert emulator.task(sent["task_id"])["status_bar"]["status_value"] == "approved"
    recalled = call(emulator, token, "recall", agent_id=app["agent_id"],
                    msg_task_id=sent["task_id"])
    assert recalled["errcode"] == 0 and emulator.task(sent["task_id"])["recalled"] is True


def test_notices_http_mark_read_and_counters(emulator):
    corp, app, token = internal(emulator)
    users = corp["userids"][:2]
    args = dict(agent_id=app["agent_id"], userid_list=",".join(users), msg=TEXT)
    sent = call(emulator, token, "asyncsend_v2", **args)
    call(emulator, token, "asyncsend_v2", **args)  # identical content: forbidden, not an error
    assert emulator.mark_read(task_id=sent["task_id"], userids=[users[1]])["marked"] == 1
    emulator.advance(1)
    result = call(emulator, token, "getsendresult", agent_id=app["agent_id"],
                  task_id=sent["task_id"])["send_result"]
    assert result["read_user_id_list"] == [users[1]]
    assert result["unread_user_id_list"] == [users[0]]
    recipients = emulator.counters()["recipients"]
    assert recipients["delivered"] == 2 and recipients["forbidden:143106"] == 2


def test_notices_http_recipient_counters_per_corp_app_and_suite(emulator):
    corp, app, token = internal(emulator)
    isv_corp, record, isv_token = isv(emulator)
    call(emulator, token, "asyncsend_v2", agent_id=app["agent_id"],
         userid_list=",".join(corp["userids"][:3]), msg=TEXT)
    call(emulator, isv_token, "asyncsend_v2", agent_id=record["agent_id"],
         userid_list=isv_corp["userids"][0] + ",nobody", msg=TEXT)
    by = {(r["key"], r["corp_id"], r["suite_key"], r["appkey"]): r["count"]
          for r in emulator.counters()["recipients_by"]}
    assert by == {("delivered", corp["corp_id"], None, app["appkey"]): 3,
                  ("delivered", isv_corp["corp_id"], record["suite_key"], None): 1,
                  ("invalid", isv_corp["corp_id"], record["suite_key"], None): 1}


def test_notices_http_isv_rules(emulator):
    corp, record, token = isv(emulator, users=30)
    agent = record["agent_id"]
    assert call(emulator, token, "asyncsend_v2", agent_id=agent, to_all_user=True,
                msg=TEXT)["errcode"] == 41028
    emulator.set_config(notices={"max_recipients_isv": 10})
    assert call(emulator, token, "asyncsend_v2", agent_id=agent, dept_id_list="1",
                msg=TEXT)["errcode"] == 41029
    sent = call(emulator, token, "asyncsend_v2", agent_id=agent,
                userid_list=",".join(corp["userids"][:2]), msg=TEXT)
    emulator.advance(1)
    again = call(emulator, token, "asyncsend_v2", agent_id=agent,
                 userid_list=corp["userids"][0], msg=TEXT)
    emulator.advance(1)
    result = call(emulator, token, "getsendresult", agent_id=agent,
                  task_id=again["task_id"])["send_result"]
    assert result["forbidden_list"] == [{"code": "143206", "count": 1,
                                         "userid": corp["userids"][0]}]
    assert sent["errcode"] == 0


def test_notices_http_isv_recipients_outside_the_scope_are_invalid(emulator):
    full = emulator.create_corp(users=40)
    detail = emulator.get_corp(full["corp_id"])
    sub = next(d["id"] for d in detail["departments"] if d["parent_id"] == 1)
    inside = next(u["userid"] for u in detail["users"] if sub in u["depts"])
    outside = next(u["userid"] for u in detail["users"] if sub not in u["depts"]
                   and 1 in u["depts"])
    suite = emulator.create_suite()
    record = emulator.authorize(suite["suite_key"], full["corp_id"], authed_dept=[sub])
    params = signature_params(access_key=suite["suite_key"], secret=suite["suite_secret"],
                              ticket=emulator.current_ticket(suite["suite_key"]))
    token = requests.post(f"{emulator.base_url}/service/get_corp_token", params=params,
                          json={"auth_corpid": full["corp_id"]}).json()["access_token"]
    sent = call(emulator, token, "asyncsend_v2", agent_id=record["agent_id"],
                userid_list=f"{inside},{outside}", msg=TEXT)
    emulator.advance(1)
    result = call(emulator, token, "getsendresult", agent_id=record["agent_id"],
                  task_id=sent["task_id"])["send_result"]
    assert result["invalid_user_id_list"] == [outside]
    assert inside in result["unread_user_id_list"]


def test_notices_http_sendbytemplate(emulator):
    corp, record, token = isv(emulator, message_api="sendbytemplate",
                              templates={"tpl_leave": {"msgtype": "oa"}})
    agent, user = record["agent_id"], corp["userids"][0]
    sent = call(emulator, token, "sendbytemplate", agent_id=agent, template_id="tpl_leave",
                userid_list=user, data='{"who":"x"}')
    assert sent["errcode"] == 0 and sent["task_id"] > 0
    assert call(emulator, token, "sendbytemplate", agent_id=agent, template_id="missing",
                userid_list=user)["errcode"] == 885001
    assert call(emulator, token, "asyncsend_v2", agent_id=agent, userid_list=user,
                msg=TEXT)["errcode"] == 60011


def test_notices_http_task_control_route(emulator):
    corp, app, token = internal(emulator)
    sent = call(emulator, token, "asyncsend_v2", agent_id=app["agent_id"],
                userid_list=corp["userids"][0], msg=TEXT)
    task = emulator.task(sent["task_id"])
    assert task["recipients"] == 1 and task["corp_id"] == corp["corp_id"]
    missing = requests.get(f"{emulator.base_url}/_emulator/notices/tasks/1")
    assert missing.status_code == 404


def test_notices_http_send_while_the_app_is_stopped_in_the_corp(emulator):
    """50003 for every call of the stopped app's corp token (configurable: None = allowed)."""
    corp, record, token = isv(emulator)
    args = dict(agent_id=record["agent_id"], userid_list=corp["userids"][0], msg=TEXT)
    emulator.app_state(record["suite_key"], corp["corp_id"], "stop")
    assert call(emulator, token, "asyncsend_v2", **args)["errcode"] == 50003
    emulator.app_state(record["suite_key"], corp["corp_id"], "remove")
    assert call(emulator, token, "asyncsend_v2", **args)["errcode"] == 50003
    emulator.set_config(stopped_app_errcode=None)
    assert call(emulator, token, "asyncsend_v2", **args)["errcode"] == 0
    emulator.set_config(stopped_app_errcode=50003)
    emulator.app_state(record["suite_key"], corp["corp_id"], "restore")
    assert call(emulator, token, "asyncsend_v2", **args)["errcode"] == 0
    assert emulator.counters()["recipients"] == {"delivered": 1, "forbidden:143206": 1}


def test_notices_http_wrong_agent_answers_the_configured_errcode(emulator):
    corp, app, token = internal(emulator)
    other = emulator.create_app(corp["corp_id"])
    kwargs = {"agent_id": other["agent_id"], "userid_list": corp["userids"][0], "msg": TEXT}
    assert call(emulator, token, "asyncsend_v2", **kwargs)["errcode"] == 40056
    emulator.set_config(foreign_agent_errcode=70004)
    assert call(emulator, token, "asyncsend_v2", **kwargs)["errcode"] == 70004
