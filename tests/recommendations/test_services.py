"""Training, publishing, promotion and freshness against the real database."""

import os
import time

import numpy as np
import pytest
from django.urls import reverse

from accounts.models import Profile, User
from activity.models import Feedback, Rating
from catalog.models import Title
from recommendations import tasks
from recommendations.engine.artifact import ArtifactError
from recommendations.models import ModelVersion, ProfileCandidates
from recommendations.services import dataset, training
from tests.conftest import model_file
from tests.factories import RatingFactory

pytestmark = pytest.mark.django_db


def test_training_publishes_an_active_version_with_metrics_and_candidates(
    trained, artifact_dir
):
    assert trained.status == ModelVersion.Status.ACTIVE
    # The file is named by its content, in the file store's folder.
    assert trained.artifact == f"{trained.sha256}.npz"
    assert sorted(p.name for p in artifact_dir.iterdir()) == [trained.artifact]
    assert trained.data_counts["rows"] == Rating.objects.count()
    assert set(trained.metrics) >= {"rating", "ranking", "popularity"}
    assert trained.metrics["ranking"]["ndcg@10"] > 0
    assert ProfileCandidates.objects.count() == Profile.objects.count()
    candidates = ProfileCandidates.objects.select_related("profile").first()
    rated = set(candidates.profile.ratings.values_list("title_id", flat=True))
    assert candidates.title_ids and not rated & set(candidates.title_ids)
    assert all(0.5 <= p <= 5.0 for p in candidates.predicted)


def test_opted_out_profile_contributes_nothing_to_training(demo_catalog):
    profile = Profile.objects.first()
    assert dataset.training_dataset().users.tolist().count(profile.pk) > 0
    profile.allow_training = False
    profile.save()

    assert profile.pk not in dataset.training_dataset().users


def test_unavailable_titles_are_neither_trained_on_nor_recommended(demo_catalog):
    popular = Title.objects.order_by("-ratings__value").first()
    Title.objects.filter(pk=popular.pk).update(is_available=False)

    assert popular.pk not in dataset.training_dataset().items
    training.model_train(params={"n_factors": 5, "n_epochs": 2})
    for candidates in ProfileCandidates.objects.all():
        assert popular.pk not in candidates.title_ids


def test_only_one_training_runs_at_a_time(demo_catalog):
    with training.training_lease(algorithm="svd", parameters={}):
        with pytest.raises(training.TrainingInProgress):
            training.model_train()
        assert ModelVersion.objects.count() == 1


def test_failed_training_leaves_the_active_version_serving_and_no_stray_file(
    trained, artifact_dir, monkeypatch
):
    def broken_fit(*args, **kwargs):
        raise MemoryError("simulated")

    monkeypatch.setattr(training, "fit_recommender", broken_fit)

    with pytest.raises(MemoryError):
        training.model_train()

    failed = ModelVersion.objects.exclude(pk=trained.pk).get()
    assert failed.status == ModelVersion.Status.FAILED
    assert "simulated" in failed.error
    assert training.active_version() == trained
    assert sorted(p.name for p in artifact_dir.iterdir()) == [trained.artifact]


def _second_version(trained: ModelVersion, **metric_changes) -> ModelVersion:
    version = training.model_train(
        params={"n_factors": 5, "n_epochs": 2, "random_state": 1}, force=True
    )
    version.metrics["ranking"]["ndcg@10"] = trained.ndcg * metric_changes.get(
        "ndcg", 1.0
    )
    version.metrics["rating"]["rmse"] = trained.rmse * metric_changes.get("rmse", 1.0)
    version.status = ModelVersion.Status.READY
    version.save()
    ModelVersion.objects.filter(pk=trained.pk).update(status=ModelVersion.Status.ACTIVE)
    return version


@pytest.mark.parametrize("change", [{"ndcg": 0.9}, {"rmse": 1.1}])
def test_promotion_refuses_a_regressing_model_unless_forced(trained, change):
    candidate = _second_version(trained, **change)

    with pytest.raises(training.PromotionRefused, match="regresses"):
        training.model_promote(version=candidate)
    assert training.active_version() == trained

    training.model_promote(version=candidate, force=True)
    assert training.active_version() == candidate
    trained.refresh_from_db()
    assert trained.status == ModelVersion.Status.RETIRED


def test_promotion_accepts_a_model_within_tolerance(trained):
    candidate = _second_version(trained, ndcg=0.99, rmse=1.01)

    training.model_promote(version=candidate)

    assert training.active_version() == candidate


