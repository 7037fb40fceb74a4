"""Hostile input is a 400 (JSON under /api/, the 400 page elsewhere), never a
500, and nothing is written: NUL characters, lone surrogates, bytes that are
not UTF-8, over-deep JSON, over-large bodies (issue #13, point 4)."""

import json
from io import BytesIO

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.exceptions import ParseError

from accounts.models import Profile
from activity.models import Feedback, Rating, SearchEvent
from catalog.models import Title
from config.parsers import MAX_JSON_DEPTH, JSONParser
from tests.factories import RatingFactory
from tests.security.snapshot import database_snapshot

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
TOO_LARGE = {
    "type": "client_error",
    "errors": [
        {"code": "too_large", "detail": "The request body is too large.", "attr": None}
    ],
}


def ratings_url(profile: Profile) -> str:
    return reverse("api:profile-ratings", args=[profile.pk])


def assert_api_400(response, *words: str) -> None:
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    detail = " ".join(error["detail"] for error in response.json()["errors"])
    for word in words:
        assert word in detail


def assert_page_400(response, *words: str) -> None:
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "We could not read that request" in page
    assert "Nothing was changed." in page
    for word in words:
        assert word in page


# --- the cases of the issue, each a 500 before ----------------------------------------


def test_nul_in_a_path_segment_is_a_400_page_for_anyone(client: Client, db) -> None:
    response = client.get("/privacy/erase/receipt/%00/")

    assert_page_400(response, "The address contains a NUL character.")


@pytest.mark.parametrize(
    "url_name, body",
    [
        ("api:profile-ratings", '{"title": %(title)d, "value": "\\ud800"}'),
        ("api:profile-feedback", '{"title": %(title)d, "kind": "\\ud800"}'),
        (
            "api:privacy-api:erase",
            '{"scope": "category", "profile": %(profile)d, "category": "\\ud800"}',
        ),
    ],
)
def test_lone_surrogate_in_api_json_is_a_json_400_and_nothing_changes(
    viewer: Client, profile: Profile, title: Title, url_name: str, body: str
) -> None:
    RatingFactory(profile=profile, title=title, value=3.0)
    before = database_snapshot()
    url = reverse(url_name, args=[profile.pk] if "privacy" not in url_name else [])

    response = viewer.post(
        url, body % {"title": title.pk, "profile": profile.pk}, content_type=JSON
    )

    assert_api_400(response, "lone surrogate")
    assert database_snapshot() == before


def test_json_nested_fifty_thousand_levels_is_a_json_400(
    viewer: Client, profile: Profile
) -> None:
    before = database_snapshot()

    response = viewer.post(
        ratings_url(profile), "[" * 50_000 + "]" * 50_000, content_type=JSON
    )

    assert_api_400(response, f"nesting deeper than {MAX_JSON_DEPTH} levels")
    assert database_snapshot() == before


# --- JSON -----------------------------------------------------------------------------


def nested(depth: int) -> str:
    """An array ``depth`` levels deep holding a rating's fields."""
    return "[" * (depth - 1) + '{"value": 4.0}' + "]" * (depth - 1)


def test_json_one_level_deeper_than_the_limit_is_refused(
    viewer: Client, profile: Profile
) -> None:
    response = viewer.post(
        ratings_url(profile), nested(MAX_JSON_DEPTH + 1), content_type=JSON
    )

    assert_api_400(response, f"nesting deeper than {MAX_JSON_DEPTH} levels")


def test_json_at_the_depth_limit_reaches_the_view(
    viewer: Client, profile: Profile
) -> None:
    response = viewer.post(
        ratings_url(profile), nested(MAX_JSON_DEPTH), content_type=JSON
    )

    # Parsed and handed to the serializer, which wants an object.
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [error["attr"] for error in errors] == ["non_field_errors"]


@pytest.mark.parametrize(
    "body, problem",
    [
        ('{"value": 4.0, "note": "\\u0000"}', "a string that contains a NUL character"),
        ('{"\\udc00": 4.0}', "a string that contains a lone surrogate"),
        ('[{"a": [["\\ud800x"]]}]', "a string that contains a lone surrogate"),
        (nested(MAX_JSON_DEPTH + 1), f"nesting deeper than {MAX_JSON_DEPTH} levels"),
    ],
)
def test_drf_json_parser_refuses_what_no_view_can_use(body: str, problem: str) -> None:
    """The API's parser refuses on its own too (a view reached without the
    middleware, a request built in code)."""
    with pytest.raises(ParseError) as refused:
        JSONParser().parse(BytesIO(body.encode()), JSON)

    assert problem in str(refused.value.detail)


def test_drf_json_parser_refuses_a_document_too_deep_for_python() -> None:
    with pytest.raises(ParseError) as refused:
        JSONParser().parse(BytesIO(b"[" * 50_000 + b"]" * 50_000), JSON)

    assert "nesting deeper than" in str(refused.value.detail)


def test_json_that_is_not_utf8_is_refused(viewer: Client, profile: Profile) -> None:
    response = viewer.post(
        ratings_url(profile), b'{"value": "\xe9t\xe9"}', content_type=JSON
    )

    assert_api_400(response, "JSON body is not valid utf-8")


def test_well_formed_non_ascii_json_is_not_refused(
    viewer: Client, profile: Profile, title: Title
) -> None:
    """A surrogate pair is one character (🎬), not a lone surrogate."""
    body = '{"title": %d, "value": 4.5, "note": "Am\\u00e9lie \\ud83c\\udfac"}'

    response = viewer.post(ratings_url(profile), body % title.pk, content_type=JSON)

    assert response.status_code == 201, response.content
    assert Rating.objects.get(profile=profile, title=title).value == 4.5


