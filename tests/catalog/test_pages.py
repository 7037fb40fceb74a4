"""The title page and the genre pages (browse), as a visitor sees them."""

import pytest
from django.urls import reverse

from activity.models import TagApplication
from catalog.selectors import PAGE_SIZE, RATING_SORT_MIN_COUNT
from tests.factories import (
    GenreFactory,
    ProfileFactory,
    RatingFactory,
    TagFactory,
    TitleFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewers():
    """Enough profiles to rate one title past the "Highest rated" threshold."""
    return ProfileFactory.create_batch(RATING_SORT_MIN_COUNT + 1)


def rate(title, values, viewers):
    for profile, value in zip(viewers, values, strict=False):
        RatingFactory(profile=profile, title=title, value=value)


def names(response) -> list[str]:
    return [title.title for title in response.context["page"]]


# --- Title page -------------------------------------------------------------


def test_title_page_shows_the_facts_genres_tags_and_ratings(client, viewers):
    crime = GenreFactory(name="Crime")
    drama = GenreFactory(name="Drama")
    heat = TitleFactory(
        title="Heat",
        alternative_title="Heat – The Director's Cut",
        year=1995,
        runtime_minutes=170,
        maturity_rating="R",
        synopsis="A thief and a detective, each the best at what he does.",
        genres=[crime, drama],
    )
    heat.tags.set([TagFactory(name="heist")])
    rate(heat, [4.0, 4.5, 5.0], viewers)
    for profile, tag in [
        (viewers[0], "Al Pacino"),
        (viewers[1], "Al Pacino"),
        (viewers[0], "heist"),
        (viewers[2], "long"),
    ]:
        TagApplication.objects.create(
            profile=profile, title=heat, tag=TagFactory(name=tag)
        )

    response = client.get(reverse("catalog:title", args=[heat.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    assert "<title>Heat (1995) · Marquee</title>" in html
    assert "<h1>Heat</h1>" in html
    assert "Heat – The Director&#x27;s Cut" in html
    assert "<li>1995</li>" in html
    assert "<li>2 h 50 min</li>" in html
    assert 'title="Rated R">R</abbr>' in html
    assert "<strong>4.5★</strong> average from 3 ratings" in html
    assert "A thief and a detective" in html
    assert f'src="{heat.poster_url}" alt="Heat" width="300" height="450"' in html
    assert f'href="{reverse("catalog:genre", args=["crime"])}">Crime</a>' in html
    assert f'href="{reverse("catalog:genre", args=["drama"])}">Drama</a>' in html
    # Editorial tags first, then viewers' tags, most used first, once each.
    tags = [t.name for t in response.context["title"].tags.all()]
    viewer_tags = [t.name for t in response.context["viewer_tags"]]
    assert tags == ["heist"]
    assert viewer_tags == ["Al Pacino", "heist", "long"]
    assert html.count('<li class="chip">heist</li>') == 1
    assert '<li class="chip">Al Pacino</li>' in html


def test_title_page_of_an_unrated_title_says_so(client):
    title = TitleFactory(title="Obscure", year=None, runtime_minutes=45)

    html = client.get(reverse("catalog:title", args=[title.pk])).content.decode()

    assert "Not rated yet" in html
    assert "<li>45 min</li>" in html
    assert "Tags" not in html


@pytest.mark.parametrize("pk", [999999, 2**63 + 5])
def test_title_page_of_an_unknown_title_is_404(client, pk):
    assert client.get(f"/titles/{pk}/").status_code == 404


def test_title_page_of_an_unavailable_title_is_404(client):
    title = TitleFactory(is_available=False)

    response = client.get(reverse("catalog:title", args=[title.pk]))

    assert response.status_code == 404


@pytest.mark.parametrize("items", [1, 50])
def test_title_page_query_count_does_not_grow(client, django_assert_num_queries, items):
    profiles = ProfileFactory.create_batch(items)
    title = TitleFactory(genres=[GenreFactory() for _ in range(items)])
    title.tags.set([TagFactory() for _ in range(items)])
    for profile in profiles:
        RatingFactory(profile=profile, title=title)
        TagApplication.objects.create(profile=profile, title=title, tag=TagFactory())

    # cold: the title, then its facts (rating count and mean, genres, tags,
    # viewers' tags), which are cached; warm: the title alone
    with django_assert_num_queries(5):
        response = client.get(reverse("catalog:title", args=[title.pk]))
    with django_assert_num_queries(1):
        client.get(reverse("catalog:title", args=[title.pk]))

    assert response.context["facts"].rating_count == items


# --- Genre index ------------------------------------------------------------


def test_genre_index_lists_genres_with_their_available_titles(client):
    drama, horror = GenreFactory(name="Drama"), GenreFactory(name="Horror")
    GenreFactory(name="Western")  # no titles: not listed
    TitleFactory.create_batch(2, genres=[drama])
    TitleFactory(genres=[drama, horror])
    TitleFactory(genres=[horror], is_available=False)

    response = client.get(reverse("catalog:genres"))

    assert response.status_code == 200
    assert [(g.name, g.title_count) for g in response.context["genres"]] == [
        ("Drama", 3),
        ("Horror", 1),
    ]
    html = response.content.decode()
    assert f'href="{reverse("catalog:genre", args=["drama"])}"' in html
    assert "3 titles" in html
    assert "1 title<" in html


@pytest.mark.parametrize("genres", [1, 50])
def test_genre_index_query_count_does_not_grow(
    client, django_assert_num_queries, genres
):
    for i in range(genres):
        TitleFactory(genres=[GenreFactory(name=f"Genre {i}")])

    with django_assert_num_queries(1):
        client.get(reverse("catalog:genres"))


# --- Genre page: sorting and filters ----------------------------------------


@pytest.fixture
def dramas(viewers):
    """Five available dramas (and one withdrawn) with known ratings and years."""
    drama = GenreFactory(name="Drama")
    titles = {
        "Alien": TitleFactory(title="Alien", year=1979, runtime_minutes=117),
        "Brazil": TitleFactory(title="Brazil", year=1985, runtime_minutes=132),
        "Casablanca": TitleFactory(title="Casablanca", year=1942, runtime_minutes=102),
        "Heat": TitleFactory(title="Heat", year=1995, runtime_minutes=170),
        "The Zodiac": TitleFactory(
            title="The Zodiac", sort_title="zodiac", year=2005, runtime_minutes=85
        ),
        "Withdrawn": TitleFactory(title="Withdrawn", year=2020, is_available=False),
    }
    for title in titles.values():
        title.genres.add(drama)
    TitleFactory(title="Elsewhere", year=1995)  # not a drama
    rate(titles["Alien"], [5.0], viewers)  # one 5★ must not win "Highest rated"
    rate(titles["Brazil"], [3.5] * 21, viewers)
    rate(titles["Casablanca"], [4.5] * RATING_SORT_MIN_COUNT, viewers)
    rate(titles["Heat"], [4.0, 4.0, 4.0], viewers)
    rate(titles["Withdrawn"], [5.0] * 21, viewers)
    return drama


def browse(client, genre, **params):
    return client.get(reverse("catalog:genre", args=[genre.slug]), params)


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (None, ["Brazil", "Casablanca", "Heat", "Alien", "The Zodiac"]),
        ("popular", ["Brazil", "Casablanca", "Heat", "Alien", "The Zodiac"]),
        ("rating", ["Casablanca", "Brazil", "Alien", "Heat", "The Zodiac"]),
        ("newest", ["The Zodiac", "Heat", "Brazil", "Alien", "Casablanca"]),
        ("az", ["Alien", "Brazil", "Casablanca", "Heat", "The Zodiac"]),
    ],
)
def test_genre_page_sorts(client, dramas, sort, expected):
    response = browse(client, dramas, **({"sort": sort} if sort else {}))

    assert response.status_code == 200
    assert names(response) == expected
    assert "Withdrawn" not in response.content.decode()


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"decade": "1990"}, ["Heat"]),
        ({"decade": "1970", "sort": "az"}, ["Alien"]),
        ({"decade": "2020"}, []),  # only the withdrawn title
        ({"runtime": "short"}, ["The Zodiac"]),
        ({"runtime": "medium", "sort": "az"}, ["Alien", "Casablanca"]),
        ({"runtime": "long"}, ["Brazil", "Heat"]),
        ({"runtime": "long", "decade": "1980"}, ["Brazil"]),
    ],
)
def test_genre_page_filters(client, dramas, filters, expected):
    response = browse(client, dramas, **filters)

    assert response.status_code == 200
    assert names(response) == expected


