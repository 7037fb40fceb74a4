"""The catalog through the API: genres, browse and search, a title with the
profile's own state, collections; the kids rule and the owner checks."""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.urls import include, path, reverse
from django.utils import timezone
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from accounts.models import AccessToken, Profile
from activity import services as activity_services
from activity.models import Feedback, SearchEvent
from catalog import api_urls
from catalog.models import Collection, CollectionItem, Genre, Title
from tests.factories import (
    GenreFactory,
    PrivacySettingsFactory,
    RatingFactory,
    TagFactory,
    TitleFactory,
)

# --- a small catalog ----------------------------------------------------------------


@dataclass
class Shelf:
    matrix: Title  # R: never for a kids profile
    toy_story: Title  # unrated, Children and Animation: for kids
    heat: Title  # R
    wire: Title  # a series, unrated but Crime: not for kids
    paddington: Title  # PG: for kids
    withdrawn: Title  # not available: nobody sees it
    genres: dict[str, Genre]


def _title(name: str, ratings: list[float], genres: list[Genre], **fields) -> Title:
    title = TitleFactory(title=name, genres=genres, **fields)
    for value in ratings:
        RatingFactory(title=title, value=value)
    return title


@pytest.fixture
def shelf(db) -> Shelf:
    g = {
        slug: GenreFactory(name=name, slug=slug)
        for slug, name in [
            ("animation", "Animation"),
            ("children", "Children"),
            ("crime", "Crime"),
            ("drama", "Drama"),
            ("sci-fi", "Sci-Fi"),
            ("western", "Western"),
        ]
    }
    R, PG = Title.Maturity.R, Title.Maturity.PG
    return Shelf(
        matrix=_title(
            "The Matrix",
            [5.0, 4.0, 4.0],
            [g["sci-fi"]],
            year=1999,
            runtime_minutes=136,
            maturity_rating=R,
            synopsis="A hacker learns the truth.",
        ),
        toy_story=_title(
            "Toy Story",
            [4.0, 5.0],
            [g["children"], g["animation"]],
            year=1995,
            runtime_minutes=81,
        ),
        heat=_title(
            "Heat",
            [3.0],
            [g["crime"], g["drama"]],
            year=1995,
            runtime_minutes=170,
            maturity_rating=R,
        ),
        wire=_title(
            "The Wire",
            [],
            [g["crime"]],
            year=2002,
            runtime_minutes=60,
            kind=Title.Kind.SERIES,
        ),
        paddington=_title(
            "Paddington",
            [],
            [g["children"]],
            year=2014,
            runtime_minutes=95,
            maturity_rating=PG,
        ),
        withdrawn=_title(
            "Gone Missing",
            [4.0, 4.0, 4.0, 4.0],
            [g["drama"], g["western"]],
            year=1995,
            runtime_minutes=100,
            is_available=False,
        ),
        genres=g,
    )


def titles_url(profile: Profile) -> str:
    return reverse("api:catalog-api:titles", args=[profile.pk])


def title_url(profile: Profile, title: Title) -> str:
    return reverse("api:catalog-api:title", args=[profile.pk, title.pk])


def collections_url(profile: Profile) -> str:
    return reverse("api:catalog-api:collections", args=[profile.pk])


def collection_url(profile: Profile, collection: Collection) -> str:
    return reverse("api:catalog-api:collection", args=[profile.pk, collection.pk])


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["title"] for item in response.json()["results"]]


