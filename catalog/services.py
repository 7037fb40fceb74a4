"""Writes to the catalog: the MovieLens import and the demo catalog.

The import runs in one transaction, so a malformed file anywhere leaves the
database exactly as it was. Rows are upserted on their natural keys, which
makes a second run of the same files change nothing.
"""

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import TypeVar

from django.contrib.auth.hashers import make_password
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import AccountErasureInProgress, Profile, User
from activity.models import Rating, TagApplication
from catalog.demo import GENRES, DemoTitle, DemoViewer, generate_demo_catalog
from catalog.demo_episodes import DemoSeason, demo_seasons
from catalog.importers.movielens import (
    Layout,
    Movie,
    MovieLensFormatError,
    detect_layout,
    read_links,
    read_movies,
    read_ratings,
    read_tags,
)
from catalog.models import BOOST_MAX, BOOST_MIN, Episode, Genre, Season, Tag, Title
from catalog.selectors import CATALOG_VERSION_KEY
from catalog.titles import sort_title_for

T = TypeVar("T")
BATCH_SIZE = 5000
_TITLE_FIELDS = [
    "title",
    "sort_title",
    "alternative_title",
    "year",
    "end_year",
    "kind",
    "imdb_id",
    "tmdb_id",
]


@dataclass(frozen=True)
class ImportReport:
    layout: str
    titles: int
    titles_created: int
    profiles: int
    profiles_created: int
    ratings: int
    ratings_created: int
    tag_applications: int
    tag_applications_created: int


def _batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


class _Viewers:
    """Maps MovieLens user ids to profiles, creating accounts on first sight.

    Imported viewers get an account with no usable password and one profile;
    the e-mail address is derived from the source so that a re-import finds them.
    """

    def __init__(self, source: str, limit: int | None) -> None:
        self.source, self.limit = source, limit
        self.profile_ids: dict[int, int] = {}
        self.created = 0

    def email(self, user_id: int) -> str:
        return f"{self.source}-{user_id}@movielens.invalid"

    def resolve(self, user_ids: Iterable[int]) -> None:
        new = [u for u in dict.fromkeys(user_ids) if u not in self.profile_ids]
        if self.limit is not None:
            new = new[: max(0, self.limit - len(self.profile_ids))]
        if not new:
            return
        by_email = {self.email(u): u for u in new}
        for email, profile_id in (
            Profile.objects.filter(user__email__in=by_email)
            .order_by("user_id", "created_at", "id")
            .values_list("user__email", "id")
        ):
            self.profile_ids.setdefault(by_email.pop(email), profile_id)
        if not by_email:
            return
        users = User.objects.bulk_create(
            User(
                email=email, password=make_password(None), source=User.Source.MOVIELENS
            )
            for email in by_email
        )
        profiles = Profile.objects.bulk_create(
            Profile(user=user, name=f"Viewer {by_email[user.email]}") for user in users
        )
        for user, profile in zip(users, profiles, strict=True):
            self.profile_ids[by_email[user.email]] = profile.pk
        self.created += len(profiles)


def _genre_ids(movies: list[Movie]) -> dict[str, int]:
    names = {g for m in movies for g in m.genres}
    Genre.objects.bulk_create(
        [Genre(name=n, slug=slugify(n)) for n in sorted(names)], ignore_conflicts=True
    )
    return dict(Genre.objects.filter(name__in=names).values_list("name", "id"))


def _set_genres(title_genres: dict[int, set[int]]) -> None:
    through = Title.genres.through
    existing: dict[int, set[int]] = {}
    for title_id, genre_id in through.objects.filter(
        title_id__in=title_genres
    ).values_list("title_id", "genre_id"):
        existing.setdefault(title_id, set()).add(genre_id)
    stale = [
        (t, g) for t, gs in existing.items() for g in gs - title_genres.get(t, set())
    ]
    for t, g in stale:
        through.objects.filter(title_id=t, genre_id=g).delete()
    through.objects.bulk_create(
        [
            through(title_id=t, genre_id=g)
            for t, gs in title_genres.items()
            for g in gs - existing.get(t, set())
        ],
        batch_size=BATCH_SIZE,
    )


