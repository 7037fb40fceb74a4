"""The model registry and training: which version serves, and making new ones.

Serving: the active version serves while its file verifies. A file's
checksum is verified once per process (``engine.artifact.verify``) and its
model loaded once and kept while it is the one asked for. A file that fails
is refused for good: its version is marked failed with the reason, an ERROR
names the file, and the newest earlier version whose file verifies is
activated in its place (none: the home page shows the rows everyone gets and
says why). Every reader of the model asks :func:`serving_model`, so the home
page, More like this and refreshes all fall back the same way.

Training: one at a time, and only while its process lives. The running
training holds a lease: on PostgreSQL a session-level advisory lock on a
connection of its own, freed by PostgreSQL the moment the process dies; on
SQLite (a laptop) ``lease_expires_at``, pushed forward every few seconds by a
thread of the training. A version found ``training`` with its lease free was
left by a dead process: :func:`trainings_reap` marks it failed and removes
its files, and everyone who asks whether a training runs (a new training,
``manage.py train``, "Train now", the retrain check, forgetting profiles)
reaps first. A new version becomes active only if it passes the gate against
the active one; promotion and rollback refresh every profile's candidates once
committed.
"""

import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta

import numpy as np
from django.conf import settings
from django.db import (
    DEFAULT_DB_ALIAS,
    DatabaseError,
    IntegrityError,
    connection,
    connections,
    transaction,
)
from django.db.models import Q, QuerySet
from django.utils import timezone

from activity.models import Feedback, Rating, ViewingEvent
from outbox.services import outbox_add
from recommendations.engine import artifact
from recommendations.engine.experiment import TrainingConfig, evaluate, fit_recommender
from recommendations.engine.recommender import Recommender
from recommendations.engine.splits import split_by_time
from recommendations.engine.tuning import tune
from recommendations.models import ModelVersion, TuningRun
from recommendations.services import artifact_store, guardrails, training_progress
from recommendations.services.dataset import (
    genre_features,
    title_content_features,
    training_dataset,
)

logger = logging.getLogger(__name__)

#: Named, not imported: the tasks module calls this one.
REFRESH_ALL_CANDIDATES_TASK = "recommendations.tasks.refresh_all_candidates"
TRAIN_MODEL_TASK = "recommendations.tasks.train_model"
HEALTH_AFTER_PROMOTION_TASK = "recommendations.tasks.health_after_promotion"


class TrainingInProgress(Exception):
    pass


class LeaseLost(Exception):
    """The training's version was marked failed while it ran (its lease lapsed)."""


class PromotionRefused(Exception):
    pass


def training_config(
    algorithm: str | None = None, params: dict | None = None
) -> TrainingConfig:
    return TrainingConfig.from_settings(settings.RECOMMENDER, algorithm, params)


# --- the registry ------------------------------------------------------------------


_cache_lock = threading.Lock()
#: The models kept loaded, by (file, sha256): a rewritten file is a new key.
#: The serving one and, while an experiment serves another version to some
#: profiles, that one too: the least recently used goes past this many.
_loaded: dict[tuple[str, str], Recommender] = {}
_LOADED_MAX = 3
#: Versions refused in a row before a reader gives up and serves no model.
_FAIL_OVER_ROUNDS = 3


def active_version() -> ModelVersion | None:
    """The version the registry marks active (its file unread: see
    :func:`serving_model` for the model that serves)."""
    return ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).first()


def recommender_for(version: ModelVersion) -> Recommender:
    """The version's model, loaded once per process (its file verified first).

    Raises ``ArtifactError`` when the file fails; readers of the serving
    model use :func:`serving_model`, which falls back instead.
    """
    key = (version.artifact, version.sha256)
    with _cache_lock:
        model = _loaded.pop(key, None)
        if model is None:
            arrays = artifact_store.artifact_arrays(
                name=version.artifact, sha256=version.sha256
            )
            model = Recommender.from_arrays(arrays)
            while len(_loaded) >= _LOADED_MAX:
                _loaded.pop(next(iter(_loaded)))
        _loaded[key] = model
        return model


def serving_model() -> tuple[ModelVersion, Recommender] | None:
    """The version that serves and its model: the active one, once its file
    verifies. A file that fails is refused (:func:`model_fail_over`) and the
    version activated in its place serves; None when no version can serve.
    """
    for _ in range(_FAIL_OVER_ROUNDS):
        version = active_version()
        if version is None:
            return None
        try:
            return version, recommender_for(version)
        except artifact.ArtifactError as exc:
            model_fail_over(version=version, reason=str(exc))
    return None


