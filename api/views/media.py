"""Media for image, voice and file messages: one multipart upload answered with DingTalk's
media_id (messaging.services.media; PROTOCOL 3.8).

Size is refused in two steps, neither of which lets DingTalk see the file: a body longer than
the largest file DingTalk takes plus its multipart framing is a 413 before a byte of it is read
(its Content-Length says so); within that, the file's type, size for its type (image 1 MB,
voice 2 MB, file 10 MB) and extension are checked by media_upload, a 400 `media_invalid`.
Django spools a file past FILE_UPLOAD_MAX_MEMORY_SIZE to a temporary file while parsing, so the
body limit, not memory, bounds what one request holds. Form fields past
DATA_UPLOAD_MAX_MEMORY_SIZE or too many parts are refused while parsing (413, 400), where
Django's own exceptions would otherwise be a 500.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ParseError
from rest_framework.response import Response

from api.errors import MediaTooLarge
from api.parsers import SafeMultiPartParser
from api.views.base import TenantApi
from dingtalk.api.media import MAX_MEDIA_BYTES, MEDIA_TYPES
from messaging.services.media import media_upload

# Boundaries, part headers and the `type` field around the file: generous, a few hundred
# bytes in practice.
MULTIPART_FRAMING_BYTES = 64 * 1024
MAX_BODY_BYTES = max(MAX_MEDIA_BYTES.values()) + MULTIPART_FRAMING_BYTES


class MediaMultiPartParser(SafeMultiPartParser):
    """Multipart bodies, with Django's limits on fields and parts answered as errors."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RequestDataTooBig:
            raise MediaTooLarge("the form fields beside the file are too large") from None
        except (TooManyFieldsSent, TooManyFilesSent):
            raise ParseError("too many form fields or files: send the type and one file") from None


class MediaUploadInputSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=MEDIA_TYPES)
    media = serializers.FileField(max_length=200, help_text=(
        "the file: image (jpg, jpeg, png, gif, bmp; 1 MB), voice (amr, mp3, wav; 2 MB) or "
        "file (doc, docx, xls, xlsx, ppt, pptx, pdf, zip, rar; 10 MB)"))


class MediaUploadSerializer(serializers.Serializer):
    media_id = serializers.CharField(help_text="for image/voice/file.media_id of a message")
    type = serializers.ChoiceField(choices=MEDIA_TYPES)
    created_at = serializers.DateTimeField(allow_null=True)


def _content_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


class MediaUploadApi(TenantApi):
    """Upload an image, voice or file for the tenant's corp (multipart: `type` and `media`)."""

    parser_classes = [MediaMultiPartParser]
    InputSerializer = MediaUploadInputSerializer
    OutputSerializer = MediaUploadSerializer

    @extend_schema(operation_id="media_upload",
                   request={"multipart/form-data": InputSerializer},
                   responses={201: OutputSerializer})
    def post(self, request, corp_id: str):
        if _content_length(request) > MAX_BODY_BYTES:
            raise MediaTooLarge(f"the body is larger than the largest file DingTalk takes "
                                f"({max(MAX_MEDIA_BYTES.values())} bytes)",
                                extra={"max_bytes": MAX_BODY_BYTES})
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["media"]
        result = media_upload(tenant=self.tenant, media_type=data.validated_data["type"],
                              filename=upload.name, content=upload.read())
        created_at = (datetime.fromtimestamp(result.created_at / 1000, tz=UTC)
                      if result.created_at else None)
        return Response(self.OutputSerializer({"media_id": result.media_id, "type": result.type,
                                               "created_at": created_at}).data,
                        status=status.HTTP_201_CREATED)
