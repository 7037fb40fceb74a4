"""Personal access tokens through the API: made with the account password
(the one place HTTP Basic is taken) or an account token, used, listed
(never with the secret), revoked; and who may make which."""

import base64
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import AccessToken, User
from accounts.services import TOKENS_PER_USER, token_create, token_digest
from tests.api.conftest import TokenClient
from tests.api.test_foundation import assert_error
from tests.factories import ACCOUNT_PASSWORD

TOKENS = reverse("api:tokens")
PROFILES = reverse("api:profiles")
TOKEN_FIELDS = {
    "id",
    "name",
    "scope",
    "profile",
    "prefix",
    "created_at",
    "expires_at",
    "last_used_at",
    "revoked_at",
    "active",
}


def token_url(token: AccessToken) -> str:
    return reverse("api:token", args=[token.pk])


def basic(email: str, password: str) -> APIClient:
    client = APIClient()
    raw = base64.b64encode(f"{email}:{password}".encode()).decode()
    client.credentials(HTTP_AUTHORIZATION=f"Basic {raw}")
    return client


def bearer(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@pytest.fixture
def password_client(account: User) -> APIClient:
    return basic(account.email, ACCOUNT_PASSWORD)


# --- the life of a token ---------------------------------------------------------


def test_a_token_made_with_the_password_works_is_listed_and_stops_when_revoked(
    account, adult, password_client
) -> None:
    made = password_client.post(
        TOKENS, {"name": "Living-room TV", "scope": "account"}, format="json"
    )

    assert made.status_code == 201, made.content
    body = made.json()
    secret = body.pop("secret")
    assert set(body) == TOKEN_FIELDS
    assert secret.startswith("mqt_") and body["prefix"] == secret[:12]
    assert body["name"] == "Living-room TV"
    assert body["scope"] == "account"
    assert body["profile"] is None
    assert body["active"] is True
    assert body["last_used_at"] is None
    stored = AccessToken.objects.get(pk=body["id"])
    assert stored.digest == token_digest(secret)
    assert secret not in {stored.prefix, stored.digest}

    program = bearer(secret)
    assert program.get(PROFILES).status_code == 200
    listed = program.get(TOKENS)

    assert listed.status_code == 200
    [row] = listed.json()["results"]
    assert set(row) == TOKEN_FIELDS  # no secret, no digest
    assert row["id"] == body["id"]
    assert row["last_used_at"] is not None

    revoked = program.delete(token_url(stored))

    assert revoked.status_code == 204
    after = program.get(PROFILES)
    assert_error(after, 401, "authentication_failed")
    assert after["WWW-Authenticate"] == 'Bearer realm="api"'
    stored.refresh_from_db()
    assert stored.revoked_at is not None and not stored.is_active


def test_a_new_token_is_read_write_for_every_profile_unless_told(
    account, password_client
) -> None:
    made = password_client.post(TOKENS, {"name": "script"}, format="json")

    assert made.status_code == 201
    assert made.json()["scope"] == "read-write"
    assert made.json()["profile"] is None
    assert made.json()["expires_at"] is None


def test_a_token_tied_to_a_profile_with_an_expiry(
    account, adult, password_client
) -> None:
    expires = timezone.now() + timedelta(days=30)

    made = password_client.post(
        TOKENS,
        {
            "name": "Ada's phone",
            "scope": "read",
            "profile": adult.pk,
            "expires_at": expires.isoformat(),
        },
        format="json",
    )

    assert made.status_code == 201, made.content
    token = AccessToken.objects.get(pk=made.json()["id"])
    assert (token.scope, token.profile, token.expires_at) == ("read", adult, expires)


def test_the_list_and_one_token_show_revoked_and_expired_ones_as_inactive(
    account, api
) -> None:
    old, _ = token_create(user=account, name="old")
    AccessToken.objects.filter(pk=old.pk).update(revoked_at=timezone.now())
    stale, _ = token_create(
        user=account, name="stale", expires_at=timezone.now() + timedelta(hours=1)
    )
    AccessToken.objects.filter(pk=stale.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )

    listed = api.get(TOKENS).json()["results"]
    one = api.get(token_url(old)).json()

    assert [(t["name"], t["active"]) for t in listed] == [
        ("stale", False),
        ("old", False),
        (api.token.name, True),
    ]
    assert one["revoked_at"] is not None and one["active"] is False


def test_revoking_twice_changes_nothing(account, api) -> None:
    token, _ = token_create(user=account, name="tv")
    api.delete(token_url(token))
    token.refresh_from_db()
    first = token.revoked_at

    again = api.delete(token_url(token))

    token.refresh_from_db()
    assert again.status_code == 204
    assert token.revoked_at == first


def test_tokens_are_paged_with_a_cursor(account, api) -> None:
    for n in range(3):
        token_create(user=account, name=f"t{n}")

    first = api.get(TOKENS, {"page_size": 2}).json()
    second = api.get(first["next"]).json()

    names = [t["name"] for t in first["results"] + second["results"]]
    assert names == ["t2", "t1", "t0", api.token.name]
    assert second["next"] is None


# --- signing in to make one ------------------------------------------------------


def test_a_wrong_password_is_401_and_makes_nothing(account, adult) -> None:
    response = basic(account.email, "not-it").post(TOKENS, {"name": "x"}, format="json")

    assert_error(response, 401, "authentication_failed")
    assert not AccessToken.objects.exists()


@pytest.mark.parametrize(
    "url",
    [TOKENS, PROFILES, reverse("api:account"), reverse("api:avatar-colors")],
)
def test_the_password_is_not_taken_anywhere_else(account, adult, url) -> None:
    """Basic is for making a token: not for reading, even the token list."""
    response = basic(account.email, ACCOUNT_PASSWORD).get(url)

    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_the_password_cannot_patch_a_profile(account, adult) -> None:
    response = basic(account.email, ACCOUNT_PASSWORD).patch(
        reverse("api:profile", args=[adult.pk]), {"name": "Eve"}, format="json"
    )

    assert_error(response, 401, "not_authenticated")
    adult.refresh_from_db()
    assert adult.name == "Ada"


def test_the_sites_own_session_makes_tokens(account, adult) -> None:
    client = APIClient()
    client.force_login(account)

    response = client.post(TOKENS, {"name": "from the page"}, format="json")

    assert response.status_code == 201


# --- who may make which ------------------------------------------------------------


def test_a_read_write_token_cannot_make_or_list_tokens(
    account, token_client: TokenClient
) -> None:
    client = token_client("read-write")

    made = client.post(TOKENS, {"name": "more"}, format="json")
    listed = client.get(TOKENS)
    one = client.get(token_url(client.token))

    for response in (made, listed, one):
        assert_error(response, 403, "account_access_required")
    assert AccessToken.objects.count() == 1


def test_a_read_token_cannot_revoke(account, token_client: TokenClient) -> None:
    client = token_client("read")

    response = client.delete(token_url(client.token))

    assert_error(response, 403, "account_access_required")
    client.token.refresh_from_db()
    assert client.token.revoked_at is None


def test_a_kids_session_cannot_make_tokens(kids_session) -> None:
    response = kids_session.post(TOKENS, {"name": "sneaky"}, format="json")

    assert_error(response, 403, "account_access_required")
    assert not AccessToken.objects.exists()


def test_a_kids_profile_token_cannot_have_full_account_access(
    account, kid, password_client
) -> None:
    response = password_client.post(
        TOKENS,
        {"name": "Kit's tablet", "scope": "account", "profile": kid.pk},
        format="json",
    )

    body = assert_error(response, 400, "kids_profile_account_scope")
    assert body["errors"][0]["attr"] == "scope"
    assert not AccessToken.objects.exists()


@pytest.mark.parametrize("profile", [1.5, "1.5", True, "abc"])
def test_a_profile_id_must_be_a_whole_number(
    account, adult, password_client, profile
) -> None:
    response = password_client.post(
        TOKENS, {"name": "x", "profile": profile}, format="json"
    )

    body = assert_error(response, 400, "invalid")
    assert body["errors"][0]["attr"] == "profile"
    assert not AccessToken.objects.exists()


def test_another_accounts_profile_is_no_such_profile(
    account, adult, stranger, password_client
) -> None:
    response = password_client.post(
        TOKENS, {"name": "x", "profile": stranger.pk}, format="json"
    )

    body = assert_error(response, 400, "does_not_exist")
    assert body["errors"][0]["attr"] == "profile"
    assert "Profile" not in body["errors"][0]["detail"]
    assert not AccessToken.objects.exists()


def test_an_expiry_in_the_past_is_refused(account, password_client) -> None:
    past = timezone.now() - timedelta(minutes=5)

    response = password_client.post(
        TOKENS, {"name": "x", "expires_at": past.isoformat()}, format="json"
    )

    body = assert_error(response, 400, "past")
    assert body["errors"][0]["attr"] == "expires_at"


def test_at_most_twenty_working_tokens(account, api) -> None:
    """The account's own ``api`` token is the first; revoked and expired ones
    leave room."""
    for n in range(TOKENS_PER_USER - 1):
        token_create(user=account, name=f"t{n}")

    refused = api.post(TOKENS, {"name": "one more"}, format="json")

    assert_error(refused, 400, "token_limit")
    spare = AccessToken.objects.get(name="t0")
    api.delete(token_url(spare))
    assert api.post(TOKENS, {"name": "one more"}, format="json").status_code == 201


# --- a token tied to a profile -----------------------------------------------------


def test_a_profile_bound_account_token_makes_tokens_for_its_profile_only(
    account, adult, kid, token_client: TokenClient
) -> None:
    client = token_client("account", profile=adult)
    other, _ = token_create(user=account, name="kid's", profile=kid)

    default = client.post(TOKENS, {"name": "mine"}, format="json")
    for_kid = client.post(TOKENS, {"name": "x", "profile": kid.pk}, format="json")
    for_all = client.post(TOKENS, {"name": "x", "profile": None}, format="json")
    listed = client.get(TOKENS).json()["results"]
    peek = client.get(token_url(other))
    revoke = client.delete(token_url(other))

    assert default.status_code == 201
    assert default.json()["profile"] == adult.pk
    assert_error(for_kid, 403, "profile_not_allowed")
    assert_error(for_all, 403, "profile_not_allowed")
    assert {t["profile"] for t in listed} == {adult.pk}
    assert_error(peek, 403, "profile_not_allowed")
    assert_error(revoke, 403, "profile_not_allowed")
    other.refresh_from_db()
    assert other.revoked_at is None


# --- another account's tokens -------------------------------------------------------


def test_another_accounts_token_is_404_and_stays_working(
    account, adult, stranger, api
) -> None:
    theirs, secret = token_create(user=stranger.user, name="eve's")

    seen = api.get(token_url(theirs))
    revoked = api.delete(token_url(theirs))

    assert_error(seen, 404, "not_found")
    assert_error(revoked, 404, "not_found")
    assert "AccessToken" not in seen.content.decode()
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    assert bearer(secret).get(PROFILES).status_code == 200


def test_another_accounts_tokens_are_not_listed(account, stranger, api) -> None:
    token_create(user=stranger.user, name="eve's")

    listed = api.get(TOKENS).json()["results"]

    assert [t["name"] for t in listed] == [api.token.name]


# --- throttles ---------------------------------------------------------------------


def _rates(settings, **rates: str) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            **rates,
        },
    }


