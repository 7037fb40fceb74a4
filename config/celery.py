"""The Celery app, the one way to send a task, and the shared retry policy.

Configuration comes from Django settings (``CELERY_*``). Every app sends its
background work through :func:`enqueue` (after its transaction commits) and
declares its tasks with :data:`RETRY`, so "what happens when the broker or the
database is away" is decided here, once.
"""

import logging
import os

from celery import Celery, Task
from django.db import OperationalError, transaction

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("marquee")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

logger = logging.getLogger(__name__)

#: The retry policy of every task that reads or writes the database: a
#: database that is briefly away is retried with backoff; ``acks_late`` since
#: each task is safe to run twice.
RETRY = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "max_retries": 5,
    "acks_late": True,
}


def enqueue(task: Task | str, *args) -> None:
    """Sends a task; a broker that is away is logged, never raised to the caller.

    ``task`` is a task, or the name of one in a higher app (a lower app names
    the work it triggers instead of importing the app that does it:
    ``"recommendations.tasks.refresh_profile"``). Callers schedule this with
    ``transaction.on_commit``: the write is already saved, and the next
    refresh or scheduled retrain catches up.
    """
    if isinstance(task, str):
        task = app.tasks[task]  # the registered task: its queue and options
    try:
        task.delay(*args)
    except Exception:
        logger.exception("Could not enqueue %s%s", task.name, args)


def enqueue_on_commit(task: Task | str, *args) -> None:
    """:func:`enqueue` once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: enqueue(task, *args))
