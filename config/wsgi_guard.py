"""A WSGI guard in front of Django for requests Django fails on before any view runs.

A Content-Type charset that is not a text encoding (`charset=rot13`, `base64`, an unknown name)
makes Django's WSGIRequest raise LookupError while it is built, which gunicorn turns into an
HTML 500 and a traceback that logs the full query string (a callback's signature). Such a
request gets a plain JSON 400 here instead.
"""

from __future__ import annotations

import codecs
import json
from email.message import Message


def _charset_ok(content_type: str) -> bool:
    if "charset" not in content_type.lower():
        return True
    message = Message()
    message["content-type"] = content_type
    charset = message.get_param("charset")
    if not isinstance(charset, str) or not charset:
        return True
    try:
        return codecs.lookup(charset)._is_text_encoding
    except (LookupError, ValueError):
        return False


def charset_guard(application):
    def guarded(environ, start_response):
        if not _charset_ok(environ.get("CONTENT_TYPE", "")):
            body = json.dumps({"code": "bad_charset",
                               "message": "the Content-Type charset is not a text encoding"})
            start_response("400 Bad Request", [("Content-Type", "application/json"),
                                               ("Content-Length", str(len(body)))])
            return [body.encode("ascii")]
        return application(environ, start_response)

    return guarded
