"""The broker away: no request waits on it, and no work it missed is lost.

Each test runs a Celery worker (and beat, whose outbox relay sends what the
broker missed every 15 s) on a redis-server of its own (``own_stack``), and
crashes that Redis for real: SIGKILL, so connections are refused and the
messages it held are gone. Requests go through the real views.
"""

import re
import time
from datetime import UTC, datetime

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from accounts.models import Profile
from activity.models import Rating
from catalog.models import Title
from catalog.services import demo_catalog_seed
from outbox import services as outbox_services
from recommendations.models import ModelVersion, ProfileCandidates
from tests.activity.conftest import HTMX, watch_as
from tests.conftest import (
    PROCFILE_WORKER_OPTIONS,
    CeleryWorker,
    model_trained_for_the_worker,
    wait_for,
)

pytestmark = pytest.mark.services

#: The longest a viewer may wait for a rating (or an operator for "Train
#: now") to be answered, broker or no broker.
ANSWER_SECONDS = 1.0
#: Redis back: by then the work asked for meanwhile is done.
CATCH_UP_SECONDS = 60
REFRESH_TASK = "recommendations.tasks.refresh_profile"


def refreshes_received(worker: CeleryWorker, since: int) -> int:
    """Refresh tasks the worker received after log offset ``since``."""
    logged = worker.log(since)
    return len(
        re.findall(rf"Task {re.escape(REFRESH_TASK)}\[[^\]]+\] received", logged)
    )


def rate(client: Client, title: Title, value: str) -> tuple[float, bool]:
    """Rates as the title page's stars do; (seconds taken, answered as usual)."""
    started = time.monotonic()
    response = client.post(
        reverse("activity:rate", args=[title.pk]), {"value": value}, headers=HTMX
    )
    seconds = time.monotonic() - started
    slug = value.replace(".", "-")
    shown = f'id="rate-{title.pk}-{slug}" checked' in response.content.decode()
    return seconds, response.status_code == 200 and shown


def candidates_newer_than(rated_at: dict[int, datetime]) -> bool:
    return all(
        ProfileCandidates.objects.filter(profile_id=pk, updated_at__gt=at).exists()
        for pk, at in rated_at.items()
    )


@pytest.fixture
def catalog(own_stack):
    demo_catalog_seed(
        seed=7, titles=150, viewers=30, until=datetime(2026, 1, 1, tzinfo=UTC)
    )


@pytest.fixture
def trained(own_stack, catalog) -> ModelVersion:
    own_stack.start_worker()
    return model_trained_for_the_worker()


def test_ratings_while_the_broker_is_down_are_saved_at_once_and_refreshed_after(
    own_stack, trained
):
    worker = own_stack.worker
    own_stack.start_beat()
    profiles = list(Profile.objects.order_by("pk")[:4])
    to_rate = {
        profile: list(
            Title.objects.exclude(ratings__profile=profile).order_by("pk")[:5]
        )
        for profile in profiles
    }
    log_start = worker.log_size()
    own_stack.redis.crash()

    answers = [
        rate(watch_as(Client(), profile), title, "4.5")
        for profile, titles in to_rate.items()
        for title in titles
    ]

    assert all(answered for _, answered in answers)
    slowest = max(seconds for seconds, _ in answers)
    assert slowest < ANSWER_SECONDS, f"a rating took {slowest:.2f} s"
    saved = {
        profile.pk: Rating.objects.filter(profile=profile, title__in=titles)
        for profile, titles in to_rate.items()
    }
    assert {pk: sorted(r.value for r in ratings) for pk, ratings in saved.items()} == {
        profile.pk: [4.5] * 5 for profile in profiles
    }
    rated_at = {
        pk: ratings.latest("updated_at").updated_at for pk, ratings in saved.items()
    }

    own_stack.redis.start()

    wait_for(lambda: candidates_newer_than(rated_at), timeout=CATCH_UP_SECONDS)
    assert refreshes_received(worker, log_start) < len(answers)


def test_a_worker_run_as_the_procfile_runs_it_survives_a_crash_while_holding_messages(
    own_stack, catalog, monkeypatch
):
    """A worker holds the messages it has taken but not yet run (a refresh's
    short countdown); the broker crashing then must not stop it, and the
    refreshes those messages were for still happen."""
    worker = own_stack.start_worker(options=PROCFILE_WORKER_OPTIONS)
    model_trained_for_the_worker()
    own_stack.start_beat()
    # Long enough that the worker is sure to be holding them when Redis goes.
    monkeypatch.setattr(outbox_services, "COALESCE_COUNTDOWN_S", 600)
    profiles = list(Profile.objects.order_by("pk")[:3])
    title = Title.objects.order_by("pk").first()
    log_start = worker.log_size()
    for profile in profiles:
        assert rate(watch_as(Client(), profile), title, "2.0")[1]
    rated_at = {
        p.pk: Rating.objects.get(profile=p, title=title).updated_at for p in profiles
    }
    wait_for(lambda: refreshes_received(worker, log_start) == len(profiles))

    own_stack.redis.crash()
    time.sleep(3)  # the worker notices and reconnects in a loop
    own_stack.redis.start()

    wait_for(lambda: candidates_newer_than(rated_at), timeout=CATCH_UP_SECONDS)
    assert worker.process.poll() is None, worker.log_tail()
    assert "Unrecoverable error" not in worker.log(log_start)


def test_train_now_while_the_broker_is_down_answers_at_once_and_trains_after(
    own_stack, catalog, admin_client
):
    own_stack.start_worker()
    own_stack.start_beat()
    own_stack.redis.crash()

    started = time.monotonic()
    response = admin_client.post(
        reverse("admin:recommendations_modelversion_train"),
        {"confirmed": "yes", "reason": "New ratings came in."},
    )
    seconds = time.monotonic() - started

    assert response.status_code == 302
    assert seconds < ANSWER_SECONDS, f"Train now took {seconds:.2f} s"
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Training queued; the new version appears here when it ends."
    ]
    assert not ModelVersion.objects.exists()

    own_stack.redis.start()

    version = wait_for(
        lambda: ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).first(),
        timeout=CATCH_UP_SECONDS + 60,  # and the training itself
    )
    assert version.sha256


def test_a_burst_of_ratings_makes_a_few_refreshes_not_one_each(own_stack, trained):
    worker = own_stack.worker
    profile = Profile.objects.order_by("pk").first()
    viewer = watch_as(Client(), profile)
    # As many as a viewer may rate in a minute (THROTTLE_PROFILE_WRITES).
    titles = list(Title.objects.order_by("pk")[:50])
    log_start = worker.log_size()

    answers = [
        rate(viewer, title, ("3.0", "4.0", "5.0")[i % 3])
        for i, title in enumerate(titles)
    ]

    assert all(answered for _, answered in answers)
    rated_at = Rating.objects.filter(profile=profile).latest("updated_at").updated_at
    wait_for(
        lambda: candidates_newer_than({profile.pk: rated_at}), timeout=CATCH_UP_SECONDS
    )
    assert 1 <= refreshes_received(worker, log_start) <= 15
