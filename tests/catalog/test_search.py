"""Search: the results page, the header's type-ahead, and SearchEvents.

Every test but one (PostgreSQL's search document, kept by triggers) holds on
SQLite (accent-blind substrings) and on PostgreSQL (full text) alike, and CI
runs this file on both; the last ones search the real ml-latest-small catalog,
imported once for the module. Typos are tests/catalog/test_search_typos.py's.
"""

import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from django.urls import reverse
from django_htmx.middleware import HtmxDetails

from activity.models import SearchEvent
from activity.services import search_record
from catalog import views
from catalog.models import Genre, Title
from catalog.selectors import MAX_QUERY_LENGTH, PAGE_SIZE, SUGGESTIONS, search_titles
from tests.factories import (
    GenreFactory,
    ProfileFactory,
    RatingFactory,
    TitleFactory,
)

SUGGEST = {"HX-Request": "true", "HX-Target": "search-suggestions"}


def search(client, q, **params):
    return client.get(reverse("catalog:search"), {"q": q, **params})


def found(response) -> list[str]:
    return [title.title for title in response.context["page"]]


def suggested(response) -> list[str]:
    return re.findall(
        r'<span class="suggestion-title">([^<]*)</span>', response.content.decode()
    )


def popular(title: str, ratings: int, **fields) -> Title:
    made = TitleFactory(title=title, **fields)
    for _ in range(ratings):
        RatingFactory(title=made)
    return made


# --- On any database --------------------------------------------------------


@pytest.mark.django_db
def test_search_finds_titles_with_every_word_most_rated_first(client):
    popular("Heat", 3, year=1995)
    popular("Body Heat", 1, year=1981)
    popular("The Heat", 2, year=2013)
    popular("Heat Wave", 0, is_available=False)
    popular("Alien", 5)

    response = search(client, "HEAT")

    assert response.status_code == 200
    assert found(response) == ["Heat", "The Heat", "Body Heat"]
    html = response.content.decode()
    assert "Results for “HEAT”" in html
    assert "3 titles" in html
    assert "Heat Wave" not in html


@pytest.mark.django_db
def test_search_matches_words_in_any_order_and_the_alternative_title(client):
    TitleFactory(
        title="The City of Lost Children",
        alternative_title="La Cité des enfants perdus",
    )
    TitleFactory(title="Children of Men")

    # PostgreSQL also lists "Children of Men" (similar enough), after it.
    assert found(search(client, "children lost"))[0] == "The City of Lost Children"
    assert found(search(client, "enfants perdus")) == ["The City of Lost Children"]


@pytest.mark.django_db
def test_search_with_accents_finds_the_accented_title(client):
    TitleFactory(title="Amélie")

    assert found(search(client, "AMélie")) == ["Amélie"]


@pytest.mark.django_db
def test_search_without_a_match_says_so(client):
    TitleFactory(title="Heat")

    response = search(client, "zzyzx")

    assert found(response) == []
    assert "No titles match “zzyzx”" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("q", "says"),
    [
        ("", "Type a title"),
        ("   ", "Type a title"),
        ("!!! ???", "No titles match “!!! ???”"),
    ],
)
def test_search_without_words_reads_nothing(client, django_assert_num_queries, q, says):
    TitleFactory(title="Heat")

    with django_assert_num_queries(0):
        response = search(client, q)

    assert response.status_code == 200
    assert says in response.content.decode()


@pytest.mark.django_db
def test_search_page_escapes_the_query(client):
    response = search(client, "<script>alert(1)</script>")

    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    "q",
    [
        "x" * 10_000,
        "star wars " * 1_000,
        "\x01" * 300 + "heat",  # a NUL is refused before (tests/security)
        "' OR 1=1; -- & | ! :* <-> ()",
        "🎬" * 5000,
        "½ ² ﬁlm \u0301 x\u0301 ⁄",
    ],
)
def test_search_of_a_huge_or_strange_query_is_never_an_error(client, q):
    TitleFactory(title="Heat")

    response = search(client, q)

    assert response.status_code == 200
    assert len(response.context["search_query"]) <= MAX_QUERY_LENGTH


@pytest.mark.django_db
def test_search_of_a_10_kb_query_is_cut_and_says_so(client):
    response = search(client, "heat " * 2_000)

    assert response.status_code == 200
    assert response.context["search_query"] == ("heat " * 40).strip()
    assert "only its first 200 characters were used" in response.content.decode()


