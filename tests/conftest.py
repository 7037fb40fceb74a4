"""Shared fixtures.

Tests that need a real service (PostgreSQL, Redis, a Celery worker, a
browser) call :func:`need_service`: on a laptop without it they skip with the
reason, but with ``REQUIRE_SERVICES=1`` (set by ``.ci/run``) they fail, so CI
can never pass by skipping them.

Celery tasks run eagerly, in the test process, unless a test asks for
:func:`celery_worker`: then they go through the real broker to a real
``celery worker`` subprocess that uses the test database.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
import redis
from django.conf import settings

from config.celery import app as celery_app

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def need_service(available: bool, reason: str) -> None:
    if available:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def postgres(db) -> None:
    """The test database is PostgreSQL (CI), else skip or fail as above."""
    from django.db import connection

    need_service(
        connection.vendor == "postgresql",
        f"needs PostgreSQL (DATABASE_URL points at {connection.vendor})",
    )


@pytest.fixture(autouse=True)
def empty_cache() -> None:
    """Every test starts with an empty cache: the home rows are kept there,
    and ids cached by one test would name other titles (or none) in the next."""
    from django.core.cache import cache

    from recommendations.services import experiments

    cache.clear()
    experiments.experiments_changed()  # and the process's copy of the tests


@pytest.fixture(scope="session")
def movielens_dir() -> Path:
    return Path(settings.MOVIELENS_DIR)


@pytest.fixture(scope="session")
def ml_latest_small(movielens_dir: Path) -> Path:
    path = movielens_dir / "ml-latest-small"
    need_service(path.is_dir(), f"needs the MovieLens copy at {path}")
    return path


# --- Celery -----------------------------------------------------------------

WORKER_QUEUES = ("default", "training")
WORKER_START_TIMEOUT = 30  # seconds


@pytest.fixture(autouse=True)
def celery_eager() -> Iterator[None]:
    """Tasks run in-process and raise their errors, unless ``celery_worker`` is used."""
    conf = celery_app.conf
    saved = conf.task_always_eager, conf.task_eager_propagates
    conf.task_always_eager = conf.task_eager_propagates = True
    yield
    conf.task_always_eager, conf.task_eager_propagates = saved


@dataclass
class CeleryWorker:
    """A ``celery worker`` subprocess started by the test session."""

    process: subprocess.Popen
    hostname: str  # its node name, for ``app.control`` ``destination=[...]``
    env: dict[str, str]  # the environment it was started with
    log_path: Path

    def log(self, start: int = 0) -> str:
        with self.log_path.open("rb") as log:
            log.seek(start)
            return log.read().decode(errors="replace")

    def log_size(self) -> int:
        return self.log_path.stat().st_size

    def log_tail(self, lines: int = 80) -> str:
        return "\n".join(self.log().splitlines()[-lines:])


def _database_url(db: dict) -> str:
    """``db`` (a connection's settings) as a DATABASE_URL for django-environ."""
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{quote(str(db['NAME']))}"
    if db["ENGINE"] != "django.db.backends.postgresql":
        raise NotImplementedError(f"no DATABASE_URL for {db['ENGINE']}")
    user = quote(db.get("USER") or "", safe="")
    if db.get("PASSWORD"):
        user += ":" + quote(db["PASSWORD"], safe="")
    options = {
        key: value
        for key, value in (db.get("OPTIONS") or {}).items()
        if isinstance(value, str | int) and not isinstance(value, bool)
    }
    host = db.get("HOST") or ""
    if host.startswith("/"):  # a Unix socket directory
        options["host"], host = host, ""
    port = f":{db['PORT']}" if db.get("PORT") else ""
    query = f"?{urlencode(options)}" if options else ""
    return f"postgres://{user}@{host}{port}/{quote(db['NAME'], safe='')}{query}"


def _purge_worker_queues() -> None:
    with celery_app.connection_for_write() as conn:
        for queue in WORKER_QUEUES:
            conn.default_channel.queue_purge(queue)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()  # warm shutdown
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _worker_env(db: dict) -> dict[str, str]:
    """The environment of a worker on the test database ``db`` and this run's broker."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": _database_url(db),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_RESULT_BACKEND": settings.CELERY_RESULT_BACKEND,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "MARQUEE_VAR_DIR": str(settings.VAR_DIR),
        "PYTHONUNBUFFERED": "1",
    }


#: How the tests run a worker: one process, none of the workers' chatter.
TEST_WORKER_OPTIONS = (
    "--pool", "solo",
    "--without-gossip", "--without-mingle", "--without-heartbeat",
)  # fmt: skip
#: How the Procfile runs it (a pool of child processes; Celery's defaults).
PROCFILE_WORKER_OPTIONS = ("--pool", "prefork", "--concurrency", "1")


def celery_worker_start(
    *,
    env: dict[str, str],
    name: str,
    log_dir: Path,
    options: tuple[str, ...] = TEST_WORKER_OPTIONS,
) -> CeleryWorker:
    """Starts ``celery worker`` and waits until it answers a ping.

    The ping goes through this process's Celery app: its broker must be the
    one ``env`` names. A worker that does not start skips the test (fails
    under ``REQUIRE_SERVICES=1``).
    """
    hostname = f"{name}@localhost"
    command = [
        sys.executable, "-m", "celery", "-A", "config", "worker",
        *options,
        "--queues", ",".join(WORKER_QUEUES),
        "--loglevel", "INFO",
        "--hostname", hostname,
        # Celery's own test task: ``celery.ping`` returns "pong".
        "--include", "celery.contrib.testing.tasks",
    ]  # fmt: skip
    log_path = log_dir / f"celery-worker-{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    worker = CeleryWorker(process, hostname, env, log_path)
    deadline = time.monotonic() + WORKER_START_TIMEOUT
    while not celery_app.control.ping(destination=[hostname], timeout=1.0):
        exit_code = process.poll()
        if exit_code is not None or time.monotonic() > deadline:
            _stop(process)
            problem = (
                f"exited with code {exit_code}"
                if exit_code is not None
                else f"did not answer a ping within {WORKER_START_TIMEOUT}s"
            )
            need_service(
                False,
                f"the Celery worker {problem}; {log_path}:\n{worker.log_tail()}",
            )
    return worker


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup: None) -> Iterator[CeleryWorker]:
    """One real worker for the session, on the test database and the real broker.

    Tests use it through :func:`celery_worker`. The broker and result backend
    are the test process's own (``CELERY_BROKER_URL``: Redis in CI, else the
    filesystem transport under this run's ``MARQUEE_VAR_DIR``).
    """
    from django.db import connection

    # pytest-django sets up the test database only when a collected test needs
    # one; until then NAME is the site's own database.
    db = connection.settings_dict
    db_name, test_name = str(db["NAME"]), (db.get("TEST") or {}).get("NAME")
    on_test_db = db_name == str(test_name) if test_name else db_name.startswith("test_")
    if not on_test_db or ":memory:" in db_name or "mode=memory" in db_name:
        pytest.fail(
            f"the Celery worker needs a test database it can open, not {db_name!r}; "
            "use the celery_worker fixture (it requests transactional_db)",
            pytrace=False,
        )
    # Under pytest-xdist each xdist worker starts its own Celery worker. They
    # must not share a broker, or one takes another's tasks and runs them on
    # the wrong test database. With the filesystem transport each has its own
    # broker folders when the root conftest.py gave it its own var dir
    # (<dir>/gw0...); Redis is shared. (--dist loadgroup cannot keep these
    # tests on one xdist worker: it does not group with pytest 9.2,
    # pytest-dev/pytest-xdist#1386.)
    xdist_worker = os.environ.get("PYTEST_XDIST_WORKER")
    need_service(
        int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) == 1
        or (
            celery_app.conf.broker_url.startswith("filesystem")
            and Path(settings.VAR_DIR).name == xdist_worker
        ),
        "the Celery worker tests cannot share a broker between pytest-xdist "
        "workers; run them without -n (or with the filesystem broker and "
        "MARQUEE_VAR_DIR unset)",
    )
    connection_to_broker = celery_app.connection_for_write()
    try:
        with connection_to_broker:
            connection_to_broker.ensure_connection(max_retries=1)
    except Exception as exc:
        need_service(
            False, f"needs the Celery broker at {connection_to_broker.as_uri()} ({exc})"
        )
    # Stale messages (a crashed run, or ``make run`` sharing the var dir) must
    # never reach this worker.
    _purge_worker_queues()

    name = f"tests-{xdist_worker or 'main'}-{uuid.uuid4().hex[:8]}"
    env = _worker_env(db)
    worker = celery_worker_start(env=env, name=name, log_dir=Path(settings.VAR_DIR))
    process = worker.process
    try:
        yield worker
        exit_code = process.poll()
        if exit_code is not None:
            pytest.fail(
                f"the Celery worker exited during the session (code {exit_code}); "
                f"{worker.log_path}:\n{worker.log_tail()}",
                pytrace=False,
            )
    finally:
        _stop(process)


_worker_log_start = pytest.StashKey[tuple[CeleryWorker, int]]()


@pytest.fixture
def celery_worker(
    request: pytest.FixtureRequest,
    celery_worker_process: CeleryWorker,
    transactional_db: None,
) -> Iterator[CeleryWorker]:
    """The real worker, for tests whose tasks must go through the broker.

    Tasks stop running eagerly for the test; the queues start empty. The test
    is transactional (as with ``django_db(transaction=True)``): the worker is
    another process and sees committed rows only. A failing test's report
    shows what the worker logged meanwhile.
    """
    worker = celery_worker_process
    if worker.process.poll() is not None:
        pytest.fail(
            f"the Celery worker has exited (code {worker.process.returncode}); "
            f"{worker.log_path}:\n{worker.log_tail()}",
            pytrace=False,
        )
    _purge_worker_queues()
    conf = celery_app.conf
    eager = conf.task_always_eager
    conf.task_always_eager = False
    request.node.stash[_worker_log_start] = (worker, worker.log_size())
    yield worker
    conf.task_always_eager = eager


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    started = item.stash.get(_worker_log_start, None)
    if started is not None and report.failed:
        worker, offset = started
        logged = worker.log(offset) or f"(nothing logged; see {worker.log_path})"
        report.sections.append(("Celery worker log", logged))
    return report


@pytest.fixture
def enqueued(monkeypatch) -> list[tuple[str, tuple]]:
    """Tasks sent, by name, as the outbox publishes them (instead of sending)."""
    from outbox import services

    calls: list[tuple[str, tuple]] = []

    def record(message):
        calls.append((message.task, tuple(message.args)))
        return True

    monkeypatch.setattr(services, "publish", record)
    return calls


# --- Faults: Celery on a redis-server of the test's own ------------------------


def wait_for(condition, timeout: float = 60.0, every: float = 0.1):
    """``condition()``'s first true value, polled until ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(every)
    raise AssertionError(f"condition not met within {timeout} s")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RedisServer:
    """A redis-server of one test on a spare port, keeping nothing on disk:
    :meth:`crash` loses what it held, :meth:`start` brings it back, same port."""

    port: int
    workdir: Path
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def results_url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/1"

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=2)

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.workdir)]
        with (self.workdir / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=log)
        deadline = time.monotonic() + 10
        while True:
            try:
                self.client().ping()
                return
            except redis.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def crash(self) -> None:
        """SIGKILL: connections are refused, and the messages it held are gone."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        """Shuts it down: every connection to it is refused."""
        self.resume()
        self.process.terminate()
        self.process.wait(timeout=10)

    def freeze(self) -> None:
        """SIGSTOP: connections are accepted by the kernel, never answered."""
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)


@dataclass
class OwnStack:
    """A worker, and beat if the test starts it, on the test's own Redis."""

    redis: RedisServer
    db: dict
    logs: Path
    node: pytest.Item
    worker: CeleryWorker | None = None
    beat: subprocess.Popen | None = None

    def start_worker(
        self, *, options: tuple[str, ...] = TEST_WORKER_OPTIONS, **env: str
    ) -> CeleryWorker:
        """The worker, on the test database unless ``env`` says otherwise."""
        env = {
            **_worker_env(self.db),
            "CELERY_BROKER_URL": self.redis.url,
            "CELERY_RESULT_BACKEND": self.redis.results_url,
            **env,
        }
        name = f"faults-{uuid.uuid4().hex[:8]}"
        self.worker = celery_worker_start(
            env=env, name=name, log_dir=self.logs, options=options
        )
        self.node.stash[_worker_log_start] = (self.worker, 0)
        return self.worker

    def start_beat(self) -> None:
        """Beat with the site's schedule (the outbox relay every 15 s), kept in
        a file of the test instead of the database."""
        command = [
            sys.executable, "-m", "celery", "-A", "config", "beat",
            "--loglevel", "INFO",
            "--scheduler", "celery.beat:PersistentScheduler",
            "--schedule", str(self.logs / "beat-schedule"),
            "--pidfile", str(self.logs / "beat.pid"),
        ]  # fmt: skip
        with (self.logs / "celery-beat.log").open("wb") as log:
            self.beat = subprocess.Popen(
                command,
                cwd=settings.BASE_DIR,
                env=self.worker.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )


def model_trained_for_the_worker():
    """Trains a small model here and waits until the running worker has stored
    every profile's candidates (the batch promotion sends through the outbox)."""
    from accounts.models import Profile
    from recommendations.models import ProfileCandidates
    from recommendations.services import training

    version = training.model_train(
        params={"n_factors": 10, "n_epochs": 5, "random_state": 0}
    )
    profiles = Profile.objects.count()
    scored = ProfileCandidates.objects.filter(model_version=version)
    wait_for(lambda: scored.count() == profiles, timeout=60)
    return version


def _broker_connections_drop() -> None:
    """This process's Celery app connects afresh to its broker and result backend."""
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    celery_app._backend_cache = None
    celery_app._local.__dict__.pop("backend", None)


@pytest.fixture
def own_stack(
    request: pytest.FixtureRequest,
    transactional_db: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[OwnStack]:
    """Celery on a redis-server of the test's own (broker and result backend,
    as in production), which the test may crash and start again.

    This process uses that Redis meanwhile, with this run's Redis transport
    settings (so the run's broker must be Redis), and tasks stop running
    eagerly. The test is transactional: the worker sees committed rows only.
    """
    from django.db import connection

    need_service(shutil.which("redis-server") is not None, "needs redis-server")
    need_service(
        settings.CELERY_BROKER_URL.startswith("redis://"),
        "needs Redis as this run's Celery broker (CELERY_BROKER_URL=redis://...)",
    )
    server = RedisServer(free_port(), tmp_path)
    server.start()
    stack = OwnStack(server, connection.settings_dict, tmp_path, request.node)
    conf = celery_app.conf
    saved = conf.broker_url, conf.result_backend, conf.task_always_eager
    # Celery reads these from the environment before its settings.
    monkeypatch.setenv("CELERY_BROKER_URL", server.url)
    monkeypatch.setenv("CELERY_RESULT_BACKEND", server.results_url)
    conf.broker_url, conf.result_backend = server.url, server.results_url
    conf.task_always_eager = False
    _broker_connections_drop()
    try:
        yield stack
    finally:
        for process in (stack.beat, stack.worker and stack.worker.process):
            if process is not None:
                _stop(process)
        server.crash()
        monkeypatch.undo()
        conf.broker_url, conf.result_backend, conf.task_always_eager = saved
        _broker_connections_drop()


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Runs ``transaction.on_commit`` work (task enqueues) as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def model_file(version) -> Path:
    """Where this machine has the version's model file (its artifact store's copy)."""
    from recommendations.services.artifact_store import artifact_local_path

    return artifact_local_path(name=version.artifact)


@pytest.fixture
def artifact_dir(settings) -> Path:
    """The model files' folder, emptied for this test.

    The one every process of this run reads, as on a real site: a version
    names its file relative to the store, so the session's Celery worker
    (started by an earlier test, with the run's ``MARQUEE_VAR_DIR``) must find
    the files where this test's trainings put them.
    """
    folder = Path(settings.VAR_DIR) / "models"
    shutil.rmtree(folder, ignore_errors=True)
    settings.RECOMMENDER = {**settings.RECOMMENDER, "ARTIFACT_DIR": folder}
    return folder


@pytest.fixture
def demo_catalog(artifact_dir) -> None:
    """A small demo catalog with planted tastes: 150 titles, 40 viewers."""
    from datetime import UTC, datetime

    from catalog.services import demo_catalog_seed

    demo_catalog_seed(
        seed=7, titles=150, viewers=40, until=datetime(2026, 1, 1, tzinfo=UTC)
    )


@pytest.fixture
def trained(demo_catalog, on_commit):
    """An active model trained on the demo catalog, candidates stored for everyone."""
    from recommendations.services import training

    with on_commit():
        return training.model_train(
            params={"n_factors": 10, "n_epochs": 5, "random_state": 0}
        )


#: Late in the demo catalog's time (it ends on 2026-01-01): trending and
#: "Continue watching" count back from it.
DEMO_END = "2025-12-31T20:00:00+00:00"


@pytest.fixture
def demo_viewer(trained):
    """A grown-up demo viewer who rated titles 4★ or more (so the home has
    "Because you…" rows) and has one unrated title in progress (30 %)."""
    from datetime import datetime

    from accounts.models import Profile
    from catalog.models import Title
    from tests.factories import ViewingEventFactory

    profile = (
        Profile.objects.filter(ratings__value__gte=4)
        .exclude(is_kids=True)
        .order_by("id")
        .first()
    )
    unrated = Title.objects.exclude(ratings__profile=profile).order_by("id").first()
    ViewingEventFactory(
        profile=profile,
        title=unrated,
        progress=0.3,
        started_at=datetime.fromisoformat(DEMO_END),
    )
    return profile