def assert_error(response, status: int, code: str, attr: str | None = None) -> None:
    """The API's one error shape, with ``code`` (about ``attr``) among its errors."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"type", "errors"}
    assert {"code": code, "attr": attr} in [
        {"code": error["code"], "attr": error["attr"]} for error in body["errors"]
    ], body


# --- browse -------------------------------------------------------------------------


def test_titles_are_the_available_ones_most_rated_first(api, adult, shelf) -> None:
    response = api.get(titles_url(adult))

    assert names(response) == [
        "The Matrix",
        "Toy Story",
        "Heat",
        "Paddington",
        "The Wire",
    ]
    assert response.json()["next"] is None
    assert response.json()["previous"] is None


def test_a_title_in_the_list_carries_what_a_card_shows(api, adult, shelf) -> None:
    toy = shelf.toy_story

    item = api.get(titles_url(adult), {"genre": "animation"}).json()["results"][0]

    assert item == {
        "id": toy.pk,
        "title": "Toy Story",
        "year": 1995,
        "kind": "movie",
        "runtime_minutes": 81,
        "maturity_rating": "",
        "genres": [
            {
                "id": shelf.genres["animation"].pk,
                "name": "Animation",
                "slug": "animation",
            },
            {"id": shelf.genres["children"].pk, "name": "Children", "slug": "children"},
        ],
        "poster_url": f"http://testserver{toy.poster_url}",
        "web_url": f"http://testserver/titles/{toy.pk}/",
        "average_rating": 4.5,
        "rating_count": 2,
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"genre": "children"}, ["Toy Story", "Paddington"]),
        ({"year": "1995"}, ["Toy Story", "Heat"]),
        ({"decade": "1990"}, ["The Matrix", "Toy Story", "Heat"]),
        ({"runtime": "short"}, ["Toy Story", "The Wire"]),
        ({"runtime": "medium"}, ["Paddington"]),
        ({"runtime": "long"}, ["The Matrix", "Heat"]),
        ({"runtime_min": "90", "runtime_max": "140"}, ["The Matrix", "Paddington"]),
        ({"kind": "series"}, ["The Wire"]),
        ({"kind": "movie", "genre": "crime"}, ["Heat"]),
        ({"genre": "crime", "decade": "2000"}, ["The Wire"]),
        ({"genre": "western"}, []),
    ],
)
def test_each_filter_narrows_the_list(api, adult, shelf, params, expected) -> None:
    assert names(api.get(titles_url(adult), params)) == expected


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("popular", ["The Matrix", "Toy Story", "Heat", "Paddington", "The Wire"]),
        ("az", ["Heat", "Paddington", "The Matrix", "The Wire", "Toy Story"]),
        ("newest", ["Paddington", "The Wire", "The Matrix", "Toy Story", "Heat"]),
        # Best mean first (4.5, 4.33, 3.0), then the unrated ones.
        ("rating", ["Toy Story", "The Matrix", "Heat", "Paddington", "The Wire"]),
    ],
)
def test_orderings_are_the_genre_pages_sorts(api, adult, shelf, ordering, expected):
    assert names(api.get(titles_url(adult), {"ordering": ordering})) == expected


def test_following_next_walks_the_whole_list_and_previous_walks_back(
    api, adult, shelf
) -> None:
    seen, url, pages = [], titles_url(adult) + "?page_size=2", []
    while url:
        page = api.get(url).json()
        pages.append(page)
        seen += [item["title"] for item in page["results"]]
        url = page["next"]

    assert seen == ["The Matrix", "Toy Story", "Heat", "Paddington", "The Wire"]
    assert [len(page["results"]) for page in pages] == [2, 2, 1]
    back = api.get(pages[2]["previous"]).json()
    assert [item["title"] for item in back["results"]] == ["Heat", "Paddington"]
    first = api.get(back["previous"]).json()
    assert [item["title"] for item in first["results"]] == ["The Matrix", "Toy Story"]
    assert first["previous"] is None


# --- search -------------------------------------------------------------------------


def test_a_typo_finds_what_the_site_search_finds(api, client, adult, shelf) -> None:
    site = client.get(reverse("catalog:search"), {"q": "matrx"})
    site_ids = [title.pk for title in site.context["page"]]

    response = api.get(titles_url(adult), {"q": "matrx"})

    assert names(response) == ["The Matrix"]
    assert [item["id"] for item in response.json()["results"]] == site_ids


def test_search_combines_with_filters_and_orderings(api, adult, shelf) -> None:
    # "children" is a genre name: the search document holds genre names.
    url = titles_url(adult)
    assert names(api.get(url, {"q": "children"})) == ["Toy Story", "Paddington"]
    assert names(api.get(url, {"q": "children", "ordering": "newest"})) == [
        "Paddington",
        "Toy Story",
    ]
    assert names(api.get(url, {"q": "children", "year": "2014"})) == ["Paddington"]
    assert names(api.get(url, {"q": "heat", "kind": "series"})) == []


def test_a_search_is_kept_once_in_the_search_history(api, adult, shelf) -> None:
    first = api.get(titles_url(adult), {"q": "  children ", "page_size": "1"})
    api.get(first.json()["next"])  # the next page of the same search
    api.get(titles_url(adult), {"genre": "children"})  # browsing is no search

    assert list(SearchEvent.objects.values_list("profile", "query")) == [
        (adult.pk, "children")
    ]


def test_no_search_is_kept_while_search_history_is_paused(api, adult, shelf) -> None:
    PrivacySettingsFactory(profile=adult, pause_search_history=True)

    response = api.get(titles_url(adult), {"q": "matrx"})

    assert names(response) == ["The Matrix"]
    assert not SearchEvent.objects.exists()


# --- one title ----------------------------------------------------------------------


def test_a_title_shows_its_facts_and_an_untouched_state(api, adult, shelf) -> None:
    matrix = shelf.matrix
    matrix.tags.add(TagFactory(name="cyberpunk"))

    response = api.get(title_url(adult, matrix))

    assert response.status_code == 200
    assert response.json() == {
        "id": matrix.pk,
        "title": "The Matrix",
        "alternative_title": "",
        "year": 1999,
        "end_year": None,
        "kind": "movie",
        "runtime_minutes": 136,
        "maturity_rating": "R",
        "synopsis": "A hacker learns the truth.",
        "genres": [
            {"id": shelf.genres["sci-fi"].pk, "name": "Sci-Fi", "slug": "sci-fi"}
        ],
        "tags": ["cyberpunk"],
        "viewer_tags": [],
        "poster_url": f"http://testserver{matrix.poster_url}",
        "web_url": f"http://testserver/titles/{matrix.pk}/",
        "average_rating": pytest.approx(13 / 3),
        "rating_count": 3,
        "profile_state": {
            "rating": None,
            "thumbs": None,
            "not_interested": False,
            "in_my_list": False,
            "list_item_id": None,
            "progress": None,
        },
    }


def test_the_state_is_what_the_profile_did_through_the_services(
    api, adult, shelf
) -> None:
    heat = shelf.heat
    activity_services.rating_upsert(profile=adult, title=heat, value=3.5)
    item, _ = activity_services.list_add(profile=adult, title=heat)
    activity_services.thumbs_set(
        profile=adult, title=heat, kind=Feedback.Kind.THUMBS_DOWN
    )
    activity_services.feedback_add(
        profile=adult, title=heat, kind=Feedback.Kind.NOT_INTERESTED
    )
    viewing = activity_services.viewing_start(profile=adult, title=heat)
    activity_services.viewing_heartbeat(viewing=viewing, progress=0.25)

    state = api.get(title_url(adult, heat)).json()["profile_state"]

    assert state == {
        "rating": 3.5,
        "thumbs": "thumbs_down",
        "not_interested": True,
        "in_my_list": True,
        "list_item_id": item.pk,
        # "Not interested" is a hard filter: the title left Continue watching.
        "progress": None,
    }


def test_progress_is_null_once_finished_or_removed_from_continue_watching(
    api, adult, shelf
) -> None:
    finished = activity_services.viewing_start(profile=adult, title=shelf.heat)
    activity_services.viewing_heartbeat(viewing=finished, progress=0.95)
    dismissed = activity_services.viewing_start(profile=adult, title=shelf.wire)
    activity_services.viewing_heartbeat(viewing=dismissed, progress=0.5)
    activity_services.viewing_dismiss(viewing=dismissed)

    for title in (shelf.heat, shelf.wire):
        assert (
            api.get(title_url(adult, title)).json()["profile_state"]["progress"] is None
        )


def test_the_state_is_the_profiles_own(api, adult, account, shelf) -> None:
    from tests.factories import ProfileFactory

    sibling = ProfileFactory(user=account, name="Bo")
    activity_services.rating_upsert(profile=sibling, title=shelf.heat, value=1.0)
    activity_services.list_add(profile=sibling, title=shelf.heat)

    state = api.get(title_url(adult, shelf.heat)).json()["profile_state"]

    assert state["rating"] is None
    assert state["in_my_list"] is False


def test_a_withdrawn_or_unknown_title_is_404(api, adult, shelf) -> None:
    assert_error(api.get(title_url(adult, shelf.withdrawn)), 404, "not_found")
    response = api.get(reverse("api:catalog-api:title", args=[adult.pk, 10**9]))
    assert_error(response, 404, "not_found")
    assert "Title" not in response.json()["errors"][0]["detail"]


# --- genres -------------------------------------------------------------------------


def test_genres_are_listed_a_to_z_with_the_titles_one_can_see(api, shelf) -> None:
    response = api.get(reverse("api:catalog-api:genres"))

    assert response.status_code == 200
    assert [(g["slug"], g["title_count"]) for g in response.json()["results"]] == [
        ("animation", 1),
        ("children", 2),
        ("crime", 2),
        ("drama", 1),  # the withdrawn title is not counted
        ("sci-fi", 1),
    ]  # Western holds only the withdrawn title
    assert response.json()["results"][0] == {
        "id": shelf.genres["animation"].pk,
        "name": "Animation",
        "slug": "animation",
        "title_count": 1,
    }


def test_genres_of_a_kids_profile_count_only_its_titles(token_client, kid, shelf):
    client = token_client(AccessToken.Scope.READ, profile=kid)

    response = client.get(reverse("api:catalog-api:genres"))

    assert [(g["slug"], g["title_count"]) for g in response.json()["results"]] == [
        ("animation", 1),
        ("children", 2),
    ]


def test_genres_page_by_cursor(api, shelf) -> None:
    first = api.get(reverse("api:catalog-api:genres"), {"page_size": 3}).json()
    second = api.get(first["next"]).json()

    assert [g["slug"] for g in first["results"] + second["results"]] == [
        "animation",
        "children",
        "crime",
        "drama",
        "sci-fi",
    ]
    assert second["next"] is None


# --- collections --------------------------------------------------------------------


@dataclass
class Collections:
    weekend: Collection  # everyone: Heat, Toy Story, The Matrix
    scary: Collection  # everyone, only R titles
    for_kids: Collection  # kids profiles only
    crime_fans: Collection  # lovers of Crime (grown-ups)
    expired: Collection


def _collection(name: str, titles: list[Title], **fields) -> Collection:
    collection = Collection.objects.create(name=name, slug=name.lower(), **fields)
    for position, title in enumerate(titles):
        CollectionItem.objects.create(
            collection=collection, title=title, position=position
        )
    return collection


@pytest.fixture
def collections(shelf) -> Collections:
    now = timezone.now()
    crime_fans = _collection(
        "Crime", [shelf.wire], position=3, audience=Collection.Audience.GENRES
    )
    crime_fans.audience_genres.add(shelf.genres["crime"])
    return Collections(
        weekend=_collection(
            "Weekend", [shelf.heat, shelf.toy_story, shelf.matrix], position=1
        ),
        scary=_collection("Scary", [shelf.matrix, shelf.heat], position=2),
        for_kids=_collection(
            "Kids",
            [shelf.paddington],
            position=0,
            audience=Collection.Audience.KIDS,
        ),
        crime_fans=crime_fans,
        expired=_collection(
            "Expired",
            [shelf.toy_story],
            starts_at=now - timedelta(days=9),
            ends_at=now - timedelta(days=1),
        ),
    )


def test_collections_for_a_grown_up(api, adult, shelf, collections) -> None:
    response = api.get(collections_url(adult))

    assert response.status_code == 200
    results = response.json()["results"]
    assert [(c["name"], c["title_count"]) for c in results] == [
        ("Weekend", 3),
        ("Scary", 2),
        ("Crime", 1),
    ]
    assert results[2]["audience"] == "genres"
    assert results[2]["audience_genres"] == [
        {"id": shelf.genres["crime"].pk, "name": "Crime", "slug": "crime"}
    ]


def test_a_collections_titles_keep_the_curators_order(api, adult, collections):
    response = api.get(collection_url(adult, collections.weekend))

    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Weekend"
    assert [t["title"] for t in body["titles"]] == ["Heat", "Toy Story", "The Matrix"]
    assert body["titles"][0]["genres"][0]["slug"] == "crime"


def test_an_expired_or_other_audiences_collection_is_404(
    api, adult, collections
) -> None:
    for collection in (collections.expired, collections.for_kids):
        assert_error(api.get(collection_url(adult, collection)), 404, "not_found")


# --- the kids rule ------------------------------------------------------------------


@pytest.fixture
def kid_client(token_client, kid) -> APIClient:
    """A program acting for the kids profile only."""
    return token_client(AccessToken.Scope.READ_WRITE, profile=kid)


def test_a_kids_profile_lists_only_titles_for_children(kid_client, kid, shelf):
    assert names(kid_client.get(titles_url(kid))) == ["Toy Story", "Paddington"]
    assert names(kid_client.get(titles_url(kid), {"q": "matrx"})) == []
    assert names(kid_client.get(titles_url(kid), {"genre": "crime"})) == []


def test_a_kids_profile_gets_404_for_a_title_not_for_children(
    kid_client, kid, shelf
) -> None:
    for title in (shelf.matrix, shelf.heat, shelf.wire):
        assert_error(kid_client.get(title_url(kid, title)), 404, "not_found")
    assert kid_client.get(title_url(kid, shelf.paddington)).status_code == 200


def test_a_kids_profiles_collections_hold_only_titles_for_children(
    kid_client, kid, shelf, collections
) -> None:
    listed = kid_client.get(collections_url(kid)).json()["results"]
    assert [(c["name"], c["title_count"]) for c in listed] == [
        ("Kids", 1),
        ("Weekend", 1),
    ]
    weekend = kid_client.get(collection_url(kid, collections.weekend)).json()
    assert [t["title"] for t in weekend["titles"]] == ["Toy Story"]
    for hidden in (collections.scary, collections.crime_fans):
        assert_error(kid_client.get(collection_url(kid, hidden)), 404, "not_found")


# --- whose profile ------------------------------------------------------------------


def _profile_paths(profile: Profile, shelf: Shelf, collection: Collection) -> list:
    return [
        titles_url(profile),
        title_url(profile, shelf.toy_story),
        collections_url(profile),
        collection_url(profile, collection),
    ]


def test_another_accounts_profile_is_404_on_every_path(
    api, stranger, shelf, collections
) -> None:
    for url in _profile_paths(stranger, shelf, collections.weekend):
        assert_error(api.get(url), 404, "not_found")
    assert not SearchEvent.objects.exists()


def test_the_kids_program_is_refused_the_grown_ups_paths(
    kid_client, kids_session, adult, shelf, collections
) -> None:
    for client in (kid_client, kids_session):
        for url in _profile_paths(adult, shelf, collections.weekend):
            assert_error(client.get(url), 403, "profile_not_allowed")
    assert_error(
        kid_client.get(titles_url(adult), {"q": "heat"}), 403, "profile_not_allowed"
    )
    assert not SearchEvent.objects.exists()


def test_without_credentials_it_is_401(db, adult, shelf) -> None:
    response = APIClient().get(titles_url(adult))

    assert_error(response, 401, "not_authenticated")


# --- bad input ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "attr"),
    [
        ({"year": "abc"}, "year"),
        ({"year": "1999.5"}, "year"),
        ({"year": "1200"}, "year"),
        ({"decade": "1995"}, "decade"),
        ({"runtime": "epic"}, "runtime"),
        ({"runtime_min": "0"}, "runtime_min"),
        ({"runtime_min": "100", "runtime_max": "90"}, "runtime_max"),
        ({"kind": "film"}, "kind"),
        ({"genre": "no-such-genre"}, "genre"),
        ({"ordering": "best"}, "ordering"),
        ({"ordering": "relevance"}, "ordering"),
        ({"q": "x" * 201}, "q"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"page_size": "0"}, "page_size"),
    ],
)
def test_a_bad_query_parameter_is_a_400_naming_it(
    api, adult, shelf, params, attr
) -> None:
    response = api.get(titles_url(adult), params)

    assert response.status_code == 400, response.content
    body = response.json()
    assert body["type"] == "validation_error"
    assert [error["attr"] for error in body["errors"]] == [attr]
    assert not SearchEvent.objects.exists()


# --- the schema ---------------------------------------------------------------------


def test_the_catalog_operations_are_documented_without_warnings(db) -> None:
    patterns = [path("api/v1/", include((api_urls.urlpatterns, "catalog-api")))]
    GENERATOR_STATS.reset()

    schema = SchemaGenerator(patterns=patterns).get_schema(request=None, public=True)

    assert not GENERATOR_STATS, "drf-spectacular warned (run manage.py spectacular)"
    validate_schema(schema)
    operations = {
        (route, method): operation
        for route, methods in schema["paths"].items()
        for method, operation in methods.items()
    }
    titles = operations[("/api/v1/profiles/{profile_id}/titles/", "get")]
    assert {p["name"] for p in titles["parameters"]} == {
        "profile_id",
        "cursor",
        "page_size",
        "q",
        "ordering",
        "genre",
        "year",
        "decade",
        "runtime",
        "runtime_min",
        "runtime_max",
        "kind",
    }
    for operation in operations.values():
        assert operation["tags"] == ["catalog"]
        assert {"200", "400", "401", "403", "404"} <= set(operation["responses"])
    detail = schema["components"]["schemas"]["TitleDetailOut"]["properties"]
    state = schema["components"]["schemas"]["ProfileStateOut"]["properties"]
    assert detail["average_rating"]["nullable"] is True
    assert all(state[f]["nullable"] for f in ("rating", "thumbs", "progress"))
