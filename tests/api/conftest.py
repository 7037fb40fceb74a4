"""Fixtures for the API's tests: programs signed in with tokens, a family of
profiles (grown-up and kids) and a second account to try to reach."""

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from accounts.models import AccessToken, Profile, User
from accounts.services import token_create
from tests.factories import ACCOUNT_PASSWORD, AccountFactory, ProfileFactory


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    """PBKDF2's real cost is for attackers, not for a test run."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def account(db) -> User:
    return AccountFactory(email="ada@example.com")


@pytest.fixture
def adult(account: User) -> Profile:
    return ProfileFactory(user=account, name="Ada")


@pytest.fixture
def kid(account: User) -> Profile:
    return ProfileFactory(user=account, name="Kit", is_kids=True)


@pytest.fixture
def stranger(db) -> Profile:
    """Another account's profile: every path to it must answer 404."""
    return ProfileFactory(user=AccountFactory(email="eve@example.com"), name="Eve")


TokenClient = Callable[..., APIClient]


@pytest.fixture
def token_client(account: User) -> TokenClient:
    """``token_client(scope="read-write", profile=None, user=account)``: an
    APIClient sending a fresh token of that scope (tied to ``profile`` if
    given) as ``Authorization: Bearer``; the token is ``client.token``."""

    def make(
        scope: str = AccessToken.Scope.READ_WRITE,
        profile: Profile | None = None,
        user: User | None = None,
    ) -> APIClient:
        token, secret = token_create(
            user=user or account, name=f"test {scope}", scope=scope, profile=profile
        )
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        client.token = token
        client.secret = secret
        return client

    return make


@pytest.fixture
def api(token_client: TokenClient) -> APIClient:
    """The account's program with a full-access token."""
    return token_client(AccessToken.Scope.ACCOUNT)


@pytest.fixture
def kids_session(account: User, kid: Profile) -> APIClient:
    """The browser's session with the kids profile chosen (no password typed)."""
    from accounts.access import ACTIVE_PROFILE_SESSION_KEY

    client = APIClient(enforce_csrf_checks=False)
    client.force_login(account)
    session = client.session
    session[ACTIVE_PROFILE_SESSION_KEY] = kid.pk
    session.save()
    return client


__all__ = ["ACCOUNT_PASSWORD"]
