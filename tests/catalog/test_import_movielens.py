"""The ``import_movielens`` command and the ``movielens_import`` service.

The real ml-latest-small copy is read in place (never copied). The small
folders from ``movielens_samples`` are written by hand in each layout's format; the
malformed cases copy one of them into ``tmp_path`` and break one line.
"""

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from accounts.models import Profile, User
from activity.models import Rating, TagApplication
from catalog.models import Genre, Tag, Title
from tests.catalog.movielens_samples import write_samples

FIXTURES = write_samples()
ML_100K = FIXTURES / "ml-100k"
ML_1M = FIXTURES / "ml-1m"
ML_TINY = FIXTURES / "ml-latest-tiny"

NOTHING = {
    "users": 0,
    "profiles": 0,
    "titles": 0,
    "genres": 0,
    "ratings": 0,
    "tags": 0,
    "tag_applications": 0,
}


def at(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)


def import_movielens(path: Path, *args: str) -> str:
    out = StringIO()
    call_command("import_movielens", path, *args, verbosity=0, stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    return {
        "users": User.objects.count(),
        "profiles": Profile.objects.count(),
        "titles": Title.objects.count(),
        "genres": Genre.objects.count(),
        "ratings": Rating.objects.count(),
        "tags": Tag.objects.count(),
        "tag_applications": TagApplication.objects.count(),
    }


def titles() -> dict[str, tuple]:
    """Display title -> (year, end year, kind, alternative, sort title, genres)."""
    return {
        t.title: (
            t.year,
            t.end_year,
            t.kind,
            t.alternative_title,
            t.sort_title,
            sorted(g.name for g in t.genres.all()),
        )
        for t in Title.objects.prefetch_related("genres")
    }


def ratings() -> list[tuple[str, str, float, datetime]]:
    return sorted(
        Rating.objects.values_list(
            "profile__user__email", "title__title", "value", "created_at"
        )
    )


# --- The real copy: imported twice, once per module ------------------------


@dataclass(frozen=True)
class Snapshot:
    """What the database held after one import of ml-latest-small."""

    output: str
    counts: dict[str, int]
    movielens_users: int
    usable_passwords: int
    profiles_per_user: set[int]
    titles: dict[int, tuple]
    genres: dict[int, list[str]]
    ratings: dict[tuple[str, int], tuple[float, datetime, datetime]]


def snapshot(output: str) -> Snapshot:
    genres: dict[int, list[str]] = {}
    for movielens_id, name in Title.genres.through.objects.order_by(
        "title__movielens_id", "genre__name"
    ).values_list("title__movielens_id", "genre__name"):
        genres.setdefault(movielens_id, []).append(name)
    return Snapshot(
        output=output,
        counts=row_counts(),
        movielens_users=User.objects.filter(source=User.Source.MOVIELENS).count(),
        usable_passwords=sum(u.has_usable_password() for u in User.objects.all()),
        profiles_per_user={u.profiles.count() for u in User.objects.all()},
        titles={
            t[0]: t[1:]
            for t in Title.objects.values_list(
                "movielens_id",
                "title",
                "sort_title",
                "alternative_title",
                "year",
                "end_year",
                "kind",
                "imdb_id",
                "tmdb_id",
            )
        },
        genres=genres,
        ratings={
            (email, movie): (value, created, updated)
            for email, movie, value, created, updated in Rating.objects.values_list(
                "profile__user__email",
                "title__movielens_id",
                "value",
                "created_at",
                "updated_at",
            )
        },
    )


@pytest.fixture(scope="module")
def real_imports(
    django_db_setup, django_db_blocker, ml_latest_small
) -> tuple[Snapshot, Snapshot]:
    """Imports ml-latest-small twice (about 7 s each), then rolls both back.

    The tests read the snapshots, so the rest of the module starts from an
    empty database however pytest orders it.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        first = snapshot(import_movielens(ml_latest_small))
        second = snapshot(import_movielens(ml_latest_small))
        transaction.set_rollback(True)
    return first, second


def test_real_copy_imports_every_title_viewer_rating_and_tag(
    real_imports, ml_latest_small
):
    first, _ = real_imports

    assert first.counts == {
        "users": 671,
        "profiles": 671,
        "titles": 9125,
        "genres": 19,
        "ratings": 100004,
        "tags": 582,
        "tag_applications": 1296,
    }
    assert first.output == (
        f"Imported {ml_latest_small} (csv format): 9125 titles (9125 new), "
        "671 viewers (671 new), 100004 ratings (100004 new), "
        "1296 tag applications (1296 new).\n"
    )


def test_real_copy_viewers_are_movielens_accounts_without_a_password(real_imports):
    first, _ = real_imports

    assert first.movielens_users == 671
    assert first.usable_passwords == 0
    assert first.profiles_per_user == {1}


def test_real_copy_toy_story_has_its_genres_and_links(real_imports):
    first, _ = real_imports

    assert first.titles[1] == (
        "Toy Story",
        "toy story",
        "",
        1995,
        None,
        "movie",
        "tt0114709",
        862,
    )
    assert first.genres[1] == [
        "Adventure",
        "Animation",
        "Children",
        "Comedy",
        "Fantasy",
    ]


def test_real_copy_stores_the_matrix_with_its_article_in_front(real_imports):
    first, _ = real_imports

    assert first.titles[2571] == (
        "The Matrix",
        "matrix",
        "",
        1999,
        None,
        "movie",
        "tt0133093",
        603,
    )


def test_real_copy_ratings_keep_their_original_timestamps(real_imports):
    first, _ = real_imports
    rated_at = datetime(2009, 12, 14, 2, 52, 24, tzinfo=UTC)

    assert first.ratings["ml-latest-small-1@movielens.invalid", 31] == (
        2.5,
        rated_at,
        rated_at,
    )


def test_real_copy_imported_twice_changes_nothing(real_imports, ml_latest_small):
    first, second = real_imports

    assert second.counts == first.counts
    assert second.titles == first.titles
    assert second.genres == first.genres
    assert second.ratings == first.ratings
    assert second.output == (
        f"Imported {ml_latest_small} (csv format): 9125 titles (0 new), "
        "671 viewers (0 new), 100004 ratings (0 new), "
        "1296 tag applications (0 new).\n"
    )


# --- Hand-written fixtures, one per layout ----------------------------------


@pytest.mark.django_db
def test_csv_folder_imports_titles_links_ratings_and_tags():
    import_movielens(ML_TINY)

    assert titles() == {
        "Toy Story": (
            1995,
            None,
            "movie",
            "",
            "toy story",
            ["Adventure", "Animation", "Children", "Comedy", "Fantasy"],
        ),
        "Seven": (1995, None, "movie", "Se7en", "seven", ["Mystery", "Thriller"]),
        "The Matrix": (
            1999,
            None,
            "movie",
            "",
            "matrix",
            ["Action", "Sci-Fi", "Thriller"],
        ),
        "Fawlty Towers": (1975, 1979, "series", "", "fawlty towers", ["Comedy"]),
        "Hyena Road": (None, None, "movie", "", "hyena road", []),
    }
    assert sorted(Title.objects.values_list("movielens_id", "imdb_id", "tmdb_id")) == [
        (1, "tt0114709", 862),
        (47, "tt0114369", 807),
        (2571, "tt0133093", 603),
        (108583, "tt0072500", None),
        (149532, "tt4172224", None),
    ]
    assert Rating.objects.count() == 12
    assert Profile.objects.count() == 7
    assert sorted(
        TagApplication.objects.values_list(
            "profile__user__email", "title__title", "tag__name", "created_at"
        )
    ) == [
        (
            "ml-latest-tiny-1@movielens.invalid",
            "The Matrix",
            "philosophy",
            at(1500075957),
        ),
        (
            "ml-latest-tiny-2@movielens.invalid",
            "Seven",
            "serial killer",
            at(1500036170),
        ),
        ("ml-latest-tiny-2@movielens.invalid", "Seven", "twist ending", at(1500032553)),
        ("ml-latest-tiny-7@movielens.invalid", "Toy Story", "pixar", at(1500018085)),
    ]


@pytest.mark.django_db
def test_100k_folder_imports_latin1_titles_genres_and_ratings():
    output = import_movielens(ML_100K)

    assert titles() == {
        "Toy Story": (
            1995,
            None,
            "movie",
            "",
            "toy story",
            ["Animation", "Children", "Comedy"],
        ),
        "Les Misérables": (
            1995,
            None,
            "movie",
            "",
            "misérables",
            ["Drama", "Musical"],
        ),
        "The Third Man": (
            1949,
            None,
            "movie",
            "",
            "third man",
            ["Film-Noir", "Mystery", "Thriller"],
        ),
        "Unforgiven": (1992, None, "movie", "", "unforgiven", ["Western"]),
        "Lamerica": (1994, None, "movie", "", "lamerica", ["Drama"]),
    }
    assert list(Title.objects.values_list("movielens_id", flat=True)) == [None] * 5
    assert ratings() == [
        ("ml-100k-1@movielens.invalid", "Les Misérables", 4.0, at(1500047021)),
        ("ml-100k-1@movielens.invalid", "Toy Story", 5.0, at(1500043404)),
        ("ml-100k-2@movielens.invalid", "The Third Man", 5.0, at(1500065106)),
        ("ml-100k-2@movielens.invalid", "Toy Story", 3.0, at(1500061489)),
        ("ml-100k-3@movielens.invalid", "Lamerica", 4.0, at(1500057872)),
        ("ml-100k-3@movielens.invalid", "Les Misérables", 1.0, at(1500054255)),
        ("ml-100k-3@movielens.invalid", "Unforgiven", 2.0, at(1500050638)),
    ]
    assert output == (
        f"Imported {ML_100K} (100k format): 5 titles (5 new), 3 viewers (3 new), "
        "7 ratings (7 new), 0 tag applications (0 new).\n"
    )


@pytest.mark.django_db
def test_100k_folder_imported_twice_changes_nothing():
    import_movielens(ML_100K)
    counts, before_titles, before_ratings = row_counts(), titles(), ratings()

    output = import_movielens(ML_100K)

    assert row_counts() == counts
    assert titles() == before_titles
    assert ratings() == before_ratings
    assert output == (
        f"Imported {ML_100K} (100k format): 5 titles (0 new), 3 viewers (0 new), "
        "7 ratings (0 new), 0 tag applications (0 new).\n"
    )


@pytest.mark.django_db
def test_100k_titles_join_existing_titles_of_the_same_name_and_year():
    import_movielens(ML_1M)
    toy_story = Title.objects.get(title="Toy Story")

    import_movielens(ML_100K)

    assert Title.objects.count() == 8
    assert sorted(
        Rating.objects.filter(title=toy_story).values_list(
            "profile__user__email", "value"
        )
    ) == [
        ("ml-100k-1@movielens.invalid", 5.0),
        ("ml-100k-2@movielens.invalid", 3.0),
        ("ml-1m-1@movielens.invalid", 5.0),
    ]


@pytest.mark.django_db
def test_1m_folder_imports_latin1_titles_genres_and_ratings():
    import_movielens(ML_1M)

    assert titles() == {
        "Toy Story": (
            1995,
            None,
            "movie",
            "",
            "toy story",
            ["Animation", "Children", "Comedy"],
        ),
        "La Cité des enfants perdus": (
            1995,
            None,
            "movie",
            "",
            "cité des enfants perdus",
            ["Adventure", "Sci-Fi"],
        ),
        "Cinema Paradiso": (
            1988,
            None,
            "movie",
            "Nuovo cinema Paradiso",
            "cinema paradiso",
            ["Comedy", "Drama", "Romance"],
        ),
        "The Matrix": (
            1999,
            None,
            "movie",
            "",
            "matrix",
            ["Action", "Sci-Fi", "Thriller"],
        ),
    }
    assert sorted(Title.objects.values_list("movielens_id", flat=True)) == [
        1,
        29,
        1172,
        2571,
    ]
    assert ratings() == [
        ("ml-1m-1@movielens.invalid", "The Matrix", 4.0, at(1500094042)),
        ("ml-1m-1@movielens.invalid", "Toy Story", 5.0, at(1500090425)),
        ("ml-1m-2@movielens.invalid", "Cinema Paradiso", 5.0, at(1500083191)),
        (
            "ml-1m-2@movielens.invalid",
            "La Cité des enfants perdus",
            3.0,
            at(1500079574),
        ),
        ("ml-1m-2@movielens.invalid", "The Matrix", 5.0, at(1500086808)),
    ]


@pytest.mark.django_db
def test_csv_files_saved_with_a_byte_order_mark_are_read(tmp_path):
    folder = tmp_path / ML_TINY.name
    shutil.copytree(ML_TINY, folder)
    for path in folder.iterdir():
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())

    output = import_movielens(folder)

    assert output == (
        f"Imported {folder} (csv format): 5 titles (5 new), 7 viewers (7 new), "
        "12 ratings (12 new), 4 tag applications (4 new).\n"
    )


@pytest.mark.django_db
def test_limit_users_imports_only_the_first_viewers_and_their_ratings():
    output = import_movielens(ML_TINY, "--limit-users", "5")

    assert sorted(Profile.objects.values_list("user__email", flat=True)) == [
        f"ml-latest-tiny-{n}@movielens.invalid" for n in range(1, 6)
    ]
    assert [(e.split("@")[0], t, v) for e, t, v, _ in ratings()] == [
        ("ml-latest-tiny-1", "The Matrix", 5.0),
        ("ml-latest-tiny-1", "Toy Story", 4.0),
        ("ml-latest-tiny-2", "Fawlty Towers", 4.5),
        ("ml-latest-tiny-2", "Seven", 3.5),
        ("ml-latest-tiny-3", "Hyena Road", 2.0),
        ("ml-latest-tiny-3", "Toy Story", 0.5),
        ("ml-latest-tiny-4", "The Matrix", 3.0),
        ("ml-latest-tiny-5", "Seven", 4.0),
        ("ml-latest-tiny-5", "Toy Story", 2.5),
    ]
    assert TagApplication.objects.count() == 3
    assert output == (
        f"Imported {ML_TINY} (csv format): 5 titles (5 new), 5 viewers (5 new), "
        "9 ratings (9 new), 3 tag applications (3 new).\n"
    )


@pytest.mark.django_db
def test_limit_users_below_one_is_refused():
    with pytest.raises(CommandError) as error:
        import_movielens(ML_TINY, "--limit-users", "0")

    assert str(error.value) == "--limit-users must be at least 1."
    assert row_counts() == NOTHING


# --- Refused imports --------------------------------------------------------


def broken_copy(tmp_path: Path, source: Path, name: str, line: int, text: str) -> Path:
    """A copy of ``source`` in which line ``line`` of file ``name`` reads ``text``."""
    folder = tmp_path / source.name
    shutil.copytree(source, folder)
    path = folder / name
    lines = path.read_bytes().decode("latin-1").splitlines()
    lines[line - 1] = text
    path.write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
    return folder


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("source", "name", "line", "text", "message"),
    [
        pytest.param(
            ML_TINY,
            "ratings.csv",
            1,
            "userId,movieId,timestamp",
            "missing column rating (found userId, movieId, timestamp)",
            id="csv-header-missing-column",
        ),
        pytest.param(
            ML_TINY,
            "ratings.csv",
            13,
            "7,47,7,1500014468",
            "rating 7 is outside 0.5–5.0 in half stars",
            id="csv-rating-7",
        ),
        pytest.param(
            ML_TINY,
            "ratings.csv",
            13,
            "7,47,3.3,1500014468",
            "rating 3.3 is outside 0.5–5.0 in half stars",
            id="csv-rating-3.3",
        ),
        pytest.param(
            ML_TINY,
            "ratings.csv",
            13,
            "7,abc,3.0,1500014468",
            "movie id must be a whole number, got 'abc'",
            id="csv-movie-id-text",
        ),
        pytest.param(
            ML_TINY,
            "ratings.csv",
            13,
            "7,999,3.0,1500014468",
            "movie id 999 is not in the movies file",
            id="csv-unknown-movie",
        ),
        pytest.param(
            ML_TINY,
            "ratings.csv",
            13,
            "7,47,3.0",
            "expected 4 fields, found 3",
            id="csv-short-row",
        ),
        pytest.param(
            ML_TINY,
            "movies.csv",
            4,
            "47,Another Seven (2001),Drama",
            "movie id 47 repeats line 3",
            id="csv-duplicate-movie-id",
        ),
        pytest.param(
            ML_TINY,
            "tags.csv",
            5,
            "7,999,pixar,1500018085",
            "movie id 999 is not in the movies file",
            id="csv-tag-unknown-movie",
        ),
        pytest.param(
            ML_TINY,
            "movies.csv",
            6,
            "abc,Hyena Road,(no genres listed)",
            "movieId must be a whole number, got 'abc'",
            id="csv-movie-id-text-in-movies",
        ),
        pytest.param(
            ML_1M,
            "ratings.dat",
            5,
            "2::2571::5",
            "expected 4 fields separated by '::', found 3",
            id="dat-ratings-field-count",
        ),
        pytest.param(
            ML_1M,
            "movies.dat",
            3,
            "1172::Cinema Paradiso (1988)",
            "expected 3 fields separated by '::', found 2",
            id="dat-movies-field-count",
        ),
        pytest.param(
            ML_1M,
            "ratings.dat",
            5,
            "2::2571::6::1500086808",
            "rating 6 is outside 0.5–5.0 in half stars",
            id="dat-rating-6",
        ),
        pytest.param(
            ML_100K,
            "u.data",
            7,
            "3\t5\t4",
            "expected 4 fields separated by '\\t', found 3",
            id="100k-data-field-count",
        ),
        pytest.param(
            ML_100K,
            "u.data",
            7,
            "3\t6\t4\t1500057872",
            "movie id 6 is not in the movies file",
            id="100k-unknown-item",
        ),
    ],
)
def test_malformed_file_is_refused_naming_file_and_line_and_imports_nothing(
    tmp_path, source, name, line, text, message
):
    folder = broken_copy(tmp_path, source, name, line, text)

    with pytest.raises(CommandError) as error:
        import_movielens(folder)

    assert str(error.value) == (
        f"{folder / name}, line {line}: {message}. Nothing was imported."
    )
    assert row_counts() == NOTHING


@pytest.mark.django_db
def test_failed_reimport_leaves_the_earlier_import_as_it_was(tmp_path):
    folder = broken_copy(tmp_path, ML_TINY, "ratings.csv", 13, "7,47,7,1500014468")
    import_movielens(ML_TINY, "--source", "ml-latest-tiny")
    counts, before_titles, before_ratings = row_counts(), titles(), ratings()
    (folder / "ratings.csv").write_text(
        (folder / "ratings.csv").read_text().replace("1,1,4.0,", "1,1,1.0,")
    )

    with pytest.raises(CommandError):
        import_movielens(folder, "--source", "ml-latest-tiny")

    assert row_counts() == counts
    assert titles() == before_titles
    assert ratings() == before_ratings


@pytest.mark.django_db
def test_folder_without_movielens_files_is_refused(tmp_path):
    (tmp_path / "README.txt").write_text("not a MovieLens set\n")

    with pytest.raises(CommandError) as error:
        import_movielens(tmp_path)

    assert str(error.value) == (
        f"No MovieLens files in {tmp_path}: expected movies.csv + ratings.csv "
        "(ml-latest, ml-20m, ml-25m), u.item + u.data (ml-100k) or "
        "movies.dat + ratings.dat (ml-1m, ml-10m)."
    )
    assert row_counts() == NOTHING


@pytest.mark.django_db
def test_missing_folder_is_refused(tmp_path):
    with pytest.raises(CommandError) as error:
        import_movielens(tmp_path / "ml-missing")

    assert str(error.value) == f"{tmp_path / 'ml-missing'} is not a folder."
    assert row_counts() == NOTHING