@pytest.mark.django_db
def test_search_results_are_paginated_with_load_more(client):
    for i in range(PAGE_SIZE + 3):
        TitleFactory(title=f"Heat {i:02}")

    first = search(client, "heat")
    fragment = client.get(
        reverse("catalog:search"),
        {"q": "heat", "page": "2"},
        headers={"HX-Request": "true"},
    )

    assert len(found(first)) == PAGE_SIZE
    assert 'href="?q=heat&amp;page=2" hx-get="?q=heat&amp;page=2"' in (
        first.content.decode()
    )
    html = fragment.content.decode()
    assert "<html" not in html
    assert html.count('<li class="card">') == 3
    assert "Load more" not in html
    assert search(client, "heat", page="3").status_code == 404


@pytest.mark.django_db
def test_type_ahead_returns_the_suggestions_fragment(client):
    for i in range(SUGGESTIONS + 4):
        popular(f"Heat {i:02}", i)

    response = client.get(reverse("catalog:search"), {"q": "heat"}, headers=SUGGEST)

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert "site-header" not in html
    assert html.count('<li role="none">') == SUGGESTIONS + 1
    assert suggested(response) == [
        f"Heat {i:02}" for i in range(SUGGESTIONS + 3, 3, -1)
    ]
    assert (
        '<a id="suggestion-all" role="option" aria-selected="false" tabindex="-1" '
        'class="suggestions-all" href="/search/?q=heat">All results for “heat”</a>'
    ) in html
    assert '<ul class="suggestions" id="search-suggestions-list" role="listbox"' in html
    assert "No exact match" not in html
    assert "HX-Request" in response["Vary"]


@pytest.mark.django_db
def test_type_ahead_with_nothing_typed_is_empty(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get(reverse("catalog:search"), {"q": " "}, headers=SUGGEST)

    assert response.content.decode().strip() == ""


@pytest.mark.django_db
def test_type_ahead_without_a_match_says_so(client):
    response = client.get(reverse("catalog:search"), {"q": "zzyzx"}, headers=SUGGEST)

    assert "No titles match “zzyzx”." in response.content.decode()


@pytest.mark.django_db
def test_search_box_is_a_labelled_form_with_a_debounced_htmx_input(client):
    html = client.get(reverse("catalog:search")).content.decode()

    assert '<form class="search-box" role="search" action="/search/" method="get">' in (
        html
    )
    assert '<label class="visually-hidden" for="site-search">Search titles</label>' in (
        html
    )
    assert 'id="site-search" type="search" name="q"' in html
    assert 'hx-get="/search/"' in html
    assert 'hx-trigger="input changed delay:250ms, search"' in html
    assert 'hx-target="#search-suggestions"' in html
    assert (
        'role="combobox" aria-autocomplete="list" aria-expanded="false" '
        'aria-controls="search-suggestions-list"'
    ) in html
    assert '<script src="/static/js/search-suggestions.js" defer></script>' in html
    assert '<button type="submit" class="search-submit">' in html
    assert '<div id="search-suggestions"' in html


@pytest.mark.django_db
def test_search_box_keeps_the_query_on_the_results_page(client):
    html = search(client, 'the "heat"').content.decode()

    assert 'value="the &quot;heat&quot;"' in html


@pytest.mark.django_db
@pytest.mark.parametrize("titles", [1, 50])
def test_search_page_query_count_does_not_grow(
    client, django_assert_num_queries, titles
):
    genre = GenreFactory(name="Drama")
    for i in range(titles):
        RatingFactory(title=TitleFactory(title=f"Heat {i}", genres=[genre]))

    # do the words match anything (else the fuzzy matcher is asked)? then
    # count, then the page with rating count and mean
    with django_assert_num_queries(3):
        response = search(client, "heat")
    assert len(found(response)) == min(titles, PAGE_SIZE)
    with django_assert_num_queries(2):
        client.get(reverse("catalog:search"), {"q": "heat"}, headers=SUGGEST)


# --- SearchEvents -----------------------------------------------------------


def get(path: str, profile=None, **headers):
    """The search view called as the site calls it, with ``request.profile``."""
    request = RequestFactory().get(path, headers=headers)
    request.user = AnonymousUser()
    request.profile = profile
    request.htmx = HtmxDetails(request)
    request.session = {}
    return views.search(request)


@pytest.mark.django_db
def test_full_search_page_records_a_search_event_for_the_profile():
    profile = ProfileFactory()
    TitleFactory(title="Heat")

    response = get("/search/?q=++Heat++1995", profile=profile)

    assert response.status_code == 200
    assert list(profile.searches.values_list("query", flat=True)) == ["Heat 1995"]


@pytest.mark.django_db
def test_search_event_of_a_long_query_holds_its_first_200_characters():
    profile = ProfileFactory()

    get("/search/?q=" + "a" * 10_000, profile=profile)

    assert [len(q) for q in profile.searches.values_list("query", flat=True)] == [200]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/search/?q=heat", SUGGEST),  # typing: suggestions
        ("/search/?q=heat&page=2", {}),  # more of the same search
        ("/search/?q=heat&page=2", {"HX-Request": "true"}),
        ("/search/?q=", {}),
        ("/search/?q=%20%00", {}),
    ],
)
def test_other_search_requests_record_nothing(path, headers):
    profile = ProfileFactory()
    for i in range(PAGE_SIZE + 1):
        TitleFactory(title=f"Heat {i}")

    response = get(path, profile=profile, **headers)

    assert response.status_code == 200
    assert SearchEvent.objects.count() == 0


