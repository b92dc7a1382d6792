"""What recall, the OA status bar update and resend-failed refuse (messaging/services/recall.py).

Kept apart from messaging/errors.py only because that file had another owner when these were
written; the codes are as stable as theirs.
"""

from core.errors import ServiceError
from messaging.errors import MessageInvalid

__all__ = ["NothingToResend", "NotificationNotFinished", "NotificationNotRecallable",
           "RecallFailed", "RecallInProgress", "RecallWindowClosed", "StatusBarFailed",
           "StatusBarInvalid", "StatusBarNotApplicable", "StatusBarWindowClosed"]


class NotificationNotRecallable(ServiceError):
    """Already recalled or cancelled, or nobody has the message (nothing sent, nothing left)."""

    code = "notification_not_recallable"
    http_status = 409


class RecallInProgress(ServiceError):
    """A batch is being handed to DingTalk or polled right now: a recall now could miss the
    task it is about to get. Nothing was changed; asking again in a minute works."""

    code = "recall_in_progress"
    http_status = 409


class RecallWindowClosed(ServiceError):
    """A batch was sent more than 24 h ago: DingTalk recalls only younger tasks (PROTOCOL 3.4,
    it answers 400002). Nothing was changed."""

    code = "recall_window_closed"
    http_status = 409


class RecallFailed(ServiceError):
    """DingTalk refused a recall or gave no answer (errcode and errmsg in extra); the batches
    recalled before it stay recorded, and asking again recalls the rest."""

    code = "recall_failed"
    http_status = 502


class StatusBarNotApplicable(ServiceError):
    """Only a sent OA message has a status bar (DingTalk answers other tasks 40035)."""

    code = "status_bar_not_applicable"
    http_status = 409


class StatusBarInvalid(MessageInvalid):
    """status_value empty or too long, or status_bg not an ARGB colour (0xFF78C06E)."""

    code = "status_bar_invalid"


class StatusBarWindowClosed(ServiceError):
    """A batch was sent more than 7 days ago: DingTalk updates younger OA tasks only
    (PROTOCOL 3.5). Nothing was called."""

    code = "status_bar_window_closed"
    http_status = 409


class StatusBarFailed(ServiceError):
    """DingTalk refused a status bar update or gave no answer (errcode in extra)."""

    code = "status_bar_update_failed"
    http_status = 502


class NotificationNotFinished(ServiceError):
    """Resend waits until the notification is finished: before that its failures are not all
    known, and the resend's audience (and its idempotency key's body) would change."""

    code = "notification_not_finished"
    http_status = 409


class NothingToResend(ServiceError):
    """No recipient of the notification failed in a way a resend can fix."""

    code = "nothing_to_resend"
    http_status = 409
