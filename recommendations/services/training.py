"""The model registry and training: which version serves, and making new ones.

A version's file is loaded once per process (its checksum verified on load)
and kept while it is the one asked for. Training publishes a new version,
which becomes active only if it passes the gate against the active one;
promotion and rollback refresh every profile's candidates once committed.
"""

import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from activity.models import Feedback, Rating, ViewingEvent
from config.celery import enqueue_on_commit
from recommendations.engine import artifact
from recommendations.engine.experiment import TrainingConfig, evaluate, fit_recommender
from recommendations.engine.recommender import Recommender
from recommendations.engine.splits import split_by_time
from recommendations.engine.tuning import tune
from recommendations.models import ModelVersion, TuningRun
from recommendations.services.dataset import genre_features, training_dataset

logger = logging.getLogger(__name__)

#: Named, not imported: the tasks module calls this one.
REFRESH_ALL_CANDIDATES_TASK = "recommendations.tasks.refresh_all_candidates"


class TrainingInProgress(Exception):
    pass


class PromotionRefused(Exception):
    pass


def training_config(
    algorithm: str | None = None, params: dict | None = None
) -> TrainingConfig:
    conf = settings.RECOMMENDER
    algorithm = algorithm or conf["ALGORITHM"]
    if params is None:
        params = conf["PARAMS"] if algorithm == conf["ALGORITHM"] else {}
    return TrainingConfig(
        algorithm=algorithm,
        params=dict(params),
        ease_lambda=conf["EASE_LAMBDA"],
        min_profiles=conf["MIN_PROFILES"],
        max_items=conf["MAX_ITEMS"],
        blend=conf["BLEND"],
        fold_in_reg=conf["FOLD_IN_REG"],
    )


# --- the registry ------------------------------------------------------------------


_cache_lock = threading.Lock()
_loaded: dict[tuple[int, str], Recommender] = {}


def active_version() -> ModelVersion | None:
    return ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).first()


def recommender_for(version: ModelVersion) -> Recommender:
    """The version's model, loaded once per process; the checksum is verified on load."""
    key = (version.pk, version.sha256)
    with _cache_lock:
        if key not in _loaded:
            arrays = artifact.load(Path(version.artifact), version.sha256)
            _loaded.clear()
            _loaded[key] = Recommender.from_arrays(arrays)
        return _loaded[key]


# --- training ----------------------------------------------------------------------


def _expire_stale_trainings() -> None:
    limit = timezone.now() - timedelta(
        minutes=settings.RECOMMENDER["TRAINING_TIMEOUT_MINUTES"]
    )
    ModelVersion.objects.filter(
        status=ModelVersion.Status.TRAINING, created_at__lt=limit
    ).update(
        status=ModelVersion.Status.FAILED, error="Training did not finish in time."
    )


#: The stages of a training run, in order, as reported to ``progress``.
TRAINING_STAGES = ("dataset", "evaluate", "fit", "publish")


def model_train(
    *,
    algorithm: str | None = None,
    params: dict | None = None,
    force: bool = False,
    progress: Callable[[str], None] = lambda stage: None,
) -> ModelVersion:
    """Trains, evaluates, publishes and (if it passes the gate) activates a model.

    Only one training runs at a time (a database constraint on the status). A
    failure marks the version failed, removes its file and leaves the active
    version serving.
    """
    _expire_stale_trainings()
    config = training_config(algorithm, params)
    try:
        with transaction.atomic():
            version = ModelVersion.objects.create(
                algorithm=config.algorithm, parameters=config.as_dict()
            )
    except IntegrityError:
        raise TrainingInProgress(
            "Another training is running; try again when it ends."
        ) from None
    _sweep_artifacts()
    path = settings.RECOMMENDER["ARTIFACT_DIR"] / f"model-{version.pk}.npz"
    try:
        version = _train_and_publish(version, config, path, progress)
    except Exception as exc:
        path.unlink(missing_ok=True)
        ModelVersion.objects.filter(pk=version.pk).update(
            status=ModelVersion.Status.FAILED,
            error=f"{type(exc).__name__}: {exc}",
            finished_at=timezone.now(),
        )
        raise
    try:
        model_promote(version=version, force=force)
    except PromotionRefused as exc:
        logger.warning("Model %s not promoted: %s", version.pk, exc)
        ModelVersion.objects.filter(pk=version.pk).update(error=str(exc))
    version.refresh_from_db()
    return version


def _sweep_artifacts() -> None:
    """Removes what a killed run may have left: temporary files, failed versions' files.

    Runs while this process holds the one-training-at-a-time row, so no other
    training can be writing here.
    """
    folder: Path = settings.RECOMMENDER["ARTIFACT_DIR"]
    if not folder.is_dir():
        return
    keep = {
        Path(p).name
        for p in ModelVersion.objects.exclude(status=ModelVersion.Status.FAILED)
        .exclude(status=ModelVersion.Status.TRAINING)
        .values_list("artifact", flat=True)
    }
    for path in folder.iterdir():
        stray = path.name.startswith(".") and path.name.endswith(".tmp")
        orphan = path.name.startswith("model-") and path.name not in keep
        if (stray or orphan) and path.is_file():
            logger.info("Removing stray model file %s", path)
            path.unlink(missing_ok=True)


