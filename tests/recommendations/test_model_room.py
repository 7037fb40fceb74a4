"""The admin's model room: the list's figures, the chart, the diff of two
versions, actions that ask why, and live training (stages, estimate, cancel),
in the test process and on a real Celery worker."""

import html
import re
from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse
from django.utils import timezone

from outbox.models import OutboxMessage
from recommendations import tasks
from recommendations.models import ModelVersion
from recommendations.services import training, training_progress
from tests.conftest import model_file, wait_for

pytestmark = pytest.mark.django_db

SMALL = {"n_factors": 10, "n_epochs": 5, "random_state": 0}
#: Slow enough on the demo catalog (seconds) for a page to watch its stages.
SLOW_PARAMS = '{"n_factors": 60, "n_epochs": 10000, "random_state": 0}'
CHANGELIST = "admin:recommendations_modelversion_changelist"
HTMX = {"HX-Request": "true"}


def text_of(response) -> str:
    """The page's text as a reader sees it: tags dropped, spaces collapsed."""
    body = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", html.unescape(body))


@pytest.fixture
def two_versions(trained, on_commit):
    """The active version (10 factors) and a newer ready one (12 factors)."""
    with on_commit():
        newer = training.model_train(
            params={**SMALL, "n_factors": 12}, force=True
        )  # promoted: force skips the gate
    with on_commit():
        training.model_rollback(to=trained)
    trained.refresh_from_db()
    newer.refresh_from_db()
    return trained, newer


def promote_post(version, **extra) -> dict:
    return {"action": "promote", "_selected_action": [version.pk], **extra}


# --- the list, the chart, the diff -------------------------------------------------


def test_the_list_shows_each_versions_figures_parameters_and_checksum(
    two_versions, admin_client
):
    _, newer = two_versions

    page = text_of(admin_client.get(reverse(CHANGELIST)))

    for heading in (
        "Parameters",
        "Trained at",
        "Duration",
        "Data",
        "RMSE",
        "NDCG@10 (time split)",
        "Coverage",
        "Popularity percentile",
        "Diversity",
        "Status",
        "Checksum",
    ):
        assert heading in page
    ranking = newer.metrics["ranking"]
    assert f"{newer.rmse:.4f}" in page
    assert f"{ranking['ndcg@10']:.4f}" in page
    assert f"{ranking['coverage']:.4f}" in page
    assert f"{ranking['popularity_percentile@10']:.1f}" in page
    assert f"{ranking['diversity']:.4f}" in page
    assert "n_factors=12" in page and "n_factors=10" in page
    assert f"{newer.data_counts['rows']} rows" in page
    assert page.count("verified") == 2


def test_a_changed_file_shows_failed_and_a_deleted_one_missing(
    two_versions, admin_client
):
    active, newer = two_versions
    training.forget_loaded()  # a new process: nothing verified yet
    model_file(newer).write_bytes(b"not the model")
    model_file(active).unlink()

    response = admin_client.get(reverse(CHANGELIST))

    cells = re.findall(r'class="checksum checksum-(\w+)"', response.content.decode())
    assert sorted(cells) == ["failed", "missing"]


def test_the_chart_draws_each_metric_with_a_title_a_description_and_a_table(
    two_versions, admin_client
):
    active, newer = two_versions

    content = admin_client.get(reverse(CHANGELIST)).content.decode()

    titles = re.findall(r'<title id="chart-\w+-title">([^<]+)</title>', content)
    assert titles == [
        "RMSE by version",
        "NDCG@10 (time split) by version",
        "Coverage by version",
        "Popularity percentile by version",
        "Diversity by version",
    ]
    described = re.search(r'<desc id="chart-rmse-desc">([^<]+)</desc>', content)
    assert html.unescape(described.group(1)) == (
        "RMSE (lower is better) by version, oldest first: "
        f"#{active.pk}: {active.rmse:.4f}; #{newer.pk}: {newer.rmse:.4f}."
    )
    # The active version's point is drawn larger, and the table says which.
    assert content.count("chart-point chart-point-active") == 5
    assert f"#{active.pk} (active)" in content
    assert (
        "<script" not in content.split('class="model-chart')[1].split("</section>")[0]
    )


