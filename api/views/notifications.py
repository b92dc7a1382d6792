"""Work notifications of a tenant: create (Idempotency-Key), list, detail with progress and
counts, recipients by outcome, recall, cancel. Sending happens in messaging's tasks; these
views only accept, read and stop."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from api.pagination import ApiCursorPagination, paginated
from api.services.notifications import api_notification_create, tenant_require_active
from api.views.base import TenantApi
from messaging.models import Notification, Recipient
from messaging.selectors import (
    notification_get,
    notification_outcome_counts,
    notification_progress,
    notification_recipients,
    notifications_list,
)
from messaging.services.notifications import notification_cancel
from messaging.services.recall import notification_recall

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key", {"type": "string", "minLength": 1, "maxLength": 128},
    OpenApiParameter.HEADER,
    description="1-128 characters: the same key with the same body answers the first "
                "notification (200), with another body 409 idempotency_key_reused")


class NotificationSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Notification.Status.choices)
    single_batch = serializers.BooleanField()
    recipient_count = serializers.IntegerField()
    counts = serializers.DictField(child=serializers.IntegerField(),
                                   help_text="recipients per outcome (last refreshed)")
    created_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)


class NotificationProgressSerializer(serializers.Serializer):
    total = serializers.IntegerField(help_text="batches (one DingTalk task each)")
    sent = serializers.IntegerField(help_text="batches DingTalk has a task for")
    failed = serializers.IntegerField(help_text="batches DingTalk refused")
    pending = serializers.IntegerField(help_text="batches still to send")
    cancelled = serializers.IntegerField()
    percent = serializers.IntegerField(help_text="sent or failed, of the batches not cancelled")


class NotificationDetailSerializer(NotificationSummarySerializer):
    userid_list = serializers.ListField(child=serializers.CharField(), source="userids")
    dept_id_list = serializers.ListField(child=serializers.IntegerField(), source="dept_ids")
    to_all_user = serializers.BooleanField()
    msg = serializers.JSONField(allow_null=True)
    template_id = serializers.CharField(allow_blank=True)
    template_data = serializers.JSONField(allow_null=True)
    defer_held = serializers.BooleanField()
    idempotency_key = serializers.CharField(allow_blank=True)
    dept_errors = serializers.JSONField()
    last_error = serializers.CharField(allow_blank=True)
    planned_at = serializers.DateTimeField(allow_null=True)
    progress = NotificationProgressSerializer()


def _detail(view: TenantApi, notification: Notification) -> dict:
    notification.counts = notification_outcome_counts(tenant=view.tenant,
                                                      notification=notification)
    notification.recipient_count = sum(notification.counts.values())
    notification.progress = notification_progress(tenant=view.tenant,
                                                  notification=notification)
    return NotificationDetailSerializer(notification).data


class NotificationListCreateApi(TenantApi):
    """The tenant's notifications (newest first; filter by status and creation time), and
    a new one."""

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=Notification.Status.choices, required=False)
        created_after = serializers.DateTimeField(required=False)
        created_before = serializers.DateTimeField(required=False)

    class InputSerializer(serializers.Serializer):
        userid_list = serializers.ListField(child=serializers.CharField(max_length=64),
                                            required=False, default=list, max_length=100_000)
        dept_id_list = serializers.ListField(child=serializers.IntegerField(min_value=1),
                                             required=False, default=list, max_length=500)
        to_all_user = serializers.BooleanField(required=False, default=False)
        msg = serializers.JSONField(required=False, allow_null=True, default=None)
        template_id = serializers.CharField(required=False, allow_null=True, default=None,
                                            max_length=128)
        template_data = serializers.DictField(required=False, allow_null=True, default=None)
        defer_held = serializers.BooleanField(required=False, default=False)

        def validate(self, attrs):
            if not (attrs["userid_list"] or attrs["dept_id_list"] or attrs["to_all_user"]):
                message = "one of userid_list, dept_id_list or to_all_user is required"
                raise serializers.ValidationError(
                    {"userid_list": [message], "dept_id_list": [message],
                     "to_all_user": [message]})
            if attrs["msg"] is None and attrs["template_id"] is None:
                raise serializers.ValidationError({"msg": ["msg (or template_id with "
                                                           "template_data) is required"]})
            return attrs

    @extend_schema(operation_id="notifications_list",
                   responses=paginated(NotificationSummarySerializer),
                   parameters=[OpenApiParameter("status", enum=Notification.Status.values),
                               OpenApiParameter("created_after", OpenApiTypes.DATETIME),
                               OpenApiParameter("created_before", OpenApiTypes.DATETIME)])
    def get(self, request, corp_id: str):
        filters = self.FilterSerializer(data=request.query_params.dict())
        filters.is_valid(raise_exception=True)
        qs = notifications_list(tenant=self.tenant, **filters.validated_data)
        paginator = ApiCursorPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(
            NotificationSummarySerializer(page, many=True).data)

    @extend_schema(operation_id="notifications_create", request=InputSerializer,
                   parameters=[IDEMPOTENCY_KEY],
                   responses={201: NotificationDetailSerializer,
                              200: OpenApiResponse(NotificationDetailSerializer,
                                                   "the first notification of this key")})
    def post(self, request, corp_id: str):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        notification, created = api_notification_create(
            tenant=self.tenant, userids=v["userid_list"], dept_ids=v["dept_id_list"],
            to_all_user=v["to_all_user"], msg=v["msg"], template_id=v["template_id"],
            template_data=v["template_data"], defer_held=v["defer_held"],
            idempotency_key=request.headers.get("Idempotency-Key"))
        return Response(_detail(self, notification),
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class NotificationDetailApi(TenantApi):
    """One notification: its request, status, progress of its batches and counts per outcome."""

    @extend_schema(operation_id="notifications_retrieve",
                   responses=NotificationDetailSerializer)
    def get(self, request, corp_id: str, notification_id: int):
        notification = notification_get(tenant=self.tenant, id=notification_id)
        return Response(_detail(self, notification))


class RecipientSerializer(serializers.Serializer):
    userid = serializers.CharField()
    outcome = serializers.ChoiceField(choices=Recipient.Outcome.choices)
    code = serializers.CharField(allow_blank=True,
                                 help_text="DingTalk's forbidden code or the held-back reason")


class RecipientPagination(ApiCursorPagination):
    ordering = "id"  # planning order


class NotificationRecipientsApi(TenantApi):
    """A notification's recipients in planning order (filter by `outcome`)."""

    class FilterSerializer(serializers.Serializer):
        outcome = serializers.ChoiceField(choices=Recipient.Outcome.choices, required=False)

    @extend_schema(operation_id="notifications_recipients_list",
                   responses=paginated(RecipientSerializer),
                   parameters=[OpenApiParameter("outcome", enum=Recipient.Outcome.values)])
    def get(self, request, corp_id: str, notification_id: int):
        filters = self.FilterSerializer(data=request.query_params.dict())
        filters.is_valid(raise_exception=True)
        notification = notification_get(tenant=self.tenant, id=notification_id)
        qs = notification_recipients(tenant=self.tenant, notification=notification,
                                     outcome=filters.validated_data.get("outcome"))
        paginator = RecipientPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(RecipientSerializer(page, many=True).data)


class NotificationRecallApi(TenantApi):
    """Recall: what is unsent is cancelled, what DingTalk has is recalled (tasks up to 24 h)."""

    @extend_schema(operation_id="notifications_recall", request=None,
                   responses=NotificationDetailSerializer)
    def post(self, request, corp_id: str, notification_id: int):
        notification = notification_get(tenant=self.tenant, id=notification_id)
        tenant_require_active(tenant=self.tenant)
        notification = notification_recall(notification_id=notification.pk)
        return Response(_detail(self, notification))


class NotificationCancelApi(TenantApi):
    """Cancel what has not been handed to DingTalk yet (409 when everything was)."""

    @extend_schema(operation_id="notifications_cancel", request=None,
                   responses=NotificationDetailSerializer)
    def post(self, request, corp_id: str, notification_id: int):
        notification = notification_get(tenant=self.tenant, id=notification_id)
        notification = notification_cancel(notification=notification)
        return Response(_detail(self, notification))
