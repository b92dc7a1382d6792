"""Cursor pages over what DingTalk pages by position or answers whole (the directory's lists, a
chat message's readers), with the same {next, previous, results} and query parameters as
api.pagination's pages of our own rows.

The cursor is an opaque token of a position: an offset into DingTalk's list (user/listbypage
takes offsets; a list DingTalk answers whole is sliced at it) or DingTalk's own next_cursor
(chat/getReadList). `previous` is known for offsets only, DingTalk's cursors go forward.
Like api.pagination: a `page_size` outside 1-200 is a 400, a cursor that is not one of our
links a 404 `invalid_cursor`.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence

from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

_TOKEN = re.compile(r"p=(\d{1,13})")


class PositionCursorPagination:
    cursor_query_param = "cursor"
    page_size_query_param = "page_size"
    page_size = 50
    # The same bound as api.pagination.ApiCursorPagination, so one OpenAPI description fits.
    max_page_size = 200

    def __init__(self, *, max_position: int = 10**12) -> None:
        # A position past it is no link of ours (a list's own bound, e.g. the furthest offset
        # the directory passes to DingTalk).
        self.max_position = max_position

    @staticmethod
    def encode(position: int) -> str:
        return base64.urlsafe_b64encode(f"p={position}".encode()).decode().rstrip("=")

    def decode(self, token: str) -> int:
        text = ""
        if len(token) <= 24:
            try:
                text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
            except (ValueError, UnicodeDecodeError):
                text = ""
        match = _TOKEN.fullmatch(text)
        if match is None or int(match.group(1)) > self.max_position:
            raise NotFound("not a cursor of this list: follow the `next` or `previous` link "
                           "as given", code="invalid_cursor")
        return int(match.group(1))

    def read(self, request) -> tuple[int, int]:
        """(position, page size) the request asks for."""
        params = request.query_params
        token = params.get(self.cursor_query_param)
        position = 0 if token is None else self.decode(token)
        raw = params.get(self.page_size_query_param)
        if raw is None:
            return position, self.page_size
        if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= self.max_page_size):
            raise ValidationError({self.page_size_query_param: [
                f"a whole number from 1 to {self.max_page_size}"]})
        return position, int(raw)

    def response(self, request, results: list, *, next_position: int | None,
                 previous_position: int | None = None) -> Response:
        url = request.build_absolute_uri()

        def link(position: int | None) -> str | None:
            if position is None:
                return None
            if position == 0:
                return remove_query_param(url, self.cursor_query_param)
            return replace_query_param(url, self.cursor_query_param, self.encode(position))

        return Response({"next": link(next_position), "previous": link(previous_position),
                         "results": results})

    @staticmethod
    def slice(items: Sequence, *, position: int,
              size: int) -> tuple[list, int | None, int | None]:
        """One page of a whole list: (its items, next position, previous position)."""
        page = list(items[position:position + size])
        next_position = position + size if position + size < len(items) else None
        previous_position = max(0, position - size) if position > 0 else None
        return page, next_position, previous_position
