"""The engine through a real Celery worker on the real broker (Redis in CI)."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from accounts.models import Profile
from catalog.services import demo_catalog_seed
from recommendations import tasks
from recommendations.models import ModelVersion, ProfileCandidates
from recommendations.services import training
from tests.conftest import wait_for

pytestmark = pytest.mark.services

SMALL = {"n_factors": 10, "n_epochs": 5, "random_state": 0}


@pytest.fixture
def catalog():
    demo_catalog_seed(
        seed=7, titles=150, viewers=30, until=datetime(2026, 1, 1, tzinfo=UTC)
    )


def test_a_training_run_on_the_worker_publishes_a_new_active_version(
    celery_worker, catalog
):
    result = tasks.train_model.apply_async(ignore_result=False)  # results are opt-in
    version_id = result.get(timeout=120)

    version = ModelVersion.objects.get(pk=version_id)
    assert version.status == ModelVersion.Status.ACTIVE
    assert version.sha256 and version.metrics["ranking"]["ndcg@10"] > 0
    # The shards fan out on the worker after promotion.
    wait_for(
        lambda: ProfileCandidates.objects.filter(model_version=version).count() == 30
    )


def test_a_training_that_fails_on_the_worker_leaves_the_old_version_active(
    celery_worker, catalog
):
    active = training.model_train(params=SMALL)

    result = tasks.train_model.apply_async(
        kwargs={"algorithm": "no-such-algorithm"}, ignore_result=False
    )
    with pytest.raises(ValueError, match="Unknown algorithm"):
        result.get(timeout=120)

    failed = ModelVersion.objects.exclude(pk=active.pk).get()
    assert failed.status == ModelVersion.Status.FAILED
    assert training.active_version() == active


def test_a_rating_committed_through_the_site_changes_that_profiles_candidates(
    celery_worker, catalog, client
):
    version = training.model_train(params=SMALL)
    profile = Profile.objects.order_by("pk").first()
    before = wait_for(
        lambda: ProfileCandidates.objects.filter(
            profile=profile, model_version=version
        ).first()
    )
    top = before.title_ids[0]
    client.force_login(profile.user)

    response = client.post(
        reverse("api:profile-ratings", args=[profile.pk]),
        {"title": top, "value": 5.0},
        content_type="application/json",
    )

    assert response.status_code == 201
    after = wait_for(
        lambda: ProfileCandidates.objects.filter(
            profile=profile, updated_at__gt=before.updated_at
        ).first(),
        timeout=30,
    )
    assert top not in after.title_ids
    assert after.title_ids != before.title_ids
    assert "refresh_profile[" in celery_worker.log()