def test_genre_page_runtime_bounds_are_90_and_120_minutes(client):
    drama = GenreFactory(name="Drama")
    for minutes in (89, 90, 120, 121):
        TitleFactory(title=f"{minutes} min", runtime_minutes=minutes, genres=[drama])

    def titles(runtime):
        return names(browse(client, drama, runtime=runtime, sort="az"))

    assert titles("short") == ["89 min"]
    assert titles("medium") == ["120 min", "90 min"]
    assert titles("long") == ["121 min"]


def test_genre_page_offers_the_decades_it_has_and_keeps_choices(client, dramas):
    response = browse(client, dramas, decade="1980", sort="rating")

    html = response.content.decode()
    assert response.context["decades"] == [1940, 1970, 1980, 1990, 2000]
    assert '<option value="1980" selected>1980s</option>' in html
    assert '<option value="rating" selected>Highest rated</option>' in html
    assert 'name="runtime"' in html


def test_genre_page_hides_the_runtime_filter_when_no_title_has_one(client):
    drama = GenreFactory(name="Drama")
    TitleFactory(genres=[drama], runtime_minutes=None)

    html = browse(client, drama).content.decode()

    assert 'name="runtime"' not in html


def test_genre_page_with_no_match_says_so(client, dramas):
    response = browse(client, dramas, decade="1900")

    assert response.status_code == 200
    assert "No Drama titles match these filters." in response.content.decode()


