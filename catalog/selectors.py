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
from django.core.cache import cache
from django.db import connection
from django.db.models import (
    Avg,
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    Func,
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
from django.db.models.functions import Coalesce, Greatest, Lower, Round
from django.db.models.lookups import Exact

from accounts.models import Profile
from activity.models import Feedback, Rating
from catalog.models import (
    Collection,
    CollectionItem,
    Genre,
    Season,
    Tag,
    Title,
    TitleQuerySet,
)
from catalog.search_index import fuzzy_matches

ROW_LENGTH = 20


#: Cache key of the catalog's version: part of every cached home row's key, so a
#: curator's change (availability, boost, a collection) shows on the next visit.
CATALOG_VERSION_KEY = "catalog:version"


def catalog_version() -> int:
    """The catalog's version, bumped by curators' changes (``catalog_changed``)."""
    return cache.get(CATALOG_VERSION_KEY, 0)


def titles_by_popularity(queryset: TitleQuerySet | None = None) -> TitleQuerySet:
    """Available titles, most rated first, with rating count and mean."""
    queryset = Title.objects.all() if queryset is None else queryset
    return (
        queryset.available()
        .annotate(rating_count=Count("ratings"), rating_mean=Avg("ratings__value"))
        .order_by("-rating_count", "sort_title", "id")
    )


# --- Most rated titles per genre (the onboarding grid's pool) ---------------

#: How long a ranked list's title ids (and the list of genres) stay in the
#: cache. They are the same for every grown-up profile (and for every kids
#: profile), and ranking a genre by its ratings reads every rating of it;
#: nothing invalidates them, they just expire.
ROW_CACHE_SECONDS = 5 * 60
HOME_GENRE_ROWS = 6
GENRE_ROW_PREFIX = "genre-"
_GENRE_SLUG_MAX = Genre._meta.get_field("slug").max_length


@dataclass(frozen=True)
class HomeRow:
    """A ranked list: ``popular``, ``new`` or ``genre-<slug>``, and its heading."""

    key: str
    name: str

    @property
    def genre_slug(self) -> str:
        """The genre of a "Popular in <Genre>" row, else ""."""
        if self.key.startswith(GENRE_ROW_PREFIX):
            return self.key.removeprefix(GENRE_ROW_PREFIX)
        return ""


class UnknownOnboardingSet(LookupError):
    """The onboarding grid has no set with this number."""


def _audience(profile: Profile | None) -> str:
    """What the cache keys rows by: kids profiles see other titles."""
    return "kids" if profile is not None and profile.is_kids else "all"


def home_rows(*, profile: Profile | None) -> list[HomeRow]:
    """The home page's rows, in order: "Popular on Marquee", "New releases",
    then "Popular in <Genre>" for the biggest genres the profile can see.

    Empty when the profile can see no title at all (an empty catalog).
    """
    cache_key = f"catalog:home-rows:{_audience(profile)}"
    rows = cache.get(cache_key)
    if rows is None:
        rows = _home_rows(profile)
        if rows:  # an empty catalog is cheap to ask again, and may be filled soon
            cache.set(cache_key, rows, ROW_CACHE_SECONDS)
    return [HomeRow(key, name) for key, name in rows]


def _home_rows(profile: Profile | None) -> list[tuple[str, str]]:
    visible = Title.objects.for_profile(profile)
    genres = list(
        Genre.objects.filter(titles__in=visible.values("pk"))
        .annotate(n=Count("titles"))
        .order_by("-n", "name")
        .values_list("slug", "name")[:HOME_GENRE_ROWS]
    )
    if not genres and not visible.exists():
        return []
    return [
        ("popular", "Popular on Marquee"),
        ("new", "New releases"),
        *((f"{GENRE_ROW_PREFIX}{slug}", f"Popular in {name}") for slug, name in genres),
    ]


#: A row as cached: its title ids, each with its rating count and mean.
_RowEntries = list[tuple[int, int, float | None]]


def _row(
    key: str, profile: Profile | None
) -> tuple[str, _RowEntries, list[Title] | None]:
    """The row's name and entries, and its titles when they had to be read."""
    slug = HomeRow(key, "").genre_slug
    if key not in ("popular", "new") and not 0 < len(slug) <= _GENRE_SLUG_MAX:
        raise LookupError(key)
    cache_key = f"catalog:row:{key}:{_audience(profile)}"
    cached = cache.get(cache_key)
    if cached is not None:
        name, entries = cached
        return name, entries, None
    visible = Title.objects.for_profile(profile)
    if key == "popular":
        name, titles = "Popular on Marquee", titles_by_popularity(visible)
    elif key == "new":
        name = "New releases"
        titles = _with_rating_stats(visible.filter(year__isnull=False)).order_by(
            "-year", "-added_at", "id"
        )
    else:
        genre = Genre.objects.filter(slug=slug).first()
        if genre is None:
            raise LookupError(key)
        name = f"Popular in {genre.name}"
        titles = titles_by_popularity(visible.filter(genres=genre))
    titles = list(titles[:ROW_LENGTH])
    entries = [(t.pk, t.rating_count, t.rating_mean) for t in titles]
    if entries:
        cache.set(cache_key, (name, entries), ROW_CACHE_SECONDS)
    return name, entries, titles


# --- Onboarding ---------------------------------------------------------------

#: A new profile picks at least this many titles before "Done".
ONBOARDING_MIN_PICKS = 3
#: Titles per genre in one set of the onboarding grid.
ONBOARDING_PER_GENRE = 4
ONBOARDING_SET_SIZE = ONBOARDING_PER_GENRE * HOME_GENRE_ROWS


@dataclass(frozen=True)
class OnboardingSet:
    """One set of the onboarding grid, and which set "Show me others" shows."""

    titles: list[Title]
    number: int
    count: int

    @property
    def next_number(self) -> int:
        return self.number % self.count + 1 if self.count else 1


def onboarding_set(*, profile: Profile, number: int = 1) -> OnboardingSet:
    """Set ``number`` (from 1) of well-known titles, spread across genres.

    The "Popular in <Genre>" rows of the home (the biggest genres the profile
    can see, most rated first, kids-safe for a kids profile) are dealt out by
    rank, each title once: set 1 holds about the four most rated titles of
    each genre, set 2 the next four, and so on. Raises
    :class:`UnknownOnboardingSet` for a set that does not exist.
    """
    pool = _onboarding_pool(profile)
    count = -(-len(pool) // ONBOARDING_SET_SIZE)
    if not 1 <= number <= max(count, 1):
        raise UnknownOnboardingSet(number)
    ids = pool[(number - 1) * ONBOARDING_SET_SIZE : number * ONBOARDING_SET_SIZE]
    found = Title.objects.for_profile(profile).in_bulk(ids)
    return OnboardingSet([found[pk] for pk in ids if pk in found], number, count)


def _onboarding_pool(profile: Profile) -> list[int]:
    keys = [
        row.key
        for row in home_rows(profile=profile)
        if row.key.startswith(GENRE_ROW_PREFIX)
    ] or ["popular"]
    ranked = [[pk for pk, _, _ in _row(key, profile)[1]] for key in keys]
    pool: dict[int, None] = {}
    for rank in range(ROW_LENGTH):
        for ids in ranked:
            if rank < len(ids):
                pool.setdefault(ids[rank])
    return list(pool)


def onboarding_picks(profile: Profile) -> set[int]:
    """The ids of the titles the profile picked at onboarding."""
    return set(
        Feedback.objects.filter(profile=profile, kind=Feedback.Kind.PICK).values_list(
            "title_id", flat=True
        )
    )


def profile_needs_onboarding(profile: Profile) -> bool:
    """A profile with no rating and no pick yet has told us nothing it likes."""
    return not (
        Rating.objects.filter(profile=profile).exists()
        or Feedback.objects.filter(profile=profile, kind=Feedback.Kind.PICK).exists()
    )


# --- Title page -------------------------------------------------------------


def title_detail(pk: int, *, profile: Profile | None) -> Title:
    """One title the profile may see (one query by primary key).

    Raises ``Title.DoesNotExist`` for an unknown or withdrawn title, and for
    one a kids profile may not see.
    """
    return Title.objects.for_profile(profile).get(pk=pk)


def seasons_of(title: Title) -> list[Season]:
    """A series' seasons in order, each with its episodes (two queries);
    empty for a film, or a series imported without episodes."""
    if title.kind != Title.Kind.SERIES:
        return []
    return list(
        Season.objects.filter(title=title)
        .prefetch_related("episodes")
        .order_by("number")
    )


@dataclass(frozen=True)
class TitleFacts:
    """What the title page shows besides the title row; the same for everyone."""

    genres: list[Genre]
    tags: list[Tag]
    viewer_tags: list[Tag]
    rating_count: int
    rating_mean: float | None


TITLE_FACTS_SECONDS = 300


def title_facts(title: Title) -> TitleFacts:
    """Genres, editorial and viewers' tags, rating count and mean, cached for
    five minutes per title: they change slowly and are public, and reading
    them is most of the title page's cost."""
    key = f"catalog:title-facts:{title.pk}"
    facts = cache.get(key)
    if facts is None:
        stats = Rating.objects.filter(title=title).aggregate(
            n=Count("id"), mean=Avg("value")
        )
        facts = TitleFacts(
            genres=list(title.genres.all()),
            tags=list(title.tags.all()),
            viewer_tags=title_viewer_tags(title),
            rating_count=stats["n"],
            rating_mean=stats["mean"],
        )
        cache.set(key, facts, TITLE_FACTS_SECONDS)
    return facts


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


def genres_with_counts(*, profile: Profile | None) -> QuerySet[Genre]:
    """Genres that hold at least one title the profile may see, with
    ``title_count``."""
    if profile is not None and profile.is_kids:
        visible = Q(titles__in=Title.objects.for_profile(profile).values("pk"))
    else:
        visible = Q(titles__is_available=True)
    return (
        Genre.objects.annotate(title_count=Count("titles", filter=visible))
        .filter(title_count__gt=0)
        .order_by("name")
    )


@dataclass(frozen=True)
class Facets:
    """The filter choices worth offering on one genre's page."""

    decades: list[int]
    has_runtimes: bool


def genre_facets(genre: Genre, *, profile: Profile | None) -> Facets:
    rows = (
        Title.objects.for_profile(profile)
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


def browse_titles(
    *,
    profile: Profile | None,
    query: str = "",
    sort: str | None = None,
    genre: Genre | None = None,
    decade: int | None = None,
    year: int | None = None,
    runtime: str = "",
    runtime_min: int | None = None,
    runtime_max: int | None = None,
    kind: str = "",
) -> QuerySet[Title]:
    """The titles the profile may see, filtered and in the order asked for,
    with ``rating_count`` and ``rating_mean``.

    A genre page asks for one genre; the API may add the other filters and a
    search ``query``, matched and ranked as the search page does
    (:func:`search_titles`). ``sort`` (:class:`Sort`) defaults to the best
    match first for a query, the most popular first otherwise.
    """
    if query:
        queryset = search_titles(query, profile=profile)
    else:
        queryset = _with_rating_stats(Title.objects.for_profile(profile))
    if genre is not None:
        queryset = queryset.filter(genres=genre)
    if decade is not None:
        queryset = queryset.filter(year__gte=decade, year__lte=decade + 9)
    if year is not None:
        queryset = queryset.filter(year=year)
    if runtime:
        queryset = queryset.filter(_RUNTIMES[Runtime(runtime)])
    if runtime_min is not None:
        queryset = queryset.filter(runtime_minutes__gte=runtime_min)
    if runtime_max is not None:
        queryset = queryset.filter(runtime_minutes__lte=runtime_max)
    if kind:
        queryset = queryset.filter(kind=kind)
    if sort is None:
        return queryset if query else _sorted(queryset, Sort.POPULAR)
    return _sorted(queryset, sort)


def _sorted(queryset: QuerySet[Title], sort: str) -> QuerySet[Title]:
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
#: Shorter queries are too short to guess what was meant.
MIN_FUZZY_QUERY = 3
_WORD = re.compile(r"[^\W_]+")


def clean_query(raw: str) -> tuple[str, bool]:
    """The query as searched (control characters dropped, spaces collapsed,
    at most ``MAX_QUERY_LENGTH`` characters) and whether it had to be cut."""
    text = " ".join("".join(c if c.isprintable() else " " for c in raw).split())
    return text[:MAX_QUERY_LENGTH].strip(), len(text) > MAX_QUERY_LENGTH


def _unaccent(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def search_titles(query: str, *, profile: Profile | None) -> QuerySet[Title]:
    """Titles the profile may see matching ``query``, best first.

    The words come first. On PostgreSQL a title matches when its search
    document (title weight A, alternative title B, genre names C; the last
    word may be half typed) matches every word; the rank adds the full-text
    rank (scaled to 0..1) to the strict word similarity of the title (or half
    that of the alternative title, if more). On SQLite every word must appear
    in the title or the alternative title (accents and case ignored, so a
    half-typed word matches too), and a title whose folded name is the query
    ranks first. Ranks that round to the same tenth are a tie, which the most
    rated title wins, so "star wars" lists the saga before the cartoon
    spin-off.

    When the words find nothing, on either database, the titles whose name is
    closest to the query are matched in Python (:mod:`catalog.search_index`),
    so "matrrix", "tiatnic" and "amelie" find their title; they are annotated
    ``fuzzy=True`` (the page then asks "Did you mean ...?"), ranked by
    closeness in steps of five points, then most rated first.
    """
    queryset = _with_rating_stats(Title.objects.for_profile(profile))
    # Both sides are unaccented and case folded.
    words = _WORD.findall(_unaccent(query).lower())[:MAX_QUERY_WORDS]
    if not words:
        return queryset.none()
    if connection.vendor == "postgresql":
        matches, ranked = _search_postgres(queryset, " ".join(words), words)
    else:
        matches, ranked = _search_sqlite(queryset, words)
    if len(" ".join(words)) < MIN_FUZZY_QUERY or matches.exists():
        return ranked.annotate(fuzzy=Value(False))
    return _search_fuzzy(queryset, query)


def _search_fuzzy(queryset: TitleQuerySet, query: str) -> QuerySet[Title]:
    steps = fuzzy_matches(query, version=catalog_version())
    if not steps:
        return queryset.none()
    return (
        queryset.filter(pk__in=list(steps))
        .annotate(
            fuzzy=Value(True),
            closeness=Case(
                *(When(pk=pk, then=Value(step)) for pk, step in steps.items()),
                default=Value(0),
                output_field=IntegerField(),
            ),
        )
        .order_by("-closeness", "-rating_count", "sort_title", "id")
    )


def _called(name, text: str) -> Case:
    """1 for a title called exactly what was typed ("heat", "the heat"): it
    comes first, on either database."""
    return Case(
        When(Q(Exact(name, text)) | Q(Exact(name, f"the {text}")), then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )


def _search_sqlite(
    queryset: TitleQuerySet, words: list[str]
) -> tuple[QuerySet[Title], QuerySet[Title]]:
    queryset = queryset.alias(
        folded_title=Func(F("title"), function="marquee_unaccent_lower"),
        folded_alternative=Func(
            F("alternative_title"), function="marquee_unaccent_lower"
        ),
    )
    genres = Title.genres.through.objects.filter(title_id=OuterRef("pk"))
    matches, named = queryset, Q()
    for word in words:
        in_name = Q(folded_title__contains=word) | Q(folded_alternative__contains=word)
        # As the search document holds genre names, after the titles' words.
        matches = matches.filter(
            in_name | Q(Exists(genres.filter(genre__name__icontains=word)))
        )
        named &= in_name
    ranked = matches.alias(
        exact=_called(F("folded_title"), " ".join(words)),
        named=Case(When(named, then=Value(1)), default=Value(0)),
    ).order_by("-exact", "-named", "-rating_count", "sort_title", "id")
    return matches, ranked


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
) -> tuple[QuerySet[Title], QuerySet[Title]]:
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
    matches = queryset.alias(document=_SEARCH_DOCUMENT).filter(document=search_query)
    ranked = (
        matches.alias(exact=_called(Lower("title"), text))
        .annotate(
            rank=SearchRank(F("document"), search_query, normalization=Value(32))
            + Greatest(
                TrigramStrictWordSimilarity(text, "title"),
                TrigramStrictWordSimilarity(text, "alternative_title") * 0.5,
            )
        )
        .order_by(
            "-exact",
            Round("rank", precision=1).desc(),
            "-rating_count",
            "sort_title",
            "id",
        )
    )
    return matches, ranked


#: SearchVector(title weight A, alternative title B, genre names C), kept in a
#: column by triggers on PostgreSQL (see migration 0002) and GIN indexed.
_SEARCH_DOCUMENT = RawSQL(
    '"catalog_title"."search_document"', [], output_field=SearchVectorField()
)


# --- Collections ----------------------------------------------------------------


def collections_for(*, profile: Profile | None) -> QuerySet[Collection]:
    """The curators' collections the profile may open, with ``title_count``.

    Those active now, for its audience as the home page has it (a kids
    collection for kids profiles only; one for lovers of chosen genres for
    grown-ups, whatever their taste), holding a title the profile may see.
    """
    audiences = [Collection.Audience.EVERYONE]
    if profile is not None and profile.is_kids:
        audiences.append(Collection.Audience.KIDS)
    else:
        audiences.append(Collection.Audience.GENRES)
    visible = Title.objects.for_profile(profile).values("pk")
    return (
        Collection.objects.active()
        .filter(audience__in=audiences)
        .annotate(title_count=Count("items", filter=Q(items__title__in=visible)))
        .filter(title_count__gt=0)
        .prefetch_related("audience_genres")
        .order_by("position", "name", "id")
    )


def collection_titles(
    collection: Collection, *, profile: Profile | None
) -> QuerySet[Title]:
    """The collection's titles the profile may see, in the curators' order,
    with ``rating_count``, ``rating_mean`` and their genres."""
    items = CollectionItem.objects.filter(collection=collection, title=OuterRef("pk"))
    return (
        _with_rating_stats(
            Title.objects.for_profile(profile).filter(collections=collection)
        )
        .annotate(
            item_position=Subquery(items.values("position")[:1]),
            item_id=Subquery(items.values("pk")[:1]),
        )
        .prefetch_related("genres")
        .order_by("item_position", "item_id")
    )
