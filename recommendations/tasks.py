"""Celery tasks: thin wrappers that take ids and call one service.

Every task is safe to run twice: training is guarded by the one-training
constraint, candidates are upserted per profile, refreshes recompute from
the database.
"""

import logging

from celery import group, shared_task
from django.db import OperationalError

from recommendations import services
from recommendations.models import ModelVersion

logger = logging.getLogger(__name__)

_RETRY = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "max_retries": 5,
    "acks_late": True,
}


def enqueue(task, *args) -> None:
    """Sends a task; a broker that is away is logged, never raised to the caller.

    Callers schedule this with ``transaction.on_commit``: the write is already
    saved, and the next refresh or scheduled retrain catches up.
    """
    try:
        task.delay(*args)
    except Exception:
        logger.exception("Could not enqueue %s%s", task.name, args)


@shared_task(queue="training", **_RETRY)
def train_model(algorithm: str | None = None, force: bool = False) -> int | None:
    try:
        return services.model_train(algorithm=algorithm, force=force).pk
    except services.TrainingInProgress:
        logger.info("Training already running; skipped.")
        return None


@shared_task(queue="training", **_RETRY)
def retrain_if_needed() -> int | None:
    from django.conf import settings

    if (
        services.signals_since_last_training()
        < settings.RECOMMENDER["RETRAIN_AFTER_SIGNALS"]
    ):
        return None
    return train_model.run()


@shared_task(queue="training", **_RETRY)
def score_candidates(version_id: int, profile_ids: list[int]) -> int:
    version = ModelVersion.objects.filter(
        pk=version_id, status=ModelVersion.Status.ACTIVE
    ).first()
    if version is None:
        logger.info("Version %s is no longer active; shard skipped.", version_id)
        return 0
    return services.candidates_score_profiles(version=version, profile_ids=profile_ids)


@shared_task(queue="training", **_RETRY)
def refresh_all_candidates(version_id: int) -> None:
    """Fans the profiles out in shards, so more workers finish sooner."""
    group(
        score_candidates.s(version_id, shard) for shard in services.candidate_shards()
    ).delay()


@shared_task(**_RETRY)
def refresh_profile(profile_id: int) -> bool:
    return services.profile_refresh(profile_id=profile_id)


@shared_task(**_RETRY)
def refresh_trending() -> int:
    """Beat runs this every half hour: rewrites "Trending now"."""
    return services.trending_refresh()
