"""The demo catalog: the pure generator (no database) and ``seed_demo``.

Sizes are small (200 titles, 30 viewers) so that every test runs in well
under a second; the generator's defaults are the same code at a larger size.
"""

from collections import Counter
from datetime import UTC, datetime
from io import StringIO

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from accounts.models import Profile, User
from activity.models import RATING_VALUES, Rating
from catalog.demo import (
    GENRES,
    HISTORY,
    MOVIE_RUNTIMES,
    YEARS,
    DemoCatalog,
    generate_demo_catalog,
    half_stars,
    planted_tastes,
)
from catalog.models import Genre, Tag, Title
from catalog.services import demo_catalog_seed
from catalog.titles import sort_title_for
from tests.factories import ProfileFactory, RatingFactory, TitleFactory

UNTIL = datetime(2026, 1, 1, tzinfo=UTC)
SMALL = {"titles": 200, "viewers": 30}


def small_catalog(seed: int = 42) -> DemoCatalog:
    return generate_demo_catalog(seed=seed, until=UNTIL, **SMALL)


def genre_means(catalog: DemoCatalog) -> list[tuple[float, float]]:
    """Per viewer: mean rating of titles in only liked genres, only disliked ones."""
    means = []
    for v, viewer in enumerate(catalog.viewers):
        liked, disliked = set(viewer.liked_genres), set(viewer.disliked_genres)
        in_liked, in_disliked = [], []
        for r in catalog.ratings:
            genres = set(catalog.titles[r.title].genres)
            if r.viewer != v or (genres & liked and genres & disliked):
                continue
            if genres & liked:
                in_liked.append(r.value)
            elif genres & disliked:
                in_disliked.append(r.value)
        if in_liked and in_disliked:
            means.append((float(np.mean(in_liked)), float(np.mean(in_disliked))))
    return means


def dump() -> tuple[list[tuple], list[tuple]]:
    """The demo catalog in the database, by natural keys (no primary keys)."""
    titles = [
        (
            t.title,
            t.sort_title,
            t.kind,
            t.year,
            t.end_year,
            t.runtime_minutes,
            t.synopsis,
            t.maturity_rating,
            t.added_at,
            t.movielens_id,
            sorted(g.name for g in t.genres.all()),
        )
        for t in Title.objects.filter(source=Title.Source.DEMO)
        .prefetch_related("genres")
        .order_by("title")
    ]
    ratings = sorted(
        Rating.objects.filter(profile__user__source=User.Source.DEMO).values_list(
            "profile__user__email",
            "profile__name",
            "title__title",
            "value",
            "created_at",
            "updated_at",
        )
    )
    return titles, ratings


def wipe_demo_data() -> None:
    User.objects.filter(source=User.Source.DEMO).delete()
    Title.objects.filter(source=Title.Source.DEMO).delete()


def counts() -> dict[str, int]:
    return {
        "users": User.objects.count(),
        "profiles": Profile.objects.count(),
        "titles": Title.objects.count(),
        "genres": Genre.objects.count(),
        "tags": Tag.objects.count(),
        "title_genres": Title.genres.through.objects.count(),
        "title_tags": Title.tags.through.objects.count(),
        "ratings": Rating.objects.count(),
    }


# The generator (no database).


def test_same_seed_generates_the_same_catalog():
    assert small_catalog(seed=7) == small_catalog(seed=7)


def test_different_seeds_generate_different_catalogs():
    first, second = small_catalog(seed=1), small_catalog(seed=2)

    assert [t.title for t in first.titles] != [t.title for t in second.titles]
    assert [(r.viewer, r.title, r.value) for r in first.ratings] != [
        (r.viewer, r.title, r.value) for r in second.ratings
    ]


def test_generated_ratings_are_half_stars_from_half_to_five():
    catalog = small_catalog()

    assert {r.value for r in catalog.ratings} <= set(RATING_VALUES)
    assert len({r.value for r in catalog.ratings}) >= 7


def test_half_stars_rounds_halves_up_and_clips_to_the_scale():
    raw = np.array([-3.0, 0.2, 0.74, 0.75, 2.26, 3.249, 4.76, 9.0])

    assert half_stars(raw).tolist() == [0.5, 0.5, 0.5, 1.0, 2.5, 3.0, 5.0, 5.0]


