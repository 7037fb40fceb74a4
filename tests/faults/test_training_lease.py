"""A training whose process is killed: noticed, marked failed, and done again once.

The faults are real: a Celery worker's child process, or a ``manage.py
train``, is SIGKILLed in the middle of a training, against the test database
(PostgreSQL in CI: the lease is an advisory lock that dies with the process).
"""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from catalog.services import demo_catalog_seed
from config.celery import app as celery_app
from recommendations import tasks
from recommendations.models import ModelVersion
from recommendations.services import training
from tests.conftest import _database_url, _stop
from tests.recommendations.test_worker import wait_for

pytestmark = pytest.mark.services

SMALL = {"n_factors": 10, "n_epochs": 5, "random_state": 0}
#: About a second: a kill lands in the middle of it.
SLOW = {"n_factors": 100, "n_epochs": 300, "random_state": 0}
#: Ten seconds or more even on an idle machine (3,000 epochs fitted in 3.5 s
#: there): longer than the two leases and a second the test watches it for.
LONG = {"n_factors": 100, "n_epochs": 9000, "random_state": 0}
#: A user's requirement: a killed training is replaced within 3 minutes.
REPLACED_WITHIN_S = 180
#: The SQLite heartbeat's lease, short so the test needs not wait long.
LEASE_S = 3


@pytest.fixture
def catalog(transactional_db, artifact_dir, settings):
    settings.RECOMMENDER = {**settings.RECOMMENDER, "TRAINING_LEASE_SECONDS": LEASE_S}
    demo_catalog_seed(
        seed=7, titles=300, viewers=120, until=datetime(2026, 1, 1, tzinfo=UTC)
    )


