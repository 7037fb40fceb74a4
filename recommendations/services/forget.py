"""Forgetting profiles (privacy erasure): their rows out of every model file.

What a model's arrays look like without some profiles is the engine's
(``engine.forget``); keeping the files is the artifact store's (``services.artifact_store``).
This module picks the versions and swaps their files safely.
"""

import logging

import numpy as np
from django.db import transaction

from recommendations.engine.artifact import ArtifactError
from recommendations.engine.forget import holds_profiles, without_profiles
from recommendations.models import ModelVersion
from recommendations.services import artifact_store

logger = logging.getLogger(__name__)

#: Versions whose files may serve again (active, ready, or retired for a rollback).
FORGETTABLE_STATUSES = (
    ModelVersion.Status.ACTIVE,
    ModelVersion.Status.READY,
    ModelVersion.Status.RETIRED,
)


def _artifact_profile_ids(version: ModelVersion) -> np.ndarray | None:
    """The profile ids a version's file holds rows for (read without the rest)."""
    if not version.artifact:
        return None
    held = artifact_store.artifact_profile_ids(
        name=version.artifact, sha256=version.sha256
    )
    if held is None:
        logger.warning("Cannot read the profile ids of model %s", version.pk)
    return held


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
        old_name = version.artifact
        try:
            arrays = artifact_store.artifact_arrays(
                name=old_name, sha256=version.sha256
            )
        except ArtifactError:
            logger.exception("Model %s cannot be loaded to forget profiles", version.pk)
            return False
        arrays, dropped = without_profiles(arrays, np.array(profile_ids))
        if not dropped:
            return False
        new_name, new_sha256 = artifact_store.artifact_publish(
            arrays=arrays, stem=f"forget-{version.pk}"
        )
        try:
            version.artifact, version.sha256 = new_name, new_sha256
            version.save(update_fields=["artifact", "sha256"])
        except BaseException:
            artifact_store.artifact_discard(name=new_name)
            raise
        transaction.on_commit(lambda: artifact_store.artifact_discard(name=old_name))
    logger.info("Model %s forgot %d profile(s)", version_id, dropped)
    return True
