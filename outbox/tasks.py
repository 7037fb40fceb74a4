"""The outbox relay, run by beat every 15 s (``outbox-relay`` in settings)."""

from celery import shared_task

from outbox import services


@shared_task
def outbox_relay() -> int:
    """Not retried: the next run, 15 s later, is the retry."""
    return services.outbox_relay()