@pytest.mark.django_db
def test_search_without_a_profile_records_nothing(client):
    search(client, "heat")

    assert SearchEvent.objects.count() == 0


@pytest.mark.django_db
def test_search_record_collapses_spaces_and_skips_blank_queries():
    profile = ProfileFactory()

    assert search_record(profile=profile, query=" \t\x00 ") is None
    event = search_record(profile=profile, query="  star\n wars ")

    assert event is not None
    assert list(SearchEvent.objects.values_list("profile", "query")) == [
        (profile.pk, "star wars")
    ]


# --- PostgreSQL: the search document kept by triggers ------------------------


def test_search_document_follows_renames_and_genre_changes(postgres):
    title = TitleFactory(title="Untitled")
    thriller = GenreFactory(name="Thriller")

    title.title = "Heat"
    title.save()
    assert list(search_titles("heat", profile=None)) == [title]

    title.genres.add(thriller)
    assert list(search_titles("thriller", profile=None)) == [title]

    thriller.name = "Suspense"
    thriller.save()
    assert list(search_titles("suspense", profile=None)) == [title]
    assert list(search_titles("thriller", profile=None)) == []

    title.genres.clear()
    assert list(search_titles("suspense", profile=None)) == []


def test_unaccented_query_finds_the_accented_title(db):
    amelie = TitleFactory(title="Amélie")

    assert list(search_titles("amelie", profile=None)) == [amelie]


def test_misspelt_title_is_found_by_the_closest_name(db):
    matrix = popular("The Matrix", 3)
    popular("Mother", 5)

    assert list(search_titles("matrx", profile=None)) == [matrix]


# --- Ranking on the real ml-latest-small, on either database ---------------


def top(q: str, n: int) -> list[str]:
    return [title.title for title in search_titles(q, profile=None)[:n]]


def test_real_matrx_finds_the_matrix_in_the_top_3(catalog):
    assert "The Matrix" in top("matrx", 3)


def test_real_star_wars_ranks_the_saga_first(catalog):
    assert top("star wars", 5) == [
        "Star Wars: Episode IV - A New Hope",
        "Star Wars: Episode V - The Empire Strikes Back",
        "Star Wars: Episode VI - Return of the Jedi",
        "Star Wars: Episode I - The Phantom Menace",
        "Star Wars: Episode II - Attack of the Clones",
    ]


def test_real_half_typed_query_suggests_the_popular_title(catalog):
    assert top("matr", 1) == ["The Matrix"]
    assert top("toy sto", 3) == ["Toy Story", "Toy Story 2", "Toy Story 3"]
    assert top("godfath", 1) == ["The Godfather"]


def test_real_search_ignores_accents_and_finds_alternative_titles(catalog):
    assert top("amélie", 1) == ["Amelie"]
    assert top("cite des enfants perdus", 1) == ["The City of Lost Children"]


def test_real_search_words_in_any_order(catalog):
    assert top("rings lord", 3) == [
        "The Lord of the Rings: The Fellowship of the Ring",
        "The Lord of the Rings: The Two Towers",
        "The Lord of the Rings: The Return of the King",
    ]


def test_real_genre_name_matches_after_titles_that_contain_it(catalog):
    results = list(search_titles("western", profile=None)[:60])

    assert "western" in results[0].title.lower()
    western = Genre.objects.get(name="Western")
    assert all(
        western in t.genres.all() for t in results if "western" not in t.title.lower()
    )


def test_real_search_page_and_suggestions(client, catalog, django_assert_num_queries):
    # do the words match? then count, then the page
    with django_assert_num_queries(3):
        response = search(client, "star wars")
    assert found(response)[0] == "Star Wars: Episode IV - A New Hope"

    response = client.get(reverse("catalog:search"), {"q": "matrx"}, headers=SUGGEST)
    assert suggested(response)[:3] == [
        "The Matrix",
        "The Matrix Reloaded",
        "The Matrix Revolutions",
    ]