def test_compare_two_versions_opens_their_diff_with_the_differences_marked(
    two_versions, admin_client
):
    active, newer = two_versions

    response = admin_client.post(
        reverse(CHANGELIST),
        {"action": "compare", "_selected_action": [newer.pk, active.pk]},
    )
    assert response.status_code == 302
    diff = admin_client.get(response.url)

    assert response.url.endswith(f"?a={active.pk}&b={newer.pk}")
    content = diff.content.decode()
    row = re.search(
        r'<tr class="diff-changed">\s*<th scope="row">params.n_factors<', content
    )
    assert row, "the changed parameter is marked"
    assert re.search(
        r'<tr class="">\s*<th scope="row">params.n_epochs</th>\s*<td>5</td>\s*<td>5</td>',
        content,
    ), "an unchanged parameter is not"
    page = text_of(diff)
    assert "changed +2" in page  # 10 → 12 factors
    # RMSE moved (the rating model has more factors); NDCG@10 did not (the
    # ranking model is the same EASE).
    rmse = re.search(r"RMSE ([\d.]+) ([\d.]+) changed ([-+][\d.e-]+) \((\w+)\)", page)
    assert float(rmse.group(1)) == pytest.approx(active.rmse, abs=1e-5)
    assert float(rmse.group(2)) == pytest.approx(newer.rmse, abs=1e-5)
    assert rmse.group(4) == ("better" if newer.rmse < active.rmse else "worse")
    assert f"NDCG@10 (time split) {active.ndcg:.6g} {newer.ndcg:.6g} Coverage" in page


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("", 400),
        ("?a=1", 400),
        ("?a=x&b=2", 400),
        ("?a=%C2%B2&b=1", 400),  # a superscript two is no id
        ("?a=1&b=1", 400),
        ("?a=99999998&b=99999999", 404),
        ("?a=99999999999999999999999&b=1", 400),
    ],
)
def test_a_diff_of_anything_but_two_versions_is_a_clear_4xx(
    trained, admin_client, query, status
):
    response = admin_client.get(
        reverse("admin:recommendations_modelversion_diff") + query
    )
    assert response.status_code == status


def test_compare_with_one_version_chosen_says_choose_two(trained, admin_client):
    response = admin_client.post(
        reverse(CHANGELIST),
        {"action": "compare", "_selected_action": [trained.pk]},
        follow=True,
    )
    assert "Choose exactly two versions." in text_of(response)


# --- actions, each asked why ------------------------------------------------------


def test_promote_asks_why_and_the_admin_log_keeps_who_and_why(
    two_versions, admin_client, admin_user, on_commit
):
    active, newer = two_versions

    asked = admin_client.post(reverse(CHANGELIST), promote_post(newer))
    assert asked.status_code == 200
    assert "Why?" in text_of(asked) and f"Promote version #{newer.pk}?" in text_of(
        asked
    )

    empty = admin_client.post(
        reverse(CHANGELIST), promote_post(newer, confirmed="yes", reason="  ")
    )
    assert empty.status_code == 400
    assert "This field is required." in text_of(empty)
    assert training.active_version() == active
    assert not LogEntry.objects.exists()

    with on_commit():
        done = admin_client.post(
            reverse(CHANGELIST),
            promote_post(newer, confirmed="yes", reason="More factors rank better."),
        )
    assert done.status_code == 302
    assert training.active_version() == newer
    entry = LogEntry.objects.get()
    assert (entry.user, entry.object_id) == (admin_user, str(newer.pk))
    assert entry.get_change_message() == "Promoted. Why: More factors rank better."


def test_roll_back_asks_why_and_is_logged(two_versions, admin_client, admin_user):
    active, newer = two_versions
    ModelVersion.objects.filter(pk=active.pk).update(status="retired")
    ModelVersion.objects.filter(pk=newer.pk).update(status="active")

    response = admin_client.post(
        reverse(CHANGELIST),
        {
            "action": "rollback",
            "_selected_action": [active.pk],
            "confirmed": "yes",
            "reason": "Complaints about the new rows.",
        },
    )

    assert response.status_code == 302
    assert training.active_version() == active
    entry = LogEntry.objects.get()
    assert (entry.user, entry.object_id) == (admin_user, str(active.pk))
    assert entry.get_change_message() == (
        "Rolled back to this version. Why: Complaints about the new rows."
    )


