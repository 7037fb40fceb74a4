"""Model artifacts: numpy ``.npz`` files (never pickles), written atomically.

A file is written under a temporary name in the same folder, flushed to
disk, then renamed over its final name, so a reader sees either nothing or a
whole file; a crash leaves no stray file behind. Its sha256 is returned and
checked before a process first loads it, so a corrupted or swapped file is
refused. The outcome is remembered per process for that (path, sha256): a
model file is written once and never changed in place (a rewrite gets a new
name), so hashing 100 MB again on every request would buy nothing, and a
file found bad is not re-read by every request that asks for it.

This module is the only reader of the files: the rest of the project gets a
model's arrays from :func:`load` (then ``Recommender.from_arrays``), or the
profile ids it holds from :func:`profile_ids`.
"""

import hashlib
import os
import tempfile
import threading
import zipfile
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


_verified_lock = threading.Lock()
#: (path, sha256) -> None when the file matched, else why it was refused.
_verified: dict[tuple[str, str], str | None] = {}


def verify(path: Path, sha256: str, *, fresh: bool = False) -> None:
    """Raises :class:`ArtifactError` unless the file's sha256 is ``sha256``.

    Hashed once per process for each (path, sha256), whatever the outcome;
    ``fresh`` hashes it again (promoting a version checks its file as it is
    now). A file that cannot be read is not remembered: it may appear.
    """
    key = (str(path), sha256)
    with _verified_lock:
        if not fresh and key in _verified:
            refused = _verified[key]
            if refused is None:
                return
            raise ArtifactError(refused)
    try:
        actual = sha256_of(path)
    except OSError as exc:
        raise ArtifactError(f"Cannot read model artifact {path}: {exc}") from exc
    refused = None
    if actual != sha256:
        refused = (
            f"Model artifact {path} fails its checksum (expected {sha256[:12]}…, "
            f"found {actual[:12]}…); refusing to load it."
        )
    with _verified_lock:
        _verified[key] = refused
    if refused is not None:
        raise ArtifactError(refused)


def verified_state(path: Path, sha256: str) -> str:
    """What this process knows of the file: ``"verified"``, ``"failed"``, or
    ``"unverified"`` (not hashed here yet, or unreadable when last tried)."""
    with _verified_lock:
        if (str(path), sha256) not in _verified:
            return "unverified"
        return "verified" if _verified[(str(path), sha256)] is None else "failed"


def forget_verified() -> None:
    """Forgets every file's outcome, as a new process would start."""
    with _verified_lock:
        _verified.clear()


def load(path: Path, sha256: str) -> dict[str, np.ndarray]:
    """The file's arrays, once :func:`verify` accepts it."""
    verify(path, sha256)
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {name: npz[name] for name in npz.files}
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise ArtifactError(f"Cannot read model artifact {path}: {exc}") from exc


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
