"""The artifact store: where model files live, so that every machine reads them.

Chosen by ``RECOMMENDER_ARTIFACT_STORE``:

- ``file`` (the default): files in ``RECOMMENDER_ARTIFACT_DIR``. On one
  machine a local folder; on several, a shared mount (NFS or the like) at
  that path on each. Read where they lie.
- ``database``: the files' bytes in the database (``StoredArtifact`` and its
  chunks), so a worker or web process on any machine that reaches PostgreSQL
  reaches them. Each process downloads a version once into its machine's
  ``RECOMMENDER_ARTIFACT_CACHE_DIR``, hashing it as it arrives, and keeps
  there only the files the registry still names.

Either way a file is content-addressed: named ``<sha256>.npz`` and never
changed in place (forgetting profiles writes a new file). A version names
its file in ``ModelVersion.artifact`` and its checksum in ``sha256``; every
process verifies a file once before it first loads it
(``engine.artifact.verify``). So a web process picks up a promoted version
at its next request, with no restart: the registry names a new file, which
the process fetches, checks and loads.

Versions trained before the store named their file by its absolute path;
such a name is read where it points.
"""

import logging
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from recommendations.engine import artifact
from recommendations.engine.artifact import ArtifactError
from recommendations.models import ArtifactChunk, ModelVersion, StoredArtifact

logger = logging.getLogger(__name__)

#: Bytes per database row of a stored file.
CHUNK_BYTES = 8 << 20
#: A file (or a half-written temporary one) younger than this is never swept:
#: another machine may be about to name it in the registry.
SWEEP_GRACE = timedelta(hours=1)

STORES = ("file", "database")

#: Versions whose files may serve again; their files are kept.
_KEPT_STATUSES = (
    ModelVersion.Status.READY,
    ModelVersion.Status.ACTIVE,
    ModelVersion.Status.RETIRED,
)


class FileStore:
    """Files in one folder, shared by every machine that mounts it."""

    fetches = False

    @property
    def root(self) -> Path:
        return settings.RECOMMENDER["ARTIFACT_DIR"]

    def publish(self, arrays: dict[str, np.ndarray], stem: str) -> tuple[str, str]:
        path, sha256 = artifact.save_addressed(self.root, arrays, stem)
        return path.name, sha256

    @property
    def writes_to(self) -> Path:
        return self.root

    def local(self, name: str) -> Path:
        return self.root / name  # an absolute (older) name stays itself

    def fetch(self, name: str, sha256: str) -> Path:
        return self.local(name)

    def delete(self, name: str) -> None:
        self.local(name).unlink(missing_ok=True)

    def sweep(self, keep: set[str]) -> None:
        _sweep_folder(self.root, keep)


class DatabaseStore:
    """Files in the database, each downloaded once per machine into a cache."""

    fetches = True

    @property
    def cache(self) -> Path:
        return settings.RECOMMENDER["ARTIFACT_CACHE_DIR"]

    @property
    def writes_to(self) -> Path:
        return self.cache

    def publish(self, arrays: dict[str, np.ndarray], stem: str) -> tuple[str, str]:
        path, sha256 = artifact.save_addressed(self.cache, arrays, stem)
        with transaction.atomic():
            if not StoredArtifact.objects.filter(pk=sha256).exists():
                stored = StoredArtifact.objects.create(
                    sha256=sha256, size=path.stat().st_size
                )
                with path.open("rb") as fh:
                    for seq, data in enumerate(iter(lambda: fh.read(CHUNK_BYTES), b"")):
                        ArtifactChunk.objects.create(
                            artifact=stored, seq=seq, data=data
                        )
        return path.name, sha256

    def local(self, name: str) -> Path:
        return self.cache / name

    def fetch(self, name: str, sha256: str) -> Path:
        """The local copy, downloaded (and hashed as it arrives) if missing."""
        path = self.local(name)
        if Path(name).is_absolute() or path.is_file():
            return path
        if not StoredArtifact.objects.filter(pk=sha256).exists():
            raise ArtifactError(
                f"Model artifact {name} is not in the database store; refusing to "
                "load it."
            )
        started = time.monotonic()
        chunks = (
            bytes(data)
            for data in ArtifactChunk.objects.filter(artifact_id=sha256)
            .order_by("seq")
            .values_list("data", flat=True)
            .iterator(chunk_size=1)
        )
        path = artifact.receive(self.cache, chunks, sha256)
        logger.info(
            "Model artifact %s downloaded from the database in %.1f s",
            name,
            time.monotonic() - started,
        )
        _sweep_folder(self.cache, _kept_names(), grace=timedelta(0))
        return path

    def delete(self, name: str) -> None:
        sha256 = name.removesuffix(".npz")
        ArtifactChunk.objects.filter(artifact_id=sha256).delete()
        StoredArtifact.objects.filter(pk=sha256).delete()
        self.local(name).unlink(missing_ok=True)

    def sweep(self, keep: set[str]) -> None:
        lapsed = timezone.now() - SWEEP_GRACE
        stale = StoredArtifact.objects.filter(created_at__lt=lapsed).exclude(
            sha256__in=[name.removesuffix(".npz") for name in keep]
        )
        for sha256 in stale.values_list("sha256", flat=True):
            logger.info("Removing unused model artifact %s from the database", sha256)
            self.delete(artifact.addressed_name(sha256))
        _sweep_folder(self.cache, keep)


