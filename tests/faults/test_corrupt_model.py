"""The active model's file is corrupted on disk: the site keeps answering.

The fault is real: bytes of the file are overwritten, and the process forgets
what it had verified and loaded, as one started after the corruption would.
"""

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.cache import cache
from django.urls import reverse

from accounts.models import Profile
from recommendations import tasks
from recommendations.engine import artifact
from recommendations.home.page import no_model_note
from recommendations.models import ModelVersion, ProfileCandidates
from recommendations.services import training
from tests.activity.conftest import watch_as
from tests.conftest import model_file

pytestmark = pytest.mark.django_db

SMALL = {"n_factors": 10, "n_epochs": 5, "random_state": 0}
REQUESTS = 3


def corrupt(version: ModelVersion) -> None:
    path = model_file(version)
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(64)
    path.write_bytes(bytes(data))
    training.forget_loaded()  # as a process started after the corruption


@pytest.fixture
def hashed(monkeypatch) -> Counter:
    """How many times each model file is hashed from now on."""
    counts: Counter = Counter()
    sha256_of = artifact.sha256_of

    def counting(path: Path) -> str:
        counts[str(path)] += 1
        return sha256_of(path)

    monkeypatch.setattr(artifact, "sha256_of", counting)
    return counts


@pytest.fixture
def viewer(client, trained) -> Profile:
    profile = Profile.objects.filter(is_kids=False, ratings__isnull=False).first()
    watch_as(client, profile)
    return profile


@pytest.fixture
def newer(trained, on_commit) -> ModelVersion:
    """A second version, active; the first is retired and could serve again."""
    with on_commit():  # another seed: a file of its own (equal files are shared)
        version = training.model_train(params={**SMALL, "random_state": 1}, force=True)
    trained.refresh_from_db()
    assert (trained.status, version.status) == ("retired", "active")
    return version


def unrated_title_in_model(profile: Profile, version: ModelVersion) -> int:
    rated = set(profile.ratings.values_list("title_id", flat=True))
    ids = training.recommender_for(version).ranking.item_ids
    return next(int(t) for t in ids if int(t) not in rated)


@dataclass
class Visit:
    homes: list
    more_like_this: list
    refreshed: bool


def visit(client, profile: Profile, title_id: int) -> Visit:
    """The home page and More like this, a few times each, then a refresh."""
    homes = []
    for _ in range(REQUESTS):
        cache.clear()  # the profile's rows are not cached: each request builds them
        homes.append(client.get(reverse("recommendations:home")))
    similar = [
        client.get(reverse("recommendations:more_like_this", args=[title_id]))
        for _ in range(REQUESTS)
    ]
    return Visit(homes, similar, tasks.refresh_profile(profile.pk))


def test_a_corrupt_active_model_is_refused_and_the_previous_version_serves(
    trained, newer, viewer, client, admin_client, hashed, caplog
):
    title_id = unrated_title_in_model(viewer, trained)
    corrupt(newer)

    seen = visit(client, viewer, title_id)

    assert [page.status_code for page in seen.homes] == [200] * REQUESTS
    assert f"Top picks for {viewer.name}" in seen.homes[-1].content.decode()
    assert no_model_note() not in seen.homes[-1].content.decode()
    assert [page.status_code for page in seen.more_like_this] == [200] * REQUESTS
    assert seen.more_like_this[-1].context["similar"].source == "model"
    assert seen.refreshed is True
    assert ProfileCandidates.objects.get(profile=viewer).model_version == trained
    newer.refresh_from_db()
    trained.refresh_from_db()
    assert newer.status == ModelVersion.Status.FAILED
    assert "checksum" in newer.error and newer.artifact in newer.error
    assert trained.status == ModelVersion.Status.ACTIVE
    assert any(
        r.levelname == "ERROR" and newer.artifact in r.getMessage()
        for r in caplog.records
    )
    # Every request above loaded a model: the bad file was hashed once.
    assert hashed[str(model_file(newer))] == 1
    assert hashed[str(model_file(trained))] == 1
    admin_page = admin_client.get(
        reverse("admin:recommendations_modelversion_changelist")
    ).content.decode()
    assert re.search(
        r'<strong class="model-failed">Failed</strong><br>'
        r'<span class="model-failed">Model file refused: [^<]*checksum',
        admin_page,
    )


def test_a_corrupt_only_model_leaves_the_rows_everyone_gets_with_the_note(
    trained, viewer, client, hashed
):
    title_id = unrated_title_in_model(viewer, trained)
    corrupt(trained)

    seen = visit(client, viewer, title_id)

    assert [page.status_code for page in seen.homes] == [200] * REQUESTS
    assert no_model_note() in seen.homes[-1].content.decode()
    assert [page.status_code for page in seen.more_like_this] == [200] * REQUESTS
    assert seen.more_like_this[-1].context["similar"].source == "genres"
    assert seen.refreshed is False
    trained.refresh_from_db()
    assert trained.status == ModelVersion.Status.FAILED
    assert "checksum" in trained.error
    assert not ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).exists()
    assert hashed[str(model_file(trained))] == 1