def test_viewers_rate_their_liked_genres_higher_than_their_disliked_genres():
    means = genre_means(small_catalog())

    assert len(means) >= 20
    assert np.mean([liked > disliked for liked, disliked in means]) >= 0.9
    assert np.mean([liked - disliked for liked, disliked in means]) > 0.8


def test_viewers_rate_titles_in_their_liked_genres_more_often_than_chance():
    catalog = small_catalog()

    for v, viewer in enumerate(catalog.viewers):
        liked = set(viewer.liked_genres)
        in_catalog = np.mean([bool(liked & set(t.genres)) for t in catalog.titles])
        rated = [r.title for r in catalog.ratings if r.viewer == v]
        in_rated = np.mean([bool(liked & set(catalog.titles[i].genres)) for i in rated])
        assert in_rated > in_catalog, viewer


def test_popular_titles_are_rated_more_often_than_the_long_tail():
    catalog = small_catalog()
    rated = Counter(r.title for r in catalog.ratings)
    by_popularity = np.argsort([-t.popularity for t in catalog.titles])

    top_tenth = np.mean([rated[i] for i in by_popularity[:20]])
    bottom_half = np.mean([rated[i] for i in by_popularity[100:]])

    assert top_tenth > 2 * bottom_half


def test_each_viewer_rates_between_40_and_150_titles_once_each():
    catalog = generate_demo_catalog(seed=3, titles=400, viewers=30, until=UNTIL)
    per_viewer = Counter(r.viewer for r in catalog.ratings)
    pairs = [(r.viewer, r.title) for r in catalog.ratings]

    assert sorted(per_viewer) == list(range(30))
    assert 40 <= min(per_viewer.values()) <= max(per_viewer.values()) <= 150
    assert len(set(pairs)) == len(pairs)


def test_titles_have_unique_names_and_sort_titles():
    catalog = generate_demo_catalog(seed=5, titles=3000, viewers=1, until=UNTIL)
    names = [t.title for t in catalog.titles]

    assert len(set(names)) == 3000
    assert len({sort_title_for(n) for n in names}) == 3000


def test_a_generated_catalog_has_unique_synopses_and_varied_name_endings():
    catalog = generate_demo_catalog(seed=42, titles=3000, viewers=1, until=UNTIL)
    names = [t.title for t in catalog.titles]
    endings = Counter(name.replace(":", " ").split()[-1] for name in names)

    assert len({t.synopsis for t in catalog.titles}) == 3000
    assert len(set(names)) == 3000
    # No word ends more than 0.3 % of the names (14 ended in "Harvest").
    assert max(endings.values()) <= 9, endings.most_common(3)
    assert not [n for n in names if n.endswith((" II", " III"))]


def test_titles_stay_in_the_catalog_ranges():
    for title in small_catalog().titles:
        assert YEARS[0] <= title.year <= YEARS[1]
        assert 1 <= len(title.genres) <= 3
        assert set(title.genres) <= set(GENRES)
        assert len(set(title.genres)) == len(title.genres)
        assert title.synopsis.endswith(".")
        if title.kind == "movie":
            assert MOVIE_RUNTIMES[0] <= title.runtime_minutes <= MOVIE_RUNTIMES[1]
            assert title.end_year is None
        else:
            assert title.kind == "series"
            assert title.end_year is None or title.year < title.end_year <= YEARS[1]


def test_maturity_ratings_follow_the_genres():
    titles = generate_demo_catalog(seed=9, titles=3000, viewers=1, until=UNTIL).titles
    children = Counter(t.maturity_rating for t in titles if "Children" in t.genres)
    horror = Counter(t.maturity_rating for t in titles if "Horror" in t.genres)

    assert set(children) <= {"G", "PG"}
    assert (horror["R"] + horror["NC-17"]) / horror.total() > 0.75


def test_ratings_fall_after_the_viewer_joined_and_the_title_was_added():
    catalog = small_catalog()

    for r in catalog.ratings:
        assert UNTIL - HISTORY <= r.rated_at <= UNTIL
        assert r.rated_at >= catalog.viewers[r.viewer].joined_at
        assert r.rated_at >= catalog.titles[r.title].added_at


