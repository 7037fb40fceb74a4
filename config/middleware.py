"""Site-wide request and response rules: hostile input and private caching."""

import json
import logging
from collections.abc import Callable
from urllib.parse import unquote_to_bytes

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.handlers.wsgi import get_bytes_from_wsgi
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.template.loader import render_to_string
from django.utils.cache import patch_cache_control

from config.api_errors import error_body
from config.parsers import MAX_JSON_DEPTH, bytes_problem, json_problem, text_problem

logger = logging.getLogger("django.security.HostileInput")

#: Paths answered in JSON (config/api_errors.py's shape), as DRF answers its errors.
API_PREFIX = "/api/"
#: Paths whose every response may hold personal data, signed in or not (an
#: erasure's receipt is shown to whoever holds its reference).
PRIVATE_PREFIXES = (API_PREFIX, "/privacy/")


class HostileInputMiddleware:
    """Refuses, with a 400, text that no view could store or echo back.

    A NUL character (PostgreSQL refuses it in text), a lone surrogate or bytes
    that are not UTF-8 (no encoder accepts them) in the query string, a form
    field (url-encoded or multipart) or a JSON body; a NUL in the path or a
    header; a JSON body nested deeper than ``MAX_JSON_DEPTH``. A body
    over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` gets a 413, too many fields a 400.
    Under ``/api/`` the answer is JSON (the API's error shape), else the 400
    page. A cookie holding such text is dropped rather than refused, so a
    cookie planted by someone else cannot lock a browser out of the site.

    Goes early, before ``SessionMiddleware``, which reads the cookies.
    Malformed JSON is left to the view (DRF answers it with its own 400).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        _drop_hostile_cookies(request)
        try:
            problem = _request_problem(request)
        except RequestDataTooBig:
            return _refuse(request, "The request body is too large.", status=413)
        except (SuspiciousOperation, MultiPartParserError) as exc:
            # Too many fields or files, a broken multipart body.
            return _refuse(request, f"The request could not be read: {exc}")
        if problem:
            return _refuse(request, f"The {problem}.")
        return self.get_response(request)


def _request_problem(request: HttpRequest) -> str | None:
    """What is unusable in the request, as "<part> <problem>", or ``None``."""
    # The path: Django has already escaped bytes that are not UTF-8 again
    # (%ED%A0%80 stays those nine characters), so only a NUL can be left.
    if problem := text_problem(request.path_info):
        return f"address {problem}"
    environ = getattr(request, "environ", None)
    if environ is not None:  # WSGI: the raw bytes, before Django mends them
        query = get_bytes_from_wsgi(environ, "QUERY_STRING", "")
    else:
        query = request.META.get("QUERY_STRING", "").encode("utf-8", "surrogatepass")
    if problem := _form_problem(query):
        return f"query string {problem}"
    _ = request.GET  # parsed now, so that too many fields is answered here
    for key, value in request.META.items():
        if key.startswith("HTTP_") and isinstance(value, str) and "\x00" in value:
            return f"header {key.removeprefix('HTTP_')} contains a NUL character"

    return _body_problem(request)


def _body_problem(request: HttpRequest) -> str | None:
    content_type = request.content_type or ""
    if content_type == "application/x-www-form-urlencoded":
        problem = _form_problem(request.body)
        _ = request.POST  # as request.GET above
        return problem and f"form {problem}"
    if content_type == "multipart/form-data" and request.method == "POST":
        for key, values in request.POST.lists():
            for text in (key, *values):
                if problem := text_problem(text):
                    return f"form field “{ascii(key)[1:-1]}” {problem}"
    if content_type == "application/json" or content_type.endswith("+json"):
        problem = _json_body_problem(request)
        return problem and f"JSON body {problem}"
    return None


def _form_problem(encoded: bytes) -> str | None:
    """What is wrong with the text of url-encoded ``key=value&...`` pairs."""
    if not encoded:
        return None
    return bytes_problem(unquote_to_bytes(encoded.replace(b"+", b" ")))


def _json_body_problem(request: HttpRequest) -> str | None:
    charset = request.content_params.get("charset", "utf-8")
    try:
        text = request.body.decode(charset)
    except (LookupError, UnicodeDecodeError):
        return f"is not valid {charset}"
    try:
        data = json.loads(text)
    except RecursionError:
        return f"has nesting deeper than {MAX_JSON_DEPTH} levels"
    except ValueError:
        return None  # malformed: the view's parser says so
    problem = json_problem(data)
    return problem and f"has {problem}"


def _drop_hostile_cookies(request: HttpRequest) -> None:
    cookies = request.COOKIES
    for name, value in list(cookies.items()):
        if text_problem(name) or text_problem(value):
            del cookies[name]


def _refuse(request: HttpRequest, message: str, *, status: int = 400) -> HttpResponse:
    logger.warning("Refused %s %r: %s", request.method, request.path_info, message)
    if request.path_info.startswith(API_PREFIX):
        code = "too_large" if status == 413 else "bad_request"
        return JsonResponse(error_body(status, code, message), status=status)
    # Rendered without the request: the session and user are not loaded yet.
    return HttpResponse(
        render_to_string("400.html", {"message": message}), status=status
    )


class PrivateCacheMiddleware:
    """``Cache-Control: no-store, private`` on responses that may hold personal data.

    Every response to a signed-in person (a page, a fragment, API JSON: a
    shared or back-button cache must not keep it), and every response under
    ``/api/`` or ``/privacy/`` whoever asks. A view that set ``Cache-Control``
    itself (a poster, an export download) keeps its own. Static files are
    served before this runs and stay cacheable.

    Goes after ``AuthenticationMiddleware``; it reads ``request.user`` when
    the view is done, so an API client signed in by DRF counts.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.has_header("Cache-Control"):
            return response
        user = getattr(request, "user", None)
        if request.path_info.startswith(PRIVATE_PREFIXES) or (
            user is not None and user.is_authenticated
        ):
            patch_cache_control(response, no_store=True, private=True)
        return response
