"""A message's media_id must name a media/upload of the sender's corp (work notices, chat/send)."""

import pytest
import requests
from emulator_helpers import internal_app, isv_app, post

from dingtalk.emulator.notices import DictDirectory, NoticeConfig, NoticeEngine, NoticeError, Sender

NOTICE = "topapi/message/corpconversation/asyncsend_v2"
FILES = {"image": ("a.png", "image/png"), "voice": ("a.mp3", "audio/mpeg"),
         "file": ("a.pdf", "application/pdf")}


def upload(emulator, token, media_type="image") -> str:
    name, mime = FILES[media_type]
    body = requests.post(f"{emulator.base_url}/media/upload",
                         params={"access_token": token, "type": media_type},
                         files={"media": (name, b"bytes", mime)}, timeout=10).json()
    assert body["errcode"] == 0, body
    return body["media_id"]


def media_msg(media_type: str, media_id) -> dict:
    body = {"media_id": media_id}
    if media_type == "voice":
        body["duration"] = "10"
    return {"msgtype": media_type, media_type: body}


def notice(emulator, token, app_or_agent, userid, msg) -> dict:
    agent_id = app_or_agent["agent_id"] if isinstance(app_or_agent, dict) else app_or_agent
    return post(emulator, NOTICE, token, {"agent_id": agent_id, "userid_list": userid,
                                          "msg": msg})


@pytest.mark.parametrize("media_type", ["image", "voice", "file"])
def test_notice_with_uploaded_media_is_sent_and_unknown_media_is_40007(emulator, media_type):
    corp, app, token = internal_app(emulator, users=3)
    user = corp["userids"][0]
    media_id = upload(emulator, token, media_type)
    sent = notice(emulator, token, app, user, media_msg(media_type, media_id))
    assert sent["errcode"] == 0 and sent["task_id"] > 0, sent
    refused = notice(emulator, token, app, user, media_msg(media_type, media_id + "x"))
    assert (refused["errcode"], refused["errmsg"]) == (40007, "不合法的媒体文件id")
    assert "task_id" not in refused and refused["request_id"]


def test_notice_with_another_corps_media_is_refused(emulator):
    _, _, other_token = internal_app(emulator, users=1)
    foreign = upload(emulator, other_token)
    corp, app, token = internal_app(emulator, users=2)
    body = notice(emulator, token, app, corp["userids"][0], media_msg("image", foreign))
    assert body["errcode"] == 40007
    # Nothing was accepted: no recipient was counted for the refused send.
    assert emulator.counters()["recipients"].get("delivered", 0) == 0


def test_notice_media_check_for_isv_callers(emulator):
    corp, suite, record, token = isv_app(emulator, users=3)
    agent_id = record["agent_id"]
    user = corp["userids"][0]
    mine = upload(emulator, token, "file")
    assert notice(emulator, token, agent_id, user, media_msg("file", mine))["errcode"] == 0
    _, _, internal_token = internal_app(emulator, users=1)
    theirs = upload(emulator, internal_token, "file")
    assert notice(emulator, token, agent_id, user, media_msg("file", theirs))["errcode"] == 40007


@pytest.mark.parametrize("media_id", [12345, ["@lAx"], {"id": "@lAx"}, True])
def test_notice_non_string_media_id_is_refused_not_a_crash(emulator, media_id):
    corp, app, token = internal_app(emulator, users=1)
    body = notice(emulator, token, app, corp["userids"][0], media_msg("image", media_id))
    assert body["errcode"] == 40007, body


def test_notice_media_check_comes_after_msg_validation(emulator):
    """A malformed message keeps its own code; a well-formed one with an unknown media_id is
    refused before its recipients matter (an unknown userid alone would be accepted)."""
    corp, app, token = internal_app(emulator, users=1)
    user = corp["userids"][0]
    voice_without_duration = {"msgtype": "voice", "voice": {"media_id": "@lAnever"}}
    assert notice(emulator, token, app, user, voice_without_duration)["errcode"] == 40035
    assert notice(emulator, token, app, user + "-no", media_msg("image", "@lAnever"))[
        "errcode"] == 40007


def test_notice_messages_without_a_media_id_field_are_not_checked(emulator):
    """PROTOCOL 3.8 names image/voice/file.media_id only; an OA body image is not checked."""
    corp, app, token = internal_app(emulator, users=1)
    oa = {"msgtype": "oa", "oa": {"message_url": "https://x.example/", "head": {"text": "h"},
                                  "body": {"title": "t", "image": "@lAnever-uploaded"}}}
    assert notice(emulator, token, app, corp["userids"][0], oa)["errcode"] == 0


