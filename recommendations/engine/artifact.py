"""Model artifacts: numpy ``.npz`` files (never pickles), written atomically.

A file is written under a temporary name in the same folder, flushed to
disk, then renamed over its final name, so a reader sees either nothing or a
whole file; a crash leaves no stray file behind. Its sha256 is returned and
checked again on every load, so a corrupted or swapped file is refused.

This module is the only reader of the files: the rest of the project gets a
model's arrays from :func:`load` (then ``Recommender.from_arrays``), or the
profile ids it holds from :func:`profile_ids`.
"""

import hashlib
import io
import os
import tempfile
from pathlib import Path

import numpy as np

#: The array of a model's training profile ids (``Recommender.to_arrays``).
PROFILE_IDS = "user_ids"


class ArtifactError(Exception):
    pass


def save(path: Path, arrays: dict[str, np.ndarray]) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.fchmod(fd, 0o644)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
            fh.flush()
            os.fsync(fh.fileno())
        digest = sha256_of(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return digest


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load(path: Path, sha256: str) -> dict[str, np.ndarray]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ArtifactError(f"Cannot read model artifact {path}: {exc}") from exc
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise ArtifactError(
            f"Model artifact {path} fails its checksum (expected {sha256[:12]}…, "
            f"found {actual[:12]}…); refusing to load it."
        )
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        return {name: npz[name] for name in npz.files}


def profile_ids(path: Path) -> np.ndarray:
    """The profile ids a model file holds rows for, read without the rest.

    Only that one array is read from the file, so its checksum is not
    checked: whether a model names some profiles is asked during a request
    (an account erasure), and rewriting the file goes through :func:`load`,
    which checks it. Raises :class:`ArtifactError` when it cannot be read.
    """
    try:
        with np.load(path, allow_pickle=False) as npz:
            return np.asarray(npz[PROFILE_IDS])
    except (OSError, KeyError, ValueError) as exc:
        raise ArtifactError(f"Cannot read the profile ids of {path}: {exc}") from exc
