"""core.storable: the one rule for text and JSON from outside that PostgreSQL must keep."""

import json

import pytest
from django.db import connection

from core.storable import is_storable_id, storable_json, storable_text


def test_storable_text_marks_what_postgresql_cannot_hold_and_cuts():
    assert storable_text("a\x00b\ud800c名") == "a\ufffdb\ufffdc名"
    assert storable_text("名" * 10, 4) == "名" * 4
    assert storable_text("plain") == "plain"


@pytest.mark.parametrize(("value", "ok"), [
    ("user01", True), ("u" * 64, True), ("u" * 65, False), ("a\x00b", False),
    ("a\udfffb", False), ("名字", True)])
def test_storable_ids_are_kept_exactly_or_not_at_all(value, ok):
    assert is_storable_id(value, 64) is ok


@pytest.mark.django_db
def test_storable_json_is_taken_by_jsonb():
    deep = 1
    for _ in range(100):
        deep = [deep]
    document = {"k\x00": ["x\ud800", float("inf"), float("nan"), -float("inf")], "d": deep}
    cleaned = storable_json(document)
    assert cleaned["k\ufffd"] == ["x\ufffd", "Infinity", "NaN", "-Infinity"]
    with connection.cursor() as cursor:  # what PostgreSQL refused before: it takes it now
        cursor.execute("SELECT (%s::jsonb -> 'k\ufffd' ->> 1)", [json.dumps(cleaned)])
        assert cursor.fetchone()[0] == "Infinity"