def test_train_now_asks_why_and_queues_one_training_logged_with_the_reason(
    trained, admin_client, admin_user, enqueued, on_commit
):
    url = reverse("admin:recommendations_modelversion_train")
    assert admin_client.get(url).status_code == 200
    refused = admin_client.post(url, {"confirmed": "yes", "reason": ""})
    assert refused.status_code == 400
    assert not OutboxMessage.objects.exists()

    with on_commit():
        response = admin_client.post(
            url, {"confirmed": "yes", "reason": "A week of new ratings."}
        )

    assert response.status_code == 302
    assert enqueued == [("recommendations.tasks.train_model", (None, False, True))]
    entry = LogEntry.objects.get()
    assert entry.user == admin_user
    assert entry.get_change_message() == "Train now. Why: A week of new ratings."


def test_a_training_asked_for_and_not_started_can_be_cancelled(
    trained, admin_client, enqueued, on_commit
):
    with on_commit():
        admin_client.post(
            reverse("admin:recommendations_modelversion_train"),
            {"confirmed": "yes", "reason": "New titles."},
        )
    queued = admin_client.get(reverse(CHANGELIST))
    assert "Training asked for" in text_of(queued)

    response = admin_client.post(
        reverse("admin:recommendations_modelversion_cancel_queued")
    )

    assert response.status_code == 302
    assert not OutboxMessage.objects.exists()
    assert "Training asked for" not in text_of(admin_client.get(reverse(CHANGELIST)))
    assert LogEntry.objects.latest("pk").get_change_message() == (
        "Cancelled the training asked for."
    )


def test_the_actions_need_a_post_and_a_change_permission(
    trained, client, django_user_model
):
    viewer = django_user_model.objects.create_user(
        email="viewer@example.com", password="x" * 16, is_staff=True
    )
    client.force_login(viewer)
    cancel = reverse("admin:recommendations_modelversion_cancel", args=[trained.pk])
    assert client.post(cancel).status_code == 403
    assert (
        client.post(
            reverse("admin:recommendations_modelversion_cancel_queued")
        ).status_code
        == 403
    )


def test_cancel_is_post_only_and_a_bad_version_is_404(trained, admin_client):
    cancel = reverse("admin:recommendations_modelversion_cancel", args=[trained.pk])
    assert admin_client.get(cancel).status_code == 405
    for bad in ("abc", "²", "99999999"):
        url = f"/admin/recommendations/modelversion/{bad}/cancel/"
        assert admin_client.post(url).status_code == 404
        url = f"/admin/recommendations/modelversion/{bad}/progress/"
        assert admin_client.get(url, headers=HTMX).status_code == 404


def test_cancelling_a_version_that_is_not_training_changes_nothing(
    trained, admin_client
):
    response = admin_client.post(
        reverse("admin:recommendations_modelversion_cancel", args=[trained.pk]),
        follow=True,
    )
    assert "is not training" in text_of(response)
    trained.refresh_from_db()
    assert trained.status == ModelVersion.Status.ACTIVE
    assert trained.cancel_requested_at is None
    assert not LogEntry.objects.exists()


# --- live training, in this process ---------------------------------------------


def test_the_stages_are_the_trainings_own_in_its_order():
    assert training_progress.STAGES == training.TRAINING_STAGES
    assert training_progress.TRAIN_MODEL_TASK == training.TRAIN_MODEL_TASK


def test_a_training_reports_every_stage_in_order_and_keeps_each_ones_time(
    demo_catalog, on_commit
):
    heard = []
    with on_commit():
        version = training.model_train(params=SMALL, progress=heard.append)

    assert heard == list(training.TRAINING_STAGES)
    assert set(version.stage_timings) == set(training.TRAINING_STAGES)
    assert all(seconds >= 0 for seconds in version.stage_timings.values())
    assert version.stage == "" and version.stage_started_at is None
    status = training_progress.training_status(version)
    assert (status.running, status.percent) == (False, 100)
    assert [s.state for s in status.stages] == ["done"] * 6


