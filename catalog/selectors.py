"""Reads of the catalog shared by views."""

import re
import unicodedata
from dataclasses import dataclass

from django.contrib.postgres.search import (
    SearchQuery,
    SearchRank,
    SearchVectorField,
    TrigramStrictWordSimilarity,
)
from django.db import connection
from django.db.models import (
    Avg,
    Case,
    Count,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextChoices,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, Greatest, Round

from activity.models import Rating
from catalog.models import Genre, Tag, Title, TitleQuerySet

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


# --- Title page -------------------------------------------------------------


def title_detail(pk: int) -> Title:
    """One available title with its genres, tags and rating count and mean.

    Raises ``Title.DoesNotExist`` for an unknown or withdrawn title.
    """
    return (
        Title.objects.available()
        .annotate(rating_count=Count("ratings"), rating_mean=Avg("ratings__value"))
        .prefetch_related("genres", "tags")
        .get(pk=pk)
    )


def title_viewer_tags(title: Title, limit: int = 12) -> list[Tag]:
    """The tags viewers put on this title most often (MovieLens tags.csv)."""
    return list(
        Tag.objects.filter(applications__title=title)
        .annotate(uses=Count("applications"))
        .order_by("-uses", "name")[:limit]
    )


def poster_fields(pk: int) -> tuple[str, int | None, list[str]]:
    """What a poster is drawn from: title, year and genre names, in one query.

    Raises ``Title.DoesNotExist`` for an unknown title.
    """
    rows = list(
        Title.objects.filter(pk=pk)
        .order_by("genres__name")
        .values_list("title", "year", "genres__name")
    )
    if not rows:
        raise Title.DoesNotExist(pk)
    title, year, _ = rows[0]
    return title, year, [genre for _, _, genre in rows if genre]


# --- Browse -----------------------------------------------------------------

PAGE_SIZE = 40
#: A title needs this many ratings before its mean can rank it under "Highest
#: rated" (fewer rank after, still by mean), so one 5★ does not win.
RATING_SORT_MIN_COUNT = 20


class Sort(TextChoices):
    POPULAR = "popular", "Most popular"
    RATING = "rating", "Highest rated"
    NEWEST = "newest", "Newest"
    AZ = "az", "A–Z"


class Runtime(TextChoices):
    SHORT = "short", "Under 90 min"
    MEDIUM = "medium", "90 to 120 min"
    LONG = "long", "Over 120 min"


_RUNTIMES = {
    Runtime.SHORT: Q(runtime_minutes__lt=90),
    Runtime.MEDIUM: Q(runtime_minutes__gte=90, runtime_minutes__lte=120),
    Runtime.LONG: Q(runtime_minutes__gt=120),
}


def genres_with_counts() -> QuerySet[Genre]:
    """Genres that hold at least one available title, with ``title_count``."""
    return (
        Genre.objects.annotate(
            title_count=Count("titles", filter=Q(titles__is_available=True))
        )
        .filter(title_count__gt=0)
        .order_by("name")
    )


@dataclass(frozen=True)
class Facets:
    """The filter choices worth offering on one genre's page."""

    decades: list[int]
    has_runtimes: bool


def genre_facets(genre: Genre) -> Facets:
    rows = (
        Title.objects.available()
        .filter(genres=genre)
        .annotate(
            decade=ExpressionWrapper(F("year") / 10 * 10, output_field=IntegerField())
        )
        .order_by()
        .values("decade")
        .annotate(with_runtime=Count("runtime_minutes"))
    )
    rows = list(rows)
    return Facets(
        decades=sorted(r["decade"] for r in rows if r["decade"] is not None),
        has_runtimes=any(r["with_runtime"] for r in rows),
    )


def genre_titles(
    genre: Genre,
    *,
    sort: str = Sort.POPULAR,
    decade: int | None = None,
    runtime: str = "",
) -> TitleQuerySet:
    """Available titles of a genre, filtered and in the order asked for."""
    queryset = _with_rating_stats(Title.objects.available().filter(genres=genre))
    if decade is not None:
        queryset = queryset.filter(year__gte=decade, year__lte=decade + 9)
    if runtime:
        queryset = queryset.filter(_RUNTIMES[Runtime(runtime)])
    if sort == Sort.RATING:
        return queryset.annotate(
            rated_enough=Case(
                When(rating_count__gte=RATING_SORT_MIN_COUNT, then=Value(1)),
                default=Value(0),
            )
        ).order_by(
            "-rated_enough",
            F("rating_mean").desc(nulls_last=True),
            "-rating_count",
            "sort_title",
            "id",
        )
    if sort == Sort.NEWEST:
        return queryset.order_by(
            F("year").desc(nulls_last=True), "-rating_count", "sort_title", "id"
        )
    if sort == Sort.AZ:
        return queryset.order_by("sort_title", "year", "id")
    return queryset.order_by("-rating_count", "sort_title", "id")


# --- Search -----------------------------------------------------------------

MAX_QUERY_LENGTH = 200
MAX_QUERY_WORDS = 8
SUGGESTIONS = 8
#: Shorter queries have too few trigrams to be worth a similarity search.
MIN_TRIGRAM_QUERY = 3
_WORD = re.compile(r"[^\W_]+")


def clean_query(raw: str) -> tuple[str, bool]:
    """The query as searched (control characters dropped, spaces collapsed,
    at most ``MAX_QUERY_LENGTH`` characters) and whether it had to be cut."""
    text = " ".join("".join(c if c.isprintable() else " " for c in raw).split())
    return text[:MAX_QUERY_LENGTH].strip(), len(text) > MAX_QUERY_LENGTH


def _unaccent(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def search_titles(query: str) -> QuerySet[Title]:
    """Available titles matching ``query``, best first.

    On PostgreSQL a title matches when its search document (title weight A,
    alternative title B, genre names C; the last word may be half typed)
    matches every word, or when the query is similar to a run of words of
    either title (trigram word similarity), so that "matrx" finds The Matrix.
    The rank adds the full-text rank (scaled to 0..1) to the strict word
    similarity of the title (or half that of the alternative title, if more);
    ranks that round to the same tenth are a tie, which the most rated title
    wins, so "star wars" lists the saga before the cartoon spin-off.

    Elsewhere every word must appear in the title or the alternative title,
    most rated first.
    """
    queryset = _with_rating_stats(Title.objects.available())
    if connection.vendor == "postgresql":
        # The document is unaccented; so are the query's words.
        words = _WORD.findall(_unaccent(query).lower())[:MAX_QUERY_WORDS]
        if not words:
            return Title.objects.none()
        return _search_postgres(queryset, " ".join(words), words)
    words = _WORD.findall(query.lower())[:MAX_QUERY_WORDS]
    if not words:
        return Title.objects.none()
    for word in words:
        queryset = queryset.filter(
            Q(title__icontains=word) | Q(alternative_title__icontains=word)
        )
    return queryset.order_by("-rating_count", "sort_title", "id")


def _with_rating_stats(queryset: TitleQuerySet) -> TitleQuerySet:
    """``rating_count`` and ``rating_mean`` by subquery rather than by a join:
    only the ratings of the titles shown (or sorted) are read, and counting
    the matches for the paginator does not read ratings at all."""
    ratings = Rating.objects.filter(title=OuterRef("pk")).order_by().values("title")
    return queryset.annotate(
        rating_count=Coalesce(
            Subquery(ratings.annotate(n=Count("*")).values("n")), Value(0)
        ),
        rating_mean=Subquery(ratings.annotate(mean=Avg("value")).values("mean")),
    )


def _search_postgres(
    queryset: TitleQuerySet, text: str, words: list[str]
) -> QuerySet[Title]:
    # Every word must match; the last one may be half typed, in a title (a
    # half-typed "c" should not match every comedy and crime film). A half
    # word is matched unstemmed too, and even when English calls it a stop
    # word ("s" on the way to "star").
    last = words[-1]
    search_query = SearchQuery(
        f"{last}:*AB | {last}", search_type="raw", config="english"
    ) | SearchQuery(f"{last}:*AB", search_type="raw", config="simple")
    if len(words) > 1:
        search_query &= SearchQuery(
            " & ".join(words[:-1]), search_type="raw", config="english"
        )
    matches = Q(document=search_query)
    if len(text) >= MIN_TRIGRAM_QUERY:
        matches |= Q(title__trigram_word_similar=text) | Q(
            alternative_title__trigram_word_similar=text
        )
    return (
        queryset.alias(document=_SEARCH_DOCUMENT)
        .filter(matches)
        .annotate(
            rank=SearchRank(F("document"), search_query, normalization=Value(32))
            + Greatest(
                TrigramStrictWordSimilarity(text, "title"),
                TrigramStrictWordSimilarity(text, "alternative_title") * 0.5,
            )
        )
        .order_by(
            Round("rank", precision=1).desc(), "-rating_count", "sort_title", "id"
        )
    )


#: SearchVector(title weight A, alternative title B, genre names C), kept in a
#: column by triggers on PostgreSQL (see migration 0002) and GIN indexed.
_SEARCH_DOCUMENT = RawSQL(
    '"catalog_title"."search_document"', [], output_field=SearchVectorField()
)