def forget_loaded() -> None:
    """Drops the loaded model and every file's verified checksum, as a new
    process starts (a file changed behind the registry's back is then read
    again)."""
    with _cache_lock:
        _loaded.clear()
    artifact.forget_verified()


def model_fail_over(*, version: ModelVersion, reason: str) -> ModelVersion | None:
    """Refuses ``version``, whose file failed, and returns the version serving now.

    The version is marked failed with ``reason`` and, if it was active, the
    newest earlier version whose file verifies is activated (its candidates
    refreshed once committed); an earlier file that fails too is refused the
    same way. Nothing changes if the version meanwhile points at another
    file (an erasure rewrote it) or was already refused, so readers that
    find the same bad file at once refuse it once.
    """
    with transaction.atomic():
        current = ModelVersion.objects.select_for_update().filter(pk=version.pk).first()
        if (
            current is not None
            and current.status != ModelVersion.Status.FAILED
            and (current.artifact, current.sha256) == (version.artifact, version.sha256)
        ):
            was_active = current.status == ModelVersion.Status.ACTIVE
            _refuse(current, reason)
            if was_active:
                _activate_previous(current)
        return ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).first()


def _refuse(version: ModelVersion, reason: str) -> None:
    logger.error(
        "Model version %s refused: its file %s failed (%s)",
        version.pk,
        version.artifact,
        reason,
    )
    version.status = ModelVersion.Status.FAILED
    version.error = f"Model file refused: {reason}"
    version.save(update_fields=["status", "error"])


def _activate_previous(failed: ModelVersion) -> ModelVersion | None:
    earlier = (
        ModelVersion.objects.select_for_update()
        .filter(status=ModelVersion.Status.RETIRED, pk__lt=failed.pk)
        .order_by("-pk")
    )
    for candidate in earlier:
        try:
            artifact_store.artifact_verify(
                name=candidate.artifact, sha256=candidate.sha256
            )
        except artifact.ArtifactError as exc:
            _refuse(candidate, str(exc))
            continue
        logger.warning(
            "Model version %s serves again in place of %s", candidate.pk, failed.pk
        )
        return _activate(candidate, replacing=None)
    logger.error(
        "No earlier model version can serve in place of %s: every profile gets "
        "the rows everyone gets until a model is trained",
        failed.pk,
    )
    return None


# --- the training lease ------------------------------------------------------------

#: The PostgreSQL advisory lock (two int4 keys) the running training holds.
#: Advisory locks are per database, so other databases of the cluster do not
#: collide; the first key ("MQ") is used for nothing else in this project.
LEASE_LOCK_KEY = (0x4D51, 1)


def _on_postgresql() -> bool:
    return connection.vendor == "postgresql"


def _lease_seconds() -> int:
    return settings.RECOMMENDER["TRAINING_LEASE_SECONDS"]


class _LeaseLock:
    """PostgreSQL: the advisory lock, on a connection of the training's own.

    Its own because Django closes the thread's connection at the end of a
    request, when it turns unusable and past ``CONN_MAX_AGE``, and a closed
    session drops its locks. This one is opened for the training and closed
    when it ends; if the process dies, PostgreSQL ends the session and frees
    the lock at once.
    """

    def __init__(self) -> None:
        self._db = connections.create_connection(DEFAULT_DB_ALIAS)

    def take(self) -> bool:
        taken = False
        try:
            with self._db.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", LEASE_LOCK_KEY)
                taken = bool(cursor.fetchone()[0])
        finally:
            if not taken:
                self.release()
        return taken

    def release(self) -> None:
        self._db.close()


