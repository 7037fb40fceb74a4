"""Reads of the recommender for pages: titles like a title ("More like this"),
the titles a profile asked not to seed rows."""

from dataclasses import dataclass

from django.db.models import Avg, Count, Exists, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from accounts.models import Profile
from activity.models import Feedback, Rating
from catalog.models import Title, TitleQuerySet
from recommendations.models import SeedExclusion
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
    """Titles the profile may see, minus this one and those it rated or turned down."""
    turned_down = Feedback.objects.filter(
        profile=profile,
        title=OuterRef("pk"),
        kind__in=[Feedback.Kind.NOT_INTERESTED, Feedback.Kind.THUMBS_DOWN],
    )
    rated = Rating.objects.filter(profile=profile, title=OuterRef("pk"))
    return (
        Title.objects.for_profile(profile)
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
            return SimilarTitles(titles, "model")
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
    return SimilarTitles(list(titles), "genres")


def excluded_seeds(profile: Profile) -> QuerySet[SeedExclusion]:
    """The titles ``profile`` asked not to seed "Because you…" rows, of those
    it may see (the kids rule), each with its title."""
    return SeedExclusion.objects.filter(
        profile=profile, title__in=Title.objects.for_profile(profile)
    ).select_related("title")
