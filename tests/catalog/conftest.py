"""Fixtures of the catalog's tests."""

from collections.abc import Iterator

import pytest
from django.core.management import call_command
from django.db import transaction

from catalog.models import Title


@pytest.fixture(scope="module")
def movielens(django_db_setup, django_db_blocker, ml_latest_small) -> Iterator[None]:
    """ml-latest-small imported once for a module's tests (any database: about
    5 s on SQLite), rolled back after them."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("import_movielens", ml_latest_small, verbosity=0)
        yield
        transaction.set_rollback(True)


@pytest.fixture
def catalog(movielens, db) -> None:
    assert Title.objects.count() == 9125
