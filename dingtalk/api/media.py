"""Media for image, voice and file messages (media/upload), checked before anything is sent."""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from types import MappingProxyType

from dingtalk.api._base import Resource, required
from dingtalk.errors import BadResponse, MessageError

MB = 1024 * 1024
# PROTOCOL 3.1 / 3.8 (DingTalk answers 40006 past these): image 1 MB, voice 2 MB, file 10 MB.
MAX_MEDIA_BYTES = MappingProxyType({"image": 1 * MB, "voice": 2 * MB, "file": 10 * MB})
# PROTOCOL 3.8 calls the accepted formats UNCERTAIN beyond the common ones, which are these
# (40005 when DingTalk refuses one). Lower case; a file name's extension is compared lowered.
MEDIA_EXTENSIONS = MappingProxyType({
    "image": frozenset({"jpg", "jpeg", "png", "gif", "bmp"}),
    "voice": frozenset({"amr", "mp3", "wav"}),
    "file": frozenset({"doc", "docx", "xls", "xlsx", "ppt", "pptx", "pdf", "zip", "rar"}),
})
MEDIA_TYPES = tuple(MAX_MEDIA_BYTES)


@dataclass(frozen=True)
class MediaUpload:
    """What media/upload answered: the id for image/voice/file.media_id, and when (epoch ms)."""

    media_id: str
    type: str
    created_at: int


def _extension(filename: str) -> str:
    name = filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    return name.rsplit(".", 1)[1].lower() if "." in name.strip(".") else ""


def check_upload(media_type: str, filename: str, content: bytes) -> None:
    """Raise MessageError for what DingTalk would refuse: the type (40004), an empty file
    (44001), the size (40006) or the extension (40005); and for a name with control
    characters, which a multipart header cannot carry unmangled."""
    if media_type not in MAX_MEDIA_BYTES:
        raise MessageError(f"media type must be one of {', '.join(MEDIA_TYPES)}")
    if not isinstance(content, bytes | bytearray | memoryview):
        raise MessageError("media content must be bytes")
    if not isinstance(filename, str) or not filename.strip():
        raise MessageError("media needs a file name")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in filename):
        raise MessageError("media file name has control characters")
    size, limit = len(content), MAX_MEDIA_BYTES[media_type]
    if size == 0:
        raise MessageError("media file is empty")
    if size > limit:
        raise MessageError(f"{media_type} media is {size} bytes; at most {limit} are allowed")
    allowed = MEDIA_EXTENSIONS[media_type]
    if _extension(filename) not in allowed:
        raise MessageError(f"{media_type} media must be one of: {', '.join(sorted(allowed))}")


class Media(Resource):
    """`client.media`. An upload makes a new media_id each time: never retried blindly."""

    def upload(self, media_type: str, filename: str, content: bytes,
               content_type: str | None = None) -> MediaUpload:
        """Upload a file for an image, voice or file message; checked before sending.

        Doc: upload-media-files (media/upload).
        """
        check_upload(media_type, filename, content)
        mime = content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        body = self._upload("media/upload", {"media": (filename, bytes(content), mime)},
                            type=media_type)
        media_id = required(body, "media_id", "media/upload")
        created_at = body.get("created_at")
        try:
            # Some SDKs type created_at as a string (PROTOCOL 3.8).
            created_ms = int(created_at) if created_at is not None else 0
        except (TypeError, ValueError):
            raise BadResponse(f"media/upload: created_at {created_at!r} is not a number",
                              status_code=200, path="media/upload") from None
        return MediaUpload(media_id=str(media_id), type=str(body.get("type") or media_type),
                           created_at=created_ms)
