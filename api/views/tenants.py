"""Tenants: the list a key can see (filter by status) and one tenant's state."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from api.pagination import ApiCursorPagination, paginated
from api.selectors.tenants import api_tenants_visible, tenant_last_event, tenant_token_state
from api.views.base import KeyApi, TenantApi
from tenants.models import Tenant


class TenantSummarySerializer(serializers.Serializer):
    corp_id = serializers.CharField()
    corp_name = serializers.CharField()
    kind = serializers.ChoiceField(choices=Tenant.Kind.choices)
    status = serializers.ChoiceField(choices=Tenant.Status.choices)
    suspended = serializers.BooleanField()
    active = serializers.BooleanField(source="is_active")
    agent_id = serializers.IntegerField(allow_null=True)
    authorized_at = serializers.DateTimeField(allow_null=True)


class TokenStateSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=["valid", "expired", "none"])
    expires_at = serializers.DateTimeField(allow_null=True)
    fetched_at = serializers.DateTimeField(allow_null=True)


class LastEventSerializer(serializers.Serializer):
    kind = serializers.CharField()
    status = serializers.CharField()
    received_at = serializers.DateTimeField()


class TenantListApi(KeyApi):
    """The tenants this key may act for, newest first (filter by `status`)."""

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=Tenant.Status.choices, required=False)

    @extend_schema(operation_id="tenants_list", responses=paginated(TenantSummarySerializer),
                   parameters=[OpenApiParameter("status", enum=Tenant.Status.values)])
    def get(self, request):
        # A plain dict: from a QueryDict DRF takes an empty value (?status=) for no filter.
        filters = self.FilterSerializer(data=request.query_params.dict())
        filters.is_valid(raise_exception=True)
        qs = api_tenants_visible(api_key=self.api_key)
        if "status" in filters.validated_data:
            qs = qs.filter(status=filters.validated_data["status"])
        paginator = ApiCursorPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(TenantSummarySerializer(page, many=True).data)


class TenantDetailSerializer(TenantSummarySerializer):
    full_corp_name = serializers.CharField()
    app_id = serializers.IntegerField(allow_null=True)
    suite_key = serializers.CharField(source="suite.suite_key", allow_null=True, default=None)
    appkey = serializers.CharField()
    auth_scopes = serializers.JSONField()
    relieved_at = serializers.DateTimeField(allow_null=True)
    last_event_at = serializers.DateTimeField(allow_null=True)
    token = TokenStateSerializer()
    last_event = LastEventSerializer(allow_null=True)


class TenantDetailApi(TenantApi):
    """One tenant: status, kind, agent id, scopes, token state (never the token), last event."""

    OutputSerializer = TenantDetailSerializer
    @extend_schema(operation_id="tenants_retrieve", responses=OutputSerializer)
    def get(self, request, corp_id: str):
        tenant = self.tenant
        tenant.token = tenant_token_state(tenant=tenant)
        tenant.last_event = tenant_last_event(tenant=tenant)
        return Response(self.OutputSerializer(tenant).data)