@pytest.mark.parametrize(
    "params",
    [
        {"sort": "bogus"},
        {"decade": "abc"},
        {"decade": "1995"},
        {"decade": "-10"},
        {"decade": "99999999999999999999"},
        {"runtime": "epic"},
    ],
)
def test_genre_page_with_a_bad_filter_is_400_with_a_way_back(client, dramas, params):
    response = browse(client, dramas, **params)

    assert response.status_code == 400
    html = response.content.decode()
    assert "These filters cannot be used" in html
    assert f'<a href="{reverse("catalog:genre", args=["drama"])}">' in html


@pytest.mark.parametrize("page", ["9999", "-1", "0", "abc", "1.5"])
def test_genre_page_out_of_range_is_404(client, dramas, page):
    assert browse(client, dramas, page=page).status_code == 404


def test_unknown_genre_is_404(client):
    response = client.get(reverse("catalog:genre", args=["no-such-genre"]))

    assert response.status_code == 404


# --- Genre page: pagination and htmx "Load more" -----------------------------


@pytest.fixture
def many_westerns():
    western = GenreFactory(name="Western")
    for i in range(PAGE_SIZE + 5):
        TitleFactory(title=f"Western {i:02}", genres=[western])
    return western


def test_genre_page_shows_40_titles_and_a_load_more_link(client, many_westerns):
    response = browse(client, many_westerns, sort="az")

    assert names(response) == [f"Western {i:02}" for i in range(PAGE_SIZE)]
    html = response.content.decode()
    assert (
        '<a class="button" href="?sort=az&amp;page=2" hx-get="?sort=az&amp;page=2" '
        'hx-target="closest li" hx-swap="outerHTML">Load more</a>'
    ) in html
    assert "45 titles" in html


def test_genre_page_2_without_javascript_is_a_whole_page(client, many_westerns):
    response = browse(client, many_westerns, sort="az", page="2")

    assert response.status_code == 200
    assert names(response) == [f"Western {i:02}" for i in range(40, 45)]
    html = response.content.decode()
    assert html.startswith("<!doctype html>")
    assert "Load more" not in html
    assert 'href="?sort=az&amp;page=1">Previous page</a>' in html


def test_genre_page_load_more_with_htmx_returns_only_the_next_cards(
    client, many_westerns
):
    response = client.get(
        reverse("catalog:genre", args=["western"]),
        {"sort": "az", "page": "2"},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert "<body" not in html
    assert "site-header" not in html
    assert html.count('<li class="card">') == 5
    assert "Western 44" in html
    assert "Load more" not in html
    assert 'id="results-status"' in html and 'hx-swap-oob="true"' in html
    assert "Showing 45 of 45" in html
    assert "HX-Request" in response["Vary"]


def test_genre_page_htmx_fragment_of_a_middle_page_has_its_own_load_more(client):
    western = GenreFactory(name="Western")
    for i in range(PAGE_SIZE * 2 + 1):
        TitleFactory(title=f"Western {i:02}", genres=[western])

    response = client.get(
        reverse("catalog:genre", args=["western"]),
        {"page": "2"},
        headers={"HX-Request": "true"},
    )

    html = response.content.decode()
    assert html.count('<li class="card">') == PAGE_SIZE
    assert 'hx-get="?page=3"' in html
    assert 'href="?page=3"' in html


@pytest.mark.parametrize("titles", [1, 50])
def test_genre_page_query_count_does_not_grow(
    client, django_assert_num_queries, titles
):
    drama = GenreFactory(name="Drama")
    other = GenreFactory(name="Crime")
    for i in range(titles):
        RatingFactory(title=TitleFactory(year=1950 + i, genres=[drama, other]))

    # genre, count, page of titles with rating count and mean, filter choices
    for sort in ("popular", "rating", "newest", "az"):
        with django_assert_num_queries(4):
            browse(client, drama, sort=sort)
    # the htmx fragment needs no filter choices
    with django_assert_num_queries(3):
        client.get(
            reverse("catalog:genre", args=["drama"]), headers={"HX-Request": "true"}
        )
