"""Celery tasks: thin wrappers that take ids and call one service.

Every task is safe to run twice: training is guarded by the training
lease, candidates are upserted per profile, refreshes recompute from
the database, and forgetting profiles leaves a model without their rows
alone. Tasks are sent through the outbox (``outbox.services.outbox_add``)
and retried by ``config.celery.RETRY``.
"""

import logging

from celery import shared_task
from django.conf import settings
from django.db import transaction

from config.celery import RETRY
from outbox.services import outbox_add
from recommendations.models import HealthSnapshot, ModelVersion
from recommendations.services import (
    candidates,
    comparison,
    forget,
    health,
    training,
    trending,
)

logger = logging.getLogger(__name__)

#: While a training runs, forgetting waits this long between tries: the new
#: model may have read the erased data before it was erased.
FORGET_WAIT_FOR_TRAINING_S = 120


#: The options of the tasks that train. Generous time limits: the hard one
#: kills a training stuck for hours (its lease goes with its process), the
#: soft one before it lets the training mark itself failed and say why.
TRAINING_TASK = {
    **RETRY,
    "queue": "training",
    "acks_late": True,
    "reject_on_worker_lost": True,
    "soft_time_limit": settings.RECOMMENDER["TRAINING_SOFT_TIME_LIMIT_S"],
    "time_limit": settings.RECOMMENDER["TRAINING_TIME_LIMIT_S"],
}


@shared_task(**TRAINING_TASK)
def train_model(
    algorithm: str | None = None, force: bool = False, asked: bool = False
) -> int | None:
    """Trains a new version (nightly, a retrain that is due, or ``asked``:
    "Train now").

    Acknowledged when it ends, and handed back to the queue when the process
    running it dies (``acks_late``, ``reject_on_worker_lost``): safe only
    because it is idempotent. The run that gets it again finds the dead run's
    lease free, marks that version failed and trains afresh; a run that finds
    a live training skips. So one message makes exactly one new version.
    After a few trainings in a row died with their worker, only an asked-for
    training starts.
    """
    if not asked and training.automatic_training_stopped():
        logger.error(
            "Training not started: the last %d trainings stopped with their "
            "worker (out of memory?). Train now in the admin, or manage.py "
            "train, tries again.",
            training.DEATHS_BEFORE_GIVING_UP,
        )
        return None
    try:
        return training.model_train(algorithm=algorithm, force=force).pk
    except training.TrainingInProgress:
        logger.info("Training already running; skipped.")
        return None


@shared_task(**TRAINING_TASK)
def retrain_if_needed() -> int | None:
    """Beat asks every 15 minutes; it trains here, as :func:`train_model`."""
    if not training.retrain_due():
        return None
    return train_model.run()


@shared_task(queue="training", **RETRY)
def score_candidates(version_id: int, profile_ids: list[int]) -> int:
    version = ModelVersion.objects.filter(
        pk=version_id, status=ModelVersion.Status.ACTIVE
    ).first()
    if version is None:
        logger.info("Version %s is no longer active; shard skipped.", version_id)
        return 0
    return candidates.candidates_score_profiles(
        version=version, profile_ids=profile_ids
    )


@shared_task(queue="training", **RETRY)
def refresh_all_candidates(version_id: int) -> None:
    """Fans the profiles out in shards, so more workers finish sooner; the
    shards are recorded in the outbox together, so none is lost."""
    with transaction.atomic():
        for shard in candidates.candidate_shards():
            outbox_add(task=score_candidates, args=[version_id, shard])


@shared_task(**RETRY)
def refresh_profile(profile_id: int) -> bool:
    return candidates.profile_refresh(profile_id=profile_id)


@shared_task(**RETRY)
def refresh_trending() -> int:
    """Beat runs this every half hour: rewrites "Trending now"."""
    return trending.trending_refresh()


@shared_task(**RETRY)
def health_snapshot(trigger: str = HealthSnapshot.Trigger.HOURLY) -> int:
    """Beat runs this hourly ("Refresh now" asks too): the health figures."""
    return health.health_snapshot_take(trigger=trigger).pk


#: A promotion's health snapshot waits for its candidates: tries this many
#: times, this many seconds apart, then takes them as they are.
HEALTH_CATCH_UP_TRIES = 40
HEALTH_CATCH_UP_WAIT_S = 30


@shared_task(bind=True, **RETRY)
def health_after_promotion(self, version_id: int, tries: int = 0) -> int | None:
    """The health snapshot of a newly promoted version, once most profiles'
    candidates come from it (asking again later meanwhile); none if the
    version no longer serves."""
    caught_up = health.candidates_caught_up(version_id)
    if caught_up is None:
        logger.info("Version %s no longer serves; no health snapshot.", version_id)
        return None
    if not caught_up and tries < HEALTH_CATCH_UP_TRIES:
        if self.request.is_eager:
            # Run in-process (tests), nothing can wait: the hourly one follows.
            return None
        self.apply_async(args=[version_id, tries + 1], countdown=HEALTH_CATCH_UP_WAIT_S)
        return None
    return health.health_snapshot_take(trigger=HealthSnapshot.Trigger.PROMOTION).pk


#: The name it had in ``privacy.tasks``: tests, and messages already queued
#: when this moved here, know it by that name.
MODEL_FORGET_TASK = "privacy.tasks.model_forget"


@shared_task(
    bind=True,
    name=MODEL_FORGET_TASK,
    queue="training",
    **{**RETRY, "max_retries": 60},
)
def model_forget(self, profile_ids: list[int]) -> list[int]:
    """Removes the profiles' rows from every model file that may serve.

    Tried again while a training runs, until it has ended: that training may
    have read the profiles' data before it was erased.
    """
    rewritten = forget.model_forget_profiles(profile_ids=profile_ids)
    if training.training_running():
        raise self.retry(countdown=FORGET_WAIT_FOR_TRAINING_S)
    return rewritten


@shared_task(**TRAINING_TASK)
def compare_configurations(comparison_id: int) -> str | None:
    """Judges a comparison's two configurations (admin: offline comparison).

    Safe to run twice: the run is claimed on its row, and a done run is
    never recomputed."""
    result = comparison.comparison_run(comparison_id=comparison_id)
    return result.status if result else None


#: While a training runs, training a comparison's winner waits this long
#: between tries.
TRAIN_WINNER_WAIT_S = 60


@shared_task(bind=True, **{**TRAINING_TASK, "max_retries": 120})
def train_comparison_winner(self, comparison_id: int) -> int | None:
    """Trains the promoted side of a comparison for real; waits its turn
    while another training runs."""
    try:
        version = comparison.comparison_train_winner(comparison_id=comparison_id)
    except training.TrainingInProgress:
        raise self.retry(countdown=TRAIN_WINNER_WAIT_S) from None
    return version.pk if version else None


@shared_task(**RETRY)
def comparisons_resend() -> list[int]:
    """Beat, every minute: sends again comparisons whose message or worker
    was lost (the row is the truth)."""
    return comparison.comparisons_resend()
