"""Pages and API answers that show personal data say ``Cache-Control: no-store,
private``: no shared cache, and no back button after signing out, keeps them
(issue #13, point 6). Posters keep their own long caching."""

import base64

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Profile
from catalog.models import Title
from privacy.models import ErasureReceipt
from tests.factories import ACCOUNT_PASSWORD, RatingFactory


def assert_not_stored(response) -> None:
    directives = {d.strip() for d in response["Cache-Control"].split(",")}
    assert {"no-store", "private"} <= directives, response["Cache-Control"]


PAGES = [
    ("recommendations:home", []),
    ("activity:my_list", []),
    ("activity:ratings", []),
    ("activity:history", []),
    ("activity:continue_watching", []),
    ("catalog:search", []),
    ("privacy:centre", []),
    ("privacy:ledger", []),
    ("privacy:consent_log", []),
    ("privacy:export", []),
    ("privacy:erase", []),
    ("accounts:profile_picker", []),
    ("accounts:profile_manage", []),
]


@pytest.mark.parametrize("url_name, args", PAGES)
def test_pages_of_a_signed_in_viewer_are_not_stored(
    viewer: Client, profile: Profile, title: Title, url_name: str, args: list
) -> None:
    RatingFactory(profile=profile, title=title)

    response = viewer.get(reverse(url_name, args=args))

    assert response.status_code == 200
    assert_not_stored(response)


def test_htmx_fragments_of_a_signed_in_viewer_are_not_stored(
    viewer: Client, title: Title
) -> None:
    response = viewer.get(
        reverse("activity:title_actions", args=[title.pk]), HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    assert_not_stored(response)


@pytest.mark.parametrize(
    "url_name",
    [
        "api:profile-ratings",
        "api:profile-candidates",
        "api:privacy-api:profile-settings",
    ],
)
def test_api_answers_to_a_signed_in_client_are_not_stored(
    viewer: Client, profile: Profile, title: Title, url_name: str
) -> None:
    RatingFactory(profile=profile, title=title)

    response = viewer.get(reverse(url_name, args=[profile.pk]))

    assert response.status_code == 200
    assert_not_stored(response)


def test_api_answers_to_basic_auth_clients_are_not_stored(
    client: Client, profile: Profile
) -> None:
    """DRF signs the client in inside the view; the header still follows. The
    one answer to the password (a new token, with its secret) above all."""
    token = base64.b64encode(f"{profile.user.email}:{ACCOUNT_PASSWORD}".encode())

    response = client.post(
        reverse("api:tokens"),
        {"name": "tv"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Basic {token.decode()}",
    )

    assert response.status_code == 201
    assert "secret" in response.json()
    assert_not_stored(response)


def test_an_api_error_under_a_personal_path_is_not_stored(
    viewer: Client, profile: Profile
) -> None:
    response = viewer.post(
        reverse("api:profile-ratings", args=[profile.pk]),
        {},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert_not_stored(response)


def test_an_erasure_receipt_is_not_stored_though_anyone_may_see_it(
    client: Client, db
) -> None:
    ErasureReceipt.objects.create(
        scope="account", reference="r3f3r3nc3", row_counts={"activity.Rating": 3}
    )

    response = client.get(reverse("privacy:erase_receipt", args=["r3f3r3nc3"]))

    assert response.status_code == 200
    assert_not_stored(response)


def test_how_recommendations_work_is_not_stored_either(client: Client, db) -> None:
    response = client.get(reverse("privacy:how_it_works"))

    assert response.status_code == 200
    assert_not_stored(response)


def test_a_poster_keeps_its_own_long_caching_for_a_signed_in_viewer(
    viewer: Client, title: Title
) -> None:
    response = viewer.get(reverse("catalog:poster", args=[title.pk]))

    assert response.status_code == 200
    assert "public" in response["Cache-Control"]
    assert "no-store" not in response["Cache-Control"]


def test_a_page_for_anyone_is_left_to_its_view(client: Client, db) -> None:
    """Signed out, outside /privacy/ and /api/: no personal data to protect."""
    response = client.get(reverse("accounts:signup"))

    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")
