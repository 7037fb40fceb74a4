"""Between the ORM and the engine: datasets, training, publishing, candidates.

This is the only module that turns database rows into engine arrays and back.
"""

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import Profile
from accounts.services import profile_touch
from activity.models import Feedback, ListItem, Rating, ViewingEvent
from catalog.models import Title
from recommendations.engine import artifact
from recommendations.engine.dataset import (
    NEGATIVE_SIGNALS,
    Interactions,
    implicit_value,
    viewing_signal,
)
from recommendations.engine.experiment import TrainingConfig, evaluate, fit_recommender
from recommendations.engine.recommender import Candidates, History, Recommender
from recommendations.engine.splits import split_by_time
from recommendations.models import (
    ModelVersion,
    ProfileCandidates,
    RowEngagement,
    SeedExclusion,
    TitleTrend,
    TuningRun,
)

logger = logging.getLogger(__name__)


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


# --- signals -> arrays ---------------------------------------------------------


def _signal_rows(profiles: Q) -> tuple[dict, dict]:
    """Ratings and implicit signals of the matching profiles on available titles.

    Returns ``{(profile, title): (value, time)}`` for ratings and
    ``{(profile, title): (set of signal names, time)}`` for the rest.
    """
    available = Q(title__is_available=True)
    ratings = {
        (p, t): (v, at.timestamp())
        for p, t, v, at in Rating.objects.filter(profiles, available).values_list(
            "profile_id", "title_id", "value", "updated_at"
        )
    }
    implicit: dict[tuple[int, int], tuple[set[str], float]] = {}

    def add(key, name, at) -> None:
        names, latest = implicit.setdefault(key, (set(), 0.0))
        names.add(name)
        implicit[key] = (names, max(latest, at.timestamp()))

    for p, t, progress, completed, at in ViewingEvent.objects.filter(
        profiles, available
    ).values_list("profile_id", "title_id", "progress", "completed", "updated_at"):
        add((p, t), viewing_signal(progress, completed), at)
    for p, t, kind, at in Feedback.objects.filter(profiles, available).values_list(
        "profile_id", "title_id", "kind", "created_at"
    ):
        add((p, t), kind, at)
    return ratings, implicit


def _to_interactions(ratings: dict, implicit: dict) -> Interactions:
    users, items, values, times, negative = [], [], [], [], []
    for (p, t), (value, at) in ratings.items():
        users.append(p), items.append(t), values.append(value), times.append(at)
        negative.append(False)
    for (p, t), (names, at) in implicit.items():
        value = implicit_value(names)
        if (p, t) in ratings or value is None:
            continue
        users.append(p), items.append(t), values.append(value), times.append(at)
        negative.append(bool(names & NEGATIVE_SIGNALS))
    return Interactions.from_lists(users, items, values, times, negative)


def training_dataset() -> Interactions:
    """Everything training may learn from: opted-out profiles and unavailable titles left out."""
    return _to_interactions(*_signal_rows(Q(profile__allow_training=True)))


def profile_histories(profile_ids: list[int]) -> list[History]:
    """Each profile's own signals (training opt-out does not matter here)."""
    ratings, implicit = _signal_rows(Q(profile_id__in=profile_ids))
    inter = _to_interactions(ratings, implicit)
    hidden_by: dict[int, list[int]] = {}
    for (p, t), (names, _) in implicit.items():
        if "not_interested" in names:
            hidden_by.setdefault(p, []).append(t)
    unavailable = list(
        Title.objects.filter(is_available=False).values_list("id", flat=True)
    )
    out = []
    for pid in profile_ids:
        mine = inter.users == pid
        out.append(
            History(
                profile_id=pid,
                items=inter.items[mine],
                values=inter.values[mine],
                negative=inter.negative[mine],
                hidden=np.array(hidden_by.get(pid, []) + unavailable, dtype=np.int64),
            )
        )
    return out


def genre_features() -> dict[int, np.ndarray]:
    """Title id -> one-hot genres, for intra-list diversity."""
    through = Title.genres.through.objects.values_list("title_id", "genre_id")
    pairs = list(through)
    genre_ids = sorted({g for _, g in pairs})
    column = {g: n for n, g in enumerate(genre_ids)}
    out: dict[int, np.ndarray] = {}
    for t, g in pairs:
        out.setdefault(t, np.zeros(len(genre_ids)))[column[g]] = 1.0
    return out


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
    from recommendations import tasks

    transaction.on_commit(
        lambda: tasks.enqueue(tasks.refresh_all_candidates, version.pk)
    )
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


# --- candidates --------------------------------------------------------------------


def _store(version: ModelVersion | None, results: list[Candidates]) -> None:
    now = timezone.now()
    ProfileCandidates.objects.bulk_create(
        [
            ProfileCandidates(
                profile_id=c.profile_id,
                model_version=version,
                title_ids=c.title_ids.tolist(),
                scores=np.round(c.scores, 4).tolist(),
                predicted=np.round(c.predicted, 3).tolist(),
                updated_at=now,
            )
            for c in results
        ],
        update_conflicts=True,
        unique_fields=["profile"],
        update_fields=[
            "model_version",
            "title_ids",
            "scores",
            "predicted",
            "updated_at",
        ],
    )


