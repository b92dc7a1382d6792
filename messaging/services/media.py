"""Media for image, voice and file messages: media/upload for a tenant of either kind.

DingTalk answers the `media_id` that image.media_id, voice.media_id and file.media_id of a work
notice or chat message name (PROTOCOL 3.8). The file is checked (type, size, extension) before
anything is sent; an upload is never retried blindly (each one makes a new media_id).
"""

from __future__ import annotations

from dingtalk import messages
from dingtalk.api.media import MediaUpload
from messaging.errors import MediaInvalid
from tenants.models import Tenant
from tenants.services.clients import client_for


def media_upload(*, tenant: Tenant, media_type: str, filename: str,
                 content: bytes) -> MediaUpload:
    """Upload one file for the tenant's corp; -> its media_id, type and created_at (ms)."""
    client = client_for(tenant)
    try:
        return client.media.upload(media_type, filename, content)
    except messages.MessageError as exc:
        raise MediaInvalid(str(exc), extra={
            "media_type": media_type if isinstance(media_type, str) else repr(media_type),
            "size": len(content) if isinstance(content, bytes | bytearray) else None,
        }) from None
