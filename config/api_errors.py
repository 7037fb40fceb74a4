"""One error shape for everything under ``/api/``.

Every error is JSON (``application/json``), never HTML or a traceback::

    {"type": "validation_error" | "client_error" | "server_error",
     "errors": [{"code": "required", "detail": "This field is required.",
                 "attr": "value"}]}

``attr`` names the field (dotted for nested ones, ``non_field_errors`` for the
whole body) or is ``null``. ``code`` is stable and meant for programs;
``detail`` is for people. This is drf-standardized-errors' shape; its handler
(:mod:`config.api_handler`) formats DRF's errors, and :func:`api_or_page` gives Django's own 400, 403,
404 and 500 (a URL no route matches, a CSRF failure, a crash outside DRF) the
same shape under ``/api/``. A 429 carries ``Retry-After``.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from django.views.csrf import csrf_failure as django_csrf_failure

API_PREFIX = "/api/"


def error_body(status_code: int, code: str, detail: str, attr: str | None = None):
    kind = "server_error" if status_code >= 500 else "client_error"
    return {"type": kind, "errors": [{"code": code, "detail": detail, "attr": attr}]}


def error_response(
    status_code: int, code: str, detail: str, attr: str | None = None
) -> JsonResponse:
    return JsonResponse(error_body(status_code, code, detail, attr), status=status_code)


# --- Django's own errors (outside DRF's views) --------------------------------

_DJANGO_ERRORS = {
    400: ("bad_request", "The request could not be read."),
    403: ("permission_denied", "You do not have permission to do this."),
    404: ("not_found", "No such address in the API."),
    500: ("error", "A server error occurred."),
}


def api_or_page(status_code: int, page: Callable[..., HttpResponse]):
    """A Django error handler answering JSON under ``/api/``, ``page`` elsewhere."""

    def handler(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.path_info.startswith(API_PREFIX):
            code, detail = _DJANGO_ERRORS[status_code]
            return error_response(status_code, code, detail)
        return page(request, *args, **kwargs)

    handler.__name__ = f"handler{status_code}"
    return handler


bad_request = api_or_page(400, defaults.bad_request)
permission_denied = api_or_page(403, defaults.permission_denied)
page_not_found = api_or_page(404, defaults.page_not_found)
server_error = api_or_page(500, defaults.server_error)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: JSON under ``/api/``, Django's page elsewhere."""
    if request.path_info.startswith(API_PREFIX):
        return error_response(403, "csrf_failed", f"CSRF check failed: {reason}")
    return django_csrf_failure(request, reason)
