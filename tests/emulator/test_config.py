"""One rule for every config section: a refused key is a ValueError (HTTP 400) naming it, and
nothing of the change is applied."""

import pytest
import requests

from dingtalk.emulator import EmulatorConfig
from dingtalk.emulator.notices import NoticeConfig
from dingtalk.emulator.pushes import PusherConfig


@pytest.mark.parametrize(("changes", "named"), [
    ({"app_api_qps": 5, "no_such_knob": 1}, "no_such_knob"),
    ({"app_api_qps": "5"}, "app_api_qps"),
    ({"notices": {"daily_cap_isv": 50, "daily_cap_isvv": 50}}, "notices.daily_cap_isvv"),
    ({"notices": {"daily_cap_isv": 50, "day_mode": 3}}, "notices.day_mode"),
    ({"pusher": {"max_pushes": 5, "retries": 3}}, "pusher.retries"),
    ({"pusher": {"max_pushes": 5, "workers": "4"}}, "pusher.workers"),
    ({"token_ttl_s": 60, "pusher": {"max_pushes": 5}, "notices": {"nope": 1}}, "notices.nope"),
])
def test_config_sections_refuse_over_http_naming_the_key(emulator, changes, named):
    emulator.set_config(notices={"daily_cap_isv": 7}, pusher={"max_pushes": 9})
    before = emulator.get_config()
    response = requests.post(f"{emulator.base_url}/_emulator/config", json=changes, timeout=10)
    assert response.status_code == 400, response.text
    assert named in response.json()["error"]
    assert emulator.get_config() == before


@pytest.mark.parametrize("section", [{"notices": {"nope": 1}}, {"pusher": {"workers": "4"}}])
def test_config_sections_refuse_a_reset_naming_the_key(emulator, section):
    emulator.set_config(app_api_qps=7)
    response = requests.post(f"{emulator.base_url}/_emulator/reset",
                             json={"config": {"app_api_qps": 3, **section}}, timeout=10)
    assert response.status_code == 400, response.text
    assert next(iter(section)) + "." in response.json()["error"]
    assert emulator.get_config()["app_api_qps"] == 7


def test_config_emulator_section_refuses_and_keeps_itself():
    config = EmulatorConfig()
    with pytest.raises(ValueError, match=r"pusher\.retries"):
        config.update({"seed": 3, "pusher": {"retries": 3}})
    with pytest.raises(ValueError, match="seed"):
        config.update({"seed": "3"})
    assert config == EmulatorConfig()
    with pytest.raises(ValueError, match=r"notices\.nope"):
        EmulatorConfig(notices={"nope": 1})


def test_config_notice_section_refuses_and_keeps_itself():
    config = NoticeConfig()
    with pytest.raises(ValueError, match="nope"):
        config.update({"daily_cap_isv": 50, "nope": 1})
    with pytest.raises(ValueError, match="daily_cap_isv"):
        config.update({"max_userids": 5, "daily_cap_isv": "50"})
    assert config == NoticeConfig()
    config.update({"daily_cap_isv": 50})
    assert config.daily_cap_isv == 50


def test_config_pusher_section_refuses_and_keeps_itself():
    config = PusherConfig()
    with pytest.raises(ValueError, match="retries"):
        config.update({"max_pushes": 5, "retries": 3})
    with pytest.raises(ValueError, match="verify_reply_signature"):
        config.update({"max_pushes": 5, "verify_reply_signature": "no"})
    assert config == PusherConfig()
    with pytest.raises(ValueError, match="retries"):
        PusherConfig.from_dict({"retries": 3})
    assert PusherConfig.from_dict({"max_pushes": 5}).max_pushes == 5