def _env(artifact_dir: Path, params: dict) -> dict[str, str]:
    """A process of the site on this test's database and artifact folder."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": _database_url(connection.settings_dict),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_RESULT_BACKEND": settings.CELERY_RESULT_BACKEND,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "MARQUEE_VAR_DIR": str(settings.VAR_DIR),
        "RECOMMENDER_ARTIFACT_DIR": str(artifact_dir),
        "RECOMMENDER_PARAMS": json.dumps(params),
        "RECOMMENDER_TRAINING_LEASE_SECONDS": str(LEASE_S),
        "OPENBLAS_NUM_THREADS": "1",
        "PYTHONUNBUFFERED": "1",
    }


@pytest.fixture
def prefork_worker(postgres, catalog, artifact_dir, tmp_path):
    """A Celery worker as production runs it (prefork: tasks run in a child
    process), consuming a queue of its own so no other worker takes the task."""
    queue = f"lease-test-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    hostname = f"{queue}-{uuid.uuid4().hex[:8]}@localhost"
    with celery_app.connection_for_write() as conn:
        conn.default_channel.queue_purge(queue)  # what a crashed run left
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker",
             "--pool", "prefork", "--concurrency", "1", "--queues", queue,
             "--hostname", hostname, "--loglevel", "INFO",
             "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=settings.BASE_DIR,
            env=_env(artifact_dir, SLOW),
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    eager, celery_app.conf.task_always_eager = celery_app.conf.task_always_eager, False
    try:
        wait_for(
            lambda: (
                process.poll() is not None
                or celery_app.control.ping(destination=[hostname], timeout=1.0)
            ),
            timeout=60,
        )
        assert process.poll() is None, log_path.read_text()
        yield process, queue, log_path
    finally:
        celery_app.conf.task_always_eager = eager
        _stop(process)
        with celery_app.connection_for_write() as conn:
            conn.default_channel.queue_purge(queue)


def _children_of(pid: int) -> list[int]:
    found = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True
    )
    return [int(child) for child in found.stdout.split()]


def test_a_training_whose_worker_process_is_killed_is_replaced_by_exactly_one(
    prefork_worker, artifact_dir
):
    worker, queue, log_path = prefork_worker
    previous = training.model_train(params=SMALL)
    assert previous.status == ModelVersion.Status.ACTIVE

    tasks.train_model.apply_async(kwargs={"force": True}, queue=queue)
    killed = wait_for(
        lambda: ModelVersion.objects.filter(
            status=ModelVersion.Status.TRAINING
        ).first(),
        timeout=60,
    )
    # The worker's one child process runs the training; kill it mid-training.
    (child,) = _children_of(worker.pid)
    assert killed.lease_holder.endswith(f":{child}")  # the row names its process
    os.kill(child, signal.SIGKILL)

    # The previous version serves, unchanged, until a new one replaces it.
    deadline = time.monotonic() + REPLACED_WITHIN_S
    while True:
        active = ModelVersion.objects.get(status=ModelVersion.Status.ACTIVE)
        if active.pk != previous.pk:
            break
        assert active.sha256 == previous.sha256
        assert time.monotonic() < deadline, log_path.read_text()[-5000:]
        time.sleep(0.2)

    killed.refresh_from_db()
    assert killed.status == ModelVersion.Status.FAILED
    assert "the worker running it" in killed.error and "stopped" in killed.error
    new = ModelVersion.objects.exclude(pk__in=[previous.pk, killed.pk])
    assert list(new) == [active]
    assert active.pk > killed.pk and active.finished_at is not None
    assert not ModelVersion.objects.filter(status=ModelVersion.Status.TRAINING).exists()
    assert {p.name for p in artifact_dir.iterdir()} == {
        Path(previous.artifact).name,
        Path(active.artifact).name,
    }  # no .tmp file, no file of the killed training
    assert worker.poll() is None  # the worker lived on; only its child died


@contextmanager
def manage_py_train(artifact_dir: Path, params: dict) -> Iterator:
    """``manage.py train`` in a process of its own, once its version is training."""
    process = subprocess.Popen(
        [sys.executable, "manage.py", "train", "--verbosity", "0"],
        cwd=settings.BASE_DIR,
        env=_env(artifact_dir, params),
    )
    try:
        version = wait_for(
            lambda: ModelVersion.objects.filter(
                status=ModelVersion.Status.TRAINING
            ).first(),
            timeout=60,
            every=0.02,
        )
        yield process, version
    finally:
        _stop(process)


def test_manage_py_train_runs_when_a_killed_training_left_its_version_training(
    catalog, artifact_dir
):
    with manage_py_train(artifact_dir, SLOW) as (process, killed):
        process.kill()
        process.wait()
    if connection.vendor != "postgresql":
        time.sleep(LEASE_S)  # SQLite: the killed training's heartbeat lapses

    out = StringIO()
    call_command("train", "--params", json.dumps(SMALL), "--json", stdout=out)

    trained = json.loads(out.getvalue())
    assert trained["status"] == ModelVersion.Status.ACTIVE
    killed.refresh_from_db()
    assert killed.status == ModelVersion.Status.FAILED
    assert "the worker running it" in killed.error and "stopped" in killed.error
    assert not ModelVersion.objects.filter(status=ModelVersion.Status.TRAINING).exists()
    assert [p.name for p in artifact_dir.iterdir()] == [
        ModelVersion.objects.get(pk=trained["id"]).artifact
    ]


def test_a_live_training_longer_than_its_lease_is_never_taken_for_dead(
    catalog, artifact_dir
):
    with manage_py_train(artifact_dir, LONG) as (process, version):
        started = time.monotonic()
        while time.monotonic() - started < 2 * LEASE_S + 1:
            assert training.training_running() is True
            with pytest.raises(CommandError, match="Another training is running"):
                call_command("train", "--params", json.dumps(SMALL))
            time.sleep(0.5)
        assert process.poll() is None  # it did outlive two leases
        assert process.wait(timeout=120) == 0

    version.refresh_from_db()
    assert version.status == ModelVersion.Status.ACTIVE
    assert ModelVersion.objects.count() == 1