def _titles(
    movies: list[Movie], links: dict[int, tuple[str, int | None]]
) -> list[Title]:
    return [
        Title(
            movielens_id=m.movie_id,
            source=Title.Source.MOVIELENS,
            title=m.clean.title,
            sort_title=m.clean.sort_title,
            alternative_title=m.clean.alternative_title,
            year=m.clean.year,
            end_year=m.clean.end_year,
            kind=Title.Kind.SERIES if m.clean.is_series else Title.Kind.MOVIE,
            imdb_id=links.get(m.movie_id, ("", None))[0],
            tmdb_id=links.get(m.movie_id, ("", None))[1],
        )
        for m in movies
    ]


def _import_titles(layout: Layout) -> dict[int, int]:
    """Upserts the movies file; returns the file's movie id -> Title pk."""
    movies = list(read_movies(layout))
    links = {link.movie_id: (link.imdb_id, link.tmdb_id) for link in read_links(layout)}
    genre_ids = _genre_ids(movies)
    titles = _titles(movies, links)
    if layout.shares_movielens_ids:
        Title.objects.bulk_create(
            titles,
            batch_size=BATCH_SIZE,
            update_conflicts=True,
            unique_fields=["movielens_id"],
            update_fields=_TITLE_FIELDS,
        )
        by_ml_id = dict(
            Title.objects.filter(
                movielens_id__in=[m.movie_id for m in movies]
            ).values_list("movielens_id", "id")
        )
        ids = {m.movie_id: by_ml_id[m.movie_id] for m in movies}
    else:
        # ml-100k numbers items on its own: match titles by name and year.
        known = {
            (t.casefold(), y): pk
            for pk, t, y in Title.objects.values_list("id", "title", "year")
        }
        ids = {}
        for movie, title in zip(movies, titles, strict=True):
            key = (title.title.casefold(), title.year)
            if key not in known:
                title.movielens_id = None
                title.save()
                known[key] = title.pk
            ids[movie.movie_id] = known[key]
    _set_genres({ids[m.movie_id]: {genre_ids[g] for g in m.genres} for m in movies})
    return ids


def _title_id(
    titles: dict[int, int], layout_path: Path, line: int, movie_id: int
) -> int:
    try:
        return titles[movie_id]
    except KeyError:
        raise MovieLensFormatError(
            layout_path, line, f"movie id {movie_id} is not in the movies file"
        ) from None


def _import_ratings(
    layout: Layout,
    titles: dict[int, int],
    viewers: _Viewers,
    progress: Callable[[int], None],
) -> None:
    for batch in _batches(read_ratings(layout), BATCH_SIZE):
        viewers.resolve(r.user_id for r in batch)
        rows: dict[tuple[int, int], Rating] = {}
        for r in batch:
            title_id = _title_id(titles, layout.ratings, r.line, r.movie_id)
            profile_id = viewers.profile_ids.get(r.user_id)
            if profile_id is not None:
                rows[profile_id, title_id] = Rating(
                    profile_id=profile_id,
                    title_id=title_id,
                    value=r.value,
                    created_at=r.at,
                    updated_at=r.at,
                )
        Rating.objects.bulk_create(
            rows.values(),
            update_conflicts=True,
            unique_fields=["profile", "title"],
            update_fields=["value", "created_at", "updated_at"],
        )
        progress(len(batch))


def _import_tags(layout: Layout, titles: dict[int, int], viewers: _Viewers) -> None:
    if layout.tags is None:
        return
    for batch in _batches(read_tags(layout), BATCH_SIZE):
        names = {t.tag for t in batch}
        Tag.objects.bulk_create([Tag(name=n) for n in names], ignore_conflicts=True)
        tag_ids = dict(Tag.objects.filter(name__in=names).values_list("name", "id"))
        viewers.resolve(t.user_id for t in batch)
        rows = {}
        for t in batch:
            title_id = _title_id(titles, layout.tags, t.line, t.movie_id)
            profile_id = viewers.profile_ids.get(t.user_id)
            if profile_id is not None:
                key = (profile_id, title_id, tag_ids[t.tag])
                rows[key] = TagApplication(
                    profile_id=profile_id,
                    title_id=title_id,
                    tag_id=key[2],
                    created_at=t.at,
                )
        TagApplication.objects.bulk_create(rows.values(), ignore_conflicts=True)


def _counts(source: str) -> tuple[int, int, int, int]:
    imported = Profile.objects.filter(
        user__email__startswith=f"{source}-", user__source="movielens"
    )
    return (
        Title.objects.count(),
        imported.count(),
        Rating.objects.filter(profile__in=imported).count(),
        TagApplication.objects.filter(profile__in=imported).count(),
    )


