"""Each profile's candidates: scored by the active model and stored.

A whole shard of profiles is scored after a promotion (fanned out by
``tasks.refresh_all_candidates``); one profile is folded in again whenever its
signals change (``profile_refresh``), without waiting for a retrain.
"""

import numpy as np
from django.conf import settings
from django.utils import timezone

from accounts.models import Profile
from consent.policy import may_learn, profiling_profiles
from recommendations.engine.artifact import ArtifactError
from recommendations.engine.recommender import Candidates, History
from recommendations.models import ModelVersion, ProfileCandidates
from recommendations.services import training
from recommendations.services.dataset import profile_histories


def _store(version: ModelVersion | None, results: list[Candidates]) -> None:
    now = timezone.now()
    ProfileCandidates.objects.bulk_create(
        [
            ProfileCandidates(
                profile_id=c.profile_id,
                model_version=version,
                title_ids=c.title_ids.tolist(),
                scores=np.round(c.scores, 4).tolist(),
                predicted=np.round(c.predicted, 3).tolist(),
                updated_at=now,
            )
            for c in results
        ],
        update_conflicts=True,
        unique_fields=["profile"],
        update_fields=[
            "model_version",
            "title_ids",
            "scores",
            "predicted",
            "updated_at",
        ],
    )


def candidates_score_profiles(*, version: ModelVersion, profile_ids: list[int]) -> int:
    """Scores and stores candidates for a shard of profiles with ``version``.

    A file that fails is refused (``training.model_fail_over``): the version
    activated in its place refreshes every profile, so this shard stores none.
    """
    try:
        model = training.recommender_for(version)
    except ArtifactError as exc:
        training.model_fail_over(version=version, reason=str(exc))
        return 0
    results = model.candidates(
        profile_histories(profile_ids), count=settings.RECOMMENDER["CANDIDATES"]
    )
    _store(version, results)
    return len(results)


def candidate_shards(shard_size: int | None = None) -> list[list[int]]:
    size = shard_size or settings.RECOMMENDER["SHARD_SIZE"]
    # Not the profiles in the non-profiling mode: nothing is scored for them.
    ids = list(
        Profile.objects.filter(profiling_profiles())
        .order_by("id")
        .values_list("id", flat=True)
    )
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def profile_refresh(*, profile_id: int) -> bool:
    """Folds the profile's latest signals into its vector and re-stores its candidates.

    With the model that serves (a version whose file fails falls back to the
    one before it). Returns False when no model serves (the profile then gets
    the non-personalized rows), and for a profile in the non-profiling mode
    (nothing learns from it).
    """
    profile = Profile.objects.select_related("privacy").filter(pk=profile_id).first()
    if profile is not None and not may_learn(profile):
        return False
    serving = training.serving_model()
    if serving is None:
        return False
    version, model = serving
    (history,) = profile_histories([profile_id])
    history = History(**{**history.__dict__, "use_trained_vector": False})
    _store(
        version, model.candidates([history], count=settings.RECOMMENDER["CANDIDATES"])
    )
    return True
