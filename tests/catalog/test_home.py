"""The home page as everyone gets it (every row in one response), the rows'
own pages and fragments ("See all"), the greeting, and the caches that keep
both fast. The personalized home is tested in tests/recommendations/."""

import re

import pytest
from django.core.cache import cache
from django.core.cache.backends import locmem
from django.urls import reverse

from accounts.access import ACTIVE_PROFILE_SESSION_KEY
from catalog.models import Title
from catalog.selectors import HOME_GENRE_ROWS, ROW_CACHE_SECONDS, ROW_LENGTH
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


def fragment(client, key: str):
    return client.get(reverse("catalog:row", args=[key]), headers=HTMX)


def shown(response) -> list[str]:
    return [title.title for title in response.context["titles"]]


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


def test_rows_hold_the_right_titles_in_the_right_order(client):
    drama, crime = GenreFactory(name="Drama"), GenreFactory(name="Crime")
    rated("Heat", 3, year=1995, genres=[drama, crime])
    rated("Alien", 1, year=1979, genres=[drama])
    rated("Brazil", 2, year=1985, genres=[crime])
    rated("Undated", 4, year=None, genres=[crime])
    rated("Withdrawn", 9, year=2020, genres=[drama], is_available=False)

    assert shown(fragment(client, "popular")) == ["Undated", "Heat", "Brazil", "Alien"]
    assert shown(fragment(client, "new")) == ["Heat", "Brazil", "Alien"]
    assert shown(fragment(client, "genre-drama")) == ["Heat", "Alien"]
    assert shown(fragment(client, "genre-crime")) == ["Undated", "Heat", "Brazil"]


def test_a_row_holds_at_most_20_titles(client):
    for i in range(ROW_LENGTH + 3):
        rated(f"Title {i:02}", i)

    titles = shown(fragment(client, "popular"))

    assert titles == [f"Title {i:02}" for i in range(ROW_LENGTH + 2, 2, -1)]


def test_the_home_renders_every_row_with_its_cards_in_one_response(client):
    drama = GenreFactory(name="Drama")
    heat = rated("Heat", 2, genres=[drama])

    html = home(client).content.decode()

    assert '<h2 id="row-trending">Trending now</h2>' in html
    assert f'<a class="card-link" href="/titles/{heat.pk}/?row=trending">' in html
    assert "row-load" not in html  # no placeholder waits for its titles


def test_row_fragment_for_htmx_is_only_the_row_of_cards(client):
    rated("Heat", 2, year=1995)

    response = fragment(client, "popular")

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert "site-header" not in html
    assert html.strip().startswith(
        '<ul class="row-items" tabindex="0" aria-label="Popular on Marquee">'
    )
    assert html.count('<li class="card">') == 1
    assert "1995 · 4.0★ (2)" in html
    assert "HX-Request" in response["Vary"]


def test_row_without_htmx_is_a_whole_page_of_its_titles(client):
    drama = GenreFactory(name="Drama")
    rated("Heat", 2, genres=[drama])

    response = client.get(reverse("catalog:row", args=["genre-drama"]))

    html = response.content.decode()
    assert response.status_code == 200
    assert html.startswith("<!doctype html>")
    assert "<title>Popular in Drama · Marquee</title>" in html
    assert '<h1 class="page-title">Popular in Drama</h1>' in html
    assert html.count('<li class="card">') == 1
    assert f'href="{reverse("catalog:genre", args=["drama"])}"' in html


def test_an_empty_row_says_so(client):
    TitleFactory(year=None)

    response = fragment(client, "new")

    assert response.status_code == 200
    assert "No titles here yet." in response.content.decode()


@pytest.mark.parametrize(
    "key", ["bogus", "genre-", "genre-no-such-genre", "genre-" + "x" * 200, "New"]
)
def test_an_unknown_row_is_404(client, key):
    GenreFactory(name="Drama")

    assert fragment(client, key).status_code == 404
    assert client.get(f"/rows/{key}/").status_code == 404


def test_rows_refuse_post(client):
    assert client.post(reverse("catalog:row", args=["popular"])).status_code == 405
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


def test_home_and_fragments_have_no_inline_script_or_style(client):
    rated("Heat", 1, genres=[GenreFactory(name="Drama")])

    for response in [
        home(client),
        fragment(client, "genre-drama"),
        client.get("/rows/popular/"),
    ]:
        html = response.content.decode()
        assert re.findall(r"<script(?![^>]*\bsrc=)", html) == []
        assert re.findall(r"\s(?:on[a-z]+|style)=", html) == []


# --- The cache ----------------------------------------------------------------


def test_a_row_is_cached_for_five_minutes(client, monkeypatch):
    heat, alien = rated("Heat", 2), rated("Alien", 1)
    assert shown(fragment(client, "popular")) == ["Heat", "Alien"]

    RatingFactory.create_batch(3, title=alien)
    assert shown(fragment(client, "popular")) == ["Heat", "Alien"]

    later = locmem.time.time() + ROW_CACHE_SECONDS + 1
    monkeypatch.setattr(locmem.time, "time", lambda: later)
    assert shown(fragment(client, "popular")) == ["Alien", "Heat"]
    assert heat.pk in [t.pk for t in fragment(client, "popular").context["titles"]]


def test_a_title_withdrawn_meanwhile_leaves_the_cached_row_at_once(client):
    heat, alien = rated("Heat", 2), rated("Alien", 1)
    fragment(client, "popular")

    Title.objects.filter(pk=heat.pk).update(is_available=False)

    assert shown(fragment(client, "popular")) == ["Alien"]
    assert alien.pk in [pk for pk, _, _ in cache.get("catalog:row:popular:all")[1]]


def test_every_grown_up_profile_shares_the_cached_rows(
    client, django_assert_num_queries
):
    rated("Heat", 2)
    first, second = ProfileFactory(), ProfileFactory()
    watching(client, first)
    fragment(client, "popular")
    home(client)

    watching(client, second)
    # user, profile; then the row's titles by id, and nothing more
    with django_assert_num_queries(3):
        assert shown(fragment(client, "popular")) == ["Heat"]
    # user, profile, its candidates (none), the model (none); withdrawn since?
    with django_assert_num_queries(5):
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

    # catalog snapshot (7), charts (7), collections, the titles shown
    with django_assert_num_queries(16):
        home(client)
    # cached: only "was a title shown withdrawn since?"
    with django_assert_num_queries(1):
        home(client)

    watching(client, ProfileFactory())
    # user, profile, its candidates (none), the model (none); withdrawn since?
    with django_assert_num_queries(5):
        home(client)


@pytest.mark.parametrize("titles", [1, 50])
@pytest.mark.parametrize(("key", "cold"), [("popular", 1), ("genre-genre-0", 2)])
def test_row_fragment_query_count_does_not_grow_with_the_catalog(
    client, django_assert_num_queries, titles, key, cold
):
    catalog_of(titles)

    # cold: (the genre and) the ranked titles; warm: the titles by id
    with django_assert_num_queries(cold):
        cold_titles = shown(fragment(client, key))
    with django_assert_num_queries(1):
        warm_titles = shown(fragment(client, key))

    assert warm_titles == cold_titles
    assert len(warm_titles) == min(titles, ROW_LENGTH)
