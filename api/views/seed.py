"""The seed gateway's routes, POST /api/dingtalkserve/<route>, for a team moving off the Koa
gateway: same field names (JSON or form bodies), same checks, the seed's answer shapes.

The tenant is named by the `X-Corp-Id` header and the caller authenticates with an API key
(`Authorization: Bearer dsk_...`), as on /api/v1/. Answers:
- 200 `{"data": <DingTalk's body>}`: the call succeeded (asyncsend_v2: `{"errcode": 0,
  "errmsg": "ok", "task_id", "request_id"}` once its batch has DingTalk's task id);
- 202 `{"data": {"notification_id", "status": "queued"}}`: asyncsend_v2 was accepted but its
  send waited longer than API_SEED_SEND_WAIT_S for the limiter; follow it on /api/v1/;
- 400 `{"msg": "..."}`: the seed's refusal (a missing field, "群主必须为群成员", ...) or
  DingTalk's (`{"msg": errmsg, "errcode": n}`), as the seed's fail({msg}) answered;
- 401 `{"msg"}` without a valid key (the seed had no authentication; refusing is the point),
  404 `{"msg"}` for a corp the key cannot act for, 409 `{"msg"}` for an inactive tenant,
  429 `{"msg"}` with Retry-After when the key is throttled, 502 `{"msg"}` when DingTalk could
  not be reached; 413 `{"msg"}` for a body too large, 415 `{"msg"}` for a Content-Type other
  than JSON, form or multipart.
getsendprogress / getsendresult accept any task id: they ask DingTalk with the tenant's own
agent id, and DingTalk scopes task ids per agent, so another tenant's task is not found there.
"""

from __future__ import annotations

import logging

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from api.parsers import SafeFormParser, SafeJSONParser, SafeMultiPartParser
from api.selectors.tenants import api_tenant_get
from api.services import seed
from api.views.base import KeyApi
from core.errors import ServiceError
from dingtalk.errors import ApiError, TransportError
from tenants.errors import TenantInactive, TenantNotFound
from tenants.models import Tenant

logger = logging.getLogger("api.seed")

CORP_HEADER = OpenApiParameter("X-Corp-Id", {"type": "string", "minLength": 1, "maxLength": 64,
                                             "pattern": r"^\S+$"},
                               OpenApiParameter.HEADER, required=True,
                               description="the corp id of the tenant to act for")


def _msg(message: str, http_status: int, headers: dict | None = None, **extra) -> Response:
    return Response({"msg": message, **extra}, status=http_status, headers=headers)


def seed_exception_handler(exc: Exception, context: dict) -> Response:
    """Every refusal in the seed's `{"msg"}` shape (see the module docstring for statuses)."""
    if isinstance(exc, TenantNotFound):
        return _msg(exc.message, status.HTTP_404_NOT_FOUND)
    if isinstance(exc, TenantInactive):
        return _msg(exc.message, status.HTTP_409_CONFLICT)
    if isinstance(exc, ServiceError):
        errcode = exc.extra.get("errcode") if isinstance(exc.extra, dict) else None
        return _msg(exc.message, status.HTTP_400_BAD_REQUEST,
                    **({"errcode": errcode} if errcode is not None else {}))
    if isinstance(exc, ApiError):
        return _msg(exc.errmsg or str(exc), status.HTTP_400_BAD_REQUEST, errcode=exc.errcode)
    if isinstance(exc, TransportError):
        return _msg("钉钉无法连接, 请稍后重试 (DingTalk could not be reached)",
                    status.HTTP_502_BAD_GATEWAY)
    if isinstance(exc, APIException):
        response = drf_exception_handler(exc, context)
        detail = exc.detail
        if isinstance(detail, dict | list):
            detail = next(iter(detail.values() if isinstance(detail, dict) else detail), "")
            detail = detail[0] if isinstance(detail, list) and detail else detail
        headers = {k: v for k, v in response.items()
                   if k in ("Retry-After", "WWW-Authenticate", "Allow")}
        return _msg(str(detail), response.status_code, headers)
    logger.exception("unhandled error in a seed route")
    return _msg("服务器内部错误 (something went wrong on our side; it has been logged)",
                status.HTTP_500_INTERNAL_SERVER_ERROR)


class SeedDataSerializer(serializers.Serializer):
    data = serializers.JSONField(help_text="DingTalk's body, as it answered")


class SeedMsgSerializer(serializers.Serializer):
    msg = serializers.CharField()
    errcode = serializers.IntegerField(required=False, help_text="DingTalk's, when it refused")


_REFUSALS = {code: OpenApiResponse(SeedMsgSerializer, text) for code, text in {
    400: "refused: the seed's message, or DingTalk's errmsg with its errcode",
    401: "no valid API key", 404: "no tenant with this X-Corp-Id for this key",
    409: "the tenant is inactive", 429: "throttled: see Retry-After",
    502: "DingTalk could not be reached"}.items()}


