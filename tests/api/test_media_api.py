"""POST /api/v1/tenants/<corp_id>/media/ against the emulator over HTTP: uploads of each type
for both tenant kinds; type, size and extension refused before DingTalk sees the file; bodies
too large refused (413) before they are read; Django's form limits answered, never a 500;
DingTalk's refusals mapped by class (an upload is never retried); an inactive tenant 409."""

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from dingtalk.api.media import MAX_MEDIA_BYTES
from tenants.models import Tenant
from tests.api.conftest import key_client

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200


def _url(tenant) -> str:
    return f"/api/v1/tenants/{tenant.corp_id}/media/"


def _upload(client, tenant, media_type, name, content, **extra):
    body = {"type": media_type, "media": SimpleUploadedFile(name, content), **extra}
    return client.post(_url(tenant), body, format="multipart")


@pytest.fixture
def app(emulator, make_app_side):
    tenant, corp, key = make_app_side(users=3)
    return tenant, corp, key_client(key)


@pytest.mark.parametrize(("media_type", "name", "size"), [
    ("image", "photo.png", 300),
    ("voice", "hello.mp3", 4096),
    ("file", "report.PDF", 50_000),
    ("file", "biggest.zip", MAX_MEDIA_BYTES["file"]),  # exactly DingTalk's limit still goes
])
def test_media_upload_each_type(emulator, app, media_type, name, size):
    tenant, corp, client = app
    content = (PNG * (size // len(PNG) + 1))[:size]
    response = _upload(client, tenant, media_type, name, content)
    assert response.status_code == 201, response.content[:300]
    body = response.json()
    assert set(body) == {"media_id", "type", "created_at"}
    assert body["type"] == media_type and body["media_id"] and body["created_at"]
    stored = {m["media_id"]: m for m in emulator.list_media(corp["corp_id"])}
    assert stored[body["media_id"]]["size"] == size
    assert stored[body["media_id"]]["sha256"] == hashlib.sha256(content).hexdigest()
    assert stored[body["media_id"]]["type"] == media_type


def test_media_upload_for_a_suite_tenant(emulator, make_suite_side):
    side = make_suite_side(tenants=1)
    tenant, corp = side.tenants[0], side.corps[0]
    response = _upload(side.client, tenant, "image", "a.jpg", PNG)
    assert response.status_code == 201, response.content[:300]
    assert [m["media_id"] for m in emulator.list_media(corp["corp_id"])] == [
        response.json()["media_id"]]


@pytest.mark.parametrize(("media_type", "name", "content", "code", "field"), [
    ("video", "a.png", PNG, "invalid", "type"),
    ("", "a.png", PNG, "invalid", "type"),
    ("image", "a.png", b"", "invalid", "media"),
    ("image", "a.exe", PNG, "media_invalid", None),
    ("image", "noextension", PNG, "media_invalid", None),
    ("voice", "a.png", PNG, "media_invalid", None),
    ("image", "big.png", b"x" * (MAX_MEDIA_BYTES["image"] + 1), "media_invalid", None),
    ("voice", "big.amr", b"x" * (MAX_MEDIA_BYTES["voice"] + 1), "media_invalid", None),
    ("file", "big.pdf", b"x" * (MAX_MEDIA_BYTES["file"] + 1), "media_invalid", None),
])
def test_media_bad_upload_is_400_before_dingtalk_sees_it(emulator, app, media_type, name,
                                                          content, code, field):
    tenant, corp, client = app
    before = emulator.counters()["calls"]
    response = _upload(client, tenant, media_type, name, content)
    assert response.status_code == 400, response.content[:300]
    error = response.json()["error"]
    assert error["code"] == code
    if field:
        assert field in error["details"]
    assert emulator.counters()["calls"] == before
    assert emulator.list_media(corp["corp_id"]) == []


def test_media_without_a_file_or_type_names_both(emulator, app):
    tenant, _, client = app
    response = client.post(_url(tenant), {"note": "nothing"}, format="multipart")
    assert response.status_code == 400
    assert {"type", "media"} <= set(response.json()["error"]["details"])


def test_media_a_body_past_the_largest_file_is_413_unread(emulator, app):
    tenant, corp, client = app
    before = emulator.counters()["calls"]
    response = _upload(client, tenant, "file", "huge.zip",
                       b"x" * (MAX_MEDIA_BYTES["file"] + 200 * 1024))
    assert response.status_code == 413, response.content[:300]
    error = response.json()["error"]
    assert error["code"] == "media_too_large" and error["details"]["max_bytes"]
    assert emulator.counters()["calls"] == before


def test_media_form_fields_past_djangos_limit_are_413_not_500(emulator, app, settings):
    tenant, _, client = app
    response = _upload(client, tenant, "image", "a.png", PNG,
                       note="n" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1))
    assert response.status_code == 413, response.content[:300]
    assert response.json()["error"]["code"] == "media_too_large"


def test_media_too_many_parts_is_400_not_500(emulator, app, settings):
    tenant, _, client = app
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 3
    body = {"type": "image",
            "media": [SimpleUploadedFile(f"a{i}.png", PNG) for i in range(5)]}
    response = client.post(_url(tenant), body, format="multipart")
    assert response.status_code == 400, response.content[:300]
    assert response.json()["error"]["code"] == "parse_error"
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    fields = {f"f{i}": "x" for i in range(10)}
    response = _upload(client, tenant, "image", "a.png", PNG, **fields)
    assert response.status_code == 400 and response.json()["error"]["code"] == "parse_error"


def test_media_nul_in_a_field_or_json_body_is_refused(emulator, app):
    tenant, _, client = app
    nul = _upload(client, tenant, "image\x00", "a.png", PNG)
    assert nul.status_code == 400 and "\x00" not in nul.content.decode()
    as_json = client.post(_url(tenant), {"type": "image", "media": "aGk="}, format="json")
    assert as_json.status_code == 415
    assert as_json.json()["error"]["code"] == "unsupported_media_type"


@pytest.mark.parametrize(("fault", "http_status", "code"), [
    ({"errcode": -1}, 502, "dingtalk_unavailable"),
    ({"throttle": "app"}, 429, "dingtalk_rate_limited"),
    ({"errcode": 60011}, 403, "dingtalk_permission_denied"),
    ({"errcode": 40006}, 400, "dingtalk_invalid_request"),
])
def test_media_dingtalk_errors_map_by_class_and_are_not_retried(emulator, app, fault,
                                                                 http_status, code):
    tenant, corp, client = app
    emulator.add_fault("media/upload", corp_id=corp["corp_id"], **fault)
    response = _upload(client, tenant, "image", "a.png", PNG)
    assert response.status_code == http_status, response.content[:300]
    error = response.json()["error"]
    assert error["code"] == code
    assert error["details"]["errcode"] == fault.get("errcode", 90018)
    if http_status == 429:
        assert int(response["Retry-After"]) >= 1
    # Each upload makes a new media_id: one attempt, never repeated blindly.
    assert emulator.faults()[0]["fired"] == 1


def test_media_an_inactive_tenant_is_409(emulator, app):
    tenant, corp, client = app
    Tenant.objects.filter(pk=tenant.pk).update(suspended=True)
    response = _upload(client, tenant, "image", "a.png", PNG)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "tenant_inactive"
    assert emulator.list_media(corp["corp_id"]) == []