def test_making_tokens_is_throttled_per_account(settings, account, api) -> None:
    _rates(settings, **{"token-create": "2/hour", "token-create-ip": "100/hour"})

    answers = [api.post(TOKENS, {"name": f"t{n}"}, format="json") for n in range(3)]

    assert [r.status_code for r in answers[:2]] == [201, 201]
    assert_error(answers[2], 429, "throttled")
    assert 3590 <= int(answers[2]["Retry-After"]) <= 3600
    assert AccessToken.objects.count() == 3  # the api token and two more
    assert api.get(TOKENS).status_code == 200  # reading is not counted


def test_making_tokens_is_throttled_per_client_address(
    settings, account, stranger, password_client
) -> None:
    _rates(settings, **{"token-create": "100/hour", "token-create-ip": "1/hour"})
    neighbour = basic(stranger.user.email, ACCOUNT_PASSWORD)

    made = password_client.post(TOKENS, {"name": "a"}, format="json")
    refused = neighbour.post(TOKENS, {"name": "b"}, format="json")
    elsewhere = neighbour.post(
        TOKENS, {"name": "b"}, format="json", REMOTE_ADDR="198.51.100.23"
    )

    assert made.status_code == 201
    assert_error(refused, 429, "throttled")
    assert elsewhere.status_code == 201
