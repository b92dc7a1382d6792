"""DingTalk server API resource groups (departments, users, contacts, auth, work notices, chats)."""

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
    "ReadListPage",
    "SendProgress",
    "SendResult",
    "SendTask",
    "SsoUser",
    "UnionIdLookup",
    "User",
    "UserPage",
]
