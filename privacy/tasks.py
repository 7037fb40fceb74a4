"""Celery tasks of the privacy app: thin wrappers that take ids and call one service.

Each is safe to run twice: an export is built only while it waits (a status
guard), expiry and retention recompute from the database, and forgetting
profiles leaves a model without their rows alone.
"""

import logging

from celery import shared_task
from django.db import OperationalError

from privacy import services
from recommendations.models import ModelVersion

logger = logging.getLogger(__name__)

_RETRY = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "max_retries": 5,
    "acks_late": True,
}
#: While a training runs, forgetting waits this long between tries: the new
#: model may have read the erased data before it was erased.
FORGET_WAIT_FOR_TRAINING_S = 120


@shared_task(**_RETRY)
def build_export(export_id: int) -> int | None:
    export = services.data_export_build(export_id=export_id)
    return export.pk if export else None


@shared_task(**_RETRY)
def exports_expire() -> int:
    return services.exports_expire()


@shared_task(**_RETRY)
def retention_purge() -> int:
    return len(services.retention_purge())


@shared_task(bind=True, queue="training", **{**_RETRY, "max_retries": 60})
def model_forget(self, profile_ids: list[int]) -> list[int]:
    """Removes the profiles' rows from every model file that may serve."""
    from recommendations.services import model_forget_profiles

    rewritten = model_forget_profiles(profile_ids=profile_ids)
    if ModelVersion.objects.filter(status=ModelVersion.Status.TRAINING).exists():
        raise self.retry(countdown=FORGET_WAIT_FOR_TRAINING_S)
    return rewritten
