"""Request body parsing that refuses what would break later: a JSON body larger than
API_MAX_JSON_BYTES (413, read no further), JSON nested deeper than
API_MAX_JSON_DEPTH (Python's parser would hit its recursion limit, a 500), NUL characters
(PostgreSQL cannot store them in text or jsonb, a 500 at write time) and, through DRF's strict
mode, NaN and Infinity. Each is a 400 with a clear message."""

from __future__ import annotations

import io
from typing import Any

from django.conf import settings
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser


def check_json_value(value: Any, *, max_depth: int | None = None) -> None:
    """ParseError if `value` nests deeper than `max_depth` or holds a NUL in a key or string."""
    limit = settings.API_MAX_JSON_DEPTH if max_depth is None else max_depth
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise ParseError("NUL characters are not accepted")
        elif isinstance(item, dict | list):
            if depth > limit:
                raise ParseError(f"JSON nested deeper than {limit} levels")
            if isinstance(item, dict):
                stack.extend((key, depth) for key in item)
                stack.extend((v, depth + 1) for v in item.values())
            else:
                stack.extend((v, depth + 1) for v in item)


def _bounded(stream, parser_context) -> io.BytesIO:
    """The body, read up to API_MAX_JSON_BYTES: DRF's JSON parser reads the stream whole, and
    Django's DATA_UPLOAD_MAX_MEMORY_SIZE guards only forms and request.body."""
    limit = settings.API_MAX_JSON_BYTES
    request = (parser_context or {}).get("request")
    declared = request.META.get("CONTENT_LENGTH") if request is not None else None
    if declared and declared.isdigit() and int(declared) > limit:
        raise RequestTooLarge(limit)
    body = stream.read(limit + 1) if stream is not None else b""
    if len(body) > limit:
        raise RequestTooLarge(limit)
    return io.BytesIO(body)


class RequestTooLarge(APIException):
    status_code = 413
    default_code = "request_too_large"

    def __init__(self, limit: int) -> None:
        super().__init__(f"a JSON body is at most {limit} bytes")


class SafeJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        stream = _bounded(stream, parser_context)
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON nested too deeply") from None
        check_json_value(data)
        return data


def _check_fields(data) -> None:
    for key, values in data.lists():
        check_json_value([key, *[v for v in values if isinstance(v, str)]])


class SafeFormParser(FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        _check_fields(data)
        return data


class SafeMultiPartParser(MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        result = super().parse(stream, media_type, parser_context)
        _check_fields(result.data)
        return result
