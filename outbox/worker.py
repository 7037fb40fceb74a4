"""The task side of the outbox: :class:`OutboxTask` is the base class of every
task of the house (``config.celery`` makes it the app's task class).

A task sent from the outbox carries its row's id in a header. Before it starts
it claims the row, and runs only if this message is the one the outbox last
sent for it; when it succeeds the row is deleted; when it gives up, the row is
left for the relay. Tasks sent any other way (beat, a test) run as usual.
"""

import logging

from celery import Task
from celery.exceptions import Ignore, MaxRetriesExceededError
from django.db import DatabaseError

from outbox import services

logger = logging.getLogger(__name__)


def outbox_message_id(request) -> int | None:
    """The outbox row a task request came from, if any.

    A worker's request carries custom headers as attributes; an eager one
    (tests, ``CELERY_TASK_ALWAYS_EAGER``) in ``request.headers``.
    """
    headers = request.headers or {}
    return headers.get(services.HEADER, getattr(request, services.HEADER, None))


class OutboxTask(Task):
    def before_start(self, task_id, args, kwargs) -> None:
        """Claims the task's outbox row; a message that must not run it is
        acknowledged and skipped (``Ignore``: neither success nor failure)."""
        message_id = outbox_message_id(self.request)
        if message_id is not None and not self._claim(message_id, task_id):
            logger.info(
                "%s[%s] skipped: its outbox message %s is done or was sent again.",
                self.name,
                task_id,
                message_id,
            )
            raise Ignore()

    def _claim(self, message_id: int, task_id: str) -> bool:
        try:
            return services.outbox_claim(message_id=message_id, task_id=task_id)
        except DatabaseError as exc:
            # The task meets the same database, retries, and claims then.
            logger.warning("Could not claim outbox message %s: %r", message_id, exc)
            return True

    def on_success(self, retval, task_id, args, kwargs) -> None:
        self._settle(services.outbox_done)

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        gave_up = (*(self.autoretry_for or ()), MaxRetriesExceededError)
        self._settle(
            services.outbox_release
            if isinstance(exc, gave_up)
            else services.outbox_done
        )

    def _settle(self, outcome) -> None:
        message_id = outbox_message_id(self.request)
        if message_id is None:
            return
        try:
            outcome(message_id=message_id)
        except DatabaseError as exc:
            # The row stays; the relay sends it again once its claim expires.
            logger.warning("Could not settle outbox message %s: %r", message_id, exc)