def _train_and_publish(
    version: ModelVersion,
    config: TrainingConfig,
    path: Path,
    progress: Callable[[str], None],
) -> ModelVersion:
    clock = timezone.now
    started = clock()
    progress("dataset")
    inter = training_dataset()
    built = clock()
    progress("evaluate")
    train, test = split_by_time(inter)
    metrics = evaluate(train, test, config, item_features=genre_features())
    evaluated = clock()
    progress("fit")
    model, fit_timings = fit_recommender(inter, config)
    fitted = clock()
    progress("publish")
    version.sha256 = artifact.save(path, model.to_arrays())
    published = clock()
    version.artifact = str(path)
    version.status = ModelVersion.Status.READY
    version.data_counts = {
        "rows": len(inter),
        "profiles": len(np.unique(inter.users)),
        "titles": len(np.unique(inter.items)),
        "rankable_titles": len(model.ranking.item_ids),
    }
    version.metrics = {k: metrics[k] for k in ("rating", "ranking", "popularity")}
    version.metrics["split"] = "time, last 20% of each profile"
    version.timings = {
        "dataset_s": (built - started).total_seconds(),
        "evaluate_s": (evaluated - built).total_seconds(),
        "fit_s": (fitted - evaluated).total_seconds(),
        "publish_s": (published - fitted).total_seconds(),
        **{k: round(v, 3) for k, v in fit_timings.items()},
    }
    version.finished_at = published
    version.save()
    return version


# --- promotion ---------------------------------------------------------------------


def _gate(candidate: ModelVersion, active: ModelVersion) -> None:
    tol = settings.RECOMMENDER["PROMOTION_TOLERANCE"]
    if (
        active.ndcg is not None
        and candidate.ndcg is not None
        and candidate.ndcg < active.ndcg * (1 - tol)
    ):
        raise PromotionRefused(
            f"NDCG@10 {candidate.ndcg:.4f} regresses from {active.ndcg:.4f} "
            f"(tolerance {tol:.0%}); use force to promote anyway."
        )
    if (
        active.rmse is not None
        and candidate.rmse is not None
        and candidate.rmse > active.rmse * (1 + tol)
    ):
        raise PromotionRefused(
            f"RMSE {candidate.rmse:.4f} regresses from {active.rmse:.4f} "
            f"(tolerance {tol:.0%}); use force to promote anyway."
        )


@transaction.atomic
def model_promote(*, version: ModelVersion, force: bool = False) -> ModelVersion:
    """Makes ``version`` the active model, atomically; refreshes every profile after."""
    version = ModelVersion.objects.select_for_update().get(pk=version.pk)
    if version.status not in (ModelVersion.Status.READY, ModelVersion.Status.RETIRED):
        raise PromotionRefused(f"Version {version.pk} is {version.status}, not ready.")
    if (
        not Path(version.artifact).is_file()
        or artifact.sha256_of(Path(version.artifact)) != version.sha256
    ):
        raise PromotionRefused(
            f"Version {version.pk}'s artifact is missing or corrupted."
        )
    active = (
        ModelVersion.objects.select_for_update()
        .filter(status=ModelVersion.Status.ACTIVE)
        .first()
    )
    if active and not force:
        _gate(version, active)
    if active:
        active.status = ModelVersion.Status.RETIRED
        active.save(update_fields=["status"])
    version.status = ModelVersion.Status.ACTIVE
    version.activated_at = timezone.now()
    version.error = ""
    version.save(update_fields=["status", "activated_at", "error"])
    enqueue_on_commit(REFRESH_ALL_CANDIDATES_TASK, version.pk)
    return version


def model_rollback(*, to: ModelVersion | None = None) -> ModelVersion:
    """Re-activates ``to`` (default: the most recently retired version), no gate."""
    if to is None:
        to = (
            ModelVersion.objects.filter(status=ModelVersion.Status.RETIRED)
            .order_by("-activated_at", "-id")
            .first()
        )
        if to is None:
            raise PromotionRefused("There is no earlier version to roll back to.")
    return model_promote(version=to, force=True)


def training_running() -> bool:
    """Whether a training is under way (it may have read data erased since)."""
    return ModelVersion.objects.filter(status=ModelVersion.Status.TRAINING).exists()


def retrain_due() -> bool:
    """Enough signals came in since the last training to train again."""
    return (
        signals_since_last_training() >= settings.RECOMMENDER["RETRAIN_AFTER_SIGNALS"]
    )


def signals_since_last_training() -> int:
    last = ModelVersion.objects.exclude(status=ModelVersion.Status.FAILED).first()
    since = last.created_at if last else None
    total = 0
    for model, field in (
        (Rating, "updated_at"),
        (Feedback, "created_at"),
        (ViewingEvent, "updated_at"),
    ):
        qs = model.objects.all()
        if since:
            qs = qs.filter(**{f"{field}__gt": since})
        total += qs.count()
    return total


# --- tuning ------------------------------------------------------------------------


def tuning_run(*, algorithm: str, seconds: float) -> TuningRun:
    result = tune(training_dataset(), algorithm=algorithm, seconds=seconds)
    return TuningRun.objects.create(
        algorithm=algorithm,
        best_params=result["best_params"],
        best_rmse=result["best_rmse"],
        details=result,
    )


def tuned_params(algorithm: str) -> dict | None:
    run = TuningRun.objects.filter(algorithm=algorithm).first()
    return run.best_params if run else None