def _refresh_planner_statistics() -> None:
    """ANALYZE after a bulk load, so PostgreSQL plans searches and pages with
    real row counts at once instead of waiting for autovacuum (a fresh import
    without it ran search 3x slower on a bitmap scan of every title)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "ANALYZE catalog_title, catalog_title_genres, catalog_genre, "
            "activity_rating, activity_tagapplication, accounts_profile"
        )


def movielens_import(
    *,
    folder: Path,
    source: str | None = None,
    limit_users: int | None = None,
    progress: Callable[[int], None] = lambda n: None,
) -> ImportReport:
    """Imports a MovieLens folder; all or nothing.

    ``source`` namespaces the imported viewers (default: the folder's name),
    so that two different MovieLens sets do not merge their user ids.
    Raises :class:`FileNotFoundError` or :class:`MovieLensFormatError`.
    """
    layout = detect_layout(folder)
    source = slugify(source or folder.resolve().name) or "movielens"
    with transaction.atomic():
        before = _counts(source)
        titles = _import_titles(layout)
        viewers = _Viewers(source, limit_users)
        _import_ratings(layout, titles, viewers, progress)
        _import_tags(layout, titles, viewers)
        after = _counts(source)
    _refresh_planner_statistics()
    return ImportReport(
        layout=layout.kind,
        titles=after[0],
        titles_created=after[0] - before[0],
        profiles=after[1],
        profiles_created=after[1] - before[1],
        ratings=after[2],
        ratings_created=after[2] - before[2],
        tag_applications=after[3],
        tag_applications_created=after[3] - before[3],
    )


@dataclass(frozen=True)
class DemoSeedReport:
    seed: int
    titles: int
    profiles: int
    ratings: int
    titles_replaced: int
    profiles_replaced: int


def _demo_catalog_delete() -> tuple[int, int]:
    """Deletes the demo titles and accounts; returns how many titles and profiles."""
    title_ids = list(
        Title.objects.filter(source=Title.Source.DEMO).values_list("pk", flat=True)
    )
    users = User.objects.filter(source=User.Source.DEMO)
    profiles = Profile.objects.filter(user__in=users).count()
    # Replacing the demo is an erasure of its invented accounts: the consent
    # log's database rule lets their lines go only with this marker in place.
    markers = AccountErasureInProgress.objects.bulk_create(
        [
            AccountErasureInProgress(user_id=pk)
            for pk in users.values_list("pk", flat=True)
        ]
    )
    users.delete()
    AccountErasureInProgress.objects.filter(
        user_id__in=[m.user_id for m in markers]
    ).delete()
    Title.objects.filter(pk__in=title_ids).delete()
    return len(title_ids), profiles


def _demo_titles_create(titles: Sequence[DemoTitle]) -> list[int]:
    Genre.objects.bulk_create(
        [Genre(name=n, slug=slugify(n)) for n in GENRES], ignore_conflicts=True
    )
    genre_ids = dict(Genre.objects.filter(name__in=GENRES).values_list("name", "id"))
    rows = Title.objects.bulk_create(
        [
            Title(
                kind=Title.Kind(t.kind),
                title=t.title,
                sort_title=sort_title_for(t.title),
                year=t.year,
                end_year=t.end_year,
                runtime_minutes=t.runtime_minutes,
                synopsis=t.synopsis,
                maturity_rating=Title.Maturity(t.maturity_rating),
                added_at=t.added_at,
                source=Title.Source.DEMO,
            )
            for t in titles
        ],
        batch_size=BATCH_SIZE,
    )
    pairs = list(zip(rows, titles, strict=True))
    Title.genres.through.objects.bulk_create(
        [
            Title.genres.through(title_id=row.pk, genre_id=genre_ids[g])
            for row, t in pairs
            for g in t.genres
        ],
        batch_size=BATCH_SIZE,
    )
    return [row.pk for row in rows]


def _demo_episodes_create(
    seasons: dict[int, tuple[DemoSeason, ...]], title_ids: list[int]
) -> None:
    """The series' seasons and episodes (MovieLens titles have none: the
    files hold films only)."""
    created = Season.objects.bulk_create(
        [
            Season(title_id=title_ids[index], number=season.number)
            for index, of_series in seasons.items()
            for season in of_series
        ],
        batch_size=BATCH_SIZE,
    )
    drafts = [season for of_series in seasons.values() for season in of_series]
    Episode.objects.bulk_create(
        [
            Episode(
                season_id=row.pk,
                number=e.number,
                title=e.title,
                runtime_minutes=e.runtime_minutes,
                synopsis=e.synopsis,
            )
            for row, season in zip(created, drafts, strict=True)
            for e in season.episodes
        ],
        batch_size=BATCH_SIZE,
    )


def _demo_viewers_create(viewers: Sequence[DemoViewer]) -> list[int]:
    """One account (no usable password) and one profile per viewer."""
    colors = list(Profile.AvatarColor)
    users = User.objects.bulk_create(
        [
            User(
                email=f"demo-{v.number}@demo.invalid",
                password=make_password(None),
                source=User.Source.DEMO,
                date_joined=v.joined_at,
            )
            for v in viewers
        ],
        batch_size=BATCH_SIZE,
    )
    profiles = Profile.objects.bulk_create(
        [
            Profile(
                user=user,
                name=v.name,
                avatar_color=colors[(v.number - 1) % len(colors)],
                created_at=v.joined_at,
            )
            for user, v in zip(users, viewers, strict=True)
        ],
        batch_size=BATCH_SIZE,
    )
    return [p.pk for p in profiles]


def demo_catalog_seed(
    *, seed: int, titles: int, viewers: int, until: datetime | None = None
) -> DemoSeedReport:
    """Replaces the demo catalog with the one ``seed`` generates; all or nothing.

    Re-running replaces rather than upserts: demo data is whatever carries the
    demo marks, accounts with ``source=demo`` (their profiles and activity go
    with them) and titles with ``source=demo``. Both are
    deleted and written afresh in the same transaction, so any number of runs,
    with one seed or several, leave exactly one demo catalog. Activity that
    other profiles recorded on demo titles goes with those titles. MovieLens
    titles, other accounts and the shared genres are left alone.

    The history ends at ``until``, by default the start of the current UTC
    day, so the same seed writes the same rows all day long.
    """
    if until is None:
        until = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    catalog = generate_demo_catalog(
        seed=seed, titles=titles, viewers=viewers, until=until
    )
    with transaction.atomic():
        titles_replaced, profiles_replaced = _demo_catalog_delete()
        title_ids = _demo_titles_create(catalog.titles)
        _demo_episodes_create(demo_seasons(catalog.titles, seed=seed), title_ids)
        profile_ids = _demo_viewers_create(catalog.viewers)
        Rating.objects.bulk_create(
            [
                Rating(
                    profile_id=profile_ids[r.viewer],
                    title_id=title_ids[r.title],
                    value=r.value,
                    created_at=r.rated_at,
                    updated_at=r.rated_at,
                )
                for r in catalog.ratings
            ],
            batch_size=BATCH_SIZE,
        )
    _refresh_planner_statistics()
    return DemoSeedReport(
        seed=seed,
        titles=len(title_ids),
        profiles=len(profile_ids),
        ratings=len(catalog.ratings),
        titles_replaced=titles_replaced,
        profiles_replaced=profiles_replaced,
    )


# --- curation --------------------------------------------------------------------


def catalog_changed() -> None:
    """Bumps the catalog's version after a curator's change (on commit)."""

    def bump() -> None:
        try:
            cache.incr(CATALOG_VERSION_KEY)
        except ValueError:
            cache.set(CATALOG_VERSION_KEY, int(timezone.now().timestamp()), None)

    transaction.on_commit(bump)


@transaction.atomic
def title_curate(
    *,
    titles: Iterable[Title],
    is_available: bool | None = None,
    boost: float | None = None,
) -> int:
    """Switches titles on or off and sets their boost (bounded, see ``Title.boost``).

    Unavailable titles leave every row on the next page view and every
    later training set. Returns how many titles were changed.
    """
    changes: dict = {}
    if is_available is not None:
        changes["is_available"] = is_available
    if boost is not None:
        if not BOOST_MIN <= boost <= BOOST_MAX:
            raise ValueError(f"Boost goes from {BOOST_MIN} to {BOOST_MAX}.")
        changes["boost"] = boost
    if not changes:
        return 0
    ids = [t.pk for t in titles]
    updated = Title.objects.filter(pk__in=ids).update(**changes)
    catalog_changed()
    return updated
