"""The work-notification engine driven by an injected clock: tasks, progress, results, recall."""

import pytest

from dingtalk.emulator.notices import (
    DictDirectory,
    NoticeConfig,
    NoticeEngine,
    NoticeError,
    Sender,
)

START_MS = 1_767_225_600_000  # 2026-01-01 08:00 Asia/Shanghai
TEXT = {"msgtype": "text", "text": {"content": "hello"}}
OA = {"msgtype": "oa", "oa": {"message_url": "https://x.example/", "head": {"text": "h"},
                              "body": {"title": "t"}, "status_bar": {"status_value": "pending"}}}


class FakeClock:
    def __init__(self):
        self.ms = START_MS

    def __call__(self):
        return self.ms

    def advance(self, seconds):
        self.ms += int(seconds * 1000)


def directory():
    users = {f"u{i}": True for i in range(10)}
    users["sleeper"] = False
    depts = {1: (None, ["u0"]), 2: (1, ["u1", "u2"]), 3: (2, ["u3", "u2"]), 4: (1, ["u4"])}
    return DictDirectory(users={"corpA": users, "corpB": {"b1": True}},
                         depts={"corpA": depts, "corpB": {1: (None, ["b1"])}})


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def engine(clock):
    # Instant delivery unless a test sets a pace: the clock only moves when a test moves it.
    return NoticeEngine(clock=clock, directory=directory(),
                        config=NoticeConfig(delivery_rate_per_s=0))


APP = Sender(corp_id="corpA", app_key="appA", agent_id=111)


def send(engine, sender=APP, **kwargs):
    kwargs.setdefault("msg", TEXT)
    return engine.send(sender, agent_id=sender.agent_id, **kwargs)


def code_of(call):
    with pytest.raises(NoticeError) as caught:
        call()
    return caught.value.errcode


def test_notices_task_id_is_a_large_int_and_unique(engine):
    first = send(engine, userid_list="u1")
    second = send(engine, userid_list="u1", msg={"msgtype": "text", "text": {"content": "2"}})
    assert isinstance(first, int) and first > 10**11
    assert second != first


def test_notices_progress_advances_with_the_emulated_clock(engine, clock):
    engine.config.delivery_start_delay_s = 2
    engine.config.delivery_rate_per_s = 2
    task_id = send(engine, userid_list="u0,u1,u2,u3")
    progress = lambda: engine.progress(APP, agent_id=111, task_id=task_id)  # noqa: E731
    assert progress() == {"progress_in_percent": 0, "status": 0}
    clock.advance(3)
    assert progress() == {"progress_in_percent": 50, "status": 1}
    unread_so_far = engine.result(APP, agent_id=111, task_id=task_id)["unread_user_id_list"]
    assert unread_so_far == ["u0", "u1"]
    clock.advance(1)
    assert progress() == {"progress_in_percent": 100, "status": 2}


def test_notices_result_lists_invalid_failed_and_unread(engine):
    task_id = send(engine, userid_list="u1,ghost,sleeper", dept_id_list="2,99")
    result = engine.result(APP, agent_id=111, task_id=str(task_id))
    assert result["invalid_user_id_list"] == ["ghost"]
    assert result["invalid_dept_id_list"] == [99]
    assert result["failed_user_id_list"] == ["sleeper"]
    assert result["unread_user_id_list"] == ["u1", "u2", "u3"]
    assert result["read_user_id_list"] == []
    assert result["forbidden_user_id_list"] == [] and result["forbidden_list"] == []


def test_notices_dept_includes_sub_departments_once(engine):
    task_id = send(engine, dept_id_list="1")
    result = engine.result(APP, agent_id=111, task_id=task_id)
    assert sorted(result["unread_user_id_list"]) == ["u0", "u1", "u2", "u3", "u4"]


def test_notices_mark_read_by_task_and_by_user(engine):
    first = send(engine, userid_list="u1,u2,u3")
    second = send(engine, userid_list="u1,u4", msg={"msgtype": "text", "text": {"content": "x"}})
    assert engine.mark_read(task_id=first, userids=["u2"]) == 1
    assert engine.result(APP, agent_id=111, task_id=first)["read_user_id_list"] == ["u2"]
    assert engine.mark_read(userids=["u1"]) == 2
    assert engine.result(APP, agent_id=111, task_id=second)["read_user_id_list"] == ["u1"]
    assert engine.result(APP, agent_id=111, task_id=second)["unread_user_id_list"] == ["u4"]


def test_notices_recipients_read_on_their_own_at_the_configured_rate(engine, clock):
    engine.config.read_fraction = 1.0
    engine.config.read_after_s = 30
    task_id = send(engine, userid_list="u1,u2")
    assert engine.result(APP, agent_id=111, task_id=task_id)["read_user_id_list"] == []
    clock.advance(31)
    assert engine.result(APP, agent_id=111, task_id=task_id)["read_user_id_list"] == ["u1", "u2"]


def test_notices_read_fraction_picks_a_share(engine, clock):
    engine.config.read_fraction = 0.5
    engine.config.read_after_s = 0
    engine.directory.users["corpA"].update({f"m{i}": True for i in range(100)})
    task_id = send(engine, userid_list=",".join(f"m{i}" for i in range(100)))
    clock.advance(1)
    read = engine.result(APP, agent_id=111, task_id=task_id)["read_user_id_list"]
    assert 25 < len(read) < 75


