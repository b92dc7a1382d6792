"""Logging filters named in settings.LOGGING."""

import logging


class WithoutTraceback(logging.Filter):
    """Keep the record, drop its traceback: for refusals that are expected, such as a request
    with a Host header not in ALLOWED_HOSTS (one line each, not a stack per probe)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        return True
