"""Reads of the catalog shared by views."""

from dataclasses import dataclass

from django.db.models import Avg, Count

from catalog.models import Genre, Title, TitleQuerySet

ROW_LENGTH = 20


@dataclass(frozen=True)
class Row:
    name: str
    titles: list[Title]


def titles_by_popularity(queryset: TitleQuerySet | None = None) -> TitleQuerySet:
    """Available titles, most rated first, with rating count and mean."""
    queryset = Title.objects.all() if queryset is None else queryset
    return (
        queryset.available()
        .annotate(rating_count=Count("ratings"), rating_mean=Avg("ratings__value"))
        .order_by("-rating_count", "sort_title", "id")
    )


def landing_rows(genre_rows: int = 6) -> list[Row]:
    """Non-personalized rows: popular, newest, then the biggest genres."""
    rows = [
        Row("Popular on Marquee", list(titles_by_popularity()[:ROW_LENGTH])),
        Row(
            "New releases",
            list(
                Title.objects.available()
                .filter(year__isnull=False)
                .order_by("-year", "-added_at", "id")[:ROW_LENGTH]
            ),
        ),
    ]
    genres = (
        Genre.objects.annotate(n=Count("titles")).filter(n__gt=0).order_by("-n", "name")
    )
    for genre in genres[:genre_rows]:
        titles = titles_by_popularity(Title.objects.filter(genres=genre))[:ROW_LENGTH]
        rows.append(Row(f"Popular in {genre.name}", list(titles)))
    return [row for row in rows if row.titles]