def store() -> FileStore | DatabaseStore:
    """The store the settings choose (read at each call: tests change them)."""
    if settings.RECOMMENDER["ARTIFACT_STORE"] == "database":
        return DatabaseStore()
    return FileStore()


def _kept_names() -> set[str]:
    return {
        Path(name).name
        for name in ModelVersion.objects.filter(status__in=_KEPT_STATUSES)
        .exclude(artifact="")
        .values_list("artifact", flat=True)
    }


def _sweep_folder(folder: Path, keep: set[str], grace: timedelta = SWEEP_GRACE) -> None:
    """Removes model files not in ``keep`` once older than ``grace``, and
    temporary files a stopped process left once older than :data:`SWEEP_GRACE`
    (one being written now is younger)."""
    if not folder.is_dir():
        return
    now = time.time()
    for path in folder.iterdir():
        if artifact.is_temporary(path):
            limit = now - SWEEP_GRACE.total_seconds()
        elif path.suffix == ".npz" and path.name not in keep:
            limit = now - grace.total_seconds()
        else:
            continue
        try:
            if not path.is_file() or path.stat().st_mtime > limit:
                continue
        except FileNotFoundError:
            continue
        logger.info("Removing unused model file %s", path)
        path.unlink(missing_ok=True)


# --- what the rest of the project calls ------------------------------------------


def artifact_publish(
    *, arrays: dict[str, np.ndarray], stem: str = "model"
) -> tuple[str, str]:
    """Stores a model's arrays; returns the file's name and sha256. Its
    temporary file on the way is named after ``stem``."""
    return store().publish(arrays, stem)


def artifact_temporaries_remove(*, stem: str) -> None:
    """Removes the temporary files a stopped write named after ``stem`` left."""
    for path in artifact.temporaries(store().writes_to, stem):
        logger.info("Removing temporary model file %s of a stopped run", path)
        path.unlink(missing_ok=True)


def artifact_arrays(*, name: str, sha256: str) -> dict[str, np.ndarray]:
    """The arrays of a stored file, once its checksum holds.

    A local copy of a database-stored file that fails (a disk fault on this
    machine) is dropped and downloaded again once before the file is refused.
    """
    return artifact.load(_checked_path(name, sha256, fresh=False), sha256)


def artifact_verify(*, name: str, sha256: str, fresh: bool = False) -> None:
    """Raises ``ArtifactError`` unless the file is there and matches ``sha256``;
    ``fresh`` hashes this machine's copy again (promotion does)."""
    _checked_path(name, sha256, fresh=fresh)


def _checked_path(name: str, sha256: str, *, fresh: bool) -> Path:
    chosen = store()
    path = chosen.fetch(name, sha256)
    try:
        artifact.verify(path, sha256, fresh=fresh)
    except ArtifactError:
        if not chosen.fetches or Path(name).is_absolute():
            raise
        logger.warning("Local copy %s fails its checksum; downloading it again", path)
        path.unlink(missing_ok=True)
        path = chosen.fetch(name, sha256)
        artifact.verify(path, sha256, fresh=True)
    return path


def artifact_local_path(*, name: str) -> Path | None:
    """Where this machine has the file, without fetching it: None for a
    database-stored file not downloaded here yet."""
    chosen = store()
    path = chosen.local(name)
    if chosen.fetches and not path.is_file():
        return None
    return path


def artifact_profile_ids(*, name: str, sha256: str) -> np.ndarray | None:
    """The profile ids a file holds rows for (see ``engine.artifact.profile_ids``);
    None when the file cannot be had or read."""
    try:
        return artifact.profile_ids(store().fetch(name, sha256))
    except ArtifactError:
        return None


def artifact_discard(*, name: str) -> None:
    """Removes a file no version may serve from any more (a failed training's,
    the file an erasure replaced); one another version still names stays."""
    if name and Path(name).name not in _kept_names():
        store().delete(name)


def artifacts_sweep() -> None:
    """Removes what stopped runs left and files no version names any more.

    Called by a training, under the training lease. Only files older than
    :data:`SWEEP_GRACE` go: a forgetting may have just written one that its
    version names once its transaction commits.
    """
    keep = _kept_names() | {
        Path(name).name
        for name in ModelVersion.objects.filter(status=ModelVersion.Status.TRAINING)
        .exclude(artifact="")
        .values_list("artifact", flat=True)
    }
    store().sweep(keep)
