"""Gunicorn in production: ``gunicorn -c gunicorn.conf.py config.wsgi``.

Every value comes from the environment (README "Running in production").
The access log goes to stdout, one JSON object per request: time, request id
(the ``X-Request-ID`` the site answered with, so it matches the site's own
log lines), method, path (never the query string, which may hold personal
data), status and duration. With ``LOG_FORMAT=json`` gunicorn's own messages
(stderr) are JSON lines too.
"""

import json
import logging
import os
from datetime import UTC, datetime

from gunicorn import glogging


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the CPUs this container may use
    except AttributeError:
        return os.cpu_count() or 1


#: Beyond this many processes a machine gains little and PostgreSQL pays a
#: connection for each (times threads): run more machines instead.
MAX_WORKERS = 12

bind = os.environ.get("GUNICORN_BIND") or f"127.0.0.1:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY") or min(2 * _cores() + 1, MAX_WORKERS))
# Threads per worker (gthread when more than one): pages mostly wait on
# PostgreSQL and Redis. Each thread may hold a database connection.
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
worker_class = "gthread" if threads > 1 else "sync"
# A request still running after this many seconds has its worker killed and
# replaced; the slowest page is well under a second.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# On a restart or HUP, workers finish the requests they hold for this long.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
# Each worker is replaced after about this many requests (the jitter keeps
# them from restarting together): memory a worker creeps up to is returned.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "1000"))
max_requests_jitter = max(max_requests // 10, 1) if max_requests else 0
# Heartbeat files in memory, not on a disk that may stall (containers).
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# X-Forwarded-* trusted from the proxy on this machine only (the default);
# Django reads the client address itself (TRUSTED_PROXY_COUNT).
proc_name = "marquee-web"
# Restarts and reloads go through signals (systemd, honcho); no control
# socket in a home directory the service user may not have.
control_socket_disable = True


class JsonLinesLogger(glogging.Logger):
    """Gunicorn's logger, with the access log as JSON lines."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        if os.environ.get("LOG_FORMAT", "plain") == "json":
            for handler in self.error_log.handlers:
                handler.setFormatter(_JsonFormatter())

    def access(self, resp, req, environ, request_time) -> None:
        if not self.access_log_enabled:
            return
        status = resp.status
        if isinstance(status, str):
            status = status.split(None, 1)[0]
        headers = {name.lower(): value for name, value in resp.headers or ()}
        entry = {
            "time": _now(),
            "level": "INFO",
            "logger": "gunicorn.access",
            "request_id": headers.get("x-request-id"),
            "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("PATH_INFO"),
            "status": int(status),
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
        }
        self.access_log.info(json.dumps(entry, ensure_ascii=False))


class _JsonFormatter(logging.Formatter):
    """Gunicorn's own messages as the site's JSON lines (config/logs.py)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": _now(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def _now(timestamp: float | None = None) -> str:
    moment = datetime.fromtimestamp(timestamp, UTC) if timestamp else datetime.now(UTC)
    return moment.isoformat(timespec="milliseconds")


logger_class = JsonLinesLogger