def _lease_lock_free() -> bool:
    """PostgreSQL: no session of this database holds the training lock."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT NOT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'"
            " AND database = (SELECT oid FROM pg_database"
            " WHERE datname = current_database())"
            " AND classid::bigint = %s AND objid::bigint = %s AND objsubid = 2)",
            LEASE_LOCK_KEY,
        )
        return bool(cursor.fetchone()[0])


class _Heartbeat(threading.Thread):
    """SQLite: keeps the training's ``lease_expires_at`` ahead of the clock.

    A daemon thread with its own connection; when the process dies it stops
    with it and the lease lapses within ``TRAINING_LEASE_SECONDS``.
    """

    def __init__(self, version_id: int) -> None:
        super().__init__(name=f"training-{version_id}-lease", daemon=True)
        self.version_id = version_id
        self.stopped = threading.Event()

    def run(self) -> None:
        every = _lease_seconds() / 6
        try:
            while not self.stopped.wait(every):
                try:
                    renewed = ModelVersion.objects.filter(
                        pk=self.version_id, status=ModelVersion.Status.TRAINING
                    ).update(
                        lease_expires_at=timezone.now()
                        + timedelta(seconds=_lease_seconds())
                    )
                except DatabaseError:
                    logger.warning(
                        "Could not renew training %s's lease", self.version_id
                    )
                    continue
                if not renewed:
                    return
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopped.set()
        self.join()


def _dead_trainings() -> Q:
    """SQLite: versions in training whose heartbeat has lapsed."""
    lapsed = timezone.now() - timedelta(seconds=_lease_seconds())
    return Q(lease_expires_at__lt=timezone.now()) | Q(
        lease_expires_at__isnull=True, created_at__lt=lapsed
    )


def trainings_reap() -> list[int]:
    """Marks failed every training whose process stopped, and removes its files.

    Its lease is free: on PostgreSQL nobody holds the lock (the versions are
    read first, so one a training creates after the check is not touched);
    on SQLite its heartbeat lapsed. Returns the versions marked failed.
    """
    training = ModelVersion.objects.filter(status=ModelVersion.Status.TRAINING)
    if _on_postgresql():
        found = list(training.values_list("pk", flat=True))
        if not found or not _lease_lock_free():
            return []
        return _reap(training.filter(pk__in=found))
    return _reap(training.filter(_dead_trainings()))


#: How a training whose process died is marked (:attr:`ModelVersion.error`).
DIED = "Training stopped: the worker running it"
#: Trainings in a row that died with their worker (out of memory, killed),
#: after which no training starts by itself: a training that kills its
#: worker is otherwise handed back to the queue and started again forever.
#: "Train now" and ``manage.py train`` still try.
DEATHS_BEFORE_GIVING_UP = 3


def trainings_died_in_a_row() -> int:
    """How many of the latest trainings, in a row, died with their worker."""
    trainings_reap()
    latest = ModelVersion.objects.order_by("-created_at", "-pk").values_list(
        "status", "error"
    )[:DEATHS_BEFORE_GIVING_UP]
    died = 0
    for status, error in latest:
        if status != ModelVersion.Status.FAILED or not error.startswith(DIED):
            break
        died += 1
    return died


def automatic_training_stopped() -> bool:
    """Whether trainings no longer start by themselves (see
    :data:`DEATHS_BEFORE_GIVING_UP`)."""
    return trainings_died_in_a_row() >= DEATHS_BEFORE_GIVING_UP


def _reap(dead: QuerySet[ModelVersion]) -> list[int]:
    """Marks ``dead`` failed, each only if it still matches (it is re-checked)."""
    reaped = []
    for pk, holder in dead.values_list("pk", "lease_holder"):
        by = f" ({holder})" if holder else ""
        if dead.filter(pk=pk).update(
            status=ModelVersion.Status.FAILED,
            error=f"{DIED}{by} stopped.",
            finished_at=timezone.now(),
        ):
            logger.warning(
                "Training %s%s stopped with its worker; marked failed", pk, by
            )
            _remove_files_of(pk)
            reaped.append(pk)
    return reaped


def _remove_files_of(version_id: int) -> None:
    """A dead training's half-written temporary files."""
    artifact_store.artifact_temporaries_remove(stem=_stem(version_id))


def _stem(version_id: int) -> str:
    """What a training's temporary files are named after, so a dead one's are found."""
    return f"model-{version_id}"


def _training_in_progress() -> TrainingInProgress:
    running = ModelVersion.objects.filter(status=ModelVersion.Status.TRAINING).first()
    what = (
        f" (version #{running.pk}, {running.lease_holder or 'unknown process'}, "
        f"since {running.created_at:%Y-%m-%d %H:%M} UTC)"
        if running
        else ""
    )
    return TrainingInProgress(
        f"Another training is running{what}; try again when it ends."
    )


