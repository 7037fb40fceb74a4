"""RabbitMQ as the Celery broker, as first-class as Redis.

The rest of the suite runs on this run's broker (Redis in CI); here this
process and a real ``celery worker`` use the RabbitMQ that ``TEST_RABBITMQ_URL``
names (``.ci/run`` starts it; default: guest on 127.0.0.1:5672, vhost ``/``),
with the settings ``config/settings.py`` gives an ``amqp://`` broker.
The worker queues there are purged first, so nothing left over runs.
"""

import os
import runpy
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import amqp
import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from kombu import Connection

from accounts.models import Profile
from activity.models import Rating
from catalog.models import Title
from catalog.services import demo_catalog_seed
from config.celery import app as celery_app
from outbox.models import OutboxMessage
from outbox.services import outbox_relay
from recommendations.models import ProfileCandidates
from tests.activity.conftest import HTMX, watch_as
from tests.conftest import (
    WORKER_QUEUES,
    CeleryWorker,
    _broker_connections_drop,
    _stop,
    _worker_env,
    _worker_log_start,
    celery_worker_start,
    free_port,
    model_trained_for_the_worker,
    need_service,
    wait_for,
)

RABBITMQ_URL = os.environ.get(
    "TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//"
)
REFRESH_TASK = "recommendations.tasks.refresh_profile"


def settings_for(monkeypatch: pytest.MonkeyPatch, broker_url: str) -> dict:
    """config/settings.py as a process whose broker is ``broker_url`` reads it."""
    monkeypatch.setenv("CELERY_BROKER_URL", broker_url)
    configured = runpy.run_path(str(Path(settings.BASE_DIR) / "config" / "settings.py"))
    monkeypatch.delenv("CELERY_BROKER_URL")
    return configured


def test_redis_hands_a_message_to_another_worker_only_after_the_longest_training(
    monkeypatch,
):
    configured = settings_for(monkeypatch, "redis://127.0.0.1:6379/0")

    visibility = configured["CELERY_BROKER_TRANSPORT_OPTIONS"]["visibility_timeout"]
    training = configured["RECOMMENDER"]["TRAINING_TIME_LIMIT_S"]
    assert visibility >= training + 3600
    assert configured["CELERY_TASK_ACKS_LATE"] is True


def test_rabbitmq_confirms_each_publish_within_the_broker_timeout(monkeypatch):
    configured = settings_for(monkeypatch, "amqp://guest:guest@rabbit.example:5672//")

    options = configured["CELERY_BROKER_TRANSPORT_OPTIONS"]
    assert options["confirm_publish"] is True
    assert options["max_retries"] == 0
    assert options["write_timeout"] == configured["CELERY_BROKER_CONNECTION_TIMEOUT"]
    assert configured["CELERY_TASK_ACKS_LATE"] is True
    assert "CELERY_BROKER_TRANSPORT" not in configured  # Kombu's own pyamqp
    queues = {queue.name: queue for queue in configured["CELERY_TASK_QUEUES"]}
    assert sorted(queues) == sorted(WORKER_QUEUES)
    assert all(queue.durable and not queue.auto_delete for queue in queues.values())
    assert configured["CELERY_TASK_DEFAULT_DELIVERY_MODE"] == "persistent"


# --- A worker on RabbitMQ ---------------------------------------------------


@dataclass
class RabbitStack:
    """This process and a worker on RabbitMQ; ``point_at`` moves this process."""

    configured: dict
    worker: CeleryWorker

    def point_at(self, url: str) -> None:
        """This process publishes to ``url`` from now on (the worker stays)."""
        os.environ["CELERY_BROKER_URL"] = url
        celery_app.conf.broker_url = url
        _broker_connections_drop()


