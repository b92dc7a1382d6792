"""In-app purchase (内购) orders of the app market, corp token (topapi/appstore/internal)."""

from __future__ import annotations

from typing import Any

from dingtalk.api._base import Resource, result
from dingtalk.errors import BadResponse

_BASE = "topapi/appstore/internal"


class Appstore(Resource):
    """`client.appstore`: read, finish and consume in-app orders; find the unfinished ones.

    Order fields stay DingTalk's (`biz_order_id`, `item_code`, `status` 0/3/4, fees in fen,
    times in ms): see PROTOCOL-ISV 3.3.
    """

    def internal_order_get(self, biz_order_id: str) -> dict[str, Any]:
        """One in-app order (not for ordinary app orders).

        Doc: KB/0884 (topapi/appstore/internal/order/get).
        """
        return _object(result(self._post(f"{_BASE}/order/get",
                                         {"biz_order_id": str(biz_order_id)})),
                       f"{_BASE}/order/get")

    def internal_order_finish(self, biz_order_id: str) -> None:
        """Tell DingTalk the in-app order is fulfilled (it leaves the unfinished list).

        Doc: KB/0885 (topapi/appstore/internal/order/finish).
        """
        self._post(f"{_BASE}/order/finish", {"biz_order_id": str(biz_order_id)})

    def internal_order_consume(self, *, biz_order_id: str, request_id: str, quantity: int,
                               userid: str) -> dict[str, Any]:
        """Consume `quantity` of a consumable order; `request_id` makes a repeat harmless.

        Doc: KB/0886 (topapi/appstore/internal/order/consume).
        """
        body = self._post(f"{_BASE}/order/consume", {
            "biz_order_id": str(biz_order_id), "request_id": str(request_id),
            "quantity": int(quantity), "userid": str(userid)})
        value = body.get("result")
        return value if isinstance(value, dict) else {}

    def unfinished_orders(self, *, page: int = 1, page_size: int = 100,
                          item_code: str | None = None) -> tuple[int, list[dict[str, Any]]]:
        """(total, orders) of one page of paid in-app orders not yet finished (page from 1,
        at most 100 a page): the daily reconciliation DingTalk recommends.

        Doc: KB/0887 (topapi/appstore/internal/unfinishedorder/list).
        """
        path = f"{_BASE}/unfinishedorder/list"
        answer = _object(result(self._post(path, {
            "page": int(page), "page_size": int(page_size), "item_code": item_code})), path)
        items = answer.get("items") or []
        if not isinstance(items, list):
            raise BadResponse(f"{path}: items is not a list", status_code=200, path=path)
        total = answer.get("total")
        return (int(total) if isinstance(total, int | str) and str(total).isdigit()
                else len(items)), [i for i in items if isinstance(i, dict)]

    def sku_page(self, goods_code: str, *, callback_page: str | None = None,
                 extend_param: str | None = None) -> str:
        """The URL of an in-app goods' SKU (purchase) page, to open with biz.util.openLink.

        `callback_page` and `extend_param` go as given (DingTalk wants them URL-encoded).
        Doc: KB/0883 (topapi/appstore/internal/skupage/get).
        """
        path = f"{_BASE}/skupage/get"
        url = self._post(path, {"goods_code": goods_code, "callback_page": callback_page,
                                "extend_param": extend_param}).get("result")
        if not isinstance(url, str) or not url:
            raise BadResponse(f"{path}: successful answer has no result URL", status_code=200,
                              path=path)
        return url


def _object(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadResponse(f"{path}: result is not an object", status_code=200, path=path)
    return value
