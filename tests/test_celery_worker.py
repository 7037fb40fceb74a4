"""The Celery fixtures: eager by default, and a real worker on the real broker.

``celery_worker`` is what tests of tasks use when the task must really cross
the broker, e.g.::

    def test_a_rating_refreshes_candidates(celery_worker, client, profile):
        client.post(...)  # commits, and enqueues the task on commit
        ...  # wait for the result, then assert on the rows the worker wrote
"""

import os

import pytest
from django.conf import settings
from django.db import connection

from config.celery import app


def test_tasks_run_eagerly_unless_a_test_asks_for_the_worker():
    assert app.conf.task_always_eager is True
    assert app.conf.task_eager_propagates is True


@pytest.mark.services
def test_worker_runs_a_task_sent_through_the_broker(celery_worker):
    assert app.conf.task_always_eager is False

    result = app.send_task("celery.ping", ignore_result=False)  # results are opt-in

    assert result.get(timeout=30) == "pong"
    assert result.state == "SUCCESS"
    # It was the subprocess, not this process, that ran it.
    assert f"celery.ping[{result.id}] received" in celery_worker.log()


@pytest.mark.services
def test_worker_loaded_the_project_task_modules(celery_worker):
    app.loader.import_default_modules()  # autodiscovery, as the worker does
    ours = sorted(name for name in app.tasks if not name.startswith("celery."))

    replies = app.control.inspect([celery_worker.hostname], timeout=5).registered()

    assert replies, "the worker did not answer inspect().registered()"
    # Entries read "name [rate_limit=...]" when a task sets such options.
    assert sorted(entry.split()[0] for entry in replies[celery_worker.hostname]) == ours


@pytest.mark.services
def test_worker_uses_the_test_database_and_this_runs_broker(celery_worker):
    replies = app.control.inspect([celery_worker.hostname], timeout=5).conf()

    assert replies, "the worker did not answer inspect().conf()"
    # The worker's own Django settings, as it loaded them.
    worker_settings = replies[celery_worker.hostname]
    worker_db = worker_settings["DATABASES"]["default"]
    assert worker_db["ENGINE"] == connection.settings_dict["ENGINE"]
    # The test database (with pytest-xdist's suffix when there is one).
    assert worker_db["NAME"] == connection.settings_dict["NAME"]
    for name in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"):
        assert worker_settings[name] == getattr(settings, name)
    if settings.CELERY_BROKER_URL.startswith("filesystem"):
        # This run's broker folders, never var/celery/broker of `make run`.
        options = worker_settings["CELERY_BROKER_TRANSPORT_OPTIONS"]
        assert options == settings.CELERY_BROKER_TRANSPORT_OPTIONS
        assert options["data_folder_in"].startswith(str(settings.VAR_DIR))


@pytest.mark.skipif(
    "MARQUEE_TEST_SESSION_DIR" not in os.environ,
    reason="MARQUEE_VAR_DIR was set by the caller",
)
def test_a_run_gets_its_own_var_dir_before_settings_load():
    # The root conftest.py set MARQUEE_VAR_DIR before config.settings read it.
    assert settings.VAR_DIR.is_relative_to(os.environ["MARQUEE_TEST_SESSION_DIR"])
    assert not settings.VAR_DIR.is_relative_to(settings.BASE_DIR)
