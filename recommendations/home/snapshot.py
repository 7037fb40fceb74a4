"""The catalog and the charts as the home rows see them: the same for everyone,
built in a few queries and cached for five minutes.

:class:`CatalogSnapshot` holds every available title's row facts as arrays
(genres, tags, boosts, runtimes, ratings), so a page never reads the catalog
title by title. Its key holds the catalog's version, which a curator's change
bumps. :class:`Charts` holds trending and the Top 10.
"""

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar
from uuid import uuid4

import numpy as np
from django.core.cache import cache
from django.db.models import Avg, Count

from activity.models import Rating, TagApplication
from catalog.models import Genre, Title
from catalog.selectors import catalog_version
from recommendations.engine.dataset import index_of
from recommendations.models import TitleTrend
from recommendations.services.trending import (
    activity_events,
    newest_activity,
    trending_scores,
)

TOP10_LENGTH = 10
TOP10_WINDOWS = (1, 7, 30, 56)  # days; the last is trending's horizon too
#: Bayesian mean: this many ratings of the catalog's mean are added to each title.
BAYES_PRIOR = 10

SNAPSHOT_KEY = "home:catalog:v1"
SNAPSHOT_SECONDS = 5 * 60
CHARTS_KEY = "home:charts:v1"
CHARTS_SECONDS = 5 * 60


@dataclass(frozen=True)
class CatalogSnapshot:
    """Every available title's row facts as arrays, sorted by title id."""

    ids: np.ndarray
    genre_order: tuple[int, ...]
    genre_names: dict[int, str]
    genre_slugs: dict[int, str]
    features: np.ndarray  # (n, G) one-hot genres, columns in genre_order
    genre_sets: tuple[frozenset[str], ...]  # genre names per title (moods)
    tag_sets: tuple[frozenset[str], ...]  # lower-case tag names per title
    boost: np.ndarray
    runtime: np.ndarray  # minutes, NaN when unknown
    year: np.ndarray  # 0 when unknown
    added_day: np.ndarray  # days since the epoch
    rating_count: np.ndarray
    rating_mean: np.ndarray  # NaN when unrated
    bayes_mean: np.ndarray
    kids_ok: np.ndarray
    #: Some title came from MovieLens: the footer credits GroupLens (only then;
    #: a demo catalog is invented).
    from_movielens: bool = False

    def index(self, title_ids: Iterable[int]) -> np.ndarray:
        """Positions of the titles; -1 for a title not (or no longer) available."""
        return index_of(self.ids, list(title_ids))

    def genre_column(self, genre_id: int) -> int:
        return self.genre_order.index(genre_id)


def catalog_snapshot() -> CatalogSnapshot:
    """The snapshot, from the cache (five minutes, or until a curator's change
    bumps the catalog's version) or built in a few queries."""
    return _shared(
        SNAPSHOT_KEY, _build_snapshot, SNAPSHOT_SECONDS, version=catalog_version()
    )


def catalog_snapshot_fresh() -> CatalogSnapshot:
    """The snapshot built now, past the cache: for figures that must count the
    catalog as it is (the hourly health snapshot), not as a page may show it."""
    return _build_snapshot()


T = TypeVar("T")

#: This process's copy of each shared entry, by name: (key, stamp, value).
_held: dict[str, tuple[str, str, object]] = {}


def _shared(name: str, build: Callable[[], T], seconds: int, version="") -> T:
    """``build()``, kept in the shared cache for ``seconds`` under ``name`` and
    ``version``, and in this process while the cache holds the same build.

    Each build is cached with a random stamp, also cached alone: a process
    whose copy has the cached stamp uses its copy, so a page reads a few
    bytes from the cache instead of unpickling the whole entry (about 10 ms
    for the snapshot of 10,000 titles).
    """
    key = f"{name}:{version}"
    stamp = cache.get(f"{key}:stamp")
    held = _held.get(name)
    if held is not None and (
        held[:2] == (key, stamp) or (stamp is None and getattr(cache, "away", False))
    ):
        # The same build; or the cache is away (a Redis outage), when this
        # copy, however old, beats a rebuild on every page.
        return held[2]  # type: ignore[return-value]
    entry = cache.get(key)
    if stamp is None or entry is None or entry[0] != stamp:
        entry = (uuid4().hex, build())
        cache.set_many({key: entry, f"{key}:stamp": entry[0]}, seconds)
    _held[name] = (key, *entry)
    return entry[1]


