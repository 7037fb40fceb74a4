"""Liveness and readiness probes: ``/healthz`` and ``/readyz``.

- ``/healthz``: the process answers. Nothing else is checked, so a database
  outage never gets every web process restarted. It adds the active model's
  age (``model_age_hours``, from its training's end) once this process knows
  it: read by a background thread at most once a minute, never waited for,
  left out while unknown (just started, or the database away).
- ``/readyz``: whether this process can serve, and what it serves with. The
  site keeps serving without Redis (``config.cache``) and without the broker
  (the outbox relays later), so it is ready when the database answers (200)
  and not ready when it does not (503). The cache, the broker and the active
  model are reported beside it; any of them not ok makes ``"status":
  "degraded"``, still 200.

Each check reports its ``latency_ms`` and is bounded in time (about a
second; checks that could hang run in a thread of their own, given up after
:data:`CHECK_TIMEOUT_S`). A failing check is reported by its exception's
class name, never its message (which may hold a host, a URL or a password).
Both answer JSON with ``Cache-Control: no-store``; nothing in them is
personal.

They are answered by :class:`HealthMiddleware`, first in ``MIDDLEWARE``,
before anything else sees the request: an orchestrator probes a process by
its address (a ``Host`` that ``ALLOWED_HOSTS`` would refuse), over plain HTTP
(which ``SECURE_SSL_REDIRECT`` would answer with a redirect, and Kubernetes
counts any 3xx as success), with no session, cookie or CSRF token.
"""

import copy
import math
import os
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.core.cache import caches
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from config.api_errors import error_body
from config.cache import DegradingRedisCache
from config.celery import app as celery_app
from recommendations.engine import artifact
from recommendations.services import artifact_store
from recommendations.services.training import active_version

#: The most a check that may hang is waited for, in seconds.
CHECK_TIMEOUT_S = 1.0
#: The most a readiness answer waits for the active model's file to be hashed
#: (once per process); a bigger file is reported "unverified" meanwhile and
#: its outcome known by the next probe.
CHECKSUM_WAIT_S = 0.5
#: libpq's smallest connect timeout (it reads 1 as 2), in seconds: the
#: database check's thread ends by then even when the server does not answer.
DB_CONNECT_TIMEOUT_S = 2

PATHS = {"/healthz", "/readyz"}

Check = dict[str, Any]


class HealthMiddleware:
    """Answers ``/healthz`` and ``/readyz`` before any other middleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info not in PATHS:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            response = JsonResponse(
                error_body(
                    405, "method_not_allowed", f'Method "{request.method}" not allowed.'
                ),
                status=405,
            )
            response["Allow"] = "GET, HEAD"
        elif request.path_info == "/healthz":
            response = JsonResponse(healthz())
        else:
            try:
                response = readyz()
            except Exception as exc:  # a probe answers, whatever happens
                body = {"status": "down", "error": type(exc).__name__}
                response = JsonResponse(body, status=503)
        response["Cache-Control"] = "no-store"
        if request.method == "HEAD":
            response.content = b""
        return response


def healthz() -> dict[str, Any]:
    """The liveness answer: ok, with the active model's age when known."""
    body: dict[str, Any] = {"status": "ok"}
    try:
        age = MODEL_AGE.hours()
    except Exception:  # a probe answers, whatever happens
        age = None
    if age is not None:
        body["model_age_hours"] = age
    return body


