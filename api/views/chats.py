"""Group chats of an internal-app tenant (messaging.services.chats): create, detail, send, and
who read a message. DingTalk refuses these APIs to third-party apps, so a suite's tenant is
answered 409 `chats_internal_apps_only` before any call."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from api.fields import TEXT_PATTERN, TextField, WholeNumberField
from api.pagination import paginated
from api.pagination_positions import PositionCursorPagination
from api.views.base import TenantApi
from dingtalk.api.chats import MAX_CHAT_NAME, MAX_CREATE_MEMBERS, MAX_PAGE_SIZE
from messaging.services.chats import (
    CREATE_OPTIONS,
    chat_create,
    chat_get,
    chat_read_list,
    chat_send,
)

# DingTalk's userids are 1-64 characters; its chat and message ids are short opaque text.
MAX_USERID = 64
MAX_ID = 128


def _valid(serializer_class: type, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


CHAT_ID = OpenApiParameter("chat_id", {"type": "string", "maxLength": MAX_ID,
                                       "pattern": TEXT_PATTERN}, OpenApiParameter.PATH)


class ChatIdSerializer(serializers.Serializer):
    chat_id = serializers.RegexField(TEXT_PATTERN, max_length=MAX_ID, trim_whitespace=False)


class ChatSerializer(serializers.Serializer):
    chat_id = serializers.CharField()
    name = serializers.CharField(allow_null=True)
    owner = serializers.CharField(allow_null=True)
    userids = serializers.ListField(child=serializers.CharField())
    open_conversation_id = serializers.CharField(allow_null=True)
    conversation_tag = serializers.IntegerField(allow_null=True)


class ChatDetailSerializer(ChatSerializer):
    status = serializers.IntegerField(allow_null=True)


class ChatCreateInputSerializer(serializers.Serializer):
    name = TextField(max_length=MAX_CHAT_NAME)
    owner = TextField(max_length=MAX_USERID)
    useridlist = serializers.ListField(
        child=TextField(max_length=MAX_USERID), min_length=1,
        max_length=MAX_CREATE_MEMBERS, help_text="the first members, the owner among them")
    options = serializers.DictField(
        child=WholeNumberField(from_text=False, min_value=0, max_value=1), required=False,
        help_text=f"chat/create flags, each 0 or 1: {', '.join(sorted(CREATE_OPTIONS))}")

    def validate_useridlist(self, value: list[str]) -> list[str]:
        if any("," in u for u in value):
            raise serializers.ValidationError("a userid has no commas")
        return value

    def validate_options(self, value: dict) -> dict:
        unknown = sorted(set(value) - CREATE_OPTIONS)
        if unknown:
            raise serializers.ValidationError(f"unknown options: {', '.join(unknown)}")
        return value

    def validate(self, attrs: dict) -> dict:
        if attrs["owner"] not in attrs["useridlist"]:
            raise serializers.ValidationError(
                {"owner": ["the owner must be one of the members (useridlist)"]})
        return attrs


class ChatCreateApi(TenantApi):
    """Create a group chat with its first 1-40 members; the owner must be one of them."""

    InputSerializer = ChatCreateInputSerializer
    OutputSerializer = ChatSerializer

    @extend_schema(operation_id="chats_create", request=InputSerializer,
                   responses={201: OutputSerializer})
    def post(self, request, corp_id: str):
        data = _valid(self.InputSerializer, request.data)
        chat = chat_create(tenant=self.tenant, name=data["name"], owner=data["owner"],
                           userids=data["useridlist"], options=data.get("options"))
        return Response(self.OutputSerializer(chat).data, status=status.HTTP_201_CREATED)


class ChatDetailApi(TenantApi):
    """A group chat: name, owner, members."""

    OutputSerializer = ChatDetailSerializer

    @extend_schema(operation_id="chats_retrieve", parameters=[CHAT_ID],
                   responses=OutputSerializer)
    def get(self, request, corp_id: str, chat_id: str):
        chat_id = _valid(ChatIdSerializer, {"chat_id": chat_id})["chat_id"]
        return Response(self.OutputSerializer(chat_get(tenant=self.tenant, chat_id=chat_id)).data)


class ChatMessageSendInputSerializer(serializers.Serializer):
    msg = serializers.JSONField(help_text="a DingTalk message: {msgtype, <msgtype>: {...}}")

    def validate_msg(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("msg must be a JSON object")
        return value


class ChatMessageSerializer(serializers.Serializer):
    message_id = serializers.CharField(help_text="DingTalk's messageId (may hold /, + and =)")


class ChatMessageSendApi(TenantApi):
    """Send a message to a group chat (checked as DingTalk would before sending); DingTalk's
    message id names it for the read list."""

    InputSerializer = ChatMessageSendInputSerializer
    OutputSerializer = ChatMessageSerializer

    @extend_schema(operation_id="chats_message_send", parameters=[CHAT_ID], request=InputSerializer,
                   responses={201: OutputSerializer})
    def post(self, request, corp_id: str, chat_id: str):
        chat_id = _valid(ChatIdSerializer, {"chat_id": chat_id})["chat_id"]
        msg = _valid(self.InputSerializer, request.data)["msg"]
        message_id = chat_send(tenant=self.tenant, chat_id=chat_id, msg=msg)
        return Response(self.OutputSerializer({"message_id": message_id}).data,
                        status=status.HTTP_201_CREATED)


class ChatReaderSerializer(serializers.Serializer):
    userid = serializers.CharField()


class ChatMessageReadersApi(TenantApi):
    """The members who read a chat message, a page per DingTalk call (its cursor inside ours).

    The message is named in the query, not the path: DingTalk's messageIds are base64-like and
    may hold "/", "+" and "=". DingTalk names the message alone, so the chat is not asked for.
    """

    class FilterSerializer(serializers.Serializer):
        message_id = serializers.RegexField(TEXT_PATTERN, max_length=MAX_ID,
                                            trim_whitespace=False)

    @extend_schema(operation_id="chats_message_readers",
                   parameters=[FilterSerializer, OpenApiParameter("cursor", str),
                               OpenApiParameter("page_size", {"type": "integer", "minimum": 1,
                                                              "maximum": 200})],
                   responses=paginated(ChatReaderSerializer))
    def get(self, request, corp_id: str):
        message_id = _valid(self.FilterSerializer, request.query_params.dict())["message_id"]
        paginator = PositionCursorPagination()
        cursor, size = paginator.read(request)
        # DingTalk's pages hold at most 100: a bigger page_size gets pages of 100.
        page = chat_read_list(tenant=self.tenant, message_id=message_id, cursor=cursor,
                              size=min(size, MAX_PAGE_SIZE))
        # A cursor that does not move would send a client round for ever.
        following = page.next_cursor if page.next_cursor not in (None, cursor) else None
        return paginator.response(
            request, ChatReaderSerializer([{"userid": u} for u in page.userids], many=True).data,
            next_position=following)
