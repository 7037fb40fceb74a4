"""Shared fixtures.

Tests that need a real service (PostgreSQL, Redis, a Celery worker, a
browser) call :func:`need_service`: on a laptop without it they skip with the
reason, but with ``REQUIRE_SERVICES=1`` (set by ``.ci/run``) they fail, so CI
can never pass by skipping them.
"""

import os
from pathlib import Path

import pytest
from django.conf import settings

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def need_service(available: bool, reason: str) -> None:
    if available:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def postgres(db) -> None:
    """The test database is PostgreSQL (CI), else skip or fail as above."""
    from django.db import connection

    need_service(
        connection.vendor == "postgresql",
        f"needs PostgreSQL (DATABASE_URL points at {connection.vendor})",
    )


@pytest.fixture(scope="session")
def movielens_dir() -> Path:
    return Path(settings.MOVIELENS_DIR)


@pytest.fixture(scope="session")
def ml_latest_small(movielens_dir: Path) -> Path:
    path = movielens_dir / "ml-latest-small"
    need_service(path.is_dir(), f"needs the MovieLens copy at {path}")
    return path