def test_the_estimate_comes_from_the_previous_trainings_stage_times(trained):
    trained.stage_timings = {
        "dataset": 2.0,
        "validation": 4.0,
        "fit_rating": 10.0,
        "fit_ranking": 2.0,
        "publish": 1.0,
        "candidates": 1.0,
    }
    trained.save()
    now = timezone.now()
    running = ModelVersion.objects.create(
        algorithm="svd",
        created_at=now - timedelta(seconds=9),
        stage="fit_rating",
        stage_started_at=now - timedelta(seconds=3),
        stage_timings={"dataset": 2.5, "validation": 3.5},
    )

    status = training_progress.training_status(running, now=now)

    # 2 + 4 done and 3 of fit_rating's 10 spent, of 20 in all.
    assert status.running and status.stage_label == "Fit rating"
    assert (status.stage_number, status.percent) == (3, 45)
    assert status.remaining_s == pytest.approx(11.0)
    assert status.elapsed_s == pytest.approx(9.0)
    assert status.estimated_from == trained.pk
    assert [s.state for s in status.stages] == [
        "done",
        "done",
        "running",
        "waiting",
        "waiting",
        "waiting",
    ]


def test_without_an_earlier_training_percent_counts_stages_and_nothing_is_guessed(
    db,
):
    running = ModelVersion.objects.create(
        algorithm="svd", stage="publish", stage_started_at=timezone.now()
    )
    status = training_progress.training_status(running)
    assert (status.percent, status.remaining_s) == (67, None)


def test_a_failed_training_keeps_its_reason_and_last_frames_without_secrets(
    demo_catalog, trained, monkeypatch
):
    def refuse():
        raise ConnectionError(
            "could not reach postgres://marquee:s3cret-pass@db.internal:5432/marquee"
        )

    monkeypatch.setattr(training, "training_dataset", refuse)

    with pytest.raises(ConnectionError):
        training.model_train(params=SMALL)

    failed = ModelVersion.objects.get(status=ModelVersion.Status.FAILED)
    assert failed.error == (
        "ConnectionError: could not reach postgres://…@db.internal:5432/marquee"
    )
    assert "s3cret" not in failed.error + failed.error_traceback
    frames = failed.error_traceback.splitlines()
    assert frames[0].startswith("recommendations/services/training.py:")
    assert "in _train_and_publish" in failed.error_traceback
    assert "inter = training_dataset()" in failed.error_traceback
    assert frames[-1] == "ConnectionError"
    assert failed.stage == "" and set(failed.stage_timings) == {"dataset"}
    assert training.active_version() == trained


def test_the_change_page_of_a_failed_training_shows_the_reason_and_frames(
    trained, admin_client
):
    failed = ModelVersion.objects.create(
        algorithm="svd",
        status=ModelVersion.Status.FAILED,
        error="ValueError: Unknown algorithm 'x'",
        error_traceback="recommendations/engine/rating.py:12 in fit\nValueError",
        stage_timings={"dataset": 0.5},
        finished_at=timezone.now(),
    )

    page = text_of(
        admin_client.get(
            reverse("admin:recommendations_modelversion_change", args=[failed.pk])
        )
    )

    assert "Failed after" in page and "Unknown algorithm 'x'" in page
    assert "Where it failed (last frames)" in page
    assert "recommendations/engine/rating.py:12 in fit" in page
    assert "Dataset done, 0.50 s" in page


def test_cancel_before_a_stage_stops_the_training_and_the_active_version_serves(
    trained, artifact_dir, on_commit, admin_client, admin_user
):
    def cancel_at(stage):
        if stage == "fit_ranking":
            running = ModelVersion.objects.get(status=ModelVersion.Status.TRAINING)
            admin_client.post(
                reverse("admin:recommendations_modelversion_cancel", args=[running.pk])
            )

    with on_commit():
        version = training.model_train(params=SMALL, progress=cancel_at)

    assert version.status == ModelVersion.Status.FAILED
    assert version.error == "Cancelled before Publish."
    assert set(version.stage_timings) == {
        "dataset",
        "validation",
        "fit_rating",
        "fit_ranking",
    }
    assert training.serving_model()[0] == trained
    assert sorted(p.name for p in artifact_dir.iterdir()) == [trained.artifact]
    assert LogEntry.objects.get().user == admin_user
    # The lease went with it: another training starts.
    with training.training_lease(algorithm="svd", parameters={}) as again:
        assert again.pk != version.pk


