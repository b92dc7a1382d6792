"""DingTalk server API resource groups (departments, users, contacts, auth, work notices, chats,
jsapi)."""

from dingtalk.api.jsapi import JsapiTicket
from dingtalk.api.market import MarketOrder
from dingtalk.api.models import (
    AuthScopes,
    Chat,
    Department,
    ForbiddenRecipient,
    ReadListPage,
    SendProgress,
    SendResult,
    SendTask,
    SsoUser,
    UnionIdLookup,
    User,
    UserPage,
)

__all__ = [
    "AuthScopes",
    "Chat",
    "Department",
    "ForbiddenRecipient",
    "JsapiTicket",
    "MarketOrder",
    "ReadListPage",
    "SendProgress",
    "SendResult",
    "SendTask",
    "SsoUser",
    "UnionIdLookup",
    "User",
    "UserPage",
]
