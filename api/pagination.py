"""Cursor pagination for every list: stable under inserts, opaque cursors, no counts.

Strict about its query parameters: a `page_size` that is not a whole number from 1 to
`max_page_size` is a 400 (DRF would quietly use the default size). A cursor that is not one of
our links names no page: 404 `invalid_cursor`, as DRF answers, also for a well-formed cursor
with a forged position (which DRF would let fail in the query: a 500).
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination


class ApiCursorPagination(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= self.max_page_size):
            raise ValidationError({self.page_size_query_param: [
                f"a whole number from 1 to {self.max_page_size}"]})
        return int(raw)

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise _invalid_cursor() from None

    def paginate_queryset(self, queryset, request, view=None):
        try:
            return super().paginate_queryset(queryset, request, view)
        except (ValueError, DjangoValidationError):
            # A well-formed cursor whose position is not a value of the ordering field: only a
            # hand-made cursor gets here (ours carry a real row's value).
            raise _invalid_cursor() from None


def _invalid_cursor() -> NotFound:
    return NotFound("not a cursor of this list: follow the `next` or `previous` link as given",
                    code="invalid_cursor")


# The query parameters of every paginated list, as OpenAPI parameter objects: api/schema.py puts
# them into every operation that answers a page, in place of any the view declared itself.
PAGE_PARAMETERS = [
    {"name": "cursor", "in": "query", "required": False, "schema": {"type": "string"},
     "description": "opaque: from a page's `next` or `previous` link"},
    {"name": "page_size", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 1, "maximum": ApiCursorPagination.max_page_size},
     "description": f"results per page, 1 to {ApiCursorPagination.max_page_size} "
                    f"(default {ApiCursorPagination.page_size})"},
]

_paginated: dict[type, type] = {}


def serializer_component_name(serializer_class: type) -> str:
    """A serializer's OpenAPI component name, without the "Serializer" suffix: a nested one
    (`NotificationDetailApi.OutputSerializer`) is named with its view (`NotificationDetailOutput`),
    so the views' many Input/Output serializers never share a component."""
    outer, _, inner = serializer_class.__qualname__.rpartition(".")
    outer = outer.rpartition(".")[2]
    prefix = outer.removesuffix("Api") if outer and outer != "<locals>" else ""
    return prefix + inner.removesuffix("Serializer")


def paginated(serializer_class: type) -> type:
    """The OpenAPI shape of a cursor page of `serializer_class` ({next, previous, results})."""
    if serializer_class not in _paginated:
        name = serializer_component_name(serializer_class)
        _paginated[serializer_class] = type(f"Paginated{name}ListSerializer",
                                            (serializers.Serializer,), {
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": serializer_class(many=True),
        })
    return _paginated[serializer_class]


def is_paginated(serializer_class: object) -> bool:
    """Whether `serializer_class` is a cursor page made by `paginated`."""
    return serializer_class in _paginated.values()
