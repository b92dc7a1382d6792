"""Log formatting for production: one JSON object per line, with the request or task context
(core.log_context) and secrets scrubbed from every message (also in the plain format).

The scrubbing is the last line of defence: code never logs a secret on purpose; this catches a
URL with an access_token in its query, a bearer key, or a signed query that a library logs.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

from core import log_context

MASK = "********"
# Query parameters and JSON members that carry secrets: DingTalk's token and signature
# parameters, our API keys, and the ISV credentials (dingtalk.signing, PROTOCOL 6.3).
_SECRET_NAMES = ("access_token|suite_access_token|accessToken|suiteAccessToken|signature"
                 "|suiteTicket|suite_ticket|suite_secret|suiteSecret|corpsecret|appsecret"
                 "|appSecret|permanent_code|permanentCode|tmp_auth_code|AuthCode|encrypt"
                 "|EncodingAESKey|aes_key|password")
_PATTERNS = (
    # name=value in a query string or a "k=v" message
    re.compile(rf"(?P<name>\b(?:{_SECRET_NAMES})=)(?P<value>[^&\s\"',;)]+)"),
    # "name": "value" in JSON or a dict's repr
    re.compile(rf"(?P<name>[\"'](?:{_SECRET_NAMES})[\"']\s*:\s*[\"'])(?P<value>[^\"']+)"),
    # Authorization: Bearer <key>, and dingsuite API keys wherever they appear
    re.compile(r"(?P<name>Bearer\s+)(?P<value>[^\s\"',]+)", re.IGNORECASE),
    re.compile(r"(?P<name>)(?P<value>dsk_[0-9a-f]{8}_[A-Za-z0-9_\-]{20,})"),
)


def scrub(text: str) -> str:
    """`text` with every secret-looking value masked."""
    for pattern in _PATTERNS:
        text = pattern.sub(rf"\g<name>{MASK}", text)
    return text


class ScrubSecrets(logging.Filter):
    """Renders the record's message once, scrubbed (args folded in), and its traceback too."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: keep what there is
            message = str(record.msg)
        record.msg, record.args = scrub(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        return True


class JsonFormatter(logging.Formatter):
    """{"ts", "level", "logger", "message", request_id?, tenant?, task?, "exc"?} on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **log_context.current(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_handlers(logger: logging.Logger, *, json_lines: bool) -> None:
    """Give each of `logger`'s handlers the scrubbing filter (and the JSON format): for the
    handlers Celery sets up itself in a worker, which settings.LOGGING never sees."""
    for handler in logger.handlers:
        if not any(isinstance(f, ScrubSecrets) for f in handler.filters):
            handler.addFilter(ScrubSecrets())
        if json_lines:
            handler.setFormatter(JsonFormatter())