def candidates_score_profiles(*, version: ModelVersion, profile_ids: list[int]) -> int:
    """Scores and stores candidates for a shard of profiles with ``version``."""
    model = recommender_for(version)
    results = model.candidates(
        profile_histories(profile_ids), count=settings.RECOMMENDER["CANDIDATES"]
    )
    _store(version, results)
    return len(results)


def candidate_shards(shard_size: int | None = None) -> list[list[int]]:
    size = shard_size or settings.RECOMMENDER["SHARD_SIZE"]
    ids = list(Profile.objects.order_by("id").values_list("id", flat=True))
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def profile_refresh(*, profile_id: int) -> bool:
    """Folds the profile's latest signals into its vector and re-stores its candidates.

    Returns False when there is no active model (the profile then gets the
    non-personalized rows).
    """
    version = active_version()
    if version is None:
        return False
    model = recommender_for(version)
    (history,) = profile_histories([profile_id])
    history = History(**{**history.__dict__, "use_trained_vector": False})
    _store(
        version, model.candidates([history], count=settings.RECOMMENDER["CANDIDATES"])
    )
    return True


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


def movielens_interactions(folder: Path) -> tuple[Interactions, dict[int, np.ndarray]]:
    """Ratings and genre features straight from MovieLens files, for offline evaluation."""
    from catalog.importers.movielens import detect_layout, read_movies, read_ratings

    layout = detect_layout(folder)
    users, items, values, times = [], [], [], []
    for row in read_ratings(layout):
        users.append(row.user_id), items.append(row.movie_id)
        values.append(row.value), times.append(int(row.at.timestamp()))
    movies = list(read_movies(layout))
    genres = sorted({g for m in movies for g in m.genres})
    column = {g: n for n, g in enumerate(genres)}
    features = {}
    for m in movies:
        vector = np.zeros(len(genres))
        vector[[column[g] for g in m.genres]] = 1.0
        features[m.movie_id] = vector
    return Interactions.from_lists(users, items, values, times), features


def tuning_run(*, algorithm: str, seconds: float) -> TuningRun:
    from recommendations.engine.tuning import tune

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


# --- the home page: trending, seeds, row engagement ---------------------------------

#: "Trending now" is time-decayed popularity: each rating, viewing and My List
#: addition weighs ``0.5 ** (age / TRENDING_HALF_LIFE)``, its age counted back
#: from the newest activity in the database rather than from the clock, so an
#: imported catalog (MovieLens ends in 2018) still trends. Events older than
#: ``TRENDING_HORIZON`` half-lives (weight under 1/256) are left out.
TRENDING_HALF_LIFE = timedelta(days=7)
TRENDING_HORIZON = 8


def newest_activity() -> datetime | None:
    """When the latest rating, viewing or My List addition happened."""
    stamps = [
        Rating.objects.order_by("-updated_at")
        .values_list("updated_at", flat=True)
        .first(),
        ViewingEvent.objects.order_by("-started_at")
        .values_list("started_at", flat=True)
        .first(),
        ListItem.objects.order_by("-added_at")
        .values_list("added_at", flat=True)
        .first(),
    ]
    stamps = [s for s in stamps if s is not None]
    return max(stamps) if stamps else None


def activity_events(since: datetime) -> list[tuple[int, datetime]]:
    """``(title id, when)`` of every rating, viewing and My List addition of an
    available title since ``since``."""
    available = Q(title__is_available=True)
    return [
        *Rating.objects.filter(available, updated_at__gte=since).values_list(
            "title_id", "updated_at"
        ),
        *ViewingEvent.objects.filter(available, started_at__gte=since).values_list(
            "title_id", "started_at"
        ),
        *ListItem.objects.filter(available, added_at__gte=since).values_list(
            "title_id", "added_at"
        ),
    ]


def trending_scores(
    newest: datetime | None = None, events: list[tuple[int, datetime]] | None = None
) -> dict[int, float]:
    """Each recently active title's time-decayed popularity (see above).

    ``newest`` and ``events`` (at least those of the horizon) are read when
    not given.
    """
    newest = newest or newest_activity()
    if newest is None:
        return {}
    horizon = newest - TRENDING_HORIZON * TRENDING_HALF_LIFE
    if events is None:
        events = activity_events(horizon)
    half_life = TRENDING_HALF_LIFE.total_seconds()
    scores: dict[int, float] = {}
    for title_id, at in events:
        if at < horizon:
            continue
        age = (newest - at).total_seconds()
        scores[title_id] = scores.get(title_id, 0.0) + 0.5 ** (age / half_life)
    return scores


def trending_refresh() -> int:
    """Rewrites the TitleTrend table ("Trending now"); returns how many titles trend.

    Safe to run twice, even at once: rows are upserted with this run's time,
    then the rows of earlier runs are deleted.
    """
    scores = trending_scores()
    stamp = timezone.now()
    with transaction.atomic():
        TitleTrend.objects.bulk_create(
            [
                TitleTrend(title_id=t, score=round(s, 6), computed_at=stamp)
                for t, s in scores.items()
            ],
            update_conflicts=True,
            unique_fields=["title"],
            update_fields=["score", "computed_at"],
            batch_size=1000,
        )
        TitleTrend.objects.filter(computed_at__lt=stamp).delete()
    return len(scores)


