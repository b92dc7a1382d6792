"""media_upload for both kinds of tenant, against the emulator over HTTP; bad files refused."""

import hashlib

import pytest

from messaging.errors import MediaInvalid, MessageInvalid
from messaging.services.media import media_upload
from tests.tenants.conftest import authorized_tenant

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("corpsecret", [False, True])
def test_media_upload_for_an_internal_app(emulator, make_app, corpsecret):
    tenant, corp, app = make_app(users=2, corpsecret=corpsecret)
    content = b"%PDF-1.4 minutes"
    upload = media_upload(tenant=tenant, media_type="file", filename="minutes.pdf",
                          content=content)
    assert upload.media_id.startswith("@") and upload.type == "file" and upload.created_at > 0
    [record] = emulator.list_media(corp["corp_id"])
    assert record["media_id"] == upload.media_id
    assert record["sha256"] == hashlib.sha256(content).hexdigest()
    assert record["uploader"] == (corp["corp_id"] if corpsecret else app["appkey"])


def test_media_upload_for_a_suite_tenant(emulator, make_suite):
    tenant, corp = authorized_tenant(emulator, make_suite)
    upload = media_upload(tenant=tenant, media_type="image", filename="logo.png",
                          content=b"\x89PNG\r\n\x1a\n")
    [record] = emulator.list_media(corp["corp_id"])
    assert record["media_id"] == upload.media_id and record["type"] == "image"
    assert record["uploader"] == tenant.suite.suite_key


@pytest.mark.parametrize(("media_type", "filename", "content", "why"), [
    ("video", "clip.mp4", b"x", "type"),
    ("image", "big.png", b"x" * (1024 * 1024 + 1), "at most"),
    ("voice", "note.ogg", b"x", "one of"),
    ("file", "empty.pdf", b"", "empty"),
])
def test_media_upload_bad_files_refused_before_any_call(emulator, make_app, media_type,
                                                         filename, content, why):
    tenant, corp, _ = make_app(users=1)
    before = emulator.counters()["calls"]
    with pytest.raises(MediaInvalid) as info:
        media_upload(tenant=tenant, media_type=media_type, filename=filename, content=content)
    assert isinstance(info.value, MessageInvalid)
    assert (info.value.code, info.value.http_status) == ("media_invalid", 400)
    assert why in info.value.message and info.value.extra["media_type"] == media_type
    assert emulator.counters()["calls"] == before
    assert emulator.list_media(corp["corp_id"]) == []
