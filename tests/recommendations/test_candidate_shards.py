"""A shard of candidate scoring is idempotent (PostgreSQL, as in production).

A broker may deliver a shard twice (a worker lost mid-shard, Redis's
visibility timeout, a RabbitMQ redelivery): scoring it again must leave the
stored candidates as one run left them, and touch no other profile's row.
"""

import pytest

from recommendations import tasks
from recommendations.models import ProfileCandidates
from recommendations.services import candidates

pytestmark = pytest.mark.django_db


def stored(profile_ids=None) -> list[tuple]:
    rows = ProfileCandidates.objects.order_by("profile_id")
    if profile_ids is not None:
        rows = rows.filter(profile_id__in=profile_ids)
    return list(
        rows.values_list(
            "profile_id", "model_version_id", "title_ids", "scores", "predicted"
        )
    )


def test_a_shard_scored_twice_stores_what_scoring_it_once_stored(postgres, trained):
    shard = candidates.candidate_shards(shard_size=15)[1]
    ProfileCandidates.objects.filter(profile_id__in=shard).delete()
    others = list(
        ProfileCandidates.objects.exclude(profile_id__in=shard)
        .order_by("profile_id")
        .values_list("profile_id", "title_ids", "updated_at")
    )

    assert tasks.score_candidates(trained.pk, shard) == len(shard)
    once = stored(shard)
    assert tasks.score_candidates(trained.pk, shard) == len(shard)

    assert stored(shard) == once
    assert [row[0] for row in once] == sorted(shard)
    assert {row[1] for row in once} == {trained.pk}
    assert all(len(row[2]) > 0 for row in once)
    assert ProfileCandidates.objects.filter(profile_id__in=shard).count() == len(shard)
    assert (
        list(
            ProfileCandidates.objects.exclude(profile_id__in=shard)
            .order_by("profile_id")
            .values_list("profile_id", "title_ids", "updated_at")
        )
        == others
    )
