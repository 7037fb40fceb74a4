"""Model artifacts: numpy ``.npz`` files (never pickles), written atomically.

A file is written under a temporary name in the same folder, flushed to
disk, then renamed over its final name, so a reader sees either nothing or a
whole file; a crash leaves no stray file behind. Its sha256 is returned and
checked before a process first loads it, so a corrupted or swapped file is
refused. The outcome is remembered per process for that (path, sha256): a
model file is written once and never changed in place (a rewrite gets a new
name), so hashing 100 MB again on every request would buy nothing, and a
file found bad is not re-read by every request that asks for it.

The site's model files are content-addressed (:func:`save_addressed` names
a file ``<sha256>.npz``); a copy fetched from elsewhere is written by
:func:`receive`, which hashes it as it arrives. Where the files live (a
shared folder or the database) is ``services.artifact_store``'s business.

This module is the only reader of the files: the rest of the project gets a
model's arrays from :func:`load` (then ``Recommender.from_arrays``), or the
profile ids it holds from :func:`profile_ids`.
"""

import hashlib
import os
import tempfile
import threading
import zipfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np

#: The array of a model's training profile ids (``Recommender.to_arrays``).
PROFILE_IDS = "user_ids"


class ArtifactError(Exception):
    pass


def save(path: Path, arrays: dict[str, np.ndarray]) -> str:
    """Writes the arrays to ``path`` atomically; returns the file's sha256."""
    tmp, digest = _write_temp(path.parent, path.name, arrays)
    _rename(tmp, path)
    return digest


def save_addressed(
    folder: Path, arrays: dict[str, np.ndarray], stem: str = "model"
) -> tuple[Path, str]:
    """Writes the arrays to ``folder/<sha256>.npz`` atomically (content-addressed).

    A file of that name is already the same bytes, so it is kept and the new
    copy dropped. The temporary file is named after ``stem`` (see
    :func:`temporaries`). Returns the file and its sha256.
    """
    tmp, digest = _write_temp(folder, stem, arrays)
    path = folder / addressed_name(digest)
    if path.is_file():
        tmp.unlink(missing_ok=True)
    else:
        _rename(tmp, path)
    return path, digest


def addressed_name(sha256: str) -> str:
    return f"{sha256}.npz"


def _write_temp(
    folder: Path, stem: str, arrays: dict[str, np.ndarray]
) -> tuple[Path, str]:
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{stem}.", suffix=".tmp")
    os.fchmod(fd, 0o644)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
            fh.flush()
            os.fsync(fh.fileno())
        return Path(tmp), sha256_of(Path(tmp))
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _rename(tmp: Path, path: Path) -> None:
    """Moves a finished temporary file over ``path`` and makes the rename durable."""
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def receive(folder: Path, chunks: Iterable[bytes], sha256: str) -> Path:
    """Writes streamed bytes to ``folder/<sha256>.npz`` if they hash to ``sha256``.

    For a copy fetched from elsewhere (the database store): the bytes are
    hashed as they are written, so the copy is checked without reading it
    twice; a copy that does not match is dropped and :class:`ArtifactError`
    raised.
    """
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".fetch.", suffix=".tmp")
    os.fchmod(fd, 0o644)
    digest = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as fh:
            for chunk in chunks:
                digest.update(chunk)
                fh.write(chunk)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if digest.hexdigest() != sha256:
        Path(tmp).unlink(missing_ok=True)
        raise ArtifactError(
            f"The stored copy of model artifact {sha256[:12]}… fails its checksum "
            f"(found {digest.hexdigest()[:12]}…); refusing to load it."
        )
    path = folder / addressed_name(sha256)
    _rename(Path(tmp), path)
    with _verified_lock:
        _verified[(str(path), sha256)] = None
    return path


def is_temporary(path: Path) -> bool:
    """A file :func:`save` was writing when its process stopped."""
    return path.name.startswith(".") and path.name.endswith(".tmp")


def temporaries(folder: Path, stem: str) -> list[Path]:
    """The temporary files of the writes named after ``stem`` in ``folder``."""
    return [p for p in folder.glob(f".{stem}.*.tmp") if p.is_file()]


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
