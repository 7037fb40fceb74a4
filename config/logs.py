"""Log context: the request id, from the request to the tasks it asks for.

- :class:`RequestIdMiddleware` takes the client's (or the proxy's)
  ``X-Request-ID`` when it is sane, else makes one, and sets it on the
  response. It stays the log context until the response is closed.
- The outbox stores it with each message it records
  (:func:`outbox.services.outbox_add`) and sends it as the message header
  :data:`HEADER`; :func:`task_started` (Celery's ``task_prerun``) puts it,
  with the task's id, in the worker's log context, so one id follows a
  rating from the request to the refresh it caused.
- :class:`ContextFilter` copies the context onto every record and
  :class:`JsonFormatter` writes one JSON object per line
  (``LOG_FORMAT=json``).

Context variables, not thread-locals: each thread (gunicorn's gthread
workers) and each task has its own.
"""

import json
import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime

from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse

#: The Celery message header (and outbox field) carrying the request id.
HEADER = "request_id"
#: An incoming id is kept if it is 1-128 of these characters (UUIDs, hex,
#: the ids proxies and load balancers make); anything else is replaced.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")

current_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
current_task_id: ContextVar[str | None] = ContextVar("task_id", default=None)
_CONTEXT = {"request_id": current_request_id, "task_id": current_task_id}


def new_request_id() -> str:
    return uuid.uuid4().hex


def sane_request_id(value: str | None) -> str | None:
    """``value`` if it may be logged and echoed as it is, else None."""
    if value and SANE_REQUEST_ID.fullmatch(value):
        return value
    return None


class RequestIdMiddleware:
    """``request.request_id`` and the ``X-Request-ID`` response header.

    First in ``MIDDLEWARE``, so every answer (a redirect, a 400 for hostile
    input) carries it. The context is cleared when the response is closed,
    after Django has logged a failed request, so that line carries it too.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        rid = sane_request_id(request.headers.get("X-Request-ID")) or new_request_id()
        request.request_id = rid
        current_request_id.set(rid)
        response = self.get_response(request)
        response["X-Request-ID"] = rid
        return response


def _request_finished(**kwargs) -> None:
    current_request_id.set(None)


request_finished.connect(_request_finished, dispatch_uid="config.logs.request_id")


def task_started(*, task_id: str | None = None, task=None, **kwargs) -> None:
    """Celery's ``task_prerun``: the task's id and its request's id, if any.

    A worker's request carries custom headers as attributes; an eager one
    in ``request.headers``.
    """
    request = getattr(task, "request", None)
    headers = getattr(request, "headers", None) or {}
    rid = headers.get(HEADER, getattr(request, HEADER, None))
    current_task_id.set(task_id)
    current_request_id.set(sane_request_id(rid if isinstance(rid, str) else None))


def task_ended(**kwargs) -> None:
    """Celery's ``task_postrun``: the worker's next task starts clean."""
    current_task_id.set(None)
    current_request_id.set(None)


class ContextFilter(logging.Filter):
    """Puts ``request_id`` and ``task_id`` (None outside one) on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, var in _CONTEXT.items():
            if getattr(record, key, None) is None:
                setattr(record, key, var.get())
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message,
    request_id and task_id when set, and the traceback of an exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, var in _CONTEXT.items():
            value = getattr(record, key, None)
            if value is None:
                value = var.get()
            if value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)