def _rabbitmq_reachable() -> str | None:
    try:
        with Connection(RABBITMQ_URL, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as exc:
        return repr(exc)
    return None


@pytest.fixture
def rabbitmq(
    request: pytest.FixtureRequest,
    transactional_db: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[RabbitStack]:
    from django.db import connection

    need_service(
        int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) == 1,
        "the RabbitMQ tests share its queues: run them without -n",
    )
    problem = _rabbitmq_reachable()
    need_service(problem is None, f"needs RabbitMQ at {RABBITMQ_URL} ({problem})")
    configured = settings_for(monkeypatch, RABBITMQ_URL)
    conf = celery_app.conf
    saved = {
        name: conf[name]
        for name in (
            "broker_url",
            "broker_transport",
            "broker_transport_options",
            "task_queues",
            "task_always_eager",
        )
    }
    monkeypatch.setenv("CELERY_BROKER_URL", RABBITMQ_URL)
    conf.broker_url = RABBITMQ_URL
    conf.broker_transport = None
    conf.broker_transport_options = configured["CELERY_BROKER_TRANSPORT_OPTIONS"]
    conf.task_queues = configured["CELERY_TASK_QUEUES"]
    conf.task_always_eager = False
    _broker_connections_drop()
    worker = None
    try:
        with celery_app.connection_for_write() as conn:
            for queue in conf.task_queues:
                queue(conn.default_channel).declare()
                queue(conn.default_channel).purge()
        env = {
            **_worker_env(connection.settings_dict),
            "CELERY_BROKER_URL": RABBITMQ_URL,
        }
        worker = celery_worker_start(
            env=env, name=f"rabbitmq-{uuid.uuid4().hex[:8]}", log_dir=tmp_path
        )
        request.node.stash[_worker_log_start] = (worker, 0)
        yield RabbitStack(configured, worker)
    finally:
        if worker is not None:
            # A worker on RabbitMQ notices SIGTERM only at its next timer (up
            # to 10 s); a shutdown message wakes it at once.
            celery_app.control.shutdown(destination=[worker.hostname])
            _stop(worker.process)
        monkeypatch.undo()
        for name, value in saved.items():
            conf[name] = value
        _broker_connections_drop()


@pytest.fixture
def catalog(rabbitmq):
    demo_catalog_seed(
        seed=7, titles=150, viewers=30, until=datetime(2026, 1, 1, tzinfo=UTC)
    )
    return model_trained_for_the_worker()


def rate(client: Client, title: Title, value: str) -> float:
    """Rates as the title page's stars do; the seconds it took."""
    started = time.monotonic()
    response = client.post(
        reverse("activity:rate", args=[title.pk]), {"value": value}, headers=HTMX
    )
    assert response.status_code == 200
    return time.monotonic() - started


def refreshed_after(profile: Profile, title: Title) -> ProfileCandidates | None:
    rated_at = Rating.objects.get(profile=profile, title=title).updated_at
    return ProfileCandidates.objects.filter(
        profile=profile, updated_at__gt=rated_at
    ).first()


@pytest.mark.services
def test_the_worker_takes_its_queues_from_rabbitmq_durable(rabbitmq):
    assert "transport:   amqp://guest:**@" in rabbitmq.worker.log()
    channel_error = None
    with celery_app.connection_for_write() as conn:
        for queue in WORKER_QUEUES:
            # RabbitMQ refuses to declare an existing queue as anything else.
            try:
                conn.channel().queue_declare(queue, durable=False)
            except amqp.exceptions.PreconditionFailed as exc:
                channel_error = exc
            assert channel_error is not None, f"{queue} is not durable"
            assert "inequivalent arg 'durable'" in str(channel_error)
            channel_error = None


@pytest.mark.services
def test_a_rating_made_on_the_site_is_refreshed_by_the_worker_through_rabbitmq(
    rabbitmq, catalog
):
    profile = Profile.objects.order_by("pk").first()
    before = ProfileCandidates.objects.get(profile=profile)
    title = Title.objects.get(pk=before.title_ids[0])
    log_start = rabbitmq.worker.log_size()

    rate(watch_as(Client(), profile), title, "5.0")

    after = wait_for(lambda: refreshed_after(profile, title), timeout=30)
    assert title.pk not in after.title_ids
    assert f"Task {REFRESH_TASK}[" in rabbitmq.worker.log(log_start)
    assert not OutboxMessage.objects.exists()  # done, so settled


@pytest.mark.services
def test_work_asked_for_while_rabbitmq_refuses_waits_in_the_outbox_until_relayed(
    rabbitmq, catalog
):
    profile = Profile.objects.order_by("pk").first()
    title = Title.objects.exclude(ratings__profile=profile).order_by("pk").first()
    log_start = rabbitmq.worker.log_size()
    rabbitmq.point_at(f"amqp://guest:guest@127.0.0.1:{free_port()}//")  # closed

    seconds = rate(watch_as(Client(), profile), title, "1.0")

    assert seconds < 1.0, f"the rating took {seconds:.2f} s"
    assert Rating.objects.get(profile=profile, title=title).value == 1.0
    waiting = OutboxMessage.objects.get()
    assert (waiting.task, waiting.args, waiting.sent_at) == (
        REFRESH_TASK,
        [profile.pk],
        None,
    )
    time.sleep(1)
    assert refreshed_after(profile, title) is None
    assert f"Task {REFRESH_TASK}[" not in rabbitmq.worker.log(log_start)

    rabbitmq.point_at(RABBITMQ_URL)
    assert outbox_relay(everything=True) == 1  # as beat's relay, or an operator

    wait_for(lambda: refreshed_after(profile, title), timeout=30)
    wait_for(lambda: not OutboxMessage.objects.exists(), timeout=10)
    assert f"Task {REFRESH_TASK}[" in rabbitmq.worker.log(log_start)
