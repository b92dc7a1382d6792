"""What the messaging app refuses: every `code` it can answer (DingTalk's own: dingtalk.errors)."""

from core.errors import ServiceError

__all__ = ["ChatsNotForSuites", "MediaInvalid", "MessageInvalid"]


class ChatsNotForSuites(ServiceError):
    """DingTalk allows the legacy chat/* APIs to internal apps only (PROTOCOL 5: third-party
    apps are answered 60011), so dingsuite refuses before calling."""

    code = "chats_internal_apps_only"
    http_status = 409


class MessageInvalid(ServiceError):
    """A message, or a chat's name or members, that DingTalk would refuse (checked before any
    call by the dingtalk.messages builders)."""

    code = "message_invalid"


class MediaInvalid(MessageInvalid):
    """A file media/upload would refuse: its type, size (image 1 MB, voice 2 MB, file 10 MB) or
    extension (PROTOCOL 3.1, 3.8), checked before any call. A MessageInvalid, so a caller that
    catches those catches this too."""

    code = "media_invalid"
