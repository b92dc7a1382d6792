"""DingTalk's size limits for a `msg` and its fields (PROTOCOL 3.1 and errcode 34016)."""

# PROTOCOL 3.1: the whole `msg` object may be at most 2048 bytes.
MAX_MSG_BYTES = 2048
# PROTOCOL 3.1 / errcode 34016: field limits in characters.
MAX_TEXT_CONTENT = 5000
MAX_MARKDOWN_TEXT = 5000
MAX_TITLE = 64
MAX_LINK_TITLE = 100
MAX_LINK_TEXT = 500
MAX_SINGLE_TITLE = 20
MAX_SINGLE_URL = 500
MAX_BTN_JSON_LIST = 1000
MAX_BUTTON_TITLE = 20
MAX_ACTION_URL = 700
MAX_VOICE_SECONDS = 60
# PROTOCOL 3.1: an OA status bar is only allowed for at most 5 userids.
MAX_STATUS_BAR_USERIDS = 5

MSGTYPES = ("text", "image", "voice", "file", "link", "oa", "markdown", "action_card")