@transaction.atomic
def seed_exclude(*, profile: Profile, title: Title) -> SeedExclusion:
    """Stops ``title`` seeding "Because you watched…" rows; its history stays."""
    exclusion, _ = SeedExclusion.objects.get_or_create(profile=profile, title=title)
    profile_touch(profile_id=profile.pk)
    return exclusion


@transaction.atomic
def seed_restore(*, profile: Profile, title: Title) -> bool:
    """Lets ``title`` seed rows again."""
    deleted, _ = SeedExclusion.objects.filter(profile=profile, title=title).delete()
    if deleted:
        profile_touch(profile_id=profile.pk)
    return bool(deleted)


#: The kinds of home rows (``rows.Row.kind``); engagement is counted per kind.
ROW_KINDS = (
    "continue",
    "top-picks",
    "because",
    "trending",
    "new",
    "top10",
    "genre",
    "gems",
    "outside",
    "collection",
    "my-list",
    "short",
)


@transaction.atomic
def row_engagement_record(*, profile: Profile, row_kind: str) -> RowEngagement:
    """Counts one play or rating of a title reached from a row of this kind.

    Rows the profile engages with rise on its home page (see ``rows``).
    Raises ``ValueError`` for a kind that is not a row kind.
    """
    if row_kind not in ROW_KINDS:
        raise ValueError(f"Not a row kind: {row_kind!r}")
    now = timezone.now()
    engagement, created = RowEngagement.objects.select_for_update().get_or_create(
        profile=profile, row_kind=row_kind, defaults={"count": 1, "updated_at": now}
    )
    if not created:
        RowEngagement.objects.filter(pk=engagement.pk).update(
            count=F("count") + 1, updated_at=now
        )
        engagement.refresh_from_db()
    profile_touch(profile_id=profile.pk)
    return engagement


# --- forgetting profiles (privacy erasure) -----------------------------------------

#: Versions whose files may serve again (active, ready, or retired for a rollback).
FORGETTABLE_STATUSES = (
    ModelVersion.Status.ACTIVE,
    ModelVersion.Status.READY,
    ModelVersion.Status.RETIRED,
)


def _artifact_profile_ids(version: ModelVersion) -> np.ndarray | None:
    """The profile ids a version's file holds rows for (read without the rest)."""
    path = Path(version.artifact)
    if not version.artifact or not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as npz:
            return np.asarray(npz["user_ids"])
    except (OSError, KeyError, ValueError):
        logger.warning("Cannot read the profile ids of model %s", version.pk)
        return None


def model_versions_holding(*, profile_ids: list[int]) -> list[int]:
    """Loadable model versions whose file has a row for any of these profiles."""
    from recommendations.engine.forget import holds_profiles

    out = []
    for version in ModelVersion.objects.filter(
        status__in=FORGETTABLE_STATUSES
    ).order_by("id"):
        held = _artifact_profile_ids(version)
        if held is not None and len(holds_profiles(held, np.array(profile_ids))):
            out.append(version.pk)
    return out


def model_forget_profiles(*, profile_ids: list[int]) -> list[int]:
    """Rewrites every loadable version's file without these profiles' rows.

    Each version gets a new file (written atomically, its sha256 recorded in
    the same transaction that points the version at it; the old file is
    deleted on commit), so a process serving the old checksum never reads a
    half-written or swapped file; ``recommender_for`` loads the new one since
    its cache key holds the checksum. Safe to run twice: a version without
    those rows is left alone. Returns the versions rewritten.
    """
    return [
        pk
        for pk in model_versions_holding(profile_ids=profile_ids)
        if _forget_in_version(pk, profile_ids)
    ]


def _forget_in_version(version_id: int, profile_ids: list[int]) -> bool:
    import uuid

    from recommendations.engine.forget import without_profiles

    with transaction.atomic():
        version = (
            ModelVersion.objects.select_for_update()
            .filter(pk=version_id, status__in=FORGETTABLE_STATUSES)
            .first()
        )
        if version is None or not version.artifact:
            return False
        old_path = Path(version.artifact)
        try:
            arrays = artifact.load(old_path, version.sha256)
        except artifact.ArtifactError:
            logger.exception("Model %s cannot be loaded to forget profiles", version.pk)
            return False
        arrays, dropped = without_profiles(arrays, np.array(profile_ids))
        if not dropped:
            return False
        new_path = old_path.with_name(f"model-{version.pk}-{uuid.uuid4().hex[:12]}.npz")
        try:
            version.sha256 = artifact.save(new_path, arrays)
            version.artifact = str(new_path)
            version.save(update_fields=["artifact", "sha256"])
        except BaseException:
            new_path.unlink(missing_ok=True)
            raise
        transaction.on_commit(lambda: old_path.unlink(missing_ok=True))
    logger.info("Model %s forgot %d profile(s)", version_id, dropped)
    return True
