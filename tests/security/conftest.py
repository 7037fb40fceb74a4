"""A signed-in viewer with a chosen profile and a title, for the security tests;
and the Hypothesis profile of the property tests.

The property tests send a few dozen requests per property: enough to find the
inputs that crash a view (NUL, lone surrogates, odd JSON), fast enough for
every run. No example database is kept, and under CI (``CI=true``) the
examples are derandomized, so a run never fails on an input the previous one
did not try.
"""

import os
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis.configuration import set_hypothesis_home_dir

from accounts.models import Profile
from catalog.models import Title
from tests.activity.conftest import watch_as
from tests.factories import AccountFactory, ProfileFactory, TitleFactory

# Hypothesis keeps caches in a directory of its own: this run's var dir, not
# the work tree.
set_hypothesis_home_dir(Path(django_settings.VAR_DIR) / "hypothesis")
hypothesis_settings.register_profile(
    "marquee",
    max_examples=50,
    deadline=None,
    database=None,
    derandomize=os.environ.get("CI") == "true",
    # The examples share the test's client and database (each one checks
    # what it changed), so a function-scoped fixture is what is wanted.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
hypothesis_settings.load_profile("marquee")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def profile(db) -> Profile:
    return ProfileFactory(user=AccountFactory(), name="Ada")


@pytest.fixture
def viewer(client: Client, profile: Profile) -> Client:
    return watch_as(client, profile)


@pytest.fixture
def title(db) -> Title:
    return TitleFactory(title="Heat")
