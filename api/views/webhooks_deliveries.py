"""An endpoint's webhook deliveries, through the endpoint only (another owner's endpoint is 404):
list (filtered, newest first), detail with its attempts, redeliver a finished one."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from api.models import WebhookDelivery, WebhookEventType
from api.pagination import ApiCursorPagination, paginated
from api.selectors.webhooks import (
    webhook_deliveries_list,
    webhook_delivery_get,
    webhook_endpoint_get,
)
from api.services.webhooks_delivery import RESPONSE_BODY_KEPT, webhook_delivery_redeliver
from api.views.base import KeyApi


class WebhookDeliverySerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="X-Dingsuite-Delivery-Id")
    event_id = serializers.UUIDField(source="event.event_id",
                                     help_text="X-Dingsuite-Event-Id: dedupe on it")
    event_type = serializers.ChoiceField(WebhookEventType.choices, source="event.event_type")
    status = serializers.ChoiceField(WebhookDelivery.Status.choices)
    attempt_count = serializers.IntegerField(
        source="attempts", help_text="attempts in this round (a redelivery starts a new one)")
    next_attempt_at = serializers.DateTimeField(allow_null=True,
                                                help_text="when the next try is due (open only)")
    last_error = serializers.CharField(help_text="the last failed attempt's reason, or empty")
    replay_of = serializers.IntegerField(source="replay_of_id", allow_null=True,
                                         help_text="the delivery an operator's replay copied")
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class WebhookAttemptSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    attempted_at = serializers.DateTimeField()
    duration_ms = serializers.IntegerField()
    response_status = serializers.IntegerField(allow_null=True,
                                               help_text="null: no answer (timeout, refused)")
    response_body = serializers.CharField(
        help_text=f"the answer's first {RESPONSE_BODY_KEPT} bytes, as stored")
    error = serializers.CharField(help_text="why it failed without an answer, or empty")


class WebhookDeliveryDetailSerializer(WebhookDeliverySerializer):
    payload = serializers.JSONField(source="event.payload", help_text="the body sent")
    attempts = WebhookAttemptSerializer(source="attempt_rows", many=True,
                                        help_text="every attempt, oldest first")


class WebhookDeliveryListApi(KeyApi):
    """The endpoint's deliveries, newest first; filter by status, event type, creation time."""

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=WebhookDelivery.Status.choices, required=False)
        event_type = serializers.ChoiceField(choices=WebhookEventType.choices, required=False)
        created_after = serializers.DateTimeField(required=False)

    @extend_schema(operation_id="webhooks_deliveries_list",
                   responses=paginated(WebhookDeliverySerializer),
                   parameters=[
                       OpenApiParameter("status", enum=WebhookDelivery.Status.values),
                       OpenApiParameter("event_type", enum=WebhookEventType.values),
                       OpenApiParameter("created_after", OpenApiTypes.DATETIME,
                                        description="created at or after this time")])
    def get(self, request, endpoint_id: int):
        endpoint = webhook_endpoint_get(api_key=self.api_key, endpoint_id=endpoint_id)
        filters = self.FilterSerializer(data=request.query_params.dict())
        filters.is_valid(raise_exception=True)
        qs = webhook_deliveries_list(endpoint=endpoint, **filters.validated_data)
        paginator = ApiCursorPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)


class WebhookDeliveryDetailApi(KeyApi):
    """One delivery of the endpoint with every attempt (status, error, duration, answer)."""

    @extend_schema(operation_id="webhooks_deliveries_retrieve",
                   responses=WebhookDeliveryDetailSerializer)
    def get(self, request, endpoint_id: int, delivery_id: int):
        endpoint = webhook_endpoint_get(api_key=self.api_key, endpoint_id=endpoint_id)
        delivery = webhook_delivery_get(endpoint=endpoint, delivery_id=delivery_id)
        return Response(WebhookDeliveryDetailSerializer(delivery).data)


class WebhookDeliveryRedeliverApi(KeyApi):
    """Queue a finished delivery (failed or succeeded) again: a new round of attempts of the
    same event (same event id); 409 while it is pending or retrying."""

    @extend_schema(operation_id="webhooks_deliveries_redeliver", request=None,
                   responses={202: OpenApiResponse(WebhookDeliveryDetailSerializer,
                                                   "queued: the delivery, pending again")})
    def post(self, request, endpoint_id: int, delivery_id: int):
        endpoint = webhook_endpoint_get(api_key=self.api_key, endpoint_id=endpoint_id)
        delivery = webhook_delivery_get(endpoint=endpoint, delivery_id=delivery_id)
        delivery = webhook_delivery_redeliver(delivery=delivery)
        delivery = webhook_delivery_get(endpoint=endpoint, delivery_id=delivery.pk)
        return Response(WebhookDeliveryDetailSerializer(delivery).data,
                        status=status.HTTP_202_ACCEPTED)
