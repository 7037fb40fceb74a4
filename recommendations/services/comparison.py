"""Offline comparison of two configurations, and training the winner for real.

The :class:`~recommendations.models.ModelComparison` row is the truth; the
broker only carries a reminder to work on it:

- :func:`comparison_create` saves the run ``queued`` and, in the same
  transaction, asks for :data:`COMPARE_TASK` through the outbox.
- :func:`comparison_run` claims the row (queued, or running with a stale
  heartbeat) in one UPDATE, so two copies of the message never both work;
  while it works a thread renews ``heartbeat_at`` every
  :data:`HEARTBEAT_EVERY_S` seconds. Both configurations are judged on one
  time split of the training data (``engine.comparison.compare``); the
  results are stored once, and a done run is never recomputed.
- :func:`comparisons_resend` (beat, every minute) sends again every run
  found queued for longer than :data:`QUEUED_GRACE` (its message was lost
  with the broker, or never sent) or running with a heartbeat older than
  :data:`HEARTBEAT_LAPSED` (its worker died); the same for promotions. A
  queued run whose message still waits in the outbox is not sent twice
  (the outbox coalesces).
- :func:`comparison_promote` records who promoted which side and why, and
  asks for :data:`TRAIN_WINNER_TASK`; :func:`comparison_train_winner` claims
  the promotion the same way and trains that configuration with
  ``training.model_train`` (the promotion gate applies as to any training),
  linking the resulting version.
"""

import logging
import threading
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from outbox.services import outbox_add
from recommendations.engine.comparison import Arm, compare, training_config_from
from recommendations.engine.experiment import TrainingConfig
from recommendations.engine.splits import split_by_time
from recommendations.models import ModelComparison, ModelVersion
from recommendations.services import training
from recommendations.services.dataset import genre_features, training_dataset

logger = logging.getLogger(__name__)

#: Named, not imported: the tasks module calls this one.
COMPARE_TASK = "recommendations.tasks.compare_configurations"
TRAIN_WINNER_TASK = "recommendations.tasks.train_comparison_winner"

#: The time split both sides are judged on, as a training's own evaluation.
TEST_FRACTION = 0.2
HEARTBEAT_EVERY_S = 5
#: A run whose heartbeat is older than this has lost its worker.
HEARTBEAT_LAPSED = timedelta(seconds=60)
#: A run queued longer than this without starting is sent again (the outbox
#: coalesces it with a message that still waits).
QUEUED_GRACE = timedelta(seconds=30)


class ComparisonError(Exception):
    """The run is not in a state that allows what was asked (a 4xx, not a 500)."""


def live_configuration() -> TrainingConfig:
    """The configuration the active version was trained with, else the
    settings' (no version yet)."""
    active = training.active_version()
    if active is not None and active.parameters.get("algorithm"):
        return training_config_from(active.parameters)
    return training.training_config()


@transaction.atomic
def comparison_create(*, created_by, arm_a: Arm, arm_b: Arm) -> ModelComparison:
    comparison = ModelComparison.objects.create(
        created_by=created_by,
        label_a=arm_a.label,
        config_a=arm_a.as_dict(),
        label_b=arm_b.label,
        config_b=arm_b.as_dict(),
    )
    outbox_add(task=COMPARE_TASK, args=[comparison.pk])
    return comparison


class _Heartbeat(threading.Thread):
    """Renews a comparison's ``heartbeat_at`` while its worker is alive."""

    def __init__(self, comparison_id: int) -> None:
        super().__init__(name=f"comparison-{comparison_id}-heartbeat", daemon=True)
        self.comparison_id = comparison_id
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopped.wait(HEARTBEAT_EVERY_S):
                try:
                    ModelComparison.objects.filter(pk=self.comparison_id).update(
                        heartbeat_at=timezone.now()
                    )
                except Exception:  # the next beat tries again
                    logger.warning(
                        "Comparison %s: heartbeat not renewed", self.comparison_id
                    )
        finally:
            connection.close()

    def __enter__(self) -> "_Heartbeat":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        self.join()


def _stale() -> Q:
    return Q(heartbeat_at__isnull=True) | Q(
        heartbeat_at__lt=timezone.now() - HEARTBEAT_LAPSED
    )


