"""Cursor pagination for every list: stable under inserts, opaque cursors, no counts."""

from rest_framework import serializers
from rest_framework.pagination import CursorPagination


class ApiCursorPagination(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"


_paginated: dict[type, type] = {}


def paginated(serializer_class: type) -> type:
    """The OpenAPI shape of a cursor page of `serializer_class` ({next, previous, results})."""
    if serializer_class not in _paginated:
        name = serializer_class.__name__.removesuffix("Serializer")
        _paginated[serializer_class] = type(f"Paginated{name}ListSerializer",
                                            (serializers.Serializer,), {
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": serializer_class(many=True),
        })
    return _paginated[serializer_class]
