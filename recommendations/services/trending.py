""" "Trending now": the events it counts, read from the database, and its table.

Each rating, viewing and My List addition of an available title counts,
decayed by its age (``engine.trending``: weight ``0.5 ** (age /
TRENDING_HALF_LIFE)``). The age is counted back from the newest activity in
the database rather than from the clock, so an imported catalog (MovieLens
ends in 2018) still trends. Events older than ``TRENDING_HORIZON``
half-lives (weight under 1/256) are not read.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from activity.models import ListItem, Rating, ViewingEvent
from recommendations.engine import trending
from recommendations.models import TitleTrend

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
    if events is None:
        events = activity_events(newest - TRENDING_HORIZON * TRENDING_HALF_LIFE)
    title_ids, scores = trending.trending_scores(
        newest.timestamp(),
        [title_id for title_id, _ in events],
        [at.timestamp() for _, at in events],
        half_life_days=TRENDING_HALF_LIFE / timedelta(days=1),
        horizon=TRENDING_HORIZON,
    )
    return dict(zip(title_ids.tolist(), scores.tolist(), strict=True))


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
