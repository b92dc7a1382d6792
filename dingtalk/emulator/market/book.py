"""The market's records: orders (app and in-app), consumptions and app opens (PROTOCOL-ISV 3)."""

from __future__ import annotations

import itertools
import secrets
import threading
from dataclasses import dataclass, field

# PROTOCOL-ISV 3.3 order status: 0 closed (refunded), 3 paid, 4 created.
CLOSED, PAID, CREATED = 0, 3, 4
ORDER_TYPES = ("BUY", "RENEW", "UPGRADE", "RENEW_UPGRADE", "RENEW_DEGRADE")
RENEW_CHANGES = ("RENEW_UPGRADE", "RENEW_DEGRADE")
CHARGE_TYPES = (None, "TRYOUT", "FREE")
TRYOUT_TYPES = ("personal_tryout", "enterprise_tryout")
ITEM_TYPES = (None, "charge_goods_free_item", "charge_item")
FREE_PERIOD_MS = 100 * 365 * 86_400_000  # a free spec runs "100 years" (KB/0882)
_lock = threading.Lock()


@dataclass(slots=True)
class Consumption:
    request_id: str
    quantity: int
    userid: str
    at_ms: int


@dataclass(slots=True)
class Order:
    """One market order as DingTalk keeps it; fees in fen, times in ms."""

    order_id: str
    suite_key: str
    suite_id: int
    corp_id: str
    order_type: str
    goods_code: str
    goods_name: str
    item_code: str
    item_name: str
    sub_quantity: int
    max_of_people: int
    min_of_people: int
    pay_fee: int
    nominal_pay_fee: int
    created_ms: int
    paid_ms: int
    start_ms: int
    stop_ms: int
    buyer_userid: str = ""
    buyer_unionid: str = ""
    charge_type: str | None = None  # "TRYOUT" / "FREE" (HTTP market_buy orderChargeType)
    auto_change_free_item: bool = False
    in_app: bool = False
    sale_model_type: str = "CYC_UPGRADE_MEMBER"
    status: int = PAID
    finished: bool = False  # in-app only: order/finish was called
    opened: bool = False  # renew-change only: its 37 market_service_open happened
    refund_id: str | None = None
    refund_fee: int | None = None
    consumptions: dict[str, Consumption] = field(default_factory=dict)

    @property
    def consumed(self) -> int:
        return sum(c.quantity for c in self.consumptions.values())

    def view(self) -> dict:
        """The control API's view (GET /_emulator/suites/<key>/market/orders)."""
        return {
            "order_id": self.order_id, "suite_key": self.suite_key, "corp_id": self.corp_id,
            "order_type": self.order_type, "goods_code": self.goods_code,
            "goods_name": self.goods_name, "item_code": self.item_code,
            "item_name": self.item_name, "sub_quantity": self.sub_quantity,
            "max_of_people": self.max_of_people, "min_of_people": self.min_of_people,
            "pay_fee": self.pay_fee, "status": self.status, "created_ms": self.created_ms,
            "paid_ms": self.paid_ms, "service_start_ms": self.start_ms,
            "service_stop_ms": self.stop_ms, "buyer_userid": self.buyer_userid,
            "charge_type": self.charge_type,
            "auto_change_free_item": self.auto_change_free_item, "in_app": self.in_app,
            "finished": self.finished, "opened": self.opened, "refund_id": self.refund_id,
            "refund_fee": self.refund_fee, "consumed": self.consumed,
        }


@dataclass(slots=True)
class Tryout:
    """One app open (biz_type 63): a member's personal trial or a corp-wide open."""

    corp_id: str
    suite_key: str
    userid: str
    unionid: str
    tryout_type: str
    item_type: str | None
    from_ms: int
    end_ms: int


class MarketBook:
    """Every order and open of one emulator State; callers hold `state.lock` to change it."""

    def __init__(self, state):
        self.state = state
        self.orders: dict[str, Order] = {}
        self.tryouts: list[Tryout] = []
        # Order ids look like DingTalk's: long decimal numbers, increasing.
        self._ids = itertools.count(state.rng.randrange(10**15, 2 * 10**15))

    def new_order_id(self) -> str:
        return str(next(self._ids))

    def new_refund_id(self) -> str:
        return "rf" + secrets.token_hex(8)

    def suite_orders(self, suite_key: str) -> list[Order]:
        return [o for o in self.orders.values() if o.suite_key == suite_key]

    def unfinished(self, suite_key: str, corp_id: str, item_code: str | None) -> list[Order]:
        """Paid in-app orders of a corp that the ISV has not finished, oldest first."""
        return [o for o in self.orders.values()
                if o.suite_key == suite_key and o.corp_id == corp_id and o.in_app
                and o.status == PAID and not o.finished
                and (item_code is None or o.item_code == item_code)]


def market_for(emulator) -> MarketBook:
    """The emulator's market; a reset (a new State object) starts an empty one."""
    with _lock:
        book = getattr(emulator, "_market_book", None)
        if book is None or book.state is not emulator.state:
            book = MarketBook(emulator.state)
            emulator._market_book = book
        return book
