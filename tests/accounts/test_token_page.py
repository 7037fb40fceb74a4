"""The account's access-token page: make a token (its secret shown once),
see the list (prefixes only), revoke; an account page, so a kids profile is
asked for the account password first."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.access import ACTIVE_PROFILE_SESSION_KEY
from accounts.models import AccessToken, Profile, User
from accounts.services import token_create, token_digest
from tests.factories import AccountFactory, ProfileFactory

pytestmark = pytest.mark.django_db

TOKENS = reverse("accounts:tokens")


def revoke_url(token: AccessToken) -> str:
    return reverse("accounts:token_revoke", args=[token.pk])


@pytest.fixture
def kid(account: User) -> Profile:
    return ProfileFactory(user=account, name="Kit", is_kids=True)


def test_making_a_token_shows_its_secret_once(signed_in: Client, account, profile):
    made = signed_in.post(
        TOKENS,
        {"name": "Living-room TV", "scope": "read", "profile": profile.pk},
    )

    assert made.status_code == 200
    token = AccessToken.objects.get(user=account)
    secret = made.context["secret"]
    assert token.digest == token_digest(secret)
    assert (token.name, token.scope, token.profile) == (
        "Living-room TV",
        "read",
        profile,
    )
    assert token.expires_at is None
    page = made.content.decode()
    assert page.count(secret) == 1
    assert "shown only this once" in page

    later = signed_in.get(TOKENS).content.decode()

    assert secret not in later
    assert f"{token.prefix}…" in later
    assert "Living-room TV" in later


def test_a_token_can_expire_after_some_days(signed_in: Client, account, profile):
    before = timezone.now()

    signed_in.post(
        TOKENS, {"name": "trial", "scope": "read-write", "expires_in_days": "7"}
    )

    token = AccessToken.objects.get(user=account)
    assert token.profile is None
    assert 7 * 86400 - 5 < (token.expires_at - before).total_seconds() < 7 * 86400 + 5


def test_a_kids_profile_token_with_full_access_is_refused_on_the_form(
    signed_in: Client, account, profile, kid
):
    response = signed_in.post(
        TOKENS, {"name": "tablet", "scope": "account", "profile": kid.pk}
    )

    assert response.status_code == 200
    assert response.context["form"].errors["scope"] == [
        "A kids profile's token cannot have full account access."
    ]
    assert response.context["secret"] is None
    assert not AccessToken.objects.exists()


def test_another_accounts_profile_cannot_be_chosen(signed_in: Client, account):
    theirs = ProfileFactory(user=AccountFactory(email="eve@example.com"))

    response = signed_in.post(
        TOKENS, {"name": "x", "scope": "read", "profile": theirs.pk}
    )

    assert "profile" in response.context["form"].errors
    assert not AccessToken.objects.exists()


def test_revoking_a_token(signed_in: Client, account, profile):
    token, _ = token_create(user=account, name="old phone")

    response = signed_in.post(revoke_url(token))

    assert response.status_code == 302
    assert response["Location"] == TOKENS
    token.refresh_from_db()
    assert token.revoked_at is not None
    page = signed_in.get(TOKENS).content.decode()
    assert "Revoked" in page
    assert revoke_url(token) not in page


def test_another_accounts_token_cannot_be_revoked(signed_in: Client, account):
    theirs, _ = token_create(user=AccountFactory(email="eve@example.com"), name="eve's")

    response = signed_in.post(revoke_url(theirs))

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    assert "eve's" not in signed_in.get(TOKENS).content.decode()


def test_revoking_needs_a_post(signed_in: Client, account):
    token, _ = token_create(user=account, name="tv")

    assert signed_in.get(revoke_url(token)).status_code == 405
    token.refresh_from_db()
    assert token.revoked_at is None


def test_a_kids_profile_is_asked_for_the_account_password(client: Client, account, kid):
    client.force_login(account)
    session = client.session
    session[ACTIVE_PROFILE_SESSION_KEY] = kid.pk
    session.save()
    token, _ = token_create(user=account, name="tv")

    page = client.get(TOKENS)
    made = client.post(TOKENS, {"name": "x", "scope": "account"})
    revoked = client.post(revoke_url(token))

    confirm = reverse("accounts:confirm_password")
    assert page.status_code == 302 and page["Location"].startswith(confirm)
    assert made.status_code == 302 and made["Location"].startswith(confirm)
    assert revoked.status_code == 302 and revoked["Location"].startswith(confirm)
    assert AccessToken.objects.get().revoked_at is None


def test_signed_out_is_sent_to_log_in(client: Client, db):
    response = client.get(TOKENS)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_making_tokens_on_the_page_is_throttled(settings, signed_in: Client, account):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "token-create": "1/hour",
        },
    }

    signed_in.post(TOKENS, {"name": "a", "scope": "read"})
    refused = signed_in.post(TOKENS, {"name": "b", "scope": "read"})

    assert refused.status_code == 429
    assert refused["Retry-After"]
    assert list(AccessToken.objects.values_list("name", flat=True)) == ["a"]


def test_the_profile_page_links_to_the_tokens(signed_in: Client, profile):
    page = signed_in.get(reverse("accounts:profile_manage")).content.decode()

    assert f'href="{TOKENS}"' in page
