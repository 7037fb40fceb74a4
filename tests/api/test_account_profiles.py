"""The account and its profiles through the API: the same rules as the
profile pages (at most five, names unique), the kids gate, and another
account's profile answered 404."""

import pytest
from django.urls import reverse

from accounts.models import Profile
from tests.api.conftest import TokenClient
from tests.api.test_foundation import assert_error
from tests.factories import ProfileFactory

PROFILES = reverse("api:profiles")
PROFILE_FIELDS = {"id", "name", "avatar_color", "is_kids", "created_at"}


def profile_url(profile: Profile) -> str:
    return reverse("api:profile", args=[profile.pk])


def test_the_account(account, adult, kid, token_client: TokenClient) -> None:
    response = token_client("read").get(reverse("api:account"))

    assert response.status_code == 200
    body = response.json()
    assert body.pop("date_joined")
    assert body == {"email": "ada@example.com", "profile_count": 2, "max_profiles": 5}


# --- reading ------------------------------------------------------------------------


def test_profiles_are_listed_oldest_first_with_a_cursor(
    account, adult, kid, token_client: TokenClient
) -> None:
    client = token_client("read")

    first = client.get(PROFILES, {"page_size": 1}).json()
    second = client.get(first["next"]).json()

    rows = first["results"] + second["results"]
    assert [(p["id"], p["name"], p["is_kids"]) for p in rows] == [
        (adult.pk, "Ada", False),
        (kid.pk, "Kit", True),
    ]
    assert set(rows[0]) == PROFILE_FIELDS
    assert rows[0]["avatar_color"] == adult.avatar_color
    assert second["next"] is None


def test_one_profile(account, adult, token_client: TokenClient) -> None:
    response = token_client("read").get(profile_url(adult))

    assert response.status_code == 200
    assert response.json()["name"] == "Ada"


def test_a_token_tied_to_the_kids_profile_sees_only_it(
    account, adult, kid, token_client: TokenClient
) -> None:
    client = token_client("read-write", profile=kid)

    listed = client.get(PROFILES).json()["results"]
    parent = client.get(profile_url(adult))

    assert [p["id"] for p in listed] == [kid.pk]
    assert client.get(profile_url(kid)).status_code == 200
    assert_error(parent, 403, "profile_not_allowed")


def test_a_kids_session_sees_only_the_kids_profile(adult, kid, kids_session) -> None:
    listed = kids_session.get(PROFILES).json()["results"]

    assert [p["id"] for p in listed] == [kid.pk]
    assert_error(kids_session.get(profile_url(adult)), 403, "profile_not_allowed")


def test_another_accounts_profile_is_404(account, adult, stranger, api) -> None:
    seen = api.get(profile_url(stranger))
    changed = api.patch(profile_url(stranger), {"name": "Mallory"}, format="json")

    assert_error(seen, 404, "not_found")
    assert_error(changed, 404, "not_found")
    assert "Profile" not in seen.content.decode()
    stranger.refresh_from_db()
    assert stranger.name == "Eve"
    assert [p["id"] for p in api.get(PROFILES).json()["results"]] == [adult.pk]


def test_a_profile_id_that_is_not_a_number_is_a_json_404(account, api) -> None:
    response = api.get("/api/v1/profiles/abc/")

    assert_error(response, 404, "not_found")


def test_the_avatar_colours(account, token_client: TokenClient) -> None:
    response = token_client("read").get(reverse("api:avatar-colors"))

    assert response.status_code == 200
    body = response.json()
    assert (body["next"], body["previous"]) == (None, None)
    assert body["results"][0] == {"value": "#e50914", "label": "Red"}
    assert [c["value"] for c in body["results"]] == list(Profile.AvatarColor.values)


# --- adding ------------------------------------------------------------------------


