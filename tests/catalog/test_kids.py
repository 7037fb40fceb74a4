"""A kids profile only ever sees titles suitable for children.

The rule (``TitleQuerySet.for_profile``): rated G or PG; or unrated with a
Children or Animation genre and no Horror, Thriller, Crime, War or Film-Noir.
"""

import pytest
from django.urls import reverse

from accounts.access import ACTIVE_PROFILE_SESSION_KEY
from catalog.models import Title
from recommendations.home.page import page_builder
from tests.factories import GenreFactory, ProfileFactory, RatingFactory, TitleFactory
from tests.recommendations.test_home_views import home_rows

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def catalog() -> dict[str, Title]:
    """A horror title more popular than anything, and what a kid may watch."""
    genre = {
        name: GenreFactory(name=name)
        for name in ("Animation", "Children", "Comedy", "Horror", "Thriller", "War")
    }
    titles = {
        "Scream": TitleFactory(
            title="Scream", year=1996, genres=[genre["Horror"], genre["Thriller"]]
        ),
        "Toy Story": TitleFactory(
            title="Toy Story",
            year=1995,
            maturity_rating="G",
            genres=[genre["Animation"], genre["Children"], genre["Comedy"]],
        ),
        "Paddington": TitleFactory(
            title="Paddington", year=2014, genres=[genre["Children"], genre["Comedy"]]
        ),
        "Grave of the Fireflies": TitleFactory(
            title="Grave of the Fireflies",
            year=1988,
            genres=[genre["Animation"], genre["War"]],
        ),
        "Coraline Scream": TitleFactory(
            title="Coraline Scream",
            year=2009,
            genres=[genre["Animation"], genre["Horror"]],
        ),
        "Shrek Scream": TitleFactory(
            title="Shrek Scream",
            year=2001,
            maturity_rating="PG-13",
            genres=[genre["Animation"], genre["Comedy"]],
        ),
        "Airplane": TitleFactory(title="Airplane", year=1980, genres=[genre["Comedy"]]),
        "Withdrawn Cartoon": TitleFactory(
            title="Withdrawn Cartoon",
            maturity_rating="G",
            genres=[genre["Animation"]],
            is_available=False,
        ),
    }
    for ratings, name in enumerate(reversed(list(titles)), start=1):
        RatingFactory.create_batch(ratings, title=titles[name])
    return titles


KIDS_SEE = {"Toy Story", "Paddington"}
NOT_FOR_KIDS = {
    "Scream",  # horror
    "Grave of the Fireflies",  # animated, but war
    "Coraline Scream",  # animated, but horror
    "Shrek Scream",  # animated, but rated PG-13
    "Airplane",  # neither for children nor rated
}


@pytest.fixture
def kid(client):
    return on_profile(client, is_kids=True)


@pytest.fixture
def grown_up(client):
    return on_profile(client, is_kids=False)


def on_profile(client, **fields):
    profile = ProfileFactory(**fields)
    client.force_login(profile.user)
    session = client.session
    session[ACTIVE_PROFILE_SESSION_KEY] = profile.pk
    session.save()
    return profile


def everything_on_the_home(client) -> set[str]:
    page = client.get(reverse("recommendations:home")).content.decode()
    return {title for titles in home_rows(page).values() for title in titles}


# --- The rule ----------------------------------------------------------------


def test_for_profile_keeps_a_kids_profile_to_titles_for_children(catalog):
    kids = ProfileFactory(is_kids=True)

    assert set(Title.objects.for_profile(kids).values_list("title", flat=True)) == (
        KIDS_SEE
    )


def test_for_profile_shows_grown_ups_and_visitors_every_available_title(catalog):
    every = set(catalog) - {"Withdrawn Cartoon"}

    for profile in (None, ProfileFactory(is_kids=False)):
        titles = Title.objects.for_profile(profile).values_list("title", flat=True)
        assert set(titles) == every


@pytest.mark.parametrize(
    ("maturity", "genres", "for_kids"),
    [
        ("G", ["Horror"], True),  # maturity data wins where present
        ("PG", [], True),
        ("PG-13", ["Children"], False),
        ("R", ["Animation"], False),
        ("NC-17", [], False),
        ("", ["Children"], True),
        ("", ["Animation", "Comedy"], True),
        ("", ["Children", "Crime"], False),
        ("", ["Animation", "Film-Noir"], False),
        ("", ["Comedy"], False),
        ("", [], False),
    ],
)
def test_the_kids_rule(maturity, genres, for_kids):
    title = TitleFactory(
        maturity_rating=maturity, genres=[GenreFactory(name=g) for g in genres]
    )

    kids = Title.objects.for_profile(ProfileFactory(is_kids=True))

    assert kids.filter(pk=title.pk).exists() is for_kids