@contextmanager
def training_lease(*, algorithm: str, parameters: dict) -> Iterator[ModelVersion]:
    """A new version in ``training``, whose lease is held until the block ends.

    Raises :class:`TrainingInProgress` when a live training holds the lease;
    trainings left by dead processes are marked failed first.
    """
    lock = None
    if _on_postgresql():
        lock = _LeaseLock()
        if not lock.take():
            raise _training_in_progress()
    heartbeat = None
    try:
        try:
            with transaction.atomic():
                if lock is not None:
                    _reap(
                        ModelVersion.objects.filter(status=ModelVersion.Status.TRAINING)
                    )
                else:
                    trainings_reap()
                version = ModelVersion.objects.create(
                    algorithm=algorithm,
                    parameters=parameters,
                    lease_holder=f"{socket.gethostname()}:{os.getpid()}",
                    lease_expires_at=timezone.now()
                    + timedelta(seconds=_lease_seconds()),
                )
        except IntegrityError:
            raise _training_in_progress() from None
        # Inside an outer transaction the version is seen by no other process
        # (and goes if this one dies): nothing to renew, and SQLite would make
        # the heartbeat's connection wait for that transaction.
        if lock is None and not connection.in_atomic_block:
            heartbeat = _Heartbeat(version.pk)
            heartbeat.start()
        yield version
    finally:
        if heartbeat is not None:
            heartbeat.stop()
        if lock is not None:
            lock.release()


def training_running() -> bool:
    """Whether a live training is under way (it may have read data erased since)."""
    trainings_reap()
    return ModelVersion.objects.filter(status=ModelVersion.Status.TRAINING).exists()


@transaction.atomic
def training_ask() -> bool:
    """ "Train now" (the admin's button, the API's ``model-versions/train/``):
    a training asked for, which starts even after trainings died in a row,
    queued through the outbox; several asks while it waits are one training.
    False, and nothing queued, while a training runs."""
    if training_running():
        return False
    outbox_add(task=TRAIN_MODEL_TASK, args=[None, False, True], coalesce=True)
    return True


# --- training ----------------------------------------------------------------------


#: The stages of a training run, in order, as reported to ``progress``.
TRAINING_STAGES = (
    "dataset",
    "validation",
    "fit_rating",
    "fit_ranking",
    "publish",
    "candidates",
)


def model_train(
    *,
    algorithm: str | None = None,
    params: dict | None = None,
    force: bool = False,
    progress: Callable[[str], None] = lambda stage: None,
    config: TrainingConfig | None = None,
) -> ModelVersion:
    """Trains, evaluates, publishes and (if it passes the gate) activates a model.

    ``config`` (a whole configuration, e.g. an offline comparison's winner)
    replaces the one built from the settings, ``algorithm`` and ``params``.

    Only one training runs at a time, under the training lease (a live
    training makes this raise :class:`TrainingInProgress`; one whose process
    died is marked failed and this one proceeds). A failure marks the version
    failed, removes its file and leaves the active version serving; so does
    Cancel (``training_progress.training_cancel``), heard as the next stage
    begins, after which the version is returned, failed with "Cancelled".
    """
    config = config or training_config(algorithm, params)
    with training_lease(
        algorithm=config.algorithm, parameters=config.as_dict()
    ) as version:
        # Each stage is recorded on the version as it begins, and Cancel is
        # heard there (services.training_progress).
        record = training_progress.stage_recorder(version_id=version.pk, then=progress)
        artifact_store.artifacts_sweep()
        try:
            version = _train_and_publish(version, config, record)
            record("candidates")
        except Exception as exc:
            training_progress.training_failed(version=version, exc=exc)
            _remove_files_of(version.pk)
            if isinstance(exc, training_progress.TrainingCancelled):
                logger.warning("Training %s cancelled", version.pk)
                version.refresh_from_db()
                return version
            raise
        try:
            model_promote(version=version, force=force)
        except PromotionRefused as exc:
            logger.warning("Model %s not promoted: %s", version.pk, exc)
            ModelVersion.objects.filter(pk=version.pk).update(error=str(exc))
        finally:
            training_progress.stages_finish(version_id=version.pk)
    version.refresh_from_db()
    return version


