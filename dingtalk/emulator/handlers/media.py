"""media/upload (PROTOCOL 3.8): files for image, voice and file messages, kept per corp as records.

Checked in this order (errcodes from DingTalk's global table, KB/0013; PROTOCOL names 40006):
`type` not image / voice / file **40004**; a body that is not multipart **43008**; no `media`
file part **41005**; an empty file **44001**; over the type's size **40006**; an extension the
type does not take **40005**. The bytes are not kept: a record holds the size and a SHA-256.
"""

import hashlib
import secrets

from ..codes import ApiFail
from ..context import CallContext, ControlContext, ControlError
from ..models import Media
from ..registry import api, control

# PROTOCOL 3.1 / 3.8 and KB/0013 row 40006: image 1 MB, voice 2 MB, file 10 MB.
MAX_BYTES = {"image": 1024 * 1024, "voice": 2 * 1024 * 1024, "file": 10 * 1024 * 1024}
# PROTOCOL 3.8 calls the formats UNCERTAIN beyond the common ones; KB/0013 row 40005 lists the
# file type's. "video" appears in some SDKs' type lists, but 40004's text names only these three.
EXTENSIONS = {
    "image": frozenset({"jpg", "jpeg", "png", "gif", "bmp"}),
    "voice": frozenset({"amr", "mp3", "wav"}),
    "file": frozenset({"doc", "docx", "xls", "xlsx", "ppt", "pptx", "pdf", "zip", "rar"}),
}


def extension(filename: str) -> str:
    """The lower-case extension of a file name ("" when it has none)."""
    name = filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    return name.rsplit(".", 1)[1].lower() if "." in name.strip(".") else ""


def media_known(state, corp_id: str, media_id: str) -> bool:
    """Whether media_id was uploaded in corp_id (for checking a message's media_id)."""
    with state.lock:
        return media_in_corp(state, corp_id, media_id)


def media_in_corp(state, corp_id: str, media_id) -> bool:
    """media_known for a caller that already holds `state.lock`: one dict lookup.

    A media_id that is not a string (a number, a list in a hand-made JSON body) was never
    uploaded; checking the type first also keeps an unhashable value away from the dict.
    """
    record = state.media.get(media_id) if isinstance(media_id, str) else None
    return record is not None and record.corp_id == corp_id


def _media_type(ctx: CallContext) -> str:
    value = ctx.params.get("type")
    if not isinstance(value, str) or value not in MAX_BYTES:
        raise ApiFail(40004)
    return value


@api("/media/upload", method="POST")
def media_upload(ctx: CallContext) -> dict:
    media_type = _media_type(ctx)
    if ctx.request.mimetype != "multipart/form-data":
        raise ApiFail(43008)
    upload = ctx.request.files.get("media")
    if upload is None:
        raise ApiFail(41005)
    # Read one byte past the limit at most: the size is all that decides.
    data = upload.stream.read(MAX_BYTES[media_type] + 1)
    if not data:
        raise ApiFail(44001)
    if len(data) > MAX_BYTES[media_type]:
        raise ApiFail(40006)
    filename = upload.filename or ""
    if extension(filename) not in EXTENSIONS[media_type]:
        raise ApiFail(40005)
    caller = ctx.caller
    record = Media(media_id="@lA" + secrets.token_urlsafe(21), corp_id=caller.corp_id,
                   type=media_type, filename=filename, size=len(data),
                   sha256=hashlib.sha256(data).hexdigest(),
                   content_type=upload.mimetype or "", created_ms=ctx.clock.now_ms(),
                   uploader=caller.appkey or caller.suite_key or caller.corp_id or "")
    with ctx.state.lock:
        ctx.state.media[record.media_id] = record
    return {"type": media_type, "media_id": record.media_id, "created_at": record.created_ms}


@control("/_emulator/corps/<corp_id>/media", methods=("GET",))
def media_list(ctx: ControlContext, corp_id: str) -> list[dict]:
    """The corp's uploads, oldest first (404 for an unknown corp)."""
    state = ctx.emulator.state
    with state.lock:
        if corp_id not in state.corps:
            raise ControlError(404, f"no corp {corp_id}")
        records = [m for m in state.media.values() if m.corp_id == corp_id]
    return [{"media_id": m.media_id, "type": m.type, "filename": m.filename, "size": m.size,
             "sha256": m.sha256, "content_type": m.content_type, "created_at": m.created_ms,
             "uploader": m.uploader} for m in sorted(records, key=lambda m: m.created_ms)]
