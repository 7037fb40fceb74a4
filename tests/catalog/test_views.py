"""The home page and the curators' admin, as a visitor and a curator see them.

The home renders every row in one response (tests/recommendations/ cover its
rows; tests/catalog/test_home.py the rows' own pages, the cache and the
greeting).
"""

import pytest
from django.urls import reverse

from accounts.models import User
from catalog.models import Title
from tests.factories import GenreFactory, RatingFactory, TitleFactory
from tests.recommendations.test_home_views import home_rows

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def row_titles(client) -> dict[str, list[str]]:
    """Each home row's name and the titles of its cards."""
    return home_rows(client.get(reverse("recommendations:home")).content.decode())


def test_landing_lists_available_titles_most_rated_first(client):
    drama = GenreFactory(name="Drama")
    heat = TitleFactory(title="Heat", year=1995, genres=[drama])
    alien = TitleFactory(title="Alien", year=1979, genres=[drama])
    TitleFactory(title="Withdrawn", year=2020, genres=[drama], is_available=False)
    RatingFactory.create_batch(3, title=heat, value=5.0)
    RatingFactory(title=alien, value=3.0)

    response = client.get(reverse("recommendations:home"))

    assert response.status_code == 200
    # Two titles fill the first row; the first screen shows each title once.
    assert row_titles(client) == {"Trending now": ["Heat", "Alien"]}
    assert "Withdrawn" not in response.content.decode()
    drama_page = client.get(reverse("catalog:genre", args=["drama"]), headers=HTMX)
    assert "5.0★ (3)" in drama_page.content.decode()


def test_landing_on_an_empty_catalog_says_how_to_load_one(client):
    response = client.get(reverse("recommendations:home"))

    assert response.status_code == 200
    assert "The catalog is empty" in response.content.decode()


@pytest.mark.parametrize("titles", [1, 50])
def test_landing_query_count_does_not_grow_with_the_catalog(
    client, django_assert_num_queries, titles
):
    genres = [GenreFactory(name=f"Genre {i}") for i in range(8)]
    for i in range(titles):
        RatingFactory(title=TitleFactory(genres=genres[: 1 + i % 8]))

    # catalog snapshot (7), charts (7), collections, titles shown, and the
    # running tests and serving defaults (2, cached after)
    with django_assert_num_queries(18):
        client.get(reverse("recommendations:home"))
    # the page is cached: only "was any title shown withdrawn since?"
    with django_assert_num_queries(1):
        client.get(reverse("recommendations:home"))


@pytest.fixture
def curator(client):
    user = User.objects.create_superuser(
        email="curator@example.com", password="pw-curator-1"
    )
    client.force_login(user)
    return user


def test_admin_lists_titles_and_searches_by_title(client, curator):
    TitleFactory(title="The Matrix", year=1999)
    TitleFactory(title="Heat", year=1995)

    response = client.get(reverse("admin:catalog_title_changelist"), {"q": "matrix"})

    assert response.status_code == 200
    assert [t.title for t in response.context["cl"].result_list] == ["The Matrix"]


def test_admin_turning_availability_off_hides_the_title_from_the_landing(
    client, curator
):
    title = TitleFactory(title="Heat", year=1995)
    url = reverse("admin:catalog_title_change", args=[title.pk])
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(
        {
            "title": "Heat",
            "kind": "movie",
            "year": 1995,
            "added_at_0": "2024-01-01",
            "added_at_1": "00:00:00",
            "is_available": "",
            "tags": [],
            "Title_genres-TOTAL_FORMS": "0",
            "Title_genres-INITIAL_FORMS": "0",
            "seasons-TOTAL_FORMS": "0",
            "seasons-INITIAL_FORMS": "0",
        }
    )
    data.pop("is_available")

    response = client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Title.objects.get(pk=title.pk).is_available is False
    assert all("Heat" not in titles for titles in row_titles(client).values())


def test_admin_user_page_shows_profiles_inline(client, curator):
    profile = RatingFactory().profile

    response = client.get(reverse("admin:accounts_user_change", args=[profile.user.pk]))

    assert response.status_code == 200
    assert profile.name in response.content.decode()


def test_anonymous_visitor_cannot_open_the_admin(client):
    response = client.get(reverse("admin:catalog_title_changelist"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))
