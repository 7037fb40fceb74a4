"""gunicorn.conf.py: what gunicorn reads from it, as gunicorn reads it."""

import importlib.util
import json
from datetime import timedelta
from types import ModuleType, SimpleNamespace

import pytest
from django.conf import settings
from gunicorn.config import Config

VARIABLES = (
    "WEB_CONCURRENCY",
    "GUNICORN_BIND",
    "PORT",
    "GUNICORN_THREADS",
    "GUNICORN_TIMEOUT",
    "GUNICORN_GRACEFUL_TIMEOUT",
    "GUNICORN_MAX_REQUESTS",
    "LOG_FORMAT",
    "LOG_LEVEL",
)


def load(monkeypatch, **environment) -> tuple[ModuleType, Config]:
    """The module, and gunicorn's Config with every setting it names applied
    (as ``gunicorn -c gunicorn.conf.py`` does)."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location(
        "gunicorn_conf", settings.BASE_DIR / "gunicorn.conf.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    config = Config()
    for name, value in vars(module).items():
        if name in config.settings:
            config.set(name, value)
    return module, config


def test_the_defaults_suit_a_production_machine(monkeypatch):
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0, 1, 2, 3})

    _, config = load(monkeypatch)

    assert config.workers == 9  # 2 * 4 cores + 1
    assert config.threads == 2
    assert config.worker_class_str == "gthread"
    assert config.address == [("127.0.0.1", 8000)]
    assert (config.timeout, config.graceful_timeout) == (30, 30)
    assert (config.max_requests, config.max_requests_jitter) == (1000, 100)
    assert config.accesslog == "-"
    assert config.loglevel == "info"
    assert config.control_socket_disable


def test_workers_are_capped_on_a_big_machine(monkeypatch):
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: set(range(64)))

    module, config = load(monkeypatch)

    assert config.workers == module.MAX_WORKERS == 12


def test_the_environment_sets_each_value(monkeypatch):
    _, config = load(
        monkeypatch,
        WEB_CONCURRENCY="3",
        GUNICORN_BIND="0.0.0.0:9000",
        GUNICORN_THREADS="1",
        GUNICORN_TIMEOUT="60",
        GUNICORN_GRACEFUL_TIMEOUT="20",
        GUNICORN_MAX_REQUESTS="500",
        LOG_LEVEL="WARNING",
    )

    assert config.workers == 3
    assert config.address == [("0.0.0.0", 9000)]
    assert config.worker_class_str == "sync"
    assert (config.timeout, config.graceful_timeout) == (60, 20)
    assert (config.max_requests, config.max_requests_jitter) == (500, 50)
    assert config.loglevel == "warning"


def test_honcho_s_port_is_used_without_a_bind(monkeypatch):
    _, config = load(monkeypatch, PORT="5100")

    assert config.address == [("127.0.0.1", 5100)]


@pytest.mark.parametrize("log_format", ["plain", "json"])
def test_the_access_log_is_one_json_object_per_request(monkeypatch, capsys, log_format):
    _, config = load(monkeypatch, LOG_FORMAT=log_format)
    logger = config.logger_class(config)
    response = SimpleNamespace(
        status="404 Not Found",
        headers=[("Content-Type", "text/html"), ("X-Request-ID", "r-1")],
        sent=10,
    )
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": '/titles/\u00e9"/',
        "QUERY_STRING": "q=secret",
        "REMOTE_ADDR": "10.0.0.1",
    }

    logger.access(response, None, environ, timedelta(seconds=1, microseconds=2500))
    logger.error("worker %s booted", 7)

    written = capsys.readouterr()
    (access,) = written.out.splitlines()  # the access log: stdout
    (error,) = written.err.splitlines()  # gunicorn's own: stderr
    entry = json.loads(access)
    assert entry.pop("time").endswith("+00:00")
    assert entry == {
        "level": "INFO",
        "logger": "gunicorn.access",
        "request_id": "r-1",
        "method": "GET",
        "path": '/titles/\u00e9"/',
        "status": 404,
        "duration_ms": 1002.5,
    }
    if log_format == "json":
        assert json.loads(error)["message"] == "worker 7 booted"
    else:
        assert error.endswith("[ERROR] worker 7 booted")
