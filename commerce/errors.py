"""What the commerce app refuses: every `code` it can answer (DingTalk's own: dingtalk.errors)."""

from core.errors import ServiceError

__all__ = ["ConsumptionConflict", "ConsumptionInProgress", "ConsumptionRefused",
           "InvalidOrderId", "OrderImportRefused", "OrderNotFound", "OrderNotInApp",
           "OrderRefunded"]


class OrderNotFound(ServiceError):
    """No order with this id for this tenant."""

    code = "order_not_found"
    http_status = 404


class OrderNotInApp(ServiceError):
    """Fulfil and consume are for in-app orders only (an app order needs neither)."""

    code = "order_not_in_app"
    http_status = 409


class OrderRefunded(ServiceError):
    """The order was refunded: it can no longer be fulfilled or consumed."""

    code = "order_refunded"
    http_status = 409


class OrderImportRefused(ServiceError):
    """DingTalk does not confirm the order for this suite (unknown, another ISV's, not paid)."""

    code = "order_import_refused"


class InvalidOrderId(OrderImportRefused):
    """Not the shape of a DingTalk order id (digits, letters, - and _; at most 64)."""

    code = "invalid_order_id"


class ConsumptionConflict(ServiceError):
    """The request_id was used before with another quantity or user."""

    code = "consumption_conflict"
    http_status = 409


class ConsumptionInProgress(ServiceError):
    """Another request with this request_id is being sent to DingTalk right now: retry."""

    code = "consumption_in_progress"
    http_status = 409


class ConsumptionRefused(ServiceError):
    """DingTalk refused the consumption (the same answer for every repeat of the request)."""

    code = "consumption_refused"
    http_status = 422
