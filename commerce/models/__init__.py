"""The commerce ledger: market orders, refunds and member opens as DingTalk pushed them, each
tenant's derived entitlement, and in-app orders with their consumptions."""

from commerce.models.entitlements import Entitlement, MemberOpen
from commerce.models.inapp import InAppConsumption, InAppOrder, InAppReconcileCursor
from commerce.models.orders import MarketOrder, MarketRefund

__all__ = ["Entitlement", "InAppConsumption", "InAppOrder", "InAppReconcileCursor", "MarketOrder",
           "MarketRefund", "MemberOpen"]
