"""Cursor pagination for every list in the API.

A list answers ``{"next": url|null, "previous": url|null, "results": [...]}``;
follow ``next`` until it is null. Cursors stay correct while rows are added
(unlike page numbers). ``page_size`` (1–200, default 50) sets the length.
A view sets ``ordering`` (a field or a tuple of them, ending in a unique one
such as ``-id``); DRF's own cursor would ignore it without an ordering filter.

A cursor that was not made here is a 400, not a 404.
"""

from rest_framework import exceptions
from rest_framework.pagination import CursorPagination


class Cursor(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"

    def get_ordering(self, request, queryset, view):
        """The view's ``ordering`` when it sets one, else the default."""
        ordering = getattr(view, "ordering", None)
        if ordering:
            return (ordering,) if isinstance(ordering, str) else tuple(ordering)
        return super().get_ordering(request, queryset, view)

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound:
            raise exceptions.ValidationError(
                {self.cursor_query_param: "Not a cursor this list gave out."},
                code="invalid",
            ) from None

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= self.max_page_size:
            raise exceptions.ValidationError(
                {
                    self.page_size_query_param: "A whole number from 1 to "
                    f"{self.max_page_size}."
                },
                code="invalid",
            )
        return size