def _train_and_publish(
    version: ModelVersion,
    config: TrainingConfig,
    progress: Callable[[str], None],
) -> ModelVersion:
    clock = timezone.now
    started = clock()
    progress("dataset")
    inter = training_dataset()
    built = clock()
    progress("validation")
    train, test = split_by_time(inter)
    # The settings are chosen on validation rows inside ``train`` (never on
    # ``test``, which the gate judges), then serve for the fit on everything.
    metrics = evaluate(train, test, config, item_features=genre_features())
    config = replace(config, **metrics["config"])
    evaluated = clock()
    model, fit_timings = fit_recommender(
        inter, config, on_stage=progress, content_features=title_content_features()
    )
    fitted = clock()
    progress("publish")
    name, sha256 = artifact_store.artifact_publish(
        arrays=model.to_arrays(), stem=_stem(version.pk)
    )
    published = clock()
    metrics = {
        k: metrics[k]
        for k in ("rating", "ranking", "popularity", "validation", "cold_viewers")
    }
    metrics["split"] = "time, last 20% of each profile"
    fields = {
        "parameters": config.as_dict(),
        "sha256": sha256,
        "artifact": name,
        "status": ModelVersion.Status.READY,
        "data_counts": {
            "rows": len(inter),
            "profiles": len(np.unique(inter.users)),
            "titles": len(np.unique(inter.items)),
            "rankable_titles": len(model.ranking.item_ids),
        },
        "metrics": metrics,
        "timings": {
            "dataset_s": (built - started).total_seconds(),
            "evaluate_s": (evaluated - built).total_seconds(),
            "fit_s": (fitted - evaluated).total_seconds(),
            "publish_s": (published - fitted).total_seconds(),
            **{k: round(v, 3) for k, v in fit_timings.items()},
        },
        "finished_at": published,
    }
    # Only a version still training is published: one marked failed meanwhile
    # (its lease lapsed) may already have been replaced by another training.
    if not ModelVersion.objects.filter(
        pk=version.pk, status=ModelVersion.Status.TRAINING
    ).update(**fields):
        artifact_store.artifact_discard(name=name)
        raise LeaseLost(
            f"Version {version.pk} was marked failed while it trained; "
            "its result is discarded."
        )
    for name, value in fields.items():
        setattr(version, name, value)
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
    if breaches := guardrails.gate_breaches(candidate=candidate, active=active):
        raise PromotionRefused(" ".join([*breaches, "Use force to promote anyway."]))


@transaction.atomic
def model_promote(*, version: ModelVersion, force: bool = False) -> ModelVersion:
    """Makes ``version`` the active model, atomically; refreshes every profile after."""
    version = ModelVersion.objects.select_for_update().get(pk=version.pk)
    if version.status not in (ModelVersion.Status.READY, ModelVersion.Status.RETIRED):
        raise PromotionRefused(f"Version {version.pk} is {version.status}, not ready.")
    try:
        # Checked as the file is now, not as this process last saw it.
        artifact_store.artifact_verify(
            name=version.artifact, sha256=version.sha256, fresh=True
        )
    except artifact.ArtifactError:
        raise PromotionRefused(
            f"Version {version.pk}'s artifact is missing or corrupted."
        ) from None
    active = (
        ModelVersion.objects.select_for_update()
        .filter(status=ModelVersion.Status.ACTIVE)
        .first()
    )
    if active and not force:
        _gate(version, active)
    return _activate(version, replacing=active)


def _activate(version: ModelVersion, *, replacing: ModelVersion | None) -> ModelVersion:
    if replacing:
        replacing.status = ModelVersion.Status.RETIRED
        replacing.save(update_fields=["status"])
    version.status = ModelVersion.Status.ACTIVE
    version.activated_at = timezone.now()
    version.error = ""
    version.save(update_fields=["status", "activated_at", "error"])
    outbox_add(task=REFRESH_ALL_CANDIDATES_TASK, args=[version.pk], coalesce=True)
    outbox_add(task=HEALTH_AFTER_PROMOTION_TASK, args=[version.pk], coalesce=True)
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


def retrain_due() -> bool:
    """Enough signals came in since the last training to train again.

    A training whose process died counts as failed, not as the last training;
    after :data:`DEATHS_BEFORE_GIVING_UP` such deaths in a row, none is due.
    """
    if automatic_training_stopped():
        return False
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
    """Searches the rating model's parameters by cross-validation on the
    training part of the time split only: the rows a training's gate judges
    on (each profile's latest 20 %) never take part in choosing them."""
    train, _ = split_by_time(training_dataset())
    result = tune(train, algorithm=algorithm, seconds=seconds)
    result["rows"] = "training part of the time split (the gate's rows left out)"
    return TuningRun.objects.create(
        algorithm=algorithm,
        best_params=result["best_params"],
        best_rmse=result["best_rmse"],
        details=result,
    )


def tuned_params(algorithm: str) -> dict | None:
    run = TuningRun.objects.filter(algorithm=algorithm).first()
    return run.best_params if run else None
