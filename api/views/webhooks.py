"""Webhook endpoints of the key's owner: list, create (the secret shown once), detail, update,
delete, rotate the secret (the new one shown once, the old one signing beside it for an
overlap). docs/webhooks.md says how to verify; webhooks_deliveries.py has the deliveries."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from api.models import WebhookEventType
from api.pagination import ApiCursorPagination, paginated
from api.selectors.webhooks import webhook_endpoint_get, webhook_endpoints_visible, webhook_owner
from api.services.webhooks import (
    SECRET_OVERLAP_MAX_S,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_update,
    webhook_secret_rotate,
)
from api.views.base import KeyApi


class WebhookEndpointSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField()
    description = serializers.CharField()
    events = serializers.ListField(child=serializers.ChoiceField(WebhookEventType.choices),
                                   help_text="event types heard; empty: every type")
    is_active = serializers.BooleanField()
    secret_masked = serializers.CharField(help_text="the secret's last characters only")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    secret_rotated_at = serializers.DateTimeField(allow_null=True)
    previous_secret_expires_at = serializers.DateTimeField(
        source="previous_secret_until", allow_null=True,
        help_text="after a rotation, until when the previous secret signs too (a second v1 in "
                  "X-Dingsuite-Signature); null: only the current secret signs")


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(help_text="shown this once: keep it to verify signatures")


def _with_secret(created) -> dict:
    data = dict(WebhookEndpointSerializer(created.endpoint).data)
    data["secret"] = created.secret
    return data


def _events(**kwargs) -> serializers.ListField:
    return serializers.ListField(child=serializers.ChoiceField(WebhookEventType.choices),
                                 max_length=len(WebhookEventType.values), **kwargs)


class WebhookListApi(KeyApi):
    """This key's owner's webhook endpoints (GET), or a new one (POST)."""

    class InputSerializer(serializers.Serializer):
        url = serializers.CharField(max_length=2000)
        events = _events(required=False, default=list)
        description = serializers.CharField(max_length=200, required=False, allow_blank=True,
                                            default="")
        is_active = serializers.BooleanField(required=False, default=True)

    @extend_schema(operation_id="webhooks_list", responses=paginated(WebhookEndpointSerializer))
    def get(self, request):
        qs = webhook_endpoints_visible(api_key=self.api_key)
        paginator = ApiCursorPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(WebhookEndpointSerializer(page, many=True).data)

    @extend_schema(operation_id="webhooks_create", request=InputSerializer,
                   responses={201: WebhookEndpointWithSecretSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        created = webhook_endpoint_create(**webhook_owner(api_key=self.api_key),
                                          **data.validated_data)
        return Response(_with_secret(created), status=status.HTTP_201_CREATED)


class WebhookDetailApi(KeyApi):
    """One endpoint: read (GET), change (PATCH: url, events, description, is_active), delete."""

    class UpdateSerializer(serializers.Serializer):
        url = serializers.CharField(max_length=2000, required=False)
        events = _events(required=False)
        description = serializers.CharField(max_length=200, required=False, allow_blank=True)
        is_active = serializers.BooleanField(required=False)

    @extend_schema(operation_id="webhooks_retrieve", responses=WebhookEndpointSerializer)
    def get(self, request, endpoint_id: int):
        endpoint = webhook_endpoint_get(api_key=self.api_key, endpoint_id=endpoint_id)
        return Response(WebhookEndpointSerializer(endpoint).data)

    @extend_schema(operation_id="webhooks_update", request=UpdateSerializer,
                   responses=WebhookEndpointSerializer)
    def patch(self, request, endpoint_id: int):
        endpoint = webhook_endpoint_get(api_key=self.api_key, endpoint_id=endpoint_id)
        data = self.UpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = webhook_endpoint_update(endpoint=endpoint, **data.validated_data)
        return Response(WebhookEndpointSerializer(endpoint).data)

    @extend_schema(operation_id="webhooks_destroy", responses={204: None})
    def delete(self, request, endpoint_id: int):
        endpoint = webhook_endpoint_get(api_key=self.api_key, endpoint_id=endpoint_id)
        webhook_endpoint_delete(endpoint=endpoint)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookSecretRotateApi(KeyApi):
    """A new secret for the endpoint (shown this once); the previous one signs beside it for
    `overlap_s` seconds (API_WEBHOOK_SECRET_OVERLAP_S by default; 0: it stops now)."""

    class InputSerializer(serializers.Serializer):
        overlap_s = serializers.IntegerField(
            min_value=0, max_value=SECRET_OVERLAP_MAX_S, required=False,
            help_text="seconds the previous secret keeps signing beside the new one, 0 to "
                      f"{SECRET_OVERLAP_MAX_S} (default: the server's setting, 24 h unless "
                      "changed); 0 drops it at once")

    @extend_schema(operation_id="webhooks_rotate_secret", request=InputSerializer,
                   responses=WebhookEndpointWithSecretSerializer)
    def post(self, request, endpoint_id: int):
        endpoint = webhook_endpoint_get(api_key=self.api_key, endpoint_id=endpoint_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(_with_secret(webhook_secret_rotate(endpoint=endpoint,
                                                           **data.validated_data)))