def test_rollback_reactivates_the_previous_version_and_its_model_serves(trained):
    newer = _second_version(trained)
    training.model_promote(version=newer, force=True)
    assert training.recommender_for(training.active_version()).rating.Q.shape[1] == 5

    training.model_rollback()

    assert training.active_version() == trained
    assert training.recommender_for(training.active_version()).rating.Q.shape[1] == 10


def test_a_corrupted_artifact_is_refused(trained):
    path = model_file(trained)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    training.forget_loaded()  # as a new process starts

    with pytest.raises(ArtifactError, match="checksum"):
        training.recommender_for(trained)
    with pytest.raises(training.PromotionRefused, match="corrupted"):
        ModelVersion.objects.filter(pk=trained.pk).update(
            status=ModelVersion.Status.READY
        )
        training.model_promote(version=trained)


def _client_for(client, profile: Profile):
    profile.user.set_password("pw-viewer-1")
    profile.user.save()
    client.force_login(profile.user)
    return client


def test_rating_through_the_api_refreshes_that_profiles_candidates(
    client, trained, on_commit
):
    profile = Profile.objects.first()
    before = ProfileCandidates.objects.get(profile=profile)
    top = before.title_ids[0]
    url = reverse("api:profile-ratings", args=[profile.pk])

    with on_commit():
        response = _client_for(client, profile).post(
            url, {"title": top, "value": 5.0}, content_type="application/json"
        )

    assert response.status_code == 201
    assert Rating.objects.get(profile=profile, title_id=top).value == 5.0
    after = ProfileCandidates.objects.get(profile=profile)
    assert after.updated_at > before.updated_at
    assert top not in after.title_ids
    assert after.title_ids != before.title_ids


def test_not_interested_hides_the_title_from_the_profiles_candidates(
    client, trained, on_commit
):
    profile = Profile.objects.first()
    top = ProfileCandidates.objects.get(profile=profile).title_ids[0]

    with on_commit():
        response = _client_for(client, profile).post(
            reverse("api:profile-feedback", args=[profile.pk]),
            {"title": top, "kind": "not_interested"},
            content_type="application/json",
        )

    assert response.status_code == 201
    assert top not in ProfileCandidates.objects.get(profile=profile).title_ids


def test_new_profile_gets_personal_candidates_from_three_picks_before_any_retrain(
    client, trained, on_commit
):
    user = User.objects.create_user(email="new@example.com", password="pw-new-viewer-1")
    profile = Profile.objects.create(user=user, name="Newcomer")
    client.force_login(user)
    picks = list(Title.objects.filter(ratings__isnull=False).distinct()[:3])

    for title in picks:
        with on_commit():
            response = client.post(
                reverse("api:profile-feedback", args=[profile.pk]),
                {"title": title.pk, "kind": "pick"},
                content_type="application/json",
            )
            assert response.status_code == 201, response.content

    candidates = ProfileCandidates.objects.get(profile=profile)
    assert candidates.model_version_id == trained.pk
    assert len(candidates.title_ids) > 10
    assert not {t.pk for t in picks} & set(candidates.title_ids)
    assert ModelVersion.objects.count() == 1


def test_another_persons_profile_is_a_404_and_nothing_changes(client, trained):
    owner, other = Profile.objects.all()[:2]
    title = Title.objects.first()
    _client_for(client, other)
    before = Rating.objects.count()

    for url in (
        "api:profile-ratings",
        "api:profile-feedback",
        "api:profile-candidates",
    ):
        response = client.post(
            reverse(url, args=[owner.pk]),
            {"title": title.pk, "value": 4.0, "kind": "pick"},
            content_type="application/json",
        )
        assert response.status_code in (404, 405)
    assert (
        client.get(reverse("api:profile-candidates", args=[owner.pk])).status_code
        == 404
    )
    assert Rating.objects.count() == before
    assert not Feedback.objects.filter(profile=owner).exists()


@pytest.mark.parametrize(
    "payload, status, attr",
    [
        ({"value": 7}, 400, "value"),
        ({"value": 3.3}, 400, "value"),
        ({"value": "abc"}, 400, "value"),
        ({"value": 4.0, "title": 1.5}, 400, "title"),
        # No such title: a 404, as the title's page is.
        ({"value": 4.0, "title": 10**9}, 404, None),
    ],
)
def test_bad_ratings_are_a_clear_error_and_store_nothing(
    client, trained, payload, status, attr
):
    profile = Profile.objects.first()
    title = Title.objects.first()
    before = list(Rating.objects.order_by("pk").values_list("value", flat=True))

    response = _client_for(client, profile).post(
        reverse("api:profile-ratings", args=[profile.pk]),
        {"title": title.pk, **payload},
        content_type="application/json",
    )

    assert response.status_code == status
    assert [e["attr"] for e in response.json()["errors"]] == [attr]
    assert list(Rating.objects.order_by("pk").values_list("value", flat=True)) == before