@pytest.mark.parametrize("msg, errcode", [
    ({"msgtype": "telegram", "telegram": {}}, 40008),
    ({"text": {"content": "no type"}}, 40008),
    ({"msgtype": "text", "text": {}}, 40035),
    ({"msgtype": "link", "link": {"messageUrl": "u", "title": "t", "text": "x"}}, 40035),
    ({"msgtype": "action_card", "action_card": {"title": "t", "markdown": "m"}}, 40035),
    ({"msgtype": "text", "text": {"content": "x" * 2100}}, 40035),
    ("{not json", 40035),
    ([1, 2], 40035),
])
def test_notices_bad_msg_is_refused(engine, msg, errcode):
    assert code_of(lambda: send(engine, userid_list="u1", msg=msg)) == errcode


def test_notices_msg_as_json_string_is_accepted(engine):
    task_id = send(engine, userid_list="u1", msg='{"msgtype":"markdown",'
                                              '"markdown":{"title":"t","text":"# hi"}}')
    assert engine.progress(APP, agent_id=111, task_id=task_id)["status"] == 2


def test_notices_agent_id_must_be_the_callers(engine):
    assert code_of(lambda: engine.send(APP, agent_id=222, userid_list="u1", msg=TEXT)) == 40056
    engine.wrong_agent_errcode = 70004
    assert code_of(lambda: engine.send(APP, agent_id=222, userid_list="u1", msg=TEXT)) == 70004


def test_notices_no_recipient_at_all_is_a_param_error(engine):
    assert code_of(lambda: send(engine)) == 40035


def test_notices_status_bar_only_for_few_named_users(engine):
    assert send(engine, userid_list="u1,u2,u3,u4,u5", msg=OA) > 0
    assert code_of(lambda: send(engine, userid_list="u0,u1,u2,u3,u4,u5", msg=OA)) == 40035
    assert code_of(lambda: send(engine, dept_id_list="2", msg=OA)) == 40035


def test_notices_tasks_older_than_a_day_are_gone(engine, clock):
    task_id = send(engine, userid_list="u1")
    clock.advance(86_399)
    assert engine.progress(APP, agent_id=111, task_id=task_id)["status"] == 2
    clock.advance(2)
    assert code_of(lambda: engine.progress(APP, agent_id=111, task_id=task_id)) == 40035
    assert code_of(lambda: engine.result(APP, agent_id=111, task_id=task_id)) == 40035
    assert code_of(lambda: engine.recall(APP, agent_id=111, task_id=task_id)) == 400002


def test_notices_recall_within_a_day(engine):
    task_id = send(engine, userid_list="u1")
    engine.recall(APP, agent_id=111, task_id=task_id)
    assert engine.task_summary(task_id)["recalled"] is True
    assert code_of(lambda: engine.recall(APP, agent_id=111, task_id=12345)) == 400002


def test_notices_status_bar_update_oa_only_within_seven_days(engine, clock):
    oa_task = send(engine, userid_list="u1", msg=OA)
    text_task = send(engine, userid_list="u1")
    engine.update_status_bar(APP, agent_id=111, task_id=oa_task, status_value="done",
                             status_bg="0xFF78C06E")
    assert engine.task_summary(oa_task)["status_bar"] == {"status_value": "done",
                                                          "status_bg": "0xFF78C06E"}
    assert code_of(lambda: engine.update_status_bar(
        APP, agent_id=111, task_id=text_task, status_value="x")) == 40035
    clock.advance(6 * 86_400)
    engine.update_status_bar(APP, agent_id=111, task_id=oa_task, status_value="later")
    clock.advance(86_401)
    assert code_of(lambda: engine.update_status_bar(
        APP, agent_id=111, task_id=oa_task, status_value="too late")) == 40035


def test_notices_a_task_belongs_to_its_app_and_corp(engine):
    task_id = send(engine, userid_list="u1")
    other = Sender(corp_id="corpA", app_key="appOther", agent_id=111)
    assert code_of(lambda: engine.progress(other, agent_id=111, task_id=task_id)) == 40035
    foreign = Sender(corp_id="corpB", app_key="appA", agent_id=111)
    assert code_of(lambda: engine.result(foreign, agent_id=111, task_id=task_id)) == 40035


def test_notices_large_results_answer_by_default_and_refuse_when_configured(engine):
    engine.directory.users["corpA"].update({f"m{i}": True for i in range(101)})
    task_id = send(engine, userid_list=",".join(f"m{i}" for i in range(100)),
                   dept_id_list="4")
    assert len(engine.result(APP, agent_id=111, task_id=task_id)["unread_user_id_list"]) == 101
    engine.config.refuse_large_results = True
    assert code_of(lambda: engine.result(APP, agent_id=111, task_id=task_id)) == 41052


def test_notices_counters_count_fates(engine):
    send(engine, userid_list="u1,ghost,sleeper")
    send(engine, userid_list="u1")
    counts = engine.counters()
    assert counts["delivered"] == 1 and counts["invalid"] == 1 and counts["failed"] == 1
    assert counts["forbidden"] == {"143106": 1}


def test_notices_sendbytemplate_needs_a_known_template(engine):
    isv = Sender(corp_id="corpA", app_key="suiteX", agent_id=5, is_isv=True)
    templates = {"tpl1": {"msgtype": "text"}}
    task_id = engine.send_by_template(isv, agent_id=5, template_id="tpl1", templates=templates,
                                      userid_list="u1", data='{"name":"x"}')
    assert engine.result(isv, agent_id=5, task_id=task_id)["unread_user_id_list"] == ["u1"]
    assert code_of(lambda: engine.send_by_template(
        isv, agent_id=5, template_id="nope", templates=templates, userid_list="u1")) == 885001
    assert code_of(lambda: engine.send_by_template(
        isv, agent_id=5, template_id="tpl1", templates=templates, userid_list="u1",
        data="[1]")) == 400002
    assert code_of(lambda: engine.send_by_template(
        APP, agent_id=111, template_id="tpl1", templates=templates, userid_list="u1")) == 60011