def test_cancel_after_publishing_removes_the_new_file_before_it_is_promoted(
    trained, artifact_dir, on_commit
):
    def cancel_at(stage):
        if stage == "publish":
            training_progress.training_cancel(
                version=ModelVersion.objects.get(status=ModelVersion.Status.TRAINING)
            )

    with on_commit():
        version = training.model_train(
            params={**SMALL, "n_factors": 11}, progress=cancel_at
        )

    assert version.error == "Cancelled before Candidates."
    assert training.active_version() == trained
    assert sorted(p.name for p in artifact_dir.iterdir()) == [trained.artifact]


# --- live training on a real worker ------------------------------------------------


def stages_seen(admin_client, version_id: int, until) -> list[str]:
    """The stage the progress fragment names at each poll, until ``until()``."""
    url = reverse("admin:recommendations_modelversion_progress", args=[version_id])
    seen = []
    while True:
        done = until()
        response = admin_client.get(url, headers=HTMX)
        assert response.status_code == 200
        found = re.search(r'class="training-stage">([^<]+)<', response.content.decode())
        if found and (not seen or seen[-1] != found.group(1)):
            seen.append(found.group(1))
        if done:
            return seen


@pytest.mark.services
def test_the_progress_endpoint_reports_the_stages_in_order_of_a_training_on_a_worker(
    own_stack, demo_catalog, admin_client
):
    own_stack.start_worker(RECOMMENDER_PARAMS=SLOW_PARAMS)

    tasks.train_model.delay()
    version = wait_for(
        lambda: ModelVersion.objects.filter(
            status=ModelVersion.Status.TRAINING
        ).first(),
        timeout=60,
    )
    finished = ModelVersion.objects.filter(pk=version.pk, stage="").exclude(
        status=ModelVersion.Status.TRAINING
    )
    seen = stages_seen(admin_client, version.pk, until=finished.exists)

    labels = list(training_progress.STAGE_LABELS.values())
    assert seen == sorted(seen, key=labels.index), seen
    # The two long stages (Surprise fits on each) are seen for sure.
    assert {"Validation", "Fit rating"} <= set(seen)
    version.refresh_from_db()
    assert version.status == ModelVersion.Status.ACTIVE
    assert set(version.stage_timings) == set(training.TRAINING_STAGES)
    ended = admin_client.get(
        reverse("admin:recommendations_modelversion_progress", args=[version.pk]),
        headers=HTMX,
    )
    assert ended.headers["HX-Refresh"] == "true"
    assert "Trained in" in text_of(ended)


@pytest.mark.services
def test_cancel_stops_a_training_on_a_worker_and_the_active_version_serves(
    own_stack, demo_catalog, admin_client, on_commit
):
    active = training.model_train(params=SMALL)
    own_stack.start_worker(RECOMMENDER_PARAMS=SLOW_PARAMS)

    tasks.train_model.delay()
    version = wait_for(
        lambda: ModelVersion.objects.filter(
            status=ModelVersion.Status.TRAINING, stage="validation"
        ).first(),
        timeout=60,
    )
    live = text_of(admin_client.get(reverse(CHANGELIST)))
    assert f"Training version #{version.pk}" in live and "Cancel training" in live
    response = admin_client.post(
        reverse("admin:recommendations_modelversion_cancel", args=[version.pk])
    )
    assert response.status_code == 302

    wait_for(
        lambda: ModelVersion.objects.filter(
            pk=version.pk, status=ModelVersion.Status.FAILED
        ).exists(),
        timeout=60,
    )
    version.refresh_from_db()
    assert version.error == "Cancelled before Fit rating."
    assert version.artifact == ""
    assert training.serving_model()[0] == active
    assert training.training_running() is False
    assert "Cancelled" in text_of(admin_client.get(reverse(CHANGELIST)))
