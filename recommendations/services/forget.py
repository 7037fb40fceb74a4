"""Forgetting profiles (privacy erasure): their rows out of every model file.

What a model's arrays look like without some profiles is the engine's
(``engine.forget``); reading and writing the files is ``engine.artifact``'s.
This module picks the versions and swaps their files safely.
"""

import logging
import uuid
from pathlib import Path

import numpy as np
from django.db import transaction

from recommendations.engine import artifact
from recommendations.engine.forget import holds_profiles, without_profiles
from recommendations.models import ModelVersion

logger = logging.getLogger(__name__)

#: Versions whose files may serve again (active, ready, or retired for a rollback).
FORGETTABLE_STATUSES = (
    ModelVersion.Status.ACTIVE,
    ModelVersion.Status.READY,
    ModelVersion.Status.RETIRED,
)


def _artifact_profile_ids(version: ModelVersion) -> np.ndarray | None:
    """The profile ids a version's file holds rows for (read without the rest)."""
    path = Path(version.artifact)
    if not version.artifact or not path.is_file():
        return None
    try:
        return artifact.profile_ids(path)
    except artifact.ArtifactError:
        logger.warning("Cannot read the profile ids of model %s", version.pk)
        return None


def model_versions_holding(*, profile_ids: list[int]) -> list[int]:
    """Loadable model versions whose file has a row for any of these profiles."""
    out = []
    for version in ModelVersion.objects.filter(
        status__in=FORGETTABLE_STATUSES
    ).order_by("id"):
        held = _artifact_profile_ids(version)
        if held is not None and len(holds_profiles(held, np.array(profile_ids))):
            out.append(version.pk)
    return out


def model_forget_profiles(*, profile_ids: list[int]) -> list[int]:
    """Rewrites every loadable version's file without these profiles' rows.

    Each version gets a new file (written atomically, its sha256 recorded in
    the same transaction that points the version at it; the old file is
    deleted on commit), so a process serving the old checksum never reads a
    half-written or swapped file; ``training.recommender_for`` loads the new
    one since its cache key holds the checksum. Safe to run twice: a version
    without those rows is left alone. Returns the versions rewritten.
    """
    return [
        pk
        for pk in model_versions_holding(profile_ids=profile_ids)
        if _forget_in_version(pk, profile_ids)
    ]


def _forget_in_version(version_id: int, profile_ids: list[int]) -> bool:
    with transaction.atomic():
        version = (
            ModelVersion.objects.select_for_update()
            .filter(pk=version_id, status__in=FORGETTABLE_STATUSES)
            .first()
        )
        if version is None or not version.artifact:
            return False
        old_path = Path(version.artifact)
        try:
            arrays = artifact.load(old_path, version.sha256)
        except artifact.ArtifactError:
            logger.exception("Model %s cannot be loaded to forget profiles", version.pk)
            return False
        arrays, dropped = without_profiles(arrays, np.array(profile_ids))
        if not dropped:
            return False
        new_path = old_path.with_name(f"model-{version.pk}-{uuid.uuid4().hex[:12]}.npz")
        try:
            version.sha256 = artifact.save(new_path, arrays)
            version.artifact = str(new_path)
            version.save(update_fields=["artifact", "sha256"])
        except BaseException:
            new_path.unlink(missing_ok=True)
            raise
        transaction.on_commit(lambda: old_path.unlink(missing_ok=True))
    logger.info("Model %s forgot %d profile(s)", version_id, dropped)
    return True
