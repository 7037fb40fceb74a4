"""The artifact store: model files every machine can reach, fetched once and checked.

"Another machine" here is this process with another local cache folder and
nothing loaded (``training.forget_loaded``), as a process started elsewhere
would be; the namespace cluster (tests/cluster/) runs real ones.
"""

import logging
from pathlib import Path

import numpy as np
import pytest
from django.urls import reverse

from accounts.models import Profile
from config.health import check_model
from recommendations.engine.artifact import ArtifactError
from recommendations.models import ArtifactChunk, ModelVersion, StoredArtifact
from recommendations.services import artifact_store, training
from recommendations.services.forget import model_forget_profiles
from tests.activity.conftest import watch_as

pytestmark = pytest.mark.django_db

SMALL = {"n_factors": 10, "n_epochs": 5, "random_state": 0}
#: Small chunks, so a demo model spans many rows as a large one would.
CHUNK = 64 << 10


@pytest.fixture
def database_store(settings, tmp_path, monkeypatch) -> Path:
    """Model files in the database; this "machine" caches them under ``web``."""
    monkeypatch.setattr(artifact_store, "CHUNK_BYTES", CHUNK)
    settings.RECOMMENDER = {
        **settings.RECOMMENDER,
        "ARTIFACT_STORE": "database",
        "ARTIFACT_DIR": tmp_path / "unused-file-store",
        "ARTIFACT_CACHE_DIR": tmp_path / "trainer",
    }
    return tmp_path


def machine(settings, root: Path, name: str) -> Path:
    """Become another machine: its own cache folder, no model loaded yet."""
    cache = root / name
    settings.RECOMMENDER = {**settings.RECOMMENDER, "ARTIFACT_CACHE_DIR": cache}
    training.forget_loaded()
    return cache


@pytest.fixture
def stored(database_store, demo_catalog, on_commit) -> ModelVersion:
    with on_commit():
        return training.model_train(params=SMALL)


def downloads(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "downloaded" in r.getMessage()]


