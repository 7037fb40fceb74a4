"""The outbox: work that must happen is recorded in PostgreSQL in the caller's
transaction and relayed to the broker, so no request waits on the broker and
no work is lost while it is away.

- :func:`outbox_add` writes a row in the caller's transaction; once that
  commits, the row is published at once. Publishing is bounded (settings:
  no publish retry, short broker timeouts): a broker that is away costs a
  refused connection, and the row waits for the relay.
- ``coalesce=True``: the same task with the same arguments is one piece of
  work. While such a row waits (no worker has started it), adding it again
  adds nothing. Its message carries a short countdown, so a burst of
  ratings by one profile becomes one refresh, not one per rating.
- As the task starts, the worker claims the row (:func:`outbox_claim`) and
  clears its key: work asked for from then on makes a new row, since the
  running task may already have read the database. Only the message last
  sent for a row runs it; a copy of an older one, or of a row already done,
  is skipped.
- The row is deleted when the task succeeds. A task that gives up (the
  database away past its retries, retries exhausted) leaves it for the
  relay; one that fails otherwise (a bug; Celery logs it) is dropped.
- The row keeps the id of the request that asked for it (``config.logs``);
  every message sent for it carries it, so the task logs under it.
- :func:`outbox_relay` (beat every 15 s; ``manage.py relay_outbox``) sends
  each row that is due: never sent; sent but not started after 30 s, 1, 2...
  minutes, at most hourly (its message was lost in a broker crash, or the
  worker dropped it on a lost connection); started long before (its worker
  died and the broker lost the message too, or it gave up). Tasks are idempotent, so a copy is harmless.
"""

import hashlib
import json
import logging
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import partial

from celery import Task
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from config import logs
from config.celery import app
from outbox.models import OutboxMessage

logger = logging.getLogger(__name__)

#: The message header that names a task's outbox row.
HEADER = "outbox_message"
#: Seconds a coalescing task waits before it runs: the signals of a burst
#: that arrive meanwhile join it.
COALESCE_COUNTDOWN_S = 2
#: The caller publishes its own row right after commit; the relay leaves
#: a new row alone this long.
SEND_GRACE = timedelta(seconds=5)
#: A row sent but not started is sent again after this, doubled at each
#: attempt up to :data:`RESEND_MAX`.
RESEND_AFTER = timedelta(seconds=30)
RESEND_MAX = timedelta(hours=1)
#: A row started whose task has not ended is sent again this long after
#: the broker itself would have handed its message to another worker (Redis:
#: the visibility timeout, which outlasts the longest training).
STARTED_GRACE = timedelta(hours=1)
#: After this many messages the relay stops: the row stays for an operator
#: (admin, ``manage.py relay_outbox --all``).
MAX_ATTEMPTS = 10
RELAY_BATCH = 500


def outbox_add(
    *, task: Task | str, args: Sequence = (), coalesce: bool = False
) -> None:
    """Records ``task(*args)`` in the caller's transaction; sent once it commits.

    ``task`` is a task or the name of one: a lower app names the work of a
    higher one (``"recommendations.tasks.refresh_profile"``) instead of
    importing it. An unknown name raises here, in the caller's transaction.
    """
    name = task if isinstance(task, str) else task.name
    _registered(name)
    now = timezone.now()
    message = OutboxMessage(
        task=name,
        args=list(args),
        created_at=now,
        relay_after=now + SEND_GRACE,
        request_id=logs.current_request_id.get() or "",
    )
    if coalesce:
        message.key = _key(name, message.args)
        # On a waiting row with the same key this inserts nothing and locks
        # that row until the caller commits: a worker starting it meanwhile
        # waits, so it reads what the caller wrote.
        OutboxMessage.objects.bulk_create(
            [message],
            update_conflicts=True,
            unique_fields=["key"],
            update_fields=["key"],
        )
    else:
        message.save()
    transaction.on_commit(partial(outbox_send, message_id=message.pk))


def outbox_send(*, message_id: int) -> bool:
    """Publishes the row now unless it was sent already (a coalesced add)."""
    message = OutboxMessage.objects.filter(pk=message_id, sent_at=None).first()
    if message is None or not publish(message):
        return False
    now = timezone.now()
    OutboxMessage.objects.filter(
        pk=message.pk, task_id=message.task_id, started_at=None
    ).update(
        sent_at=now,
        attempts=F("attempts") + 1,
        relay_after=now + _resend_after(message.attempts + 1),
    )
    return True


