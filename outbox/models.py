"""The outbox: background work that must happen, one row per piece of work."""

import uuid

from django.db import models
from django.utils import timezone


class OutboxMessage(models.Model):
    """A task to run, recorded in the transaction that asked for it.

    The row lives until the task succeeds (see :mod:`outbox.services` for the
    rules): a broker that is away, a message lost in a broker crash or a task
    that gave up during a long database outage leaves it here, and the relay
    sends it again.
    """

    task = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    #: Same work, same key: while a row with this key waits (not started), asking
    #: for that work again adds nothing. Cleared when a worker starts the task.
    key = models.CharField(max_length=255, null=True, blank=True, unique=True)
    #: The id of the message last sent for this row; only that message runs it.
    task_id = models.UUIDField(default=uuid.uuid4)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    #: Messages sent for it so far.
    attempts = models.PositiveIntegerField(default=0)
    #: When the relay sends it (again) if it has not succeeded by then.
    relay_after = models.DateTimeField(default=timezone.now, db_index=True)
    #: The id of the request that asked for it (``X-Request-ID``), sent with
    #: each of its messages so the task's log lines carry it.
    request_id = models.CharField(max_length=128, blank=True, default="")

    class Meta:
        ordering = ["id"]
        verbose_name = "outbox message"

    def __str__(self) -> str:
        return f"{self.task}{tuple(self.args)}"