class _ModelAge:
    """When the active model was made, as this process last read it.

    :meth:`hours` never touches the database: it answers from the last
    reading and, when that is older than :data:`MODEL_AGE_EVERY_S`, starts
    one background thread to read again (its own connection, closed after;
    a failed reading keeps the previous one).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._made_at: datetime | None = None
        self._read_at = -math.inf
        self._reading = False

    def hours(self) -> float | None:
        with self._lock:
            stale = time.monotonic() - self._read_at >= MODEL_AGE_EVERY_S
            if stale and not self._reading:
                self._reading = True
                threading.Thread(
                    target=self._read_in_background, name="healthz-model", daemon=True
                ).start()
            made_at = self._made_at
        if made_at is None:
            return None
        return round((timezone.now() - made_at).total_seconds() / 3600, 1)

    def read(self) -> None:
        """Reads the active version now, in the calling thread."""
        version = active_version()
        made_at = (version.finished_at or version.created_at) if version else None
        with self._lock:
            self._made_at = made_at
            self._read_at = time.monotonic()

    def _read_in_background(self) -> None:
        try:
            self.read()
        except Exception:  # the database away: the last reading stands
            pass
        finally:
            with self._lock:
                self._reading = False
            connections[DEFAULT_DB_ALIAS].close()

    def forget(self) -> None:
        with self._lock:
            self._made_at, self._read_at = None, -math.inf


#: How often, at most, /healthz reads the active model's age again.
MODEL_AGE_EVERY_S = 60.0
MODEL_AGE = _ModelAge()


def readyz() -> JsonResponse:
    """The readiness answer: 200 while the database answers, else 503."""
    # The two checks that may hang start first and run meanwhile.
    database = _Bounded(check_database)
    broker = _Bounded(check_broker, transport=broker_transport())
    checks = {"cache": check_cache()}
    checks["database"] = database.result()
    checks["broker"] = broker.result()
    if checks["database"]["status"] == "ok":
        checks["model"] = check_model()
    else:
        checks["model"] = {"status": "unknown", "latency_ms": 0.0}
    if checks["database"]["status"] != "ok":
        status, code = "down", 503
    elif any(check["status"] != "ok" for check in checks.values()):
        status, code = "degraded", 200
    else:
        status, code = "ok", 200
    order = ("database", "cache", "broker", "model")
    return JsonResponse(
        {"status": status, "checks": {name: checks[name] for name in order}},
        status=code,
    )


class _Bounded:
    """Runs ``_timed(check, **details)`` in a thread of its own;
    :meth:`result` waits for it at most :data:`CHECK_TIMEOUT_S` from its
    start, else reports it timed out (the thread ends by itself later: every
    check has its own timeouts)."""

    def __init__(self, check: Callable[[], Check], **details: Any) -> None:
        self._check = check
        self._details = details
        self._result: Check | None = None
        self._started = time.monotonic()
        self._thread = threading.Thread(
            target=self._run, name=f"readyz-{check.__name__}", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        self._result = _timed(self._check, **self._details)

    def result(self) -> Check:
        self._thread.join(max(0.0, self._started + CHECK_TIMEOUT_S - time.monotonic()))
        if self._result is None:
            return {
                "status": "down",
                **self._details,
                "error": "timed out",
                "latency_ms": _ms(time.monotonic() - self._started),
            }
        return self._result


def _timed(check: Callable[[], Check], **details: Any) -> Check:
    """``check()`` with ``details`` and its latency; an exception is reported
    (by its class name), not raised."""
    start = time.monotonic()
    try:
        result = {**check(), **details}
    except Exception as exc:  # every failure is an answer here
        result = {"status": "down", **details, "error": type(exc).__name__}
    result["latency_ms"] = _ms(time.monotonic() - start)
    return result


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def check_database() -> Check:
    """A trivial query on a connection of its own (closed after), so a
    server that hangs holds this thread, never a request's connection."""
    default = connections[DEFAULT_DB_ALIAS]
    settings_dict = copy.deepcopy(default.settings_dict)
    if default.vendor == "postgresql":
        settings_dict["OPTIONS"] = {
            **settings_dict.get("OPTIONS", {}),
            "connect_timeout": DB_CONNECT_TIMEOUT_S,
        }
    own = type(default)(settings_dict, DEFAULT_DB_ALIAS)
    try:
        with own.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        own.close()
    return {"status": "ok"}


def check_cache() -> Check:
    """A set and get of a key of this process. Redis is given up quickly
    (``config.cache``: short timeouts, then a breaker answering misses)."""
    cache = caches["default"]
    redis = isinstance(cache, DegradingRedisCache)

    def round_trip() -> Check:
        if redis and cache.away:
            return {"status": "down", "error": "unreachable"}
        key, token = f"health:readyz:{os.getpid()}", time.monotonic_ns()
        cache.set(key, token, timeout=30)
        if cache.get(key) != token:
            return {"status": "down", "error": "unreachable"}
        return {"status": "ok"}

    return _timed(round_trip, backend="redis" if redis else type(cache).__name__)


def broker_transport() -> str:
    """The broker's kind, from its URL's scheme (never the URL: it may hold
    a password)."""
    return urlsplit(celery_app.conf.broker_write_url or "").scheme or "unknown"


def check_broker() -> Check:
    """A connection to Celery's broker, given up after one try; the
    filesystem broker is ok when its folder takes a file."""
    if broker_transport() == "filesystem":
        folder = celery_app.conf.broker_transport_options["data_folder_out"]
        with tempfile.TemporaryFile(dir=folder, prefix=".readyz-"):
            pass
        return {"status": "ok"}
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(
            max_retries=1, interval_start=0, interval_step=0, interval_max=0
        )
        conn.channel().close()
    return {"status": "ok"}


def check_model() -> Check:
    """The active model version: its id, age, and whether its file matches
    its checksum (hashed once per process, as serving does)."""

    def describe() -> Check:
        version = active_version()
        if version is None:
            return {"status": "none", "id": None}
        made = version.finished_at or version.created_at
        checksum = _checksum_state(version.artifact, version.sha256)
        return {
            "status": "failed" if checksum == "failed" else "ok",
            "id": version.pk,
            "age_hours": round((timezone.now() - made).total_seconds() / 3600, 1),
            "checksum": checksum,
        }

    return _timed(describe)


def _checksum_state(name: str, sha256: str) -> str:
    """ "verified", "failed" or "unverified": what this process knows, after
    hashing this machine's copy now if it was never hashed here (waiting at
    most :data:`CHECKSUM_WAIT_S`; the hash goes on meanwhile and is
    remembered). A file of the database store not yet downloaded to this
    machine is "unverified": the probe does not fetch it."""
    path = artifact_store.artifact_local_path(name=name)
    if path is None:
        return "unverified"
    state = artifact.verified_state(path, sha256)
    if state != "unverified":
        return state
    outcome: list[str] = []

    def verify() -> None:
        try:
            artifact.verify(path, sha256)
        except artifact.ArtifactError:
            outcome.append("failed")  # an unreadable file is not remembered
        else:
            outcome.append("verified")

    thread = threading.Thread(target=verify, name="readyz-checksum", daemon=True)
    thread.start()
    thread.join(CHECKSUM_WAIT_S)
    return outcome[0] if outcome else "unverified"
