"""The catalog snapshot is shared through the cache, and each process keeps
its own copy only while the cache holds the same build."""

import pytest
from django.core.cache import cache

from catalog.services import catalog_changed
from recommendations.home import snapshot
from tests.factories import TitleFactory

pytestmark = pytest.mark.django_db


def test_a_process_reads_its_own_copy_while_the_cache_holds_the_same_build(
    django_assert_num_queries, monkeypatch
):
    TitleFactory.create_batch(3)
    first = snapshot.catalog_snapshot()
    unpickled = []
    real_get = cache.get
    monkeypatch.setattr(
        cache, "get", lambda key, *a: unpickled.append(key) or real_get(key, *a)
    )

    with django_assert_num_queries(0):
        again = snapshot.catalog_snapshot()

    key = f"{snapshot.SNAPSHOT_KEY}:{snapshot.catalog_version()}"
    assert again is first
    assert f"{key}:stamp" in unpickled and key not in unpickled


def test_a_build_by_another_process_replaces_this_processs_copy():
    TitleFactory.create_batch(3)
    mine = snapshot.catalog_snapshot()
    # Another process rebuilt it (its cache entry had expired there first).
    key = f"{snapshot.SNAPSHOT_KEY}:{snapshot.catalog_version()}"
    theirs = snapshot._build_snapshot()
    cache.set_many({key: ("theirs", theirs), f"{key}:stamp": "theirs"})

    got = snapshot.catalog_snapshot()

    assert got is not mine
    assert list(got.ids) == list(theirs.ids)


def test_a_curators_change_is_seen_at_once_and_a_cleared_cache_rebuilds(
    django_capture_on_commit_callbacks,
):
    TitleFactory.create_batch(3)
    before = snapshot.catalog_snapshot()
    with django_capture_on_commit_callbacks(execute=True):
        added = TitleFactory()
        catalog_changed()

    after = snapshot.catalog_snapshot()
    assert added.pk in after.ids and added.pk not in before.ids

    cache.clear()
    hidden = TitleFactory()
    assert hidden.pk in snapshot.catalog_snapshot().ids