def test_training_stores_the_file_in_the_database_in_order_named_by_its_content(
    stored, database_store
):
    assert stored.status == ModelVersion.Status.ACTIVE
    assert stored.artifact == f"{stored.sha256}.npz"
    record = StoredArtifact.objects.get()
    assert record.sha256 == stored.sha256
    local = (database_store / "trainer" / stored.artifact).read_bytes()
    assert record.size == len(local)
    chunks = list(
        ArtifactChunk.objects.filter(artifact=record)
        .order_by("seq")
        .values_list("seq", "data")
    )
    assert [seq for seq, _ in chunks] == list(range(-(-len(local) // CHUNK)))
    assert b"".join(bytes(data) for _, data in chunks) == local
    assert not (database_store / "unused-file-store").exists()


def test_another_machine_downloads_the_active_model_once_and_serves_it(
    stored, database_store, settings, client, caplog
):
    cache = machine(settings, database_store, "web")
    viewer = Profile.objects.filter(ratings__isnull=False, is_kids=False).first()
    watch_as(client, viewer)
    caplog.set_level(logging.INFO, logger="recommendations.services.artifact_store")

    for _ in range(3):
        assert client.get(reverse("recommendations:home")).status_code == 200
        training.serving_model()
    training.forget_loaded()  # a second process on the same machine
    version, model = training.serving_model()

    assert version == stored
    assert [p.name for p in cache.iterdir()] == [stored.artifact]
    assert len(downloads(caplog)) == 1
    trainer_copy = database_store / "trainer" / stored.artifact
    assert (cache / stored.artifact).read_bytes() == trainer_copy.read_bytes()
    assert model.ranking.item_ids.size > 0
    assert check_model()["checksum"] == "verified"


def test_a_version_promoted_elsewhere_serves_at_the_next_request_without_restart(
    stored, database_store, settings
):
    web = machine(settings, database_store, "web")
    assert training.serving_model()[0] == stored

    # A worker on another machine trains and promotes a new version.
    machine(settings, database_store, "worker")
    newer = training.model_train(params={**SMALL, "random_state": 1}, force=True)
    assert newer.status == ModelVersion.Status.ACTIVE

    settings.RECOMMENDER = {**settings.RECOMMENDER, "ARTIFACT_CACHE_DIR": web}
    version, model = training.serving_model()  # the web process, still running

    assert version == newer
    assert model.rating.Q.shape[1] == 10
    # The retired version stays for a rollback; both are cached here now.
    assert sorted(p.name for p in web.iterdir()) == sorted(
        [stored.artifact, newer.artifact]
    )


def test_the_web_probe_says_unverified_until_this_machine_has_the_file(
    stored, database_store, settings
):
    machine(settings, database_store, "web")

    assert check_model()["checksum"] == "unverified"  # the probe fetches nothing
    training.serving_model()
    assert check_model()["checksum"] == "verified"


def test_a_damaged_local_copy_is_downloaded_again_and_serves(
    stored, database_store, settings, caplog
):
    cache = machine(settings, database_store, "web")
    training.serving_model()
    copy = cache / stored.artifact
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0xFF
    copy.write_bytes(bytes(data))
    training.forget_loaded()  # a process started after the disk fault

    version, _ = training.serving_model()

    assert version == stored
    stored.refresh_from_db()
    assert stored.status == ModelVersion.Status.ACTIVE
    assert (
        copy.read_bytes() == (database_store / "trainer" / stored.artifact).read_bytes()
    )
    assert "downloading it again" in caplog.text


def test_a_damaged_stored_file_is_refused_and_the_previous_version_serves(
    stored, database_store, settings, caplog
):
    machine(settings, database_store, "worker")
    newer = training.model_train(params={**SMALL, "random_state": 1}, force=True)
    chunk = ArtifactChunk.objects.get(artifact_id=newer.sha256, seq=1)
    chunk.data = bytes(len(chunk.data))
    chunk.save()
    cache = machine(settings, database_store, "web")

    version, _ = training.serving_model()

    assert version == stored
    newer.refresh_from_db()
    assert newer.status == ModelVersion.Status.FAILED
    assert "fails its checksum" in newer.error
    assert not (cache / newer.artifact).exists()  # nothing unchecked is kept
    assert [p.name for p in cache.iterdir()] == [stored.artifact]


def test_a_file_missing_from_the_store_is_refused_with_its_name(stored, settings):
    StoredArtifact.objects.all().delete()
    machine(settings, settings.RECOMMENDER["ARTIFACT_CACHE_DIR"].parent, "web")

    with pytest.raises(ArtifactError, match="not in the database store"):
        training.recommender_for(stored)
    assert training.serving_model() is None
    stored.refresh_from_db()
    assert stored.status == ModelVersion.Status.FAILED


def test_erasure_rewrites_the_stored_file_and_every_machine_drops_the_old_copy(
    stored, database_store, settings, on_commit
):
    web = machine(settings, database_store, "web")
    training.serving_model()
    old_name = stored.artifact
    profile_id = int(training.recommender_for(stored).rating.user_ids[0])

    machine(settings, database_store, "worker")
    with on_commit():
        assert model_forget_profiles(profile_ids=[profile_id]) == [stored.pk]

    stored.refresh_from_db()
    assert stored.artifact != old_name
    assert list(StoredArtifact.objects.values_list("sha256", flat=True)) == [
        stored.sha256
    ]
    assert not ArtifactChunk.objects.filter(artifact_id=old_name[:-4]).exists()
    # The web machine still holds the old copy until it serves the new file.
    assert (web / old_name).exists()
    settings.RECOMMENDER = {**settings.RECOMMENDER, "ARTIFACT_CACHE_DIR": web}
    version, model = training.serving_model()
    assert version.artifact == stored.artifact
    assert profile_id not in model.rating.user_ids
    assert [p.name for p in web.iterdir()] == [stored.artifact]


def test_the_file_store_reads_a_version_named_by_its_old_absolute_path(
    trained, artifact_dir
):
    """Versions trained before the store named their file by its full path."""
    ModelVersion.objects.filter(pk=trained.pk).update(
        artifact=str(artifact_dir / trained.artifact)
    )
    training.forget_loaded()

    version, model = training.serving_model()

    assert version.pk == trained.pk
    assert np.array_equal(
        model.ranking.item_ids, training.recommender_for(trained).ranking.item_ids
    )