def _build_snapshot() -> CatalogSnapshot:
    rows = list(
        Title.objects.available()
        .order_by("id")
        .values_list("id", "boost", "runtime_minutes", "year", "added_at", "source")
    )
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    genres = list(Genre.objects.order_by("id").values_list("id", "name", "slug"))
    genre_order = tuple(g for g, _, _ in genres)
    names = {g: n for g, n, _ in genres}
    column = {g: j for j, g in enumerate(genre_order)}
    features = np.zeros((len(ids), len(genre_order)))
    genre_sets: list[set[str]] = [set() for _ in ids]
    through = Title.genres.through.objects.filter(title__is_available=True)
    snap_pos = {int(t): n for n, t in enumerate(ids)}
    for title_id, genre_id in through.values_list("title_id", "genre_id"):
        n = snap_pos.get(title_id)
        if n is not None:
            features[n, column[genre_id]] = 1.0
            genre_sets[n].add(names[genre_id])
    tag_sets: list[set[str]] = [set() for _ in ids]
    editorial = Title.tags.through.objects.values_list("title_id", "tag__name")
    viewers = TagApplication.objects.values_list("title_id", "tag__name").distinct()
    for title_id, tag in [*editorial, *viewers]:
        n = snap_pos.get(title_id)
        if n is not None:
            tag_sets[n].add(tag.lower())
    count = np.zeros(len(ids))
    mean = np.full(len(ids), np.nan)
    stats = (
        Rating.objects.order_by()
        .values("title_id")
        .annotate(n=Count("id"), mean=Avg("value"))
        .values_list("title_id", "n", "mean")
    )
    for title_id, n_ratings, avg in stats:
        n = snap_pos.get(title_id)
        if n is not None:
            count[n], mean[n] = n_ratings, avg
    rated = count > 0
    overall = (
        float((mean[rated] * count[rated]).sum() / count[rated].sum())
        if rated.any()
        else 3.0
    )
    bayes = (np.nan_to_num(mean) * count + BAYES_PRIOR * overall) / (
        count + BAYES_PRIOR
    )
    kids = set(
        Title.objects.available().suitable_for_kids().values_list("id", flat=True)
    )
    return CatalogSnapshot(
        ids=ids,
        genre_order=genre_order,
        genre_names=names,
        genre_slugs={g: s for g, _, s in genres},
        features=features,
        genre_sets=tuple(frozenset(s) for s in genre_sets),
        tag_sets=tuple(frozenset(s) for s in tag_sets),
        boost=np.array([r[1] for r in rows], dtype=np.float64),
        runtime=np.array([r[2] if r[2] else np.nan for r in rows], dtype=np.float64),
        year=np.array([r[3] or 0 for r in rows], dtype=np.int64),
        added_day=np.array(
            [int(r[4].timestamp() // 86400) for r in rows], dtype=np.int64
        ),
        rating_count=count,
        rating_mean=mean,
        bayes_mean=bayes,
        kids_ok=np.array([int(t) in kids for t in ids], dtype=bool),
        from_movielens=any(r[5] == Title.Source.MOVIELENS for r in rows),
    )


@dataclass(frozen=True)
class Charts:
    """Rows the same for everyone: trending (with scores) and the Top 10."""

    trending: tuple[tuple[int, float], ...]
    top10: tuple[int, ...]  # more than ten: some may not be shown to a profile


def charts() -> Charts:
    """Trending and the Top 10, from the cache (five minutes) or built."""
    return _shared(CHARTS_KEY, _build_charts, CHARTS_SECONDS)


def _build_charts() -> Charts:
    newest = newest_activity()
    events = []
    if newest is not None:
        events = activity_events(newest - timedelta(days=TOP10_WINDOWS[-1]))
    trending = list(
        TitleTrend.objects.order_by("-score", "title_id").values_list(
            "title_id", "score"
        )[:300]
    )
    if not trending:
        # The periodic task has not run yet: computed here, not stored.
        scores = trending_scores(newest, events)
        trending = sorted(scores.items(), key=lambda p: (-p[1], p[0]))[:300]
    top10: list[int] = []
    for days in TOP10_WINDOWS if newest is not None else ():
        since = newest - timedelta(days=days)
        counts = Counter(t for t, at in events if at >= since)
        top10 = [t for t, _ in sorted(counts.items(), key=lambda p: (-p[1], p[0]))]
        if len(top10) >= TOP10_LENGTH:
            break
    return Charts(trending=tuple(trending), top10=tuple(top10[: 4 * TOP10_LENGTH]))