def test_more_viewers_only_add_viewers():
    fewer = generate_demo_catalog(seed=11, titles=100, viewers=5, until=UNTIL)
    more = generate_demo_catalog(seed=11, titles=100, viewers=50, until=UNTIL)

    assert fewer.titles == more.titles
    assert fewer.viewers == more.viewers[:5]
    assert fewer.ratings == tuple(r for r in more.ratings if r.viewer < 5)


def test_planted_tastes_are_what_the_ratings_were_drawn_from():
    catalog = small_catalog()
    truth = planted_tastes(seed=42, until=UNTIL, **SMALL)
    assert truth.expected.shape == (30, 200)
    viewers = np.array([r.viewer for r in catalog.ratings])
    titles = np.array([r.title for r in catalog.ratings])
    values = np.array([r.value for r in catalog.ratings])
    expected = truth.expected[viewers, titles]
    unclipped = (expected > 1.5) & (expected < 4.5)
    residual = values[unclipped] - expected[unclipped]
    # Noise of sd 0.55 plus rounding to half stars (sd 0.144).
    assert abs(residual.mean()) < 0.03
    assert residual.std() == pytest.approx(np.hypot(0.55, 0.5 / np.sqrt(12)), abs=0.03)
    # The chance of 4 stars or more is the share of 4-star ratings it predicts.
    chance = truth.chance_of_at_least(4.0)[viewers, titles]
    assert (values >= 4).mean() == pytest.approx(chance.mean(), abs=0.02)
    assert (values[chance > 0.8] >= 4).mean() > 0.8


def test_generator_refuses_an_empty_catalog():
    with pytest.raises(ValueError, match="at least one title and one viewer"):
        generate_demo_catalog(seed=1, titles=0, viewers=5, until=UNTIL)


# The service and the command.


@pytest.mark.django_db
def test_seeding_with_the_same_seed_writes_identical_titles_and_ratings():
    demo_catalog_seed(seed=42, until=UNTIL, **SMALL)
    first = dump()
    wipe_demo_data()
    assert dump() == ([], [])

    demo_catalog_seed(seed=42, until=UNTIL, **SMALL)

    assert dump() == first
    assert len(first[0]) == 200
    assert len(first[1]) == len(small_catalog(seed=42).ratings)


@pytest.mark.django_db
def test_seeding_with_another_seed_writes_a_different_catalog():
    demo_catalog_seed(seed=42, until=UNTIL, **SMALL)
    first = dump()
    wipe_demo_data()

    demo_catalog_seed(seed=43, until=UNTIL, **SMALL)
    second = dump()

    assert [t[0] for t in first[0]] != [t[0] for t in second[0]]
    assert first[1] != second[1]


@pytest.mark.django_db
def test_seeded_ratings_are_half_stars_from_half_to_five():
    demo_catalog_seed(seed=42, until=UNTIL, **SMALL)

    values = set(Rating.objects.values_list("value", flat=True))

    assert values <= set(RATING_VALUES)
    assert len(values) >= 7


@pytest.mark.django_db
def test_seeding_writes_titles_viewers_and_ratings_as_generated():
    catalog = small_catalog()

    report = demo_catalog_seed(seed=42, until=UNTIL, **SMALL)

    assert (report.titles, report.profiles, report.ratings) == (
        200,
        30,
        len(catalog.ratings),
    )
    assert (report.titles_replaced, report.profiles_replaced) == (0, 0)
    first = catalog.titles[0]
    title = Title.objects.get(title=first.title)
    assert title.sort_title == sort_title_for(first.title)
    assert title.movielens_id is None
    assert title.kind == first.kind
    assert title.maturity_rating == first.maturity_rating
    assert sorted(title.genres.values_list("name", flat=True)) == sorted(first.genres)
    assert title.source == Title.Source.DEMO
    assert not title.tags.exists()
    user = User.objects.get(email="demo-1@demo.invalid")
    assert user.source == User.Source.DEMO
    assert not user.has_usable_password()
    assert list(user.profiles.values_list("name", flat=True)) == [
        catalog.viewers[0].name
    ]
    assert User.objects.filter(source=User.Source.DEMO).count() == 30
    assert Profile.objects.filter(user__source=User.Source.DEMO).count() == 30