def test_vectorised_candidate_scores_match_the_models_own_predictions(trained):
    model = training.recommender_for(trained)
    (history,) = dataset.profile_histories([Profile.objects.first().pk])
    predicted = model.predicted_ratings([history])[0]
    rows = model.rating.item_index(model.ranking.item_ids)
    user = model.rating.user_index(np.array([history.profile_id]))[0]
    direct = (
        model.rating.global_mean
        + model.rating.bu[user]
        + model.rating.bi[rows]
        + model.rating.Q[rows] @ model.rating.P[user]
    )
    np.testing.assert_allclose(predicted, direct, atol=1e-9)


def test_a_killed_trainings_leftovers_are_swept_by_the_next_run(trained, artifact_dir):
    hours_ago = time.time() - 2 * 3600
    stray = artifact_dir / f".model-{trained.pk + 1}.x1y2.tmp"
    stray.write_bytes(b"half a model")
    orphan = artifact_dir / f"{'0' * 64}.npz"
    orphan.write_bytes(b"a version that no longer exists")
    older = artifact_dir / "model-999.npz"  # named as before the store
    older.write_bytes(b"a version that no longer exists")
    for path in (stray, orphan, older):
        os.utime(path, (hours_ago, hours_ago))
    # Just written: an erasure's new file, named once its transaction commits.
    young = artifact_dir / f"{'1' * 64}.npz"
    young.write_bytes(b"not yet named")

    version = training.model_train(params={"n_factors": 5, "n_epochs": 2}, force=True)

    assert sorted(p.name for p in artifact_dir.iterdir()) == sorted(
        [trained.artifact, version.artifact, young.name]
    )


def test_a_retrain_is_due_once_enough_signals_came_in_since_the_last_training(
    trained, settings
):
    settings.RECOMMENDER = {**settings.RECOMMENDER, "RETRAIN_AFTER_SIGNALS": 2}
    assert training.signals_since_last_training() == 0
    assert training.retrain_due() is False

    RatingFactory()
    assert training.retrain_due() is False
    RatingFactory()
    assert training.retrain_due() is True


def died_with_its_worker(times: int) -> None:
    """Versions as the reaper leaves a training whose worker was killed."""
    for n in range(times):
        ModelVersion.objects.create(
            algorithm="svd",
            parameters={},
            status=ModelVersion.Status.FAILED,
            error=f"{training.DIED} (worker-{n}:42) stopped.",
        )


def test_after_three_trainings_died_with_their_worker_none_starts_by_itself(
    trained, settings, caplog
):
    settings.RECOMMENDER = {**settings.RECOMMENDER, "RETRAIN_AFTER_SIGNALS": 1}
    RatingFactory()
    died_with_its_worker(2)
    assert training.retrain_due() is True

    died_with_its_worker(1)

    assert training.retrain_due() is False
    versions = ModelVersion.objects.count()
    assert tasks.train_model() is None  # a redelivered message, the nightly run
    assert tasks.retrain_if_needed() is None
    assert ModelVersion.objects.count() == versions
    assert "Training not started: the last 3 trainings stopped" in caplog.text


def test_train_now_still_trains_after_trainings_died_and_the_admin_says_why(
    trained, admin_client, enqueued, on_commit
):
    died_with_its_worker(3)

    changelist = admin_client.get(
        reverse("admin:recommendations_modelversion_changelist")
    )
    assert "so none starts by itself. Train now tries again." in (
        changelist.content.decode()
    )
    with on_commit():
        admin_client.post(
            reverse("admin:recommendations_modelversion_train"),
            {"confirmed": "yes", "reason": "Trainings died; trying again."},
        )
    assert enqueued == [("recommendations.tasks.train_model", (None, False, True))]

    version = ModelVersion.objects.get(pk=tasks.train_model(*enqueued[0][1]))
    assert version.status == ModelVersion.Status.ACTIVE
    assert training.trainings_died_in_a_row() == 0


def test_a_training_under_way_is_seen_as_running(trained):
    assert training.training_running() is False

    with training.training_lease(algorithm="svd", parameters={}):
        assert training.training_running() is True
