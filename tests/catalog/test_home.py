"""The home page as everyone gets it (every row in one response), the
greeting, and the cache that keeps it fast. The personalized home is tested in tests/recommendations/."""

import re

import pytest
from django.urls import reverse

from accounts.access import ACTIVE_PROFILE_SESSION_KEY
from catalog.models import Title
from catalog.selectors import HOME_GENRE_ROWS
from recommendations.home.page import page_builder
from recommendations.home.rows import POPULAR_GENRE_ROWS
from tests.factories import (
    GenreFactory,
    ProfileFactory,
    RatingFactory,
    TitleFactory,
    UserFactory,
)
from tests.recommendations.test_home_views import home_rows

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def home(client):
    return client.get(reverse("recommendations:home"))


def rated(title: str, ratings: int, **fields) -> Title:
    made = TitleFactory(title=title, **fields)
    for _ in range(ratings):
        RatingFactory(title=made)
    return made


def watching(client, profile) -> None:
    """Logs ``client`` in as the profile's account, with the profile chosen."""
    client.force_login(profile.user)
    session = client.session
    session[ACTIVE_PROFILE_SESSION_KEY] = profile.pk
    session.save()


# --- Rows and their order ---------------------------------------------------


def test_the_home_offers_the_six_most_rated_genres(client):
    sizes = {"Drama": 7, "Comedy": 6, "Action": 5, "Thriller": 4, "Romance": 3}
    sizes |= {"Adventure": 2, "Crime": 2, "Western": 1}
    for name, size in sizes.items():
        genre = GenreFactory(name=name)
        for i in range(size):
            rated(f"{name} {i}", 1, genres=[genre])
    GenreFactory(name="Empty")
    rated("Gone", 30, genres=[GenreFactory(name="Gone")], is_available=False)

    builder, note = page_builder(profile=None)

    assert note == ""
    assert [draft.name for draft in builder.popular_genres()] == [
        "Popular in Drama",
        "Popular in Comedy",
        "Popular in Action",
        "Popular in Thriller",
        "Popular in Romance",
        # Adventure and Crime tie on ratings and size: the name decides.
        "Popular in Adventure",
    ]
    assert POPULAR_GENRE_ROWS == HOME_GENRE_ROWS == 6


def test_the_home_renders_every_row_with_its_cards_in_one_response(client):
    drama = GenreFactory(name="Drama")
    heat = rated("Heat", 2, genres=[drama])

    html = home(client).content.decode()

    assert '<h2 id="row-trending">Trending now</h2>' in html
    assert f'<a class="card-link" href="/titles/{heat.pk}/?row=trending">' in html
    assert "row-load" not in html  # no placeholder waits for its titles


def test_the_home_refuses_post(client):
    assert client.post(reverse("recommendations:home")).status_code == 405


# --- Greeting and call to action ----------------------------------------------


def test_a_viewer_with_a_profile_is_greeted_by_name(client):
    TitleFactory()
    watching(client, ProfileFactory(name="Ada"))

    html = home(client).content.decode()

    assert "<h1>Hi, Ada</h1>" in html
    assert "Sign up free" not in html


def test_an_anonymous_visitor_sees_the_rows_and_a_sign_up_call_to_action(client):
    TitleFactory()

    response = home(client)

    html = response.content.decode()
    assert list(home_rows(html)) == ["New on Marquee"]  # no activity: no trend
    assert (
        f'<a class="button button-primary" href="{reverse("accounts:signup")}">' in html
    )
    assert "Sign up free" in html
    assert "Hi," not in html


def test_a_signed_in_viewer_without_a_profile_is_asked_to_choose_one(client):
    TitleFactory()
    client.force_login(UserFactory())

    html = home(client).content.decode()

    assert (
        f'<a href="{reverse("accounts:profile_picker")}">Choose who’s watching</a>'
        in html
    )
    assert "Sign up free" not in html


def test_the_home_has_no_inline_script_or_style(client):
    rated("Heat", 1, genres=[GenreFactory(name="Drama")])

    for response in [home(client)]:
        html = response.content.decode()
        assert re.findall(r"<script(?![^>]*\bsrc=)", html) == []
        assert re.findall(r"\s(?:on[a-z]+|style)=", html) == []


# --- The cache ----------------------------------------------------------------


def test_every_grown_up_profile_shares_the_cached_rows(
    client, django_assert_num_queries
):
    rated("Heat", 2)
    first, second = ProfileFactory(), ProfileFactory()
    watching(client, first)
    home(client)

    watching(client, second)
    # user, profile, its candidates (none), the model (none); withdrawn since?
    # its own "not interested" / "show fewer" titles (the hard filters), and
    # the cards it was shown (impressions, one insert)
    with django_assert_num_queries(7):
        home(client)


# --- Query counts ---------------------------------------------------------------


def catalog_of(titles: int) -> None:
    genres = [GenreFactory(name=f"Genre {i}") for i in range(8)]
    for i in range(titles):
        RatingFactory(title=TitleFactory(genres=genres[: 1 + i % 8]))


@pytest.mark.parametrize("titles", [1, 50])
def test_home_query_count_does_not_grow_with_the_catalog(
    client, django_assert_num_queries, titles
):
    catalog_of(titles)

    # catalog snapshot (7), charts (7), collections, the titles shown, and
    # the running tests and serving defaults (2, cached after)
    with django_assert_num_queries(18):
        home(client)
    # cached: only "was a title shown withdrawn since?"
    with django_assert_num_queries(1):
        home(client)

    watching(client, ProfileFactory())
    # user, profile, its candidates (none), the model (none); withdrawn since?
    # its own "not interested" / "show fewer" titles (the hard filters), and
    # the cards it was shown (impressions, one insert)
    with django_assert_num_queries(7):
        home(client)
