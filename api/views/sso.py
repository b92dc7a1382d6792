"""Tenant-user SSO (免登): the code a page got from dd.requestAuthCode -> who the user is
(identity.services.sso). The tenant is resolved through the key from `corp_id` in the body,
like every tenant route: a corp the key cannot see is a 404."""

from __future__ import annotations

import re

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from api.fields import TEXT_PATTERN, TextField
from api.selectors.tenants import api_tenant_get
from api.views.base import KeyApi
from core import log_context
from identity.services.sso import CODE_MAX_LENGTH, sso_user_exchange


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
