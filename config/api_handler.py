"""DRF's exception handler for the API (the shape: :mod:`config.api_errors`)."""

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404
from drf_standardized_errors.handler import ExceptionHandler
from rest_framework import exceptions, status


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "too_large"


class ApiExceptionHandler(ExceptionHandler):
    """drf-standardized-errors' handler, plus: a body over the size limit is a
    413 and an unreadable one a 400 (not a 500), and a 404 never names the
    model that was looked up ("No DataExport matches…")."""

    def convert_known_exceptions(self, exc: Exception) -> Exception:
        if isinstance(exc, RequestDataTooBig):
            return RequestTooLarge()
        if isinstance(exc, SuspiciousOperation):
            return exceptions.ParseError(f"The request could not be read: {exc}")
        if isinstance(exc, Http404):
            return exceptions.NotFound()
        return super().convert_known_exceptions(exc)
