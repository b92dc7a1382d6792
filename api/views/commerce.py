"""A tenant's commerce ledger: its entitlement now, its orders, and the in-app endpoints the
product calls (fulfil an order it was told of by `order.paid`, consume a consumable one)."""

from __future__ import annotations

import re

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from api.fields import TEXT_PATTERN, TextField, WholeNumberField
from api.pagination import ApiCursorPagination, paginated
from api.views.base import TenantApi
from commerce.errors import OrderNotFound
from commerce.models import Entitlement, InAppConsumption, InAppOrder, MarketOrder
from commerce.selectors import entitlement_snapshot, tenant_orders
from commerce.services.inapp import in_app_order_consume, in_app_order_fulfil

MAX_ORDER_ID = 64
ORDER_ID = OpenApiParameter("order_id", {"type": "string", "maxLength": MAX_ORDER_ID,
                                         "pattern": TEXT_PATTERN}, OpenApiParameter.PATH)


def _order_id(value: str) -> str:
    # A NUL or an over-long id names no order (and must never reach a query).
    if len(value) > MAX_ORDER_ID or not re.match(TEXT_PATTERN, value):
        raise OrderNotFound("no order with this id for this tenant", extra={})
    return value


class EntitlementSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Entitlement.Kind.choices)
    active = serializers.BooleanField(help_text="kind is not none and not expired")
    expired = serializers.BooleanField()
    goods_code = serializers.CharField()
    item_code = serializers.CharField(help_text="the edition (DingTalk's itemCode)")
    item_name = serializers.CharField()
    quantity = serializers.IntegerField(allow_null=True, help_text="seats bought")
    max_of_people = serializers.IntegerField(allow_null=True)
    min_of_people = serializers.IntegerField(allow_null=True)
    order_id = serializers.CharField(allow_null=True,
                                     help_text="the order that gives the edition")
    active_from = serializers.DateTimeField(allow_null=True)
    current_until = serializers.DateTimeField(allow_null=True,
                                              help_text="end of the order in effect")
    active_until = serializers.DateTimeField(allow_null=True,
                                             help_text="latest end over effective orders")
    enterprise_tryout = serializers.BooleanField()
    version = serializers.IntegerField(help_text="goes up with every change")
    changed_at = serializers.DateTimeField(allow_null=True)


class OrderSerializer(serializers.Serializer):
    order_id = serializers.CharField()
    status = serializers.ChoiceField(choices=MarketOrder.Status.choices)
    source = serializers.ChoiceField(choices=MarketOrder.Source.choices)
    order_type = serializers.CharField(help_text="BUY, RENEW, UPGRADE, RENEW_UPGRADE, "
                                                 "RENEW_DEGRADE, or empty (imported)")
    charge_type = serializers.CharField(help_text="FREE, TRYOUT or empty")
    goods_code = serializers.CharField()
    goods_name = serializers.CharField()
    item_code = serializers.CharField()
    item_name = serializers.CharField()
    quantity = serializers.IntegerField(allow_null=True)
    max_of_people = serializers.IntegerField(allow_null=True)
    min_of_people = serializers.IntegerField(allow_null=True)
    pay_fee = serializers.IntegerField(allow_null=True, help_text="fen")
    paid_at = serializers.DateTimeField(allow_null=True)
    service_start_at = serializers.DateTimeField(allow_null=True)
    service_stop_at = serializers.DateTimeField(allow_null=True)
    in_app = serializers.BooleanField()
    in_app_status = serializers.CharField(source="in_app_order.status", default=None,
                                          allow_null=True)
    in_app_finish_errcode = serializers.CharField(
        source="in_app_order.finish_errcode", default=None, allow_null=True,
        help_text="DingTalk's errcode when it refused the finish (in_app_status finish_refused)")
    in_app_finish_errmsg = serializers.CharField(source="in_app_order.finish_errmsg",
                                                 default=None, allow_null=True)
    verify_error = serializers.CharField()
    note = serializers.CharField(help_text="what the ledger did that the pushes alone do not "
                                           "explain (an ignored open, a change applied "
                                           "without its open)")
    created_at = serializers.DateTimeField()


class TenantEntitlementApi(TenantApi):
    """What the tenant may use now: edition, seats, trial / free / paid, until when."""

    @extend_schema(operation_id="tenant_entitlement", responses=EntitlementSerializer)
    def get(self, request, corp_id: str):
        return Response(EntitlementSerializer(entitlement_snapshot(tenant=self.tenant)).data)


class TenantOrderListApi(TenantApi):
    """The tenant's market orders, newest first (every status: refused and refunded too)."""

    @extend_schema(operation_id="tenant_orders_list", responses=paginated(OrderSerializer))
    def get(self, request, corp_id: str):
        qs = tenant_orders(tenant=self.tenant).select_related("in_app_order")
        paginator = ApiCursorPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(OrderSerializer(page, many=True).data)


class InAppOrderSerializer(serializers.Serializer):
    order_id = serializers.CharField(source="order.order_id")
    status = serializers.ChoiceField(choices=InAppOrder.Status.choices,
                                     help_text="confirmed: the finish at DingTalk is retried; "
                                               "finish_refused: DingTalk refused it (an "
                                               "operator retries it)")
    finish_errcode = serializers.CharField(help_text="DingTalk's errcode of a refused finish")
    finish_errmsg = serializers.CharField()
    confirmed_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


class OrderFulfilApi(TenantApi):
    """The product fulfilled a paid in-app order: dingsuite tells DingTalk (order/finish),
    once however often this is posted. 409 order_not_in_app, order_refunded."""

    OutputSerializer = InAppOrderSerializer

    @extend_schema(operation_id="tenant_order_fulfil", request=None, parameters=[ORDER_ID],
                   responses=OutputSerializer)
    def post(self, request, corp_id: str, order_id: str):
        row = in_app_order_fulfil(tenant=self.tenant, order_id=_order_id(order_id))
        return Response(self.OutputSerializer(row).data)


class OrderConsumeApi(TenantApi):
    """Consume a consumable in-app order; `request_id` makes a repeat answer as the first
    did (409 consumption_conflict for the same id with other values; 422
    consumption_refused when DingTalk said no)."""

    class InputSerializer(serializers.Serializer):
        request_id = serializers.RegexField(TEXT_PATTERN, max_length=64)
        quantity = WholeNumberField(from_text=False, min_value=1, max_value=1_000_000)
        userid = TextField(max_length=64)

    class OutputSerializer(serializers.Serializer):
        request_id = serializers.CharField()
        order_id = serializers.CharField(source="in_app_order.order.order_id")
        quantity = serializers.IntegerField()
        userid = serializers.CharField()
        status = serializers.ChoiceField(choices=InAppConsumption.Status.choices)
        done_at = serializers.DateTimeField(allow_null=True)

    @extend_schema(operation_id="tenant_order_consume", request=InputSerializer,
                   parameters=[ORDER_ID], responses=OutputSerializer)
    def post(self, request, corp_id: str, order_id: str):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        used = in_app_order_consume(tenant=self.tenant, order_id=_order_id(order_id),
                                    **serializer.validated_data)
        return Response(self.OutputSerializer(used).data)