def test_notice_media_check_follows_config(emulator):
    corp, app, token = internal_app(emulator, users=2)
    fake = media_msg("image", "@lAnever-uploaded")
    emulator.set_config(notices={"media_id_errcode": 40035})
    body = notice(emulator, token, app, corp["userids"][0], fake)
    assert (body["errcode"], body["errmsg"]) == (40035, "不合法的参数")
    emulator.set_config(notices={"media_id_errcode": None})
    assert notice(emulator, token, app, corp["userids"][1], fake)["errcode"] == 0
    emulator.reset()
    corp, app, token = internal_app(emulator, users=1)
    assert notice(emulator, token, app, corp["userids"][0], fake)["errcode"] == 40007


def test_media_id_errcode_is_type_checked(emulator):
    from dingtalk.emulator.control_client import EmulatorControlError

    with pytest.raises(EmulatorControlError, match="400"):
        emulator.set_config(notices={"media_id_errcode": "40007"})


# -- chat/send ------------------------------------------------------------------------------


@pytest.fixture
def chat(emulator):
    corp, _, token = internal_app(emulator, users=5)
    members = corp["userids"][:3]
    body = post(emulator, "chat/create", token, {"name": "群", "owner": members[0],
                                                 "useridlist": members})
    assert body["errcode"] == 0, body
    return token, body["chatid"]


def chat_send(emulator, token, chatid, msg) -> dict:
    return post(emulator, "chat/send", token, {"chatid": chatid, "msg": msg})


@pytest.mark.parametrize("media_type", ["image", "voice", "file"])
def test_chat_send_needs_uploaded_media(emulator, chat, media_type):
    token, chatid = chat
    media_id = upload(emulator, token, media_type)
    ok = chat_send(emulator, token, chatid, media_msg(media_type, media_id))
    assert ok["errcode"] == 0 and ok["messageId"], ok
    refused = chat_send(emulator, token, chatid, media_msg(media_type, "@lAnever-uploaded"))
    assert (refused["errcode"], refused["errmsg"]) == (40007, "不合法的媒体文件id")


def test_chat_send_refuses_another_corps_media_and_follows_config(emulator, chat):
    token, chatid = chat
    _, _, other_token = internal_app(emulator, users=1)
    foreign = media_msg("image", upload(emulator, other_token))
    assert chat_send(emulator, token, chatid, foreign)["errcode"] == 40007
    # The 2016 flat body (msgtype beside chatid) is checked too.
    flat = post(emulator, "chat/send", token, {"chatid": chatid, **foreign})
    assert flat["errcode"] == 40007
    emulator.set_config(notices={"media_id_errcode": None})
    assert chat_send(emulator, token, chatid, foreign)["errcode"] == 0


def test_chat_send_keeps_its_own_codes_before_the_media_check(emulator, chat):
    token, chatid = chat
    assert chat_send(emulator, token, "chatnope", media_msg("image", "@lAx"))["errcode"] == 34001
    assert chat_send(emulator, token, chatid, {"msgtype": "voice", "voice": {
        "media_id": "@lAx"}})["errcode"] == 34014


# -- the engine alone -----------------------------------------------------------------------


def test_engine_checks_media_only_when_given_a_lookup():
    engine = NoticeEngine(clock=lambda: 1_767_225_600_000,
                          directory=DictDirectory(users={"corpA": {"u1": True}}),
                          config=NoticeConfig(delivery_rate_per_s=0))
    sender = Sender(corp_id="corpA", app_key="appA", agent_id=1)
    msg = media_msg("image", "@lAx")
    assert engine.send(sender, agent_id=1, userid_list="u1", msg=msg) > 0
    asked = []

    def unknown(media_id):
        asked.append(media_id)
        return False

    with pytest.raises(NoticeError) as caught:
        engine.send(sender, agent_id=1, userid_list="u1", msg=media_msg("file", "@lAy"),
                    media_known=unknown)
    assert caught.value.errcode == 40007 and asked == ["@lAy"]
    assert engine.counters()["delivered"] == 1  # the refused send counted nobody
    text = {"msgtype": "text", "text": {"content": "no media"}}
    assert engine.send(sender, agent_id=1, userid_list="u1", msg=text, media_known=unknown) > 0
    assert asked == ["@lAy"]  # a text message asks nothing
