"""Celery tasks of the privacy app: thin wrappers that take ids and call one service.

Each is safe to run twice: an export is built only while it waits (a status
guard), and expiry and retention recompute from the database. Taking erased
profiles out of the model files is the recommender's job
(``recommendations.tasks.model_forget``).
"""

from celery import shared_task

from activity.services import impressions_prune as prune_impressions
from config.celery import RETRY
from privacy import services


@shared_task(**RETRY)
def build_export(export_id: int) -> int | None:
    export = services.data_export_build(export_id=export_id)
    return export.pk if export else None


@shared_task(**RETRY)
def exports_expire() -> int:
    return services.exports_expire()


@shared_task(**RETRY)
def retention_purge() -> int:
    return len(services.retention_purge())


@shared_task(**RETRY)
def impressions_prune() -> int:
    """Everyone's impressions older than ``IMPRESSION_RETENTION_DAYS`` (daily,
    beside each viewer's own, often shorter, retention window)."""
    return prune_impressions()