class SeedApi(KeyApi):
    """A seed route: key-authenticated, the tenant from X-Corp-Id, the seed's answer shapes."""

    parser_classes = [SafeJSONParser, SafeFormParser, SafeMultiPartParser]
    # api/schema.py documents the parsers' 413 and 415 in this shape for every seed route.
    schema_error_serializer = SeedMsgSerializer
    tenant: Tenant

    def get_exception_handler(self):
        return seed_exception_handler

    def initial(self, request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        if not hasattr(self, request.method.lower()):
            return  # the method's 405 comes first (DRF's dispatch answers it next)
        corp_id = request.headers.get("X-Corp-Id", "").strip()
        if not corp_id:
            raise seed.SeedRefused("X-Corp-Id 不能为空 (name the tenant's corp id)")
        self.tenant = api_tenant_get(api_key=request.auth, corp_id=corp_id)

    def fields(self) -> dict:
        data = self.request.data
        if hasattr(data, "dict"):  # a form: one value per field, as the seed's parser read it
            return data.dict()
        if not isinstance(data, dict):
            raise seed.SeedRefused("请求体必须是 JSON 对象或表单 (the body must be an object)")
        return data


_KINDS = {"str": "text", "int": "a whole number (or its digits as text)",
          "flag": "0 or 1", "bool": "true or false"}


def _request_serializer(route: str, fields: tuple) -> type:
    # Any JSON type: the seed took numbers as text and text as numbers (form bodies are all
    # text), and so do these routes; the help text says what each field must hold.
    attrs = {f.name: serializers.JSONField(required=f.required, help_text=_KINDS[f.kind])
             for f in fields}
    return type(f"Seed{route[0].upper()}{route[1:]}RequestSerializer",
                (serializers.Serializer,), attrs)


def _seed_call_view(route: str) -> type:
    def post(self, request):
        return Response({"data": seed.seed_call(tenant=self.tenant, route=route,
                                                data=self.fields())})

    post = extend_schema(
        operation_id=f"seed_{route}", parameters=[CORP_HEADER], tags=["seed"],
        request=_request_serializer(route, seed.ROUTES[route].fields),
        responses={200: SeedDataSerializer, **_REFUSALS},
        description=f"The seed's `{route}`: DingTalk's `{seed.ROUTES[route].path}`.")(post)
    return type(f"Seed{route[0].upper()}{route[1:]}Api", (SeedApi,), {"post": post})


SEED_CALL_VIEWS = {route: _seed_call_view(route) for route in seed.ROUTES}


class SeedCreateChatApi(SeedApi):
    """createChat: DingTalk's chat/create; the owner must be among useridlist."""

    @extend_schema(operation_id="seed_createChat", parameters=[CORP_HEADER], tags=["seed"],
                   request=_request_serializer("createChat", (
                       seed.Field("name"), seed.Field("owner"), seed.Field("useridlist"))),
                   responses={200: SeedDataSerializer, **_REFUSALS})
    def post(self, request):
        return Response({"data": seed.seed_chat_create(tenant=self.tenant, data=self.fields())})


class SeedChatSendApi(SeedApi):
    """chatSend: DingTalk's chat/send with a text msg."""

    @extend_schema(operation_id="seed_chatSend", parameters=[CORP_HEADER], tags=["seed"],
                   request=_request_serializer("chatSend", (seed.Field("chatid"),
                                                            seed.Field("msg"))),
                   responses={200: SeedDataSerializer, **_REFUSALS})
    def post(self, request):
        return Response({"data": seed.seed_chat_send(tenant=self.tenant, data=self.fields())})


class SeedAsyncSendApi(SeedApi):
    """asyncsend_v2: one work notification in one DingTalk task, through the ledger and limiter;
    answers DingTalk's task once sent, or 202 queued after API_SEED_SEND_WAIT_S."""

    @extend_schema(
        operation_id="seed_asyncsend_v2", tags=["seed"],
        parameters=[CORP_HEADER, OpenApiParameter(
            "Idempotency-Key", str, OpenApiParameter.HEADER,
            description="optional: a retry with the same key and body answers the same send")],
        request=_request_serializer("asyncsend_v2", (
            seed.Field("userid_list", required=False), seed.Field("dept_id_list", required=False),
            seed.Field("to_all_user", "bool", required=False), seed.Field("msg"))),
        responses={200: SeedDataSerializer,
                   202: OpenApiResponse(SeedDataSerializer, "queued: {notification_id, status}"),
                   **_REFUSALS})
    def post(self, request):
        sent = seed.seed_async_send(tenant=self.tenant, data=self.fields(),
                                    idempotency_key=request.headers.get("Idempotency-Key"))
        return Response({"data": sent.body},
                        status=status.HTTP_202_ACCEPTED if sent.queued else status.HTTP_200_OK)
