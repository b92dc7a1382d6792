"""Message builders for work notices and chats, checked against DingTalk's limits before sending.

`text`, `markdown`, `link`, `image`, `file`, `voice`, `oa` and `action_card` build a checked
`Message`; `from_dict` checks a raw `msg` (object or JSON string) the same way; `recipients`
builds and checks the recipient fields of a send. Every refusal is a `MessageError`, raised
before anything reaches DingTalk.
"""

from dingtalk.errors import MessageError
from dingtalk.messages.builders import (
    Message,
    action_card,
    file,
    from_dict,
    image,
    link,
    markdown,
    oa,
    text,
    voice,
)
from dingtalk.messages.checks import compact_json
from dingtalk.messages.limits import (
    MAX_ACTION_URL,
    MAX_BTN_JSON_LIST,
    MAX_BUTTON_TITLE,
    MAX_LINK_TEXT,
    MAX_LINK_TITLE,
    MAX_MARKDOWN_TEXT,
    MAX_MSG_BYTES,
    MAX_SINGLE_TITLE,
    MAX_SINGLE_URL,
    MAX_STATUS_BAR_USERIDS,
    MAX_TEXT_CONTENT,
    MAX_TITLE,
    MAX_VOICE_SECONDS,
    MSGTYPES,
)
from dingtalk.messages.recipients import RecipientLimits, dept_id_list, recipients, userid_list

__all__ = [
    "MAX_ACTION_URL",
    "MAX_BTN_JSON_LIST",
    "MAX_BUTTON_TITLE",
    "MAX_LINK_TEXT",
    "MAX_LINK_TITLE",
    "MAX_MARKDOWN_TEXT",
    "MAX_MSG_BYTES",
    "MAX_SINGLE_TITLE",
    "MAX_SINGLE_URL",
    "MAX_STATUS_BAR_USERIDS",
    "MAX_TEXT_CONTENT",
    "MAX_TITLE",
    "MAX_VOICE_SECONDS",
    "MSGTYPES",
    "Message",
    "MessageError",
    "RecipientLimits",
    "action_card",
    "compact_json",
    "dept_id_list",
    "file",
    "from_dict",
    "image",
    "link",
    "markdown",
    "oa",
    "recipients",
    "text",
    "userid_list",
    "voice",
]
