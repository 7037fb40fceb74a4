"""The Celery app, the shared retry policy, and a Redis transport that drops
poison messages.

Configuration comes from Django settings (``CELERY_*``). Work is sent through
the outbox (:func:`outbox.services.outbox_add`): recorded in the caller's
transaction, published after commit, relayed when the broker was away.
Every task is an :class:`outbox.worker.OutboxTask` (it settles its outbox
row) and declares :data:`RETRY`, so "what happens when the broker or the
database is away" is decided in these two places.
"""

import base64
import binascii
import json
import logging
import os
from queue import Empty

from celery import Celery
from celery.signals import task_postrun, task_prerun
from django.db import InterfaceError, OperationalError
from kombu.transport import redis

from config import logs

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# The task class by name: it reads the outbox's models, loaded after Django.
app = Celery("marquee", task_cls="outbox.worker:OutboxTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Each task logs under its own id and the id of the request that asked for it.
task_prerun.connect(logs.task_started, dispatch_uid="config.logs.task_started")
task_postrun.connect(logs.task_ended, dispatch_uid="config.logs.task_ended")

logger = logging.getLogger(__name__)

#: The retry policy of every task that reads or writes the database: a
#: database that is away is retried with backoff (1, 2, 4... 60 s, then every
#: 60 s: 16 retries, 11 minutes in all); a task that still fails leaves its
#: outbox row for the relay. No jitter, so the sum is what is written here.
#: ``acks_late`` since each task is safe to run twice.
RETRY = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "retry_backoff_max": 60,
    "retry_jitter": False,
    "max_retries": 16,
    "acks_late": True,
}


class _PoisonTolerantChannel(redis.Channel):
    def close(self):
        if self.connection is not None and self.connection.client is None:
            # Celery's consumer, on losing the broker, first collects the
            # connection (which lets go of the transport's settings) and then
            # closes it; returning the messages this channel held would then
            # need those settings (an AttributeError that stops the worker).
            # The broker is away anyway: the messages stay in its unacked set,
            # and the outbox re-sends what they were for.
            self.do_restore = False
        super().close()

    def _brpop_read(self, **options):
        try:
            return super()._brpop_read(**options)
        except json.JSONDecodeError as exc:  # the item was popped: it is gone
            logger.error("Dropped a broker message that is not JSON: %.200r", exc.doc)
            raise Empty() from None


class RedisTransport(redis.Transport):
    """Kombu's Redis transport, except that a message that is not one (not
    JSON, or JSON that is not Kombu's envelope) is logged and dropped.

    Kombu decodes each message in the worker's event loop, where an error
    stops the worker ("Unrecoverable error"); anyone who can push to a queue
    (``redis-cli LPUSH default hello``) could stop every worker. A message
    with a valid envelope but an unknown task or an undecodable body reaches
    Celery, which logs and drops it itself. Used for ``redis://`` brokers
    through ``CELERY_BROKER_TRANSPORT``.
    """

    Channel = _PoisonTolerantChannel

    def _deliver(self, message, queue):
        if _is_envelope(message):
            super()._deliver(message, queue)
        else:
            logger.error(
                "Dropped a broker message on %r that is not a Kombu message: %.200r",
                queue,
                message,
            )


def _is_envelope(message) -> bool:
    """Whether Kombu can read ``message``: a dict with its properties (the
    delivery tag) and a body in the encoding they name."""
    if not isinstance(message, dict):
        return False
    properties = message.get("properties")
    if not isinstance(properties, dict) or "delivery_tag" not in properties:
        return False
    body = message.get("body")
    if body and properties.get("body_encoding") == "base64":
        try:
            base64.b64decode(body)
        except (binascii.Error, TypeError, ValueError):
            return False
    return True
