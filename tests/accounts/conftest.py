import pytest
from django.test import Client

from accounts.models import Profile, User
from tests.factories import AccountFactory, ProfileFactory


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    """PBKDF2's real cost is for attackers, not for a test run."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def account(db) -> User:
    return AccountFactory(email="ada@example.com")


@pytest.fixture
def profile(account: User) -> Profile:
    return ProfileFactory(user=account, name="Ada")


@pytest.fixture
def signed_in(client: Client, account: User) -> Client:
    client.force_login(account)
    return client
