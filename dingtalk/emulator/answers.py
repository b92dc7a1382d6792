"""Answers that are not a JSON body: a dropped connection, or raw bytes (a gateway's page)."""


class DropConnection(Exception):  # noqa: N818
    """Close the socket without an answer."""


class RawAnswer(Exception):  # noqa: N818
    """Answer these bytes as they are (a fault that imitates a gateway's HTML error page)."""

    def __init__(self, body: bytes, status: int):
        super().__init__(status)
        self.body, self.status = body, status
