"""Work notices over the emulator: send, progress, result, recall, status bar, templates."""

import pytest

from dingtalk import messages
from dingtalk.credentials import SuiteCredentials
from dingtalk.errors import InvalidRequest, MessageError
from dingtalk.isv import SuiteApi
from tests.dingtalk.test_client_support import (  # noqa: F401 (world_fixture is a fixture)
    busiest_dept,
    world_fixture,
)

SEND = "topapi/message/corpconversation/asyncsend_v2"


def test_api_work_notices_send_progress_result_round_trip(emulator, world):
    notices = world.client.work_notices
    users = world.userids(3)
    task = notices.send(world.agent_id, messages.markdown("Hi", "**hello**"), userids=users)
    assert task.task_id > 0 and task.request_id
    emulator.advance(5)
    progress = notices.progress(world.agent_id, task.task_id)
    assert progress.done and progress.percent == 100
    result = notices.result(world.agent_id, task.task_id)
    assert sorted(result.unread_userids) == sorted(users) and result.read_userids == ()
    emulator.mark_read(task_id=task.task_id, userids=users[:1])
    result = notices.result(world.agent_id, task.task_id)
    assert result.read_userids == (users[0],)
    summary = emulator.task(task.task_id)
    assert (summary["msgtype"], summary["recipients"]) == ("markdown", 3)


def test_api_work_notices_progress_reports_partial_delivery(emulator, world):
    emulator.set_config(notices={"delivery_rate_per_s": 1.0})
    task = world.client.work_notices.send(world.agent_id, messages.text("slow"),
                                          userids=world.userids(10))
    emulator.advance(3)
    progress = world.client.work_notices.progress(world.agent_id, task.task_id)
    assert progress.status == 1 and 0 < progress.percent < 100 and not progress.done
    emulator.advance(60)
    assert world.client.work_notices.progress(world.agent_id, task.task_id).done


def test_api_work_notices_dept_and_to_all_targets(emulator, world):
    dept_id, members = busiest_dept(emulator, world.corp["corp_id"])
    task = world.client.work_notices.send(world.agent_id, messages.text("dept"),
                                          dept_ids=[dept_id])
    assert emulator.task(task.task_id)["recipients"] >= len(members)
    everyone = world.client.work_notices.send(world.agent_id, messages.text("all"),
                                              to_all_user=True)
    assert emulator.task(everyone.task_id)["recipients"] == 40


def test_api_work_notices_result_reports_invalid_and_forbidden(emulator, world):
    notices = world.client.work_notices
    msg = messages.text("same content twice")
    notices.send(world.agent_id, msg, userids=world.userids(1))
    task = notices.send(world.agent_id, msg, userids=[world.userids(1)[0], "ghost"])
    emulator.advance(5)
    result = notices.result(world.agent_id, task.task_id)
    assert result.invalid_userids == ("ghost",)
    assert result.forbidden_userids == (world.userids(1)[0],)
    assert [(f.userid, f.code) for f in result.forbidden] == [(world.userids(1)[0], "143106")]


def test_api_work_notices_recall_and_status_bar(emulator, world):
    notices = world.client.work_notices
    card = messages.oa(message_url="https://example.com/a", head_text="H", title="Leave",
                       status_value="pending", status_bg="0xFFFF9D46")
    task = notices.send(world.agent_id, card, userids=world.userids(2))
    notices.update_status_bar(world.agent_id, task.task_id, "approved", "0xFF78C06E")
    assert emulator.task(task.task_id)["status_bar"] == {"status_value": "approved",
                                                         "status_bg": "0xFF78C06E"}
    notices.recall(world.agent_id, task.task_id)
    assert emulator.task(task.task_id)["recalled"] is True


def test_api_work_notices_recall_of_an_unknown_task_is_refused(world):
    with pytest.raises(InvalidRequest) as caught:
        world.client.work_notices.recall(world.agent_id, 1)
    assert caught.value.errcode == 400002


def test_api_work_notices_bad_input_is_refused_before_sending(emulator, world):
    notices = world.client.work_notices
    with pytest.raises(MessageError):
        notices.send(world.agent_id, messages.text("x"))
    with pytest.raises(MessageError):
        notices.send(world.agent_id, messages.text("x"),
                     userids=[f"u{i}" for i in range(101)])
    with pytest.raises(MessageError):
        notices.send(world.agent_id, {"msgtype": "text", "text": {"content": "x" * 2100}},
                     userids=world.userids(1))
    with pytest.raises(MessageError):
        notices.send(world.agent_id, messages.oa(message_url="u", status_value="s"),
                     userids=world.userids(6))
    assert world.calls(SEND) == 0


def test_api_work_notices_raised_list_limit_meets_dingtalks_own(emulator, world):
    wide = messages.RecipientLimits(max_userids=200)
    with pytest.raises(InvalidRequest):
        world.client.work_notices.send(world.agent_id, messages.text("x"),
                                       userids=[f"u{i}" for i in range(101)], limits=wide)
    assert world.calls(SEND) == 1


def test_api_work_notices_send_by_template_for_an_isv_suite(emulator, world):
    suite = emulator.create_suite(message_api="sendbytemplate",
                                  templates={"tpl1": {"title": "Hello {name}"}})
    key = suite["suite_key"]
    auth = emulator.authorize(key, world.corp["corp_id"])
    creds = SuiteCredentials(key, suite["suite_secret"], lambda: emulator.current_ticket(key))
    api = SuiteApi(creds, base_url=emulator.base_url)
    client = api.corp_client(world.corp["corp_id"])
    task = client.work_notices.send_by_template(auth["agent_id"], "tpl1", {"name": "张三"},
                                                userids=world.userids(2))
    summary = emulator.task(task.task_id)
    assert (summary["msgtype"], summary["recipients"]) == ("template", 2)
    with pytest.raises(InvalidRequest) as caught:
        client.work_notices.send_by_template(auth["agent_id"], "nope", {},
                                             userids=world.userids(1))
    assert caught.value.errcode == 885001