def test_malformed_json_is_left_to_drf(viewer: Client, profile: Profile) -> None:
    response = viewer.post(ratings_url(profile), '{"value": ', content_type=JSON)

    assert response.status_code == 400
    assert response.json()["errors"][0]["detail"].startswith("JSON parse error")


# --- query strings, forms, headers, cookies -------------------------------------------


@pytest.mark.parametrize(
    "query, problem",
    [
        ("q=%00", "The query string contains a NUL character."),
        ("q=heat%00", "The query string contains a NUL character."),
        ("q=%ED%A0%80", "The query string is not valid UTF-8."),  # a lone surrogate
        ("q=%FF", "The query string is not valid UTF-8."),
    ],
)
def test_hostile_search_is_a_400_page_and_not_kept(
    viewer: Client, title: Title, query: str, problem: str
) -> None:
    response = viewer.get(f"{reverse('catalog:search')}?{query}")

    assert_page_400(response, problem)
    assert not SearchEvent.objects.exists()


def test_non_ascii_search_is_not_refused(viewer: Client, title: Title) -> None:
    response = viewer.get(reverse("catalog:search"), {"q": "Amélie 🎬"})

    assert response.status_code == 200
    assert SearchEvent.objects.get().query == "Amélie 🎬"


def test_nul_in_a_form_field_is_refused_and_nothing_changes(
    viewer: Client, profile: Profile, title: Title
) -> None:
    before = database_snapshot()

    response = viewer.post(
        reverse("activity:thumbs", args=[title.pk]),
        "thumb=thumbs_up&next=%00",
        content_type=FORM,
    )

    assert_page_400(response, "The form contains a NUL character.")
    assert database_snapshot() == before


def test_invalid_utf8_in_a_form_field_is_refused(
    viewer: Client, profile: Profile, title: Title
) -> None:
    response = viewer.post(
        reverse("activity:thumbs", args=[title.pk]),
        "thumb=thumbs_up&next=%ED%A0%80",
        content_type=FORM,
    )

    assert_page_400(response, "The form is not valid UTF-8.")
    assert not Feedback.objects.exists()


def test_nul_in_a_multipart_form_field_is_refused(
    viewer: Client, profile: Profile, title: Title
) -> None:
    response = viewer.post(
        reverse("activity:thumbs", args=[title.pk]),
        {"thumb": "thumbs_up", "next": "/\x00"},
    )

    assert_page_400(response, "The form field “next” contains a NUL character.")
    assert not Feedback.objects.exists()


def test_form_fields_in_an_api_request_are_refused_in_json(
    viewer: Client, profile: Profile, title: Title
) -> None:
    response = viewer.post(
        ratings_url(profile), f"title={title.pk}&value=%00", content_type=FORM
    )

    assert_api_400(response, "The form contains a NUL character.")
    assert not Rating.objects.exists()


def test_nul_in_a_header_is_refused(client: Client, db) -> None:
    response = client.get(reverse("accounts:login"), HTTP_USER_AGENT="curl\x00")

    assert_page_400(response, "The header USER_AGENT contains a NUL character.")


def test_invalid_utf8_in_the_path_is_a_404_not_a_500(client: Client, db) -> None:
    """Django escapes such bytes again: the receipt looked up is "%ED%A0%80"."""
    # As a WSGI server hands over /privacy/erase/receipt/%ED%A0%80/ (a lone
    # surrogate, UTF-8 encoded): the bytes, decoded as ISO-8859-1.
    raw_path = b"/privacy/erase/receipt/\xed\xa0\x80/".decode("iso-8859-1")

    response = client.get("/privacy/erase/receipt/x/", PATH_INFO=raw_path)

    assert response.status_code == 404


def test_a_planted_session_cookie_with_nul_characters_is_ignored(
    client: Client, db
) -> None:
    """A cookie no database can look up is dropped, not refused: a cookie
    planted by someone else must not lock the browser out."""
    client.cookies["sessionid"] = "\x00" * 40

    response = client.get(reverse("accounts:login"))

    assert response.status_code == 200


# --- size limits ----------------------------------------------------------------------


def test_a_body_over_one_mebibyte_is_refused_as_settings_say(
    viewer: Client, profile: Profile
) -> None:
    """DATA_UPLOAD_MAX_MEMORY_SIZE is 1 MiB (Django's default: 2.5 MB)."""
    body = json.dumps({"value": 4.0, "padding": "x" * (1024 * 1024)})

    response = viewer.post(ratings_url(profile), body, content_type=JSON)

    assert response.status_code == 413
    assert response.json() == TOO_LARGE


def test_an_api_body_over_the_limit_is_a_json_413(
    viewer: Client, profile: Profile, settings
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = json.dumps({"value": 4.0, "padding": "x" * 2048})

    response = viewer.post(ratings_url(profile), body, content_type=JSON)

    assert response.status_code == 413
    assert response.json() == TOO_LARGE


def test_a_form_over_the_limit_is_a_413_page(
    viewer: Client, title: Title, settings
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024

    response = viewer.post(
        reverse("activity:thumbs", args=[title.pk]),
        "thumb=thumbs_up&next=" + "x" * 2048,
        content_type=FORM,
    )

    assert response.status_code == 413
    assert "The request body is too large." in response.content.decode()
    assert not Feedback.objects.exists()


def test_too_many_fields_is_a_400(viewer: Client, title: Title, settings) -> None:
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    query = "&".join(f"f{n}=1" for n in range(11))

    response = viewer.get(f"{reverse('catalog:search')}?{query}")

    assert_page_400(response, "The request could not be read")
