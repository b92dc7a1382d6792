"""Message builders and recipient checks refuse what DingTalk would refuse, before sending."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dingtalk import messages
from dingtalk.errors import DingTalkError, MessageError


def test_messages_text_builds_the_wire_shape():
    msg = messages.text("你好")
    assert msg.to_dict() == {"msgtype": "text", "text": {"content": "你好"}}
    assert msg.to_json() == '{"msgtype":"text","text":{"content":"你好"}}'
    # UTF-8 bytes, not characters: each CJK character weighs 3 bytes.
    assert msg.size_bytes == len(msg.to_json()) + 2 * 2


def test_messages_error_is_a_value_error_and_a_dingtalk_error():
    with pytest.raises(ValueError):
        messages.text("")
    with pytest.raises(DingTalkError):
        messages.text("   ")


def test_messages_markdown_requires_title_and_text():
    assert messages.markdown("t", "**x**").to_dict()["markdown"] == {"title": "t", "text": "**x**"}
    with pytest.raises(MessageError, match="markdown.title"):
        messages.markdown("", "x")
    with pytest.raises(MessageError, match="markdown.text"):
        messages.markdown("t", "")
    with pytest.raises(MessageError, match="markdown.title is 65 characters; the limit is 64"):
        messages.markdown("x" * 65, "y")


def test_messages_link_uses_camel_case_keys_and_limits():
    body = messages.link(title="T", text="x", message_url="https://a", pic_url="@p").to_dict()
    assert body["link"] == {"title": "T", "text": "x", "messageUrl": "https://a", "picUrl": "@p"}
    with pytest.raises(MessageError, match="link.messageUrl"):
        messages.link(title="T", text="x", message_url="", pic_url="@p")
    with pytest.raises(MessageError, match="link.text is 501"):
        messages.link(title="T", text="x" * 501, message_url="u", pic_url="p")


def test_messages_media_types_need_media_id():
    assert messages.image("@lADO").to_dict() == {"msgtype": "image", "image": {"media_id": "@lADO"}}
    assert messages.file("@f").to_dict()["file"] == {"media_id": "@f"}
    assert messages.voice("@v", 10).to_dict()["voice"] == {"media_id": "@v", "duration": "10"}
    with pytest.raises(MessageError, match="image.media_id"):
        messages.image("")
    with pytest.raises(MessageError, match="voice.duration"):
        messages.voice("@v", 60)


def test_messages_oa_builds_head_body_and_status_bar():
    msg = messages.oa(message_url="https://a", head_text="H", title="T", content="c",
                      form=[("k", "v")], rich=("1", "元"), status_value="待审批",
                      status_bg="0xFFFF9D46")
    oa = msg.to_dict()["oa"]
    assert oa["head"] == {"bgcolor": "FFBBBBBB", "text": "H"}
    assert oa["body"] == {"title": "T", "content": "c", "form": [{"key": "k", "value": "v"}],
                          "rich": {"num": "1", "unit": "元"}}
    assert oa["status_bar"] == {"status_value": "待审批", "status_bg": "0xFFFF9D46"}
    assert msg.has_status_bar
    with pytest.raises(MessageError, match="bgcolor"):
        messages.oa(message_url="https://a", head_bgcolor="0xFF0000")


def test_messages_action_card_single_or_buttons_not_both():
    single = messages.action_card(title="T", markdown="m", single_title="Go",
                                  single_url="https://a")
    assert single.to_dict()["action_card"]["single_url"] == "https://a"
    buttons = messages.action_card(title="T", markdown="m", buttons=[("A", "u1"), ("B", "u2")],
                                   btn_orientation="1")
    card = buttons.to_dict()["action_card"]
    assert card["btn_json_list"] == [{"title": "A", "action_url": "u1"},
                                     {"title": "B", "action_url": "u2"}]
    with pytest.raises(MessageError, match="either"):
        messages.action_card(title="T", markdown="m")
    with pytest.raises(MessageError, match="either"):
        messages.action_card(title="T", markdown="m", single_title="G", single_url="u",
                             buttons=[("A", "u")])
    with pytest.raises(MessageError, match="single_title is 21"):
        messages.action_card(title="T", markdown="m", single_title="x" * 21, single_url="u")
    with pytest.raises(MessageError, match="btn_json_list is"):
        messages.action_card(title="T", markdown="m",
                             buttons=[("b", "u" * 600), ("c", "u" * 600)])


def test_messages_whole_msg_limit_is_2048_utf8_bytes():
    ascii_max = 2048 - len('{"msgtype":"text","text":{"content":""}}')
    assert messages.text("a" * ascii_max).size_bytes == 2048
    with pytest.raises(MessageError, match="2049 bytes; DingTalk allows 2048"):
        messages.text("a" * (ascii_max + 1))
    # 700 CJK characters fit the 5000-character field limit but not 2048 bytes.
    with pytest.raises(MessageError, match="bytes"):
        messages.text("钉" * 700)


def test_messages_from_dict_validates_raw_objects_and_json_strings():
    raw = {"msgtype": "text", "text": {"content": "hi"}}
    assert messages.from_dict(raw).to_dict() == raw
    assert messages.from_dict(json.dumps(raw)).to_dict() == raw
    with pytest.raises(MessageError, match="unknown msgtype"):
        messages.from_dict({"msgtype": "sms", "sms": {}})
    with pytest.raises(MessageError, match="msg.text must be an object"):
        messages.from_dict({"msgtype": "text"})
    with pytest.raises(MessageError, match="not valid JSON"):
        messages.from_dict("{nope")


@given(st.text(min_size=1, max_size=2100).filter(lambda s: s.strip()))
def test_messages_size_limit_holds_for_any_text(content):
    try:
        msg = messages.text(content)
    except MessageError:
        body = {"msgtype": "text", "text": {"content": content}}
        assert len(messages.compact_json(body).encode("utf-8")) > 2048
    else:
        assert msg.size_bytes <= 2048
        assert json.loads(msg.to_json())["text"]["content"] == content


@given(st.lists(st.text(alphabet="abc钉", min_size=1, max_size=20), min_size=1, max_size=8))
def test_messages_action_card_buttons_never_exceed_limits(titles):
    buttons = [(t, "https://x/" + t) for t in titles]
    try:
        msg = messages.action_card(title="T", markdown="m", buttons=buttons)
    except MessageError:
        assert len(messages.compact_json(
            [{"title": t, "action_url": u} for t, u in buttons])) > 1000 or any(
            len(t) > 20 for t in titles)
    else:
        assert msg.size_bytes <= 2048


def test_messages_recipients_need_at_least_one_target():
    with pytest.raises(MessageError, match="at least one"):
        messages.recipients()
    assert messages.recipients(["u1", "u2"], [2, 3]) == {"userid_list": "u1,u2",
                                                         "dept_id_list": "2,3"}
    assert messages.recipients(to_all_user=True) == {"to_all_user": True}


def test_messages_recipients_list_lengths_are_configurable():
    with pytest.raises(MessageError, match="101 userids; at most 100"):
        messages.recipients([f"u{i}" for i in range(101)])
    with pytest.raises(MessageError, match="21 dept ids; at most 20"):
        messages.recipients(dept_ids=range(21))
    wide = messages.RecipientLimits(max_userids=5000, max_dept_ids=500)
    fields = messages.recipients([f"u{i}" for i in range(101)], range(21), limits=wide)
    assert fields["userid_list"].count(",") == 100


def test_messages_recipients_refuse_commas_and_blank_userids():
    with pytest.raises(MessageError, match="commas"):
        messages.recipients(["a,b"])
    with pytest.raises(MessageError, match="non-empty"):
        messages.recipients([""])


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"userids": "manager01"}, "userids must be a list"),
    ({"dept_ids": "12"}, "dept_ids must be a list"),
    ({"dept_ids": ["sales"]}, "whole numbers"),
])
def test_messages_recipients_refuse_strings_that_would_split_into_characters(kwargs, match):
    with pytest.raises(MessageError, match=match):
        messages.recipients(**kwargs)


def test_messages_status_bar_only_for_five_userids():
    msg = messages.oa(message_url="https://a", status_value="ok")
    assert messages.recipients(["a", "b"], msg=msg) == {"userid_list": "a,b"}
    with pytest.raises(MessageError, match="status bar"):
        messages.recipients([f"u{i}" for i in range(6)], msg=msg)
    with pytest.raises(MessageError, match="status bar"):
        messages.recipients(["a"], [1], msg=msg)
    # Without a status bar six userids are fine.
    plain = messages.oa(message_url="https://a")
    assert "userid_list" in messages.recipients([f"u{i}" for i in range(6)], msg=plain)
