"""dd.config for a tenant's H5 page: the page URL in, what `dd.config` takes out
(identity.services.jsapi). The tenant comes from the path through the key, like every tenant
route: a corp the key cannot see is a 404."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from api.fields import TextField, WholeNumberField
from api.views.base import TenantApi
from dingtalk.jsapi import MAX_URL_LENGTH
from identity.services.jsapi import NONCE_MAX_LENGTH, RejectedConfig, jsapi_config


class RejectedConfigSerializer(serializers.Serializer):
    timeStamp = WholeNumberField(from_text=False, min_value=0)  # noqa: N815 (dd.config's name)
    nonceStr = TextField(max_length=NONCE_MAX_LENGTH, trim_whitespace=False)  # noqa: N815
    signature = TextField(max_length=128, trim_whitespace=False)


class JsapiConfigInputSerializer(serializers.Serializer):
    url = TextField(max_length=MAX_URL_LENGTH, trim_whitespace=False,
                    help_text="The page's location.href (the fragment is dropped, the query "
                              "decoded once; scheme and host lower case, the port as "
                              "given)")
    rejected = RejectedConfigSerializer(
        required=False, help_text="The config dd.error refused (52011/52013): if it was signed "
                                  "with the cached ticket, that ticket is replaced first")


class JsapiConfigSerializer(serializers.Serializer):
    agentId = serializers.IntegerField(source="agent_id")  # noqa: N815
    corpId = serializers.CharField(source="corp_id")  # noqa: N815
    timeStamp = serializers.IntegerField(source="timestamp")  # noqa: N815
    nonceStr = serializers.CharField(source="nonce_str")  # noqa: N815
    signature = serializers.CharField()
    url = serializers.CharField(help_text="The URL exactly as signed")


class JsapiConfigApi(TenantApi):
    """Sign a page for dd.config with the tenant's jsapi_ticket (cached, fetched once across
    processes). 400 `jsapi_input_invalid`: not an http(s) page URL; 409: the tenant is
    inactive or has no agent id yet."""

    InputSerializer = JsapiConfigInputSerializer
    OutputSerializer = JsapiConfigSerializer

    @extend_schema(operation_id="jsapi_config_create", request=InputSerializer,
                   responses=OutputSerializer)
    def post(self, request, corp_id: str):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        rejected = data.get("rejected")
        config = jsapi_config(tenant=self.tenant, url=data["url"], rejected=None if not rejected
                              else RejectedConfig(timestamp=rejected["timeStamp"],
                                                  nonce_str=rejected["nonceStr"],
                                                  signature=rejected["signature"]))
        return Response(self.OutputSerializer(config).data)