# --- Every page ----------------------------------------------------------------


def test_a_kids_home_has_no_horror_row_and_no_title_not_for_kids(client, catalog, kid):
    builder, _ = page_builder(profile=kid)
    genre_rows = [draft.name for draft in builder.popular_genres()]

    assert genre_rows == [
        "Popular in Children",
        "Popular in Comedy",
        "Popular in Animation",
    ]
    assert everything_on_the_home(client) == KIDS_SEE


def test_a_grown_up_home_shows_everything(client, catalog, grown_up):
    builder, _ = page_builder(profile=grown_up)
    assert "Popular in Horror" in [draft.name for draft in builder.popular_genres()]
    assert everything_on_the_home(client) == set(catalog) - {"Withdrawn Cartoon"}


def test_kids_and_grown_ups_never_share_cached_rows(client, catalog):
    on_profile(client, is_kids=False)
    assert "Scream" in everything_on_the_home(client)

    on_profile(client, is_kids=True)
    assert everything_on_the_home(client) == KIDS_SEE

    on_profile(client, is_kids=False)
    assert "Scream" in everything_on_the_home(client)


def test_a_kids_profile_gets_404_for_a_horror_title_page(client, catalog, kid):
    for name in NOT_FOR_KIDS:
        response = client.get(reverse("catalog:title", args=[catalog[name].pk]))
        assert response.status_code == 404, name
    toy_story = client.get(reverse("catalog:title", args=[catalog["Toy Story"].pk]))
    assert toy_story.status_code == 200
    assert "<h1>Toy Story</h1>" in toy_story.content.decode()


def test_a_grown_up_opens_the_horror_title_page(client, catalog, grown_up):
    response = client.get(reverse("catalog:title", args=[catalog["Scream"].pk]))

    assert response.status_code == 200


def test_the_poster_stays_public(client, catalog, kid):
    response = client.get(reverse("catalog:poster", args=[catalog["Scream"].pk]))

    assert response.status_code == 200


def test_a_kids_genre_index_counts_only_titles_for_children(client, catalog, kid):
    genres = client.get(reverse("catalog:genres")).context["genres"]

    assert [(g.name, g.title_count) for g in genres] == [
        ("Animation", 1),
        ("Children", 2),
        ("Comedy", 2),
    ]


def test_a_kids_genre_page_lists_only_titles_for_children(client, catalog, kid):
    def browse(slug, **params):
        response = client.get(reverse("catalog:genre", args=[slug]), params)
        assert response.status_code == 200
        return {title.title for title in response.context.get("page", [])}

    assert browse("horror") == set()
    assert browse("animation") == {"Toy Story"}
    assert browse("comedy", sort="az") == KIDS_SEE
    assert browse("animation", decade="2000") == set()
    page = client.get(reverse("catalog:genre", args=["animation"]))
    assert page.context["decades"] == [1990]
    fragment = client.get(reverse("catalog:genre", args=["animation"]), headers=HTMX)
    assert "Scream" not in fragment.content.decode()


def test_a_kids_search_finds_no_horror(client, catalog, kid):
    results = client.get(reverse("catalog:search"), {"q": "scream"})
    suggestions = client.get(
        reverse("catalog:search"),
        {"q": "scream"},
        headers={**HTMX, "HX-Target": "search-suggestions"},
    )

    assert list(results.context["page"]) == []
    assert "Scream" not in results.content.decode()
    assert "Scream" not in suggestions.content.decode()
    story = client.get(reverse("catalog:search"), {"q": "story"})
    assert [t.title for t in story.context["page"]] == ["Toy Story"]


def test_a_grown_up_search_finds_the_horror_title(client, catalog, grown_up):
    results = client.get(reverse("catalog:search"), {"q": "scream"})

    assert {t.title for t in results.context["page"]} == {
        "Scream",
        "Coraline Scream",
        "Shrek Scream",
    }


def test_a_kids_onboarding_grid_is_kids_safe(client, catalog, kid):
    response = client.get(reverse("catalog:onboarding"))

    assert {title.title for title, _ in response.context["cards"]} == KIDS_SEE


def test_a_kids_profile_cannot_pick_a_horror_title(client, catalog, kid):
    response = client.post(
        reverse("catalog:onboarding_pick"),
        {"title": catalog["Scream"].pk, "picked": "1"},
    )

    assert response.status_code == 404
    assert not kid.feedback.exists()
