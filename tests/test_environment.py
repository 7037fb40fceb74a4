"""CI must really test against PostgreSQL and Redis; these checks make sure it does."""

import os

import pytest
from django.conf import settings
from django.db import connection

from tests.conftest import REQUIRE_SERVICES


@pytest.mark.skipif(
    not REQUIRE_SERVICES, reason="only meaningful under REQUIRE_SERVICES=1"
)
@pytest.mark.django_db
def test_ci_runs_on_postgresql():
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


@pytest.mark.skipif(
    not REQUIRE_SERVICES, reason="only meaningful under REQUIRE_SERVICES=1"
)
def test_ci_broker_is_a_reachable_redis():
    import redis

    assert settings.CELERY_BROKER_URL.startswith("redis://")
    assert os.environ["CELERY_BROKER_URL"] == settings.CELERY_BROKER_URL
    assert redis.Redis.from_url(settings.CELERY_BROKER_URL).ping() is True
