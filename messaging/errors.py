"""What the messaging app refuses: every `code` it can answer (DingTalk's own: dingtalk.errors)."""

from core.errors import ServiceError

__all__ = ["AudienceInvalid", "ChatsNotForSuites", "IdempotencyConflict", "IdempotencyKeyInvalid",
           "MediaInvalid", "MessageApiMismatch", "MessageInvalid", "NotificationNotCancellable",
           "NotificationNotFound", "ToAllUserDailyLimit", "ToAllUserNotForSuites"]


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


class AudienceInvalid(MessageInvalid):
    """No recipient at all, or userids / dept ids that are not lists of valid ids."""

    code = "audience_invalid"


class MessageApiMismatch(MessageInvalid):
    """A message for a suite that must send by template (its message_api is sendbytemplate:
    DingTalk answers its asyncsend_v2 calls 60011), or a template for a tenant that cannot."""

    code = "message_api_mismatch"


class ToAllUserNotForSuites(ServiceError):
    """DingTalk refuses to_all_user from third-party apps (41028, PROTOCOL 3.1)."""

    code = "to_all_user_internal_apps_only"
    http_status = 409


class ToAllUserDailyLimit(ServiceError):
    """An internal app's corp may send 3 full-company notifications a day (41045)."""

    code = "to_all_user_daily_limit"
    http_status = 429


class IdempotencyConflict(ServiceError):
    """The idempotency key was used before for another request body."""

    code = "idempotency_key_reused"
    http_status = 409


class IdempotencyKeyInvalid(MessageInvalid):
    """An Idempotency-Key that is empty or longer than 128 characters."""

    code = "idempotency_key_invalid"


class NotificationNotFound(ServiceError):
    code = "notification_not_found"
    http_status = 404


class NotificationNotCancellable(ServiceError):
    """The notification is already final, or everything in it has been sent."""

    code = "notification_not_cancellable"
    http_status = 409
