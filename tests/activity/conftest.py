"""A signed-in viewer with a chosen profile, and a trained model when needed."""

import pytest
from django.test import Client

from accounts.access import ACTIVE_PROFILE_SESSION_KEY
from accounts.models import Profile
from tests.factories import ProfileFactory

HTMX = {"HX-Request": "true"}


def watch_as(client: Client, profile: Profile) -> Client:
    """Logs ``client`` in as the profile's account, with the profile chosen."""
    client.force_login(profile.user)
    session = client.session
    session[ACTIVE_PROFILE_SESSION_KEY] = profile.pk
    session.save()
    return client


@pytest.fixture
def profile(db) -> Profile:
    return ProfileFactory(name="Ada")


@pytest.fixture
def viewer(client: Client, profile: Profile) -> Client:
    return watch_as(client, profile)


@pytest.fixture
def kids_profile(profile: Profile) -> Profile:
    return ProfileFactory(user=profile.user, name="Kiddo", is_kids=True)


@pytest.fixture
def kids_viewer(client: Client, kids_profile: Profile) -> Client:
    return watch_as(client, kids_profile)


@pytest.fixture
def other_profile(db) -> Profile:
    """Someone else's profile (another account)."""
    return ProfileFactory(name="Bea")