def outbox_relay(*, everything: bool = False, now: datetime | None = None) -> int:
    """Sends every row that is due (see the module's docstring); returns how many.

    ``everything`` sends every row not started, due or not, even those past
    :data:`MAX_ATTEMPTS` (an operator after restoring a broker). Stops at
    the first message the broker refuses: the rest waits for the next run.
    """
    sent, now = 0, now or timezone.now()
    due = Q(relay_after__lte=now, attempts__lt=MAX_ATTEMPTS)
    if everything:
        due |= Q(started_at=None) & (Q(sent_at=None) | Q(sent_at__lt=now))
    while True:  # a row sent here is due again only after ``now``
        batch = list(
            OutboxMessage.objects.filter(due).order_by("relay_after")[:RELAY_BATCH]
        )
        for message in batch:
            # A new message id first: a copy of the old message that turns
            # up after all is then skipped, and a worker cannot start the
            # new one before its id is recorded. Only if nobody started it
            # since it was read.
            new_id = uuid.uuid4()
            renewed = OutboxMessage.objects.filter(
                pk=message.pk,
                task_id=message.task_id,
                started_at=message.started_at,
                relay_after=message.relay_after,
            ).update(
                task_id=new_id,
                sent_at=now,
                attempts=F("attempts") + 1,
                relay_after=now + _resend_after(message.attempts + 1),
            )
            if not renewed:
                continue  # started or done meanwhile
            message.task_id = new_id
            if not publish(message):
                OutboxMessage.objects.filter(pk=message.pk, task_id=new_id).update(
                    sent_at=None, attempts=F("attempts") - 1, relay_after=now
                )
                return sent
            sent += 1
        if len(batch) < RELAY_BATCH:
            return sent


def outbox_claim(*, message_id: int, task_id: str) -> bool:
    """The row's task starts: False when this message must not run it (the
    row is done, or a newer message was sent for it)."""
    try:
        task_id = uuid.UUID(str(task_id))
    except ValueError:
        return False  # the outbox sent no such message
    now = timezone.now()
    claimed = OutboxMessage.objects.filter(pk=message_id, task_id=task_id).update(
        started_at=now, key=None, relay_after=now + _started_timeout()
    )
    return claimed == 1


def outbox_done(*, message_id: int) -> None:
    """The row's task succeeded (or failed for good): the work is done."""
    OutboxMessage.objects.filter(pk=message_id).delete()


def outbox_release(*, message_id: int) -> None:
    """The row's task gave up for now: the relay sends it at its next run."""
    OutboxMessage.objects.filter(pk=message_id).update(relay_after=timezone.now())


def publish(message: OutboxMessage) -> bool:
    """Sends the row's message to the broker; False (logged) when it is away."""
    task = _registered(message.task)
    headers = {HEADER: message.pk}
    if message.request_id:
        headers[logs.HEADER] = message.request_id
    try:
        task.apply_async(
            args=message.args,
            task_id=str(message.task_id),
            headers=headers,
            countdown=COALESCE_COUNTDOWN_S if message.key else None,
            # RabbitMQ: the longest to wait for the socket and for the
            # publisher confirm (other transports ignore these).
            timeout=app.conf.broker_connection_timeout,
            confirm_timeout=app.conf.broker_connection_timeout,
        )
    except Exception as exc:  # each transport raises its own errors
        logger.warning(
            "Could not send %s (outbox message %s): %r; the relay sends it later.",
            message,
            message.pk,
            exc,
        )
        return False
    return True


def _registered(name: str) -> Task:
    if name not in app.tasks:
        app.loader.import_default_modules()  # every app's tasks, as a worker loads
    return app.tasks[name]


def _key(name: str, args: list) -> str:
    key = f"{name}{json.dumps(args, separators=(',', ':'))}"
    if len(key) > OutboxMessage._meta.get_field("key").max_length:
        key = f"{name}#{hashlib.sha256(key.encode()).hexdigest()}"
    return key


def _started_timeout() -> timedelta:
    redelivery = app.conf.broker_transport_options.get("visibility_timeout", 3600)
    return timedelta(seconds=redelivery) + STARTED_GRACE


def _resend_after(attempts: int) -> timedelta:
    return min(RESEND_AFTER * 2 ** max(attempts - 1, 0), RESEND_MAX)