def comparison_run(*, comparison_id: int) -> ModelComparison | None:
    """Evaluates both sides and stores the results; None when there is
    nothing to do (gone, done, failed, or live in another worker)."""
    now = timezone.now()
    claimed = (
        ModelComparison.objects.filter(pk=comparison_id)
        .filter(
            Q(status=ModelComparison.Status.QUEUED)
            | (Q(status=ModelComparison.Status.RUNNING) & _stale())
        )
        .update(
            status=ModelComparison.Status.RUNNING,
            heartbeat_at=now,
            started_at=now,
            attempts=F("attempts") + 1,
            error="",
        )
    )
    if not claimed:
        logger.info(
            "Comparison %s: nothing to do (gone, finished or running)", comparison_id
        )
        return None
    comparison = ModelComparison.objects.get(pk=comparison_id)
    running = ModelComparison.objects.filter(
        pk=comparison_id, status=ModelComparison.Status.RUNNING
    )
    try:
        with _Heartbeat(comparison_id):
            inter = training_dataset()
            train, test = split_by_time(inter, test_fraction=TEST_FRACTION)
            results = compare(
                train,
                test,
                Arm.from_dict(comparison.config_a),
                Arm.from_dict(comparison.config_b),
                item_features=genre_features(),
                split=f"time split: each profile's latest {TEST_FRACTION:.0%} of "
                "activity held out",
            )
    except Exception as exc:
        logger.exception("Comparison %s failed", comparison_id)
        running.update(
            status=ModelComparison.Status.FAILED,
            error=f"{type(exc).__name__}: {exc}",
            finished_at=timezone.now(),
        )
    else:
        running.update(
            status=ModelComparison.Status.DONE,
            results=results,
            finished_at=timezone.now(),
        )
    return ModelComparison.objects.filter(pk=comparison_id).first()


def comparisons_resend() -> list[int]:
    """Sends again the runs and promotions whose message or worker was lost;
    returns the comparisons sent (see the module docstring)."""
    now = timezone.now()
    runs = ModelComparison.objects.filter(
        Q(status=ModelComparison.Status.QUEUED, created_at__lt=now - QUEUED_GRACE)
        | (Q(status=ModelComparison.Status.RUNNING) & _stale())
    ).values_list("pk", flat=True)
    promotions = ModelComparison.objects.filter(
        Q(
            promotion=ModelComparison.Promotion.QUEUED,
            promoted_at__lt=now - QUEUED_GRACE,
        )
        | (Q(promotion=ModelComparison.Promotion.TRAINING) & _stale())
    ).values_list("pk", flat=True)
    sent = []
    with transaction.atomic():
        for task, pks in ((COMPARE_TASK, runs), (TRAIN_WINNER_TASK, promotions)):
            for pk in pks:
                outbox_add(task=task, args=[pk], coalesce=True)
                sent.append(pk)
    if sent:
        logger.warning("Comparisons sent again (message or worker lost): %s", sent)
    return sent


@transaction.atomic
def comparison_promote(
    *, comparison_id: int, side: str, promoted_by, reason: str
) -> ModelComparison:
    """Asks for side ``side``'s configuration to be trained for real."""
    comparison = ModelComparison.objects.select_for_update().get(pk=comparison_id)
    if comparison.status != ModelComparison.Status.DONE:
        raise ComparisonError("Only a finished comparison can be promoted.")
    if comparison.promotion not in (
        ModelComparison.Promotion.NONE,
        ModelComparison.Promotion.FAILED,
    ):
        raise ComparisonError(
            f"Side {comparison.promoted_side.upper()} is already "
            f"{comparison.get_promotion_display().lower()}."
        )
    if side not in ModelComparison.Side.values:
        raise ComparisonError("Choose side A or B.")
    if not reason.strip():
        raise ComparisonError("Say why.")
    comparison.promotion = ModelComparison.Promotion.QUEUED
    comparison.promoted_side = side
    comparison.promoted_by = promoted_by
    comparison.promoted_at = timezone.now()
    comparison.promotion_reason = reason.strip()
    comparison.promotion_error = ""
    comparison.heartbeat_at = None
    comparison.save()
    outbox_add(task=TRAIN_WINNER_TASK, args=[comparison.pk])
    return comparison


def comparison_train_winner(*, comparison_id: int) -> ModelVersion | None:
    """Trains the promoted side's configuration and links the version.

    Raises ``training.TrainingInProgress`` (after handing the promotion back
    to the queue) while another training runs, so the task tries later.
    """
    claimed = (
        ModelComparison.objects.filter(pk=comparison_id)
        .filter(
            Q(promotion=ModelComparison.Promotion.QUEUED)
            | (Q(promotion=ModelComparison.Promotion.TRAINING) & _stale())
        )
        .update(
            promotion=ModelComparison.Promotion.TRAINING, heartbeat_at=timezone.now()
        )
    )
    if not claimed:
        logger.info("Comparison %s: no promotion to train", comparison_id)
        return None
    comparison = ModelComparison.objects.get(pk=comparison_id)
    mine = ModelComparison.objects.filter(
        pk=comparison_id, promotion=ModelComparison.Promotion.TRAINING
    )
    arm = Arm.from_dict(comparison.config_of(comparison.promoted_side))
    try:
        with _Heartbeat(comparison_id):
            version = training.model_train(config=arm.config)
    except training.TrainingInProgress:
        mine.update(promotion=ModelComparison.Promotion.QUEUED)
        raise
    except Exception as exc:
        logger.exception("Comparison %s: training the winner failed", comparison_id)
        mine.update(
            promotion=ModelComparison.Promotion.FAILED,
            promotion_error=f"{type(exc).__name__}: {exc}",
        )
        return None
    mine.update(promotion=ModelComparison.Promotion.DONE, promoted_version=version)
    return version
