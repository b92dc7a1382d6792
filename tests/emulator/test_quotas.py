"""Each work-notification quota, at its DingTalk default, decided silently per recipient."""

import pytest

from dingtalk.emulator.notices import DictDirectory, NoticeConfig, NoticeEngine, NoticeError, Sender

# 2026-01-01 23:58 in Asia/Shanghai (UTC+8): two minutes before the emulated calendar day ends.
LATE_EVENING_MS = 1_767_283_080_000
CORPS = ["corpA", "corpB", "corpC", "corpD", "corpE", "corpF"]
USERS = 6000

INTERNAL = Sender(corp_id="corpA", app_key="appA", agent_id=1)


def isv(corp="corpA"):
    return Sender(corp_id=corp, app_key="suiteS", agent_id=7, is_isv=True)


class FakeClock:
    def __init__(self):
        self.ms = LATE_EVENING_MS

    def __call__(self):
        return self.ms

    def advance(self, seconds):
        self.ms += int(seconds * 1000)


@pytest.fixture(scope="module")
def people():
    users = {f"u{i}": True for i in range(USERS)}
    depts = {1: (None, []), **{d: (1, [f"u{i}" for i in range(d * 1000 - 2000, d * 1000 - 1000)])
                               for d in range(2, 8)}}
    return DictDirectory(users={corp: users for corp in CORPS},
                         depts={corp: depts for corp in CORPS})


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def engine(clock, people):
    return NoticeEngine(clock=clock, directory=people, config=NoticeConfig(delivery_rate_per_s=0))


def text(n):
    return {"msgtype": "text", "text": {"content": f"message {n}"}}


def fate(engine, sender, task_id, userid):
    result = engine.result(sender, agent_id=sender.agent_id, task_id=task_id)
    if userid in result["unread_user_id_list"]:
        return "delivered"
    reasons = [r for r in result["forbidden_list"] if r["userid"] == userid]
    return (reasons[0]["code"], reasons[0]["count"]) if reasons else None


def send(engine, sender, msg, **kwargs):
    return engine.send(sender, agent_id=sender.agent_id, msg=msg, **kwargs)


def code_of(call):
    with pytest.raises(NoticeError) as caught:
        call()
    return caught.value.errcode


# -- per-user daily cap -----------------------------------------------------------------------

def test_quotas_internal_daily_cap_is_500_per_user(engine):
    for n in range(500):
        assert fate(engine, INTERNAL, send(engine, INTERNAL, text(n), userid_list="u1"),
                    "u1") == "delivered"
    task_id = send(engine, INTERNAL, text(500), userid_list="u1,u2")
    assert fate(engine, INTERNAL, task_id, "u1") == ("143105", 500)
    assert fate(engine, INTERNAL, task_id, "u2") == "delivered"
    result = engine.result(INTERNAL, agent_id=1, task_id=task_id)
    assert result["forbidden_user_id_list"] == ["u1"]


def test_quotas_isv_daily_cap_is_100_and_configurable(engine):
    for n in range(100):
        send(engine, isv(), text(n), userid_list="u1")
    assert fate(engine, isv(), send(engine, isv(), text(100), userid_list="u1"),
                "u1") == ("143205", 100)
    engine.config.daily_cap_isv = 50
    for n in range(50):
        send(engine, isv("corpB"), text(n), userid_list="u1")
    assert fate(engine, isv("corpB"), send(engine, isv("corpB"), text(50), userid_list="u1"),
                "u1") == ("143205", 50)


def test_quotas_daily_cap_resets_with_the_shanghai_calendar_day(engine, clock):
    engine.config.daily_cap_internal = 2
    send(engine, INTERNAL, text(1), userid_list="u1")
    send(engine, INTERNAL, text(2), userid_list="u1")
    assert fate(engine, INTERNAL, send(engine, INTERNAL, text(3), userid_list="u1"),
                "u1") == ("143105", 2)
    clock.advance(180)  # past midnight in Asia/Shanghai
    assert fate(engine, INTERNAL, send(engine, INTERNAL, text(4), userid_list="u1"),
                "u1") == "delivered"


def test_quotas_rolling_day_mode_counts_the_last_24_hours(engine, clock):
    engine.config.daily_cap_internal = 2
    engine.config.day_mode = "rolling"
    send(engine, INTERNAL, text(1), userid_list="u1")
    send(engine, INTERNAL, text(2), userid_list="u1")
    clock.advance(180)
    assert fate(engine, INTERNAL, send(engine, INTERNAL, text(3), userid_list="u1"),
                "u1") == ("143105", 2)
    clock.advance(86_400)
    assert fate(engine, INTERNAL, send(engine, INTERNAL, text(4), userid_list="u1"),
                "u1") == "delivered"


# -- identical content --------------------------------------------------------------------------

def test_quotas_identical_content_once_a_day_internal(engine, clock):
    send(engine, INTERNAL, text(1), userid_list="u1")
    again = send(engine, INTERNAL, '{"text": {"content": "message 1"}, "msgtype": "text"}',
                 userid_list="u1,u2")
    assert fate(engine, INTERNAL, again, "u1") == ("143106", 1)
    assert fate(engine, INTERNAL, again, "u2") == "delivered"
    assert fate(engine, INTERNAL, send(engine, INTERNAL, text(2), userid_list="u1"),
                "u1") == "delivered"
    clock.advance(180)
    assert fate(engine, INTERNAL, send(engine, INTERNAL, text(1), userid_list="u1"),
                "u1") == "delivered"


