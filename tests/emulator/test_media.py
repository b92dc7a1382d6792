"""media/upload (PROTOCOL 3.8) over HTTP: multipart in, a media_id out, records kept per corp."""

import hashlib

import pytest
import requests
from emulator_helpers import internal_app, isv_app

from dingtalk.emulator.control_client import EmulatorControlError
from dingtalk.emulator.handlers.media import media_known

MB = 1024 * 1024


def upload(emulator, token, media_type="image", *, name="a.png", content=b"\x89PNG data",
           mime="image/png", field="media", **extra):
    params = {"access_token": token, "type": media_type}
    params = {k: v for k, v in params.items() if v is not None}
    return requests.post(f"{emulator.base_url}/media/upload", params=params,
                         files={field: (name, content, mime)}, timeout=30, **extra).json()


@pytest.mark.parametrize(("media_type", "name", "limit"), [
    ("image", "photo.JPG", MB), ("voice", "note.amr", 2 * MB), ("file", "report.pdf", 10 * MB)])
def test_media_upload_each_type_up_to_its_limit(emulator, media_type, name, limit):
    corp, _, token = internal_app(emulator, users=2)
    content = b"\x01" * limit
    body = upload(emulator, token, media_type, name=name, content=content)
    assert body["errcode"] == 0 and body["errmsg"] == "ok", body
    assert body["type"] == media_type and body["media_id"].startswith("@")
    assert isinstance(body["created_at"], int)
    over = upload(emulator, token, media_type, name=name, content=content + b"\x01")
    assert over["errcode"] == 40006
    [record] = emulator.list_media(corp["corp_id"])
    assert record["media_id"] == body["media_id"] and record["size"] == limit
    assert record["sha256"] == hashlib.sha256(content).hexdigest()
    assert (record["type"], record["filename"]) == (media_type, name)


def test_media_upload_records_per_corp_with_emulated_time(emulator, emulator_server):
    corp, app, token = internal_app(emulator, users=2)
    isv_corp, suite, _, isv_token = isv_app(emulator, users=2)
    emulator.advance(3600)
    now = emulator.now_ms()
    first = upload(emulator, token, "file", name="a.docx", content=b"doc",
                   mime="application/octet-stream")
    second = upload(emulator, isv_token, "voice", name="b.mp3", content=b"mp3")
    assert first["media_id"] != second["media_id"]
    assert now <= first["created_at"] <= emulator.now_ms()
    mine = emulator.list_media(corp["corp_id"])
    theirs = emulator.list_media(isv_corp["corp_id"])
    assert [m["media_id"] for m in mine] == [first["media_id"]]
    assert mine[0]["uploader"] == app["appkey"]
    assert mine[0]["content_type"] == "application/octet-stream"
    assert [(m["media_id"], m["uploader"]) for m in theirs] == [
        (second["media_id"], suite["suite_key"])]
    state = emulator_server.emulator.state
    assert media_known(state, corp["corp_id"], first["media_id"])
    assert not media_known(state, isv_corp["corp_id"], first["media_id"])


@pytest.mark.parametrize(("kwargs", "errcode"), [
    ({"media_type": None}, 40004),
    ({"media_type": ""}, 40004),
    ({"media_type": "video"}, 40004),
    ({"media_type": "IMAGE"}, 40004),
    ({"field": "file"}, 41005),
    ({"content": b""}, 44001),
    ({"name": "a.exe"}, 40005),
    ({"name": "png"}, 40005),
    ({"name": ""}, 40005),
    ({"media_type": "voice", "name": "a.png"}, 40005),
    ({"media_type": "file", "name": "a.txt"}, 40005),
])
def test_media_upload_refusals(emulator, kwargs, errcode):
    corp, _, token = internal_app(emulator, users=1)
    body = upload(emulator, token, **kwargs)
    assert body["errcode"] == errcode, body
    assert emulator.list_media(corp["corp_id"]) == []


def test_media_upload_needs_multipart(emulator):
    _, _, token = internal_app(emulator, users=1)
    url = f"{emulator.base_url}/media/upload"
    params = {"access_token": token, "type": "image"}
    for kwargs in ({"json": {"media": "x"}}, {"data": {"media": "x"}}, {}):
        assert requests.post(url, params=params, timeout=10, **kwargs).json()["errcode"] == 43008
    text_part = requests.post(url, params=params, files={"media": (None, "just text")},
                              timeout=10).json()
    assert text_part["errcode"] == 41005


def test_media_upload_token_checks_and_method(emulator):
    body = upload(emulator, None)
    assert body["errcode"] == 41001
    assert upload(emulator, "nonsense")["errcode"] == 40014
    _, _, token = internal_app(emulator, users=1)
    emulator.expire_tokens()
    assert upload(emulator, token)["errcode"] == 40014
    got = requests.get(f"{emulator.base_url}/media/upload", params={"access_token": token},
                       timeout=10).json()
    assert got["errcode"] == 43002


def test_media_upload_oversized_form_fields_are_41102(emulator):
    _, _, token = internal_app(emulator, users=1)
    body = requests.post(f"{emulator.base_url}/media/upload",
                         params={"access_token": token, "type": "image"},
                         data={"note": "x" * 600_000},
                         files={"media": ("a.png", b"x", "image/png")}, timeout=30).json()
    assert body["errcode"] == 41102


def test_media_list_of_an_unknown_corp_is_404(emulator):
    with pytest.raises(EmulatorControlError, match="404"):
        emulator.list_media("ding-nobody")

