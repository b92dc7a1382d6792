"""Tenant-user SSO (免登): the code a page got from dd.requestAuthCode -> who the user is
(identity.services.sso). The tenant is resolved through the key from `corp_id` in the body,
like every tenant route: a corp the key cannot see is a 404. And admin-console SSO's redeem:
the assertion /sso/admin/ handed the product -> the admin (identity.services.sso_admin)."""

from __future__ import annotations

import re

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from api.fields import TEXT_PATTERN, TextField
from api.selectors.tenants import api_tenant_get, api_tenants_visible
from api.views.base import KeyApi
from api.views.tenants import TenantSummarySerializer
from core import log_context
from identity.services.sso import CODE_MAX_LENGTH, sso_user_exchange
from identity.services.sso_admin import ASSERTION_MAX_LENGTH, sso_admin_redeem


class SsoUserInputSerializer(serializers.Serializer):
    corp_id = TextField(max_length=64, trim_whitespace=False)
    code = TextField(max_length=CODE_MAX_LENGTH)

    def validate_corp_id(self, value: str) -> str:
        return _no_nul(value)

    def validate_code(self, value: str) -> str:
        return _no_nul(value)


def _no_nul(value: str) -> str:
    if not re.match(TEXT_PATTERN, value):
        raise serializers.ValidationError("must be text without NUL characters")
    return value


class SsoUserSerializer(serializers.Serializer):
    userid = serializers.CharField()
    unionid = serializers.CharField(help_text="Blank when only the legacy getuserinfo answered")
    name = serializers.CharField()
    is_admin = serializers.BooleanField()
    sys_level = serializers.IntegerField(help_text="1 main admin, 2 sub-admin, 100 boss, 0 other")
    corp_id = serializers.CharField(source="tenant.corp_id")


class SsoUserApi(KeyApi):
    """Exchange a tenant user's SSO code (single use, 5 minutes) for the user, recorded per
    (corp, userid). 400 `sso_code_invalid`: wrong, used or expired code; 403
    `sso_user_not_visible`: outside the app's visible range; 409: the tenant is inactive."""

    InputSerializer = SsoUserInputSerializer
    OutputSerializer = SsoUserSerializer

    @extend_schema(operation_id="sso_user_exchange", request=InputSerializer,
                   responses=OutputSerializer)
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        tenant = api_tenant_get(api_key=self.api_key, corp_id=data["corp_id"])
        log_context.set_tenant(tenant.corp_id)
        user = sso_user_exchange(tenant=tenant, code=data["code"])
        return Response(self.OutputSerializer(user).data)


class SsoAdminRedeemInputSerializer(serializers.Serializer):
    assertion = TextField(max_length=ASSERTION_MAX_LENGTH, trim_whitespace=False)

    def validate_assertion(self, value: str) -> str:
        return _no_nul(value)


class SsoAdminSerializer(serializers.Serializer):
    userid = serializers.CharField(source="record.userid")
    name = serializers.CharField(source="record.name")
    email = serializers.CharField(source="record.email")
    avatar = serializers.CharField(source="record.avatar")
    is_sys = serializers.BooleanField(source="record.is_sys",
                                      help_text="DingTalk's is_sys: an admin of the corp")
    corp_id = serializers.CharField(source="record.corp_id",
                                    help_text="The customer corp the admin came from")
    corp_name = serializers.CharField(source="record.corp_name")
    tenant = TenantSummarySerializer(
        allow_null=True, help_text="The corp's authorized tenant of this key's suite; null when "
                                   "the corp never authorized it (the product decides)")
    issued_at = serializers.DateTimeField(source="record.issued_at")
    expires_at = serializers.DateTimeField(source="record.expires_at")


class SsoAdminRedeemApi(KeyApi):
    """Redeem the assertion the admin-console SSO page (/sso/admin/) sent the product's landing
    URL, once: who the admin is and which corp they came from. 400 `assertion_invalid`,
    404 `assertion_not_found` (also another suite's), 409 `assertion_used`, 410
    `assertion_expired`."""

    InputSerializer = SsoAdminRedeemInputSerializer
    OutputSerializer = SsoAdminSerializer

    @extend_schema(operation_id="sso_admin_redeem", request=InputSerializer,
                   responses=OutputSerializer)
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        identity = sso_admin_redeem(suite=self.api_key.suite,
                                    assertion=serializer.validated_data["assertion"],
                                    tenants=api_tenants_visible(api_key=self.api_key))
        log_context.set_tenant(identity.record.corp_id)
        return Response(self.OutputSerializer(identity).data)