def test_quotas_identical_content_isv_code_and_per_app(engine):
    send(engine, isv(), text(1), userid_list="u1")
    assert fate(engine, isv(), send(engine, isv(), text(1), userid_list="u1"),
                "u1") == ("143206", 1)
    assert fate(engine, INTERNAL, send(engine, INTERNAL, text(1), userid_list="u1"),
                "u1") == "delivered"


def test_quotas_identical_template_content_is_a_duplicate(engine):
    templates = {"t1": {}}
    args = dict(agent_id=7, template_id="t1", templates=templates, userid_list="u1")
    engine.send_by_template(isv(), data='{"a":1,"b":2}', **args)
    task_id = engine.send_by_template(isv(), data={"b": 2, "a": 1}, **args)
    assert fate(engine, isv(), task_id, "u1") == ("143206", 1)


# -- per-minute windows -------------------------------------------------------------------------

def test_quotas_internal_5000_recipients_per_minute_per_app_and_corp(engine, clock):
    send(engine, INTERNAL, text(1), dept_id_list="2,3,4,5,6")
    blocked = send(engine, INTERNAL, text(2), userid_list="u1,u5999")
    assert fate(engine, INTERNAL, blocked, "u5999") == ("143103", 5000)
    other_corp = Sender(corp_id="corpB", app_key="appA", agent_id=1)
    assert fate(engine, other_corp, send(engine, other_corp, text(2), userid_list="u1"),
                "u1") == "delivered"
    clock.advance(61)
    assert fate(engine, INTERNAL, send(engine, INTERNAL, text(3), userid_list="u5999"),
                "u5999") == "delivered"


def test_quotas_isv_5000_per_minute_per_corp(engine):
    for n, dept in enumerate(range(2, 7)):
        send(engine, isv(), text(n), dept_id_list=str(dept))
    blocked = send(engine, isv(), text(9), userid_list="u5999")
    assert fate(engine, isv(), blocked, "u5999") == ("143203", 5000)


def test_quotas_isv_suite_per_minute_across_corps(engine):
    engine.config.per_minute_suite = 3000
    for corp in ("corpA", "corpB", "corpC"):
        send(engine, isv(corp), text(1), dept_id_list="2")
    blocked = send(engine, isv("corpD"), text(1), userid_list="u1")
    assert fate(engine, isv("corpD"), blocked, "u1") == ("143204", 3000)


def test_quotas_internal_apps_of_one_corp_share_5000_per_minute(engine):
    """143104: every internal app of the corp together; ISV sends neither count nor stop."""
    send(engine, INTERNAL, text(1), dept_id_list="2,3,4")  # 3000 recipients
    other_app = Sender(corp_id="corpA", app_key="appB", agent_id=2)
    task_id = send(engine, other_app, text(1), dept_id_list="5,6,7")  # 3000 more
    result = engine.result(other_app, agent_id=2, task_id=task_id)
    assert len(result["unread_user_id_list"]) == 2000
    assert {(r["code"], r["count"]) for r in result["forbidden_list"]} == {("143104", 5000)}
    assert len(result["forbidden_user_id_list"]) == 1000
    assert fate(engine, isv(), send(engine, isv(), text(1), userid_list="u1"),
                "u1") == "delivered"
    engine.config.per_minute_corp = 0  # off
    third = Sender(corp_id="corpA", app_key="appC", agent_id=3)
    assert fate(engine, third, send(engine, third, text(1), userid_list="u1"),
                "u1") == "delivered"


def test_quotas_partial_call_over_the_minute_limit(engine):
    engine.config.per_minute_app_corp = 3
    task_id = send(engine, INTERNAL, text(1), userid_list="u1,u2,u3,u4,u5")
    result = engine.result(INTERNAL, agent_id=1, task_id=task_id)
    assert result["unread_user_id_list"] == ["u1", "u2", "u3"]
    assert result["forbidden_user_id_list"] == ["u4", "u5"]


# -- call errors: recipients per call, list lengths, to_all_user ---------------------------------

def test_quotas_recipients_per_call_internal_5000(engine):
    assert send(engine, INTERNAL, text(1), dept_id_list="2,3,4,5,6") > 0
    assert code_of(lambda: send(engine, INTERNAL, text(2), dept_id_list="2,3,4,5,6",
                                userid_list="u5999")) == 41029


def test_quotas_recipients_per_call_isv_1000(engine):
    assert send(engine, isv(), text(1), dept_id_list="2") > 0
    assert code_of(lambda: send(engine, isv(), text(2), dept_id_list="2",
                                userid_list="u5999")) == 41029


def test_quotas_list_lengths(engine):
    hundred = ",".join(f"u{i}" for i in range(100))
    assert send(engine, INTERNAL, text(1), userid_list=hundred) > 0
    assert code_of(lambda: send(engine, INTERNAL, text(2), userid_list=hundred + ",u100")) == 40035
    twenty = ",".join(["2"] + [str(d) for d in range(100, 119)])
    assert send(engine, INTERNAL, text(3), dept_id_list=twenty) > 0
    many = ",".join(["2"] * 21)
    assert code_of(lambda: send(engine, INTERNAL, text(4), dept_id_list=many)) == 40035
    engine.config.max_userids = 5000
    assert send(engine, INTERNAL, text(5), userid_list=hundred + ",u100") > 0


def test_quotas_to_all_user_isv_forbidden(engine):
    assert code_of(lambda: send(engine, isv(), text(1), to_all_user=True)) == 41028


def test_quotas_to_all_user_internal_three_a_day(engine, clock):
    for n in range(3):
        assert send(engine, INTERNAL, text(n), to_all_user="true") > 0
    assert code_of(lambda: send(engine, INTERNAL, text(4), to_all_user=True)) == 41045
    clock.advance(180)
    assert send(engine, INTERNAL, text(5), to_all_user=True) > 0