@pytest.mark.django_db
def test_seeding_twice_does_not_duplicate_anything():
    demo_catalog_seed(seed=42, until=UNTIL, **SMALL)
    once = counts()

    report = demo_catalog_seed(seed=42, until=UNTIL, **SMALL)

    assert counts() == once
    assert once["titles"] == 200
    assert once["profiles"] == 30
    assert once["genres"] == len({g for t in small_catalog().titles for g in t.genres})
    assert (report.titles_replaced, report.profiles_replaced) == (200, 30)


@pytest.mark.django_db
def test_seeding_with_another_seed_replaces_the_earlier_demo_catalog():
    demo_catalog_seed(seed=42, until=UNTIL, **SMALL)

    demo_catalog_seed(seed=43, titles=50, viewers=10, until=UNTIL)

    assert Title.objects.count() == 50
    assert User.objects.filter(source=User.Source.DEMO).count() == 10
    assert Profile.objects.count() == 10


@pytest.mark.django_db
def test_reseeding_leaves_titles_and_accounts_that_are_not_demo_data_alone():
    drama = Genre.objects.create(name="Drama", slug="drama")
    heat = TitleFactory(title="Heat", movielens_id=6, genres=[drama])
    rating = RatingFactory(title=heat, value=4.5)
    other_profile = ProfileFactory()
    before = (
        list(Title.objects.values_list("id", "title", "movielens_id")),
        list(User.objects.values_list("id", "email", "source")),
        list(Profile.objects.values_list("id", "name")),
        list(Rating.objects.values_list("id", "profile_id", "title_id", "value")),
    )

    demo_catalog_seed(seed=42, until=UNTIL, **SMALL)
    demo_catalog_seed(seed=43, until=UNTIL, **SMALL)

    heat.refresh_from_db()
    assert list(heat.genres.all()) == [drama]
    assert Rating.objects.get(pk=rating.pk).value == 4.5
    assert Profile.objects.filter(pk=other_profile.pk).exists()
    assert Genre.objects.filter(name="Drama").count() == 1
    assert (
        list(
            Title.objects.exclude(source=Title.Source.DEMO).values_list(
                "id", "title", "movielens_id"
            )
        ),
        list(
            User.objects.exclude(source=User.Source.DEMO).values_list(
                "id", "email", "source"
            )
        ),
        list(
            Profile.objects.exclude(user__source=User.Source.DEMO).values_list(
                "id", "name"
            )
        ),
        list(
            Rating.objects.exclude(profile__user__source=User.Source.DEMO).values_list(
                "id", "profile_id", "title_id", "value"
            )
        ),
    ) == before


@pytest.mark.django_db
def test_seeding_by_default_ends_the_history_at_the_start_of_today():
    demo_catalog_seed(seed=42, titles=20, viewers=3)

    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    earliest = Rating.objects.earliest("created_at").created_at
    latest = Rating.objects.latest("created_at").created_at
    assert today - HISTORY <= earliest <= latest <= today


@pytest.mark.django_db
def test_seed_demo_command_prints_the_counts():
    out = StringIO()

    call_command(
        "seed_demo", "--seed", "3", "--titles", "40", "--viewers", "4", stdout=out
    )

    ratings = Rating.objects.count()
    assert out.getvalue() == (
        f"Seeded the demo catalog with seed 3: 40 titles, 4 viewers, {ratings} ratings.\n"
    )
    assert Title.objects.count() == 40
    assert User.objects.filter(source=User.Source.DEMO).count() == 4


@pytest.mark.django_db
def test_seed_demo_command_reports_what_it_replaced():
    call_command("seed_demo", "--titles", "40", "--viewers", "4", stdout=StringIO())
    out = StringIO()

    call_command("seed_demo", "--titles", "40", "--viewers", "4", stdout=out)

    assert "(replaced 40 titles and 4 viewers)." in out.getvalue()


@pytest.mark.django_db
def test_seed_demo_command_refuses_an_empty_catalog():
    with pytest.raises(CommandError, match="at least 1"):
        call_command("seed_demo", "--titles", "0", stdout=StringIO())

    assert Title.objects.count() == 0
