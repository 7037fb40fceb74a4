"""Reads of the recommender for pages: titles like a title ("More like this"),
the search suggestions' "For you" part, the titles a profile asked not to
seed rows. Each suggests titles, so each applies the profile's hard filters
(``activity.selectors.recommendable_for``) and moves "show fewer" titles down."""

from dataclasses import dataclass

import numpy as np
from django.db.models import Avg, Count, Exists, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from accounts.models import Profile
from activity.models import Feedback, Rating
from activity.selectors import recommendable_for, show_fewer_ids
from catalog.models import Title, TitleQuerySet
from consent.policy import settings_for
from recommendations.engine import rerank
from recommendations.models import ProfileCandidates, SeedExclusion
from recommendations.services import training

MORE_LIKE_THIS = 20
#: Neighbours read from the model per title shown, so that titles the profile
#: already rated or hid (or may not see) still leave a full row.
_OVERFETCH = 3


def similar_title_ids(title_id: int, limit: int) -> list[int] | None:
    """The active model's nearest titles to ``title_id``, most similar first
    (``Recommender.nearest``, new titles included), from the model that
    serves (a version whose file fails falls back to the one before it).
    ``None`` when no model serves or the title is not in it.
    """
    serving = training.serving_model()
    if serving is None:
        return None
    model = serving[1]
    if model.columns([title_id])[0] < 0:
        return None
    title_ids, _ = model.nearest(title_id, limit)
    return title_ids.tolist()


@dataclass(frozen=True)
class SimilarTitles:
    titles: list[Title]
    #: "model" (people who watched it also watched...) or "genres" (the fallback).
    source: str


def _with_rating_stats(titles: TitleQuerySet) -> TitleQuerySet:
    ratings = Rating.objects.filter(title=OuterRef("pk")).order_by().values("title")
    return titles.annotate(
        rating_count=Coalesce(
            Subquery(ratings.annotate(n=Count("*")).values("n")), Value(0)
        ),
        rating_mean=Subquery(ratings.annotate(mean=Avg("value")).values("mean")),
    )


def _showable(profile: Profile, title: Title) -> TitleQuerySet:
    """Titles that may be suggested to the profile (its hard filters applied:
    hidden genres, "not interested"), minus this one and those it rated or
    gave a thumbs down."""
    turned_down = Feedback.objects.filter(
        profile=profile,
        title=OuterRef("pk"),
        kind__in=[Feedback.Kind.NOT_INTERESTED, Feedback.Kind.THUMBS_DOWN],
    )
    rated = Rating.objects.filter(profile=profile, title=OuterRef("pk"))
    return (
        recommendable_for(profile)
        .exclude(pk=title.pk)
        .exclude(Exists(rated))
        .exclude(Exists(turned_down))
    )


def more_like_this(
    profile: Profile, title: Title, limit: int = MORE_LIKE_THIS
) -> SimilarTitles:
    """Titles like ``title`` for this profile, with rating count and mean.

    From the active model's neighbours of the title; when there is no model,
    the title is not in it, or none of its neighbours is left, the most rated
    titles sharing the most genres with it. Either way only titles the
    profile may see, and none it already rated, hid or gave a thumbs down.
    """
    neighbour_ids = similar_title_ids(title.pk, limit * _OVERFETCH)
    if neighbour_ids:
        found = {
            t.pk: t
            for t in _with_rating_stats(_showable(profile, title)).filter(
                pk__in=neighbour_ids
            )
        }
        titles = [found[pk] for pk in neighbour_ids if pk in found][:limit]
        if titles:
            return SimilarTitles(fewer_last(profile, titles), "model")
    genre_ids = [genre.pk for genre in title.genres.all()]
    if not genre_ids:
        return SimilarTitles([], "genres")
    through = Title.genres.through.objects.filter(
        title_id=OuterRef("pk"), genre_id__in=genre_ids
    ).order_by()
    shared = Subquery(through.values("title_id").annotate(n=Count("*")).values("n")[:1])
    titles = (
        _with_rating_stats(_showable(profile, title).filter(Exists(through)))
        .annotate(shared_genres=shared)
        .order_by("-shared_genres", "-rating_count", "sort_title", "id")[:limit]
    )
    return SimilarTitles(fewer_last(profile, list(titles)), "genres")


def fewer_last(
    profile: Profile, titles: list[Title], fewer: frozenset[int] | None = None
) -> list[Title]:
    """``titles`` (best first) with those like the ones the profile asked to
    see fewer like (``fewer``, read when not given) moved down
    (``engine.rerank.show_fewer_adjust``, on the titles' genres); none is
    removed. Unchanged when it asked for none."""
    if fewer is None:
        fewer = show_fewer_ids(profile)
    if not fewer or not titles:
        return titles
    ids = [t.pk for t in titles]
    pairs = Title.genres.through.objects.filter(
        title_id__in=[*ids, *fewer]
    ).values_list("title_id", "genre_id")
    columns: dict[int, int] = {}
    rows: dict[int, list[int]] = {}
    for title_id, genre_id in pairs:
        rows.setdefault(title_id, []).append(columns.setdefault(genre_id, len(columns)))

    def features(title_ids) -> np.ndarray:
        out = np.zeros((len(title_ids), max(len(columns), 1)))
        for n, t in enumerate(title_ids):
            out[n, rows.get(t, [])] = 1.0
        return out

    similarity = rerank.show_fewer_similarity(features(ids), features(sorted(fewer)))
    similarity[[n for n, t in enumerate(ids) if t in fewer]] = 1.0
    scores = rerank.show_fewer_adjust(
        np.arange(len(ids), 0, -1, dtype=np.float64), similarity
    )
    return [titles[n] for n in np.argsort(-scores, kind="stable")]


#: How many of the search suggestions are the profile's own ("For you").
FOR_YOU_SUGGESTIONS = 3


def suggestions_for_you(
    profile: Profile | None, matches: TitleQuerySet, limit: int = FOR_YOU_SUGGESTIONS
) -> list[Title]:
    """The search suggestions' "For you" part: of the titles matching what the
    viewer types, those among the profile's stored candidates, best first,
    its hard filters applied (never a hidden genre or a "not interested"
    title) and "show fewer" ones moved down. Empty for a visitor, with
    personalization off, or before the profile's first scoring."""
    if profile is None or not settings_for(profile).personalization:
        return []
    stored = (
        ProfileCandidates.objects.filter(profile=profile)
        .values_list("title_ids", flat=True)
        .first()
    )
    if not stored:
        return []
    rank = {t: n for n, t in enumerate(stored)}
    found = matches.filter(pk__in=stored).filter(
        pk__in=recommendable_for(profile).values("pk")
    )
    titles = sorted(found[: len(stored)], key=lambda t: rank[t.pk])
    return fewer_last(profile, titles)[:limit]


def excluded_seeds(profile: Profile) -> QuerySet[SeedExclusion]:
    """The titles ``profile`` asked not to seed "Because you…" rows, of those
    it may see (the kids rule), each with its title."""
    return SeedExclusion.objects.filter(
        profile=profile, title__in=Title.objects.for_profile(profile)
    ).select_related("title")
