"""client.media.upload over the emulator: multipart on the wire, checks before sending."""

import hashlib

import pytest

from dingtalk.api.media import MAX_MEDIA_BYTES, MEDIA_EXTENSIONS, MediaUpload
from dingtalk.errors import ConnectionFailed, InvalidRequest, MessageError
from dingtalk.repeat import answer_lost
from tests.dingtalk.test_client_support import world_fixture  # noqa: F401 (a fixture)


@pytest.mark.parametrize(("media_type", "filename", "mime"), [
    ("image", "PHOTO.PNG", "image/png"), ("voice", "note.mp3", "audio/mpeg"),
    ("file", "report.pdf", "application/pdf")])
def test_api_media_upload_round_trip_at_the_limit(emulator, world, media_type, filename, mime):
    content = bytes(range(256)) * (MAX_MEDIA_BYTES[media_type] // 256)
    upload = world.client.media.upload(media_type, filename, content)
    assert isinstance(upload, MediaUpload) and upload.type == media_type
    assert upload.media_id.startswith("@")
    assert abs(upload.created_at - emulator.now_ms()) < 60_000
    [record] = emulator.list_media(world.corp["corp_id"])
    assert record["media_id"] == upload.media_id
    assert (record["filename"], record["size"], record["content_type"]) == (
        filename, len(content), mime)
    assert record["sha256"] == hashlib.sha256(content).hexdigest()


def test_api_media_upload_content_type_given_or_defaulted(emulator, world):
    world.client.media.upload("file", "a.rar", b"rar", content_type="application/x-rar")
    world.client.media.upload("voice", "b.amr", bytearray(b"amr"))
    types = {m["filename"]: m["content_type"] for m in emulator.list_media(world.corp["corp_id"])}
    assert types["a.rar"] == "application/x-rar"
    assert types["b.amr"]  # guessed, or application/octet-stream


@pytest.mark.parametrize(("args", "match"), [
    (("video", "a.mp4", b"x"), "type"),
    (("IMAGE", "a.png", b"x"), "type"),
    (("image", "a.png", b""), "empty"),
    (("image", "a.png", b"x" * (MAX_MEDIA_BYTES["image"] + 1)), "at most"),
    (("voice", "a.mp3", b"x" * (MAX_MEDIA_BYTES["voice"] + 1)), "at most"),
    (("file", "a.pdf", b"x" * (MAX_MEDIA_BYTES["file"] + 1)), "at most"),
    (("image", "a.exe", b"x"), "one of"),
    (("file", "noextension", b"x"), "one of"),
    (("voice", "a.png", b"x"), "one of"),
    (("image", "", b"x"), "name"),
    (("image", "a\r\nb.png", b"x"), "control"),
    (("image", "a.png", "text, not bytes"), "bytes"),
])
def test_api_media_upload_refused_before_sending(world, args, match):
    with pytest.raises(MessageError, match=match):
        world.client.media.upload(*args)
    assert world.calls("media/upload") == 0


def test_api_media_extensions_are_a_constant_per_type():
    assert set(MEDIA_EXTENSIONS) == set(MAX_MEDIA_BYTES) == {"image", "voice", "file"}
    assert {"png", "jpg"} <= MEDIA_EXTENSIONS["image"] and "pdf" in MEDIA_EXTENSIONS["file"]


def test_api_media_upload_resent_once_with_a_fresh_token(emulator, world):
    world.client.media.upload("image", "a.gif", b"GIF89a")
    fetches = world.token_fetches()
    emulator.expire_tokens()
    upload = world.client.media.upload("image", "b.gif", b"GIF89a again")
    assert world.token_fetches() == fetches + 1
    records = emulator.list_media(world.corp["corp_id"])
    assert [r["media_id"] for r in records][-1] == upload.media_id
    assert records[-1]["sha256"] == hashlib.sha256(b"GIF89a again").hexdigest()


def test_api_media_upload_is_never_repeated_blindly(emulator, world):
    emulator.add_fault("media/upload", drop=True, count=1)
    with pytest.raises(ConnectionFailed) as caught:
        world.client.media.upload("image", "a.png", b"png")
    assert answer_lost(caught.value)
    assert world.calls("media/upload") == 1 and emulator.list_media(world.corp["corp_id"]) == []


def test_api_media_upload_dingtalk_refusal_reaches_the_caller(emulator, world):
    emulator.add_fault("media/upload", errcode=40006, count=1)
    with pytest.raises(InvalidRequest) as caught:
        world.client.media.upload("image", "a.png", b"png")
    assert caught.value.errcode == 40006