def test_adding_a_profile(account, adult, api) -> None:
    response = api.post(
        PROFILES, {"name": "  Grace ", "avatar_color": "#2ecc71"}, format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    profile = Profile.objects.get(pk=body["id"])
    assert (profile.user, profile.name, profile.avatar_color, profile.is_kids) == (
        account,
        "Grace",
        "#2ecc71",
        False,
    )
    assert body["name"] == "Grace"


def test_a_name_the_account_uses_is_refused_on_the_name(account, adult, api) -> None:
    response = api.post(PROFILES, {"name": "ADA"}, format="json")

    body = assert_error(response, 400, "invalid")
    assert body["errors"][0]["attr"] == "name"
    assert "ADA" in body["errors"][0]["detail"]
    assert Profile.objects.filter(user=account).count() == 1


def test_a_sixth_profile_is_refused(account, api) -> None:
    ProfileFactory.create_batch(Profile.MAX_PER_USER, user=account)

    response = api.post(PROFILES, {"name": "One more"}, format="json")

    body = assert_error(response, 400, "profile_limit")
    assert body["errors"][0]["attr"] == "non_field_errors"
    assert Profile.objects.filter(user=account).count() == Profile.MAX_PER_USER


def test_an_unknown_colour_is_refused(account, api) -> None:
    response = api.post(
        PROFILES, {"name": "Grace", "avatar_color": "#000000"}, format="json"
    )

    body = assert_error(response, 400, "invalid_choice")
    assert body["errors"][0]["attr"] == "avatar_color"
    assert not Profile.objects.filter(name="Grace").exists()


@pytest.mark.parametrize(
    ("scope", "code"),
    [("read", "scope_insufficient"), ("read-write", "account_access_required")],
)
def test_adding_a_profile_needs_full_account_access(
    account, adult, token_client: TokenClient, scope, code
) -> None:
    response = token_client(scope).post(PROFILES, {"name": "Grace"}, format="json")

    assert_error(response, 403, code)
    assert not Profile.objects.filter(name="Grace").exists()


def test_a_profile_bound_account_token_cannot_add_profiles(
    account, adult, token_client: TokenClient
) -> None:
    client = token_client("account", profile=adult)

    response = client.post(PROFILES, {"name": "Grace"}, format="json")

    assert_error(response, 403, "profile_not_allowed")
    assert not Profile.objects.filter(name="Grace").exists()


def test_a_kids_session_cannot_add_profiles(account, kid, kids_session) -> None:
    response = kids_session.post(PROFILES, {"name": "Grace"}, format="json")

    assert_error(response, 403, "account_access_required")
    assert not Profile.objects.filter(name="Grace").exists()


# --- changing -------------------------------------------------------------------------


def test_changing_a_profile_changes_only_what_is_sent(account, adult, api) -> None:
    response = api.patch(profile_url(adult), {"avatar_color": "#9b59b6"}, format="json")

    assert response.status_code == 200, response.content
    adult.refresh_from_db()
    assert (adult.name, adult.avatar_color, adult.is_kids) == ("Ada", "#9b59b6", False)
    assert response.json()["avatar_color"] == "#9b59b6"

    api.patch(profile_url(adult), {"name": "Ada L.", "is_kids": True}, format="json")

    adult.refresh_from_db()
    assert (adult.name, adult.avatar_color, adult.is_kids) == (
        "Ada L.",
        "#9b59b6",
        True,
    )


def test_renaming_to_a_used_name_is_refused_on_the_name(
    account, adult, kid, api
) -> None:
    response = api.patch(profile_url(kid), {"name": "ada"}, format="json")

    body = assert_error(response, 400, "invalid")
    assert body["errors"][0]["attr"] == "name"
    kid.refresh_from_db()
    assert kid.name == "Kit"


def test_a_read_token_cannot_change_a_profile(
    account, adult, token_client: TokenClient
) -> None:
    response = token_client("read").patch(
        profile_url(adult), {"name": "Eve"}, format="json"
    )

    assert_error(response, 403, "scope_insufficient")
    adult.refresh_from_db()
    assert adult.name == "Ada"


def test_a_read_write_token_cannot_change_a_profile(
    account, adult, token_client: TokenClient
) -> None:
    response = token_client("read-write").patch(
        profile_url(adult), {"name": "Eve"}, format="json"
    )

    assert_error(response, 403, "account_access_required")
    adult.refresh_from_db()
    assert adult.name == "Ada"


def test_a_kids_session_cannot_change_the_parent_or_itself(
    account, adult, kid, kids_session
) -> None:
    parent = kids_session.patch(profile_url(adult), {"name": "Eve"}, format="json")
    itself = kids_session.patch(profile_url(kid), {"is_kids": False}, format="json")

    assert_error(parent, 403, "profile_not_allowed")
    assert_error(itself, 403, "account_access_required")
    adult.refresh_from_db()
    kid.refresh_from_db()
    assert (adult.name, kid.is_kids) == ("Ada", True)


def test_a_profile_is_deleted_by_erasure_not_by_delete(account, adult, api) -> None:
    response = api.delete(profile_url(adult))

    assert_error(response, 405, "method_not_allowed")
    assert Profile.objects.filter(pk=adult.pk).exists()
