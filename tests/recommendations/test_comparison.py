"""The offline comparison of two configurations: the admin's form, the run on
a real worker, and runs sent again after their message or worker was lost."""

import json
from dataclasses import fields, replace
from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.forms import BooleanField
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from recommendations.engine.comparison import Arm
from recommendations.engine.experiment import TrainingConfig, evaluate
from recommendations.engine.splits import split_by_time
from recommendations.models import ModelComparison
from recommendations.services import comparison as comparisons
from recommendations.services import training
from recommendations.services.dataset import genre_features, training_dataset
from tests.conftest import wait_for

pytestmark = pytest.mark.services

SMALL = {"n_factors": 10, "n_epochs": 5, "random_state": 0}
ADD = reverse("admin:recommendations_modelcomparison_add")


def _arms() -> tuple[Arm, Arm]:
    live = replace(training.training_config(), params=SMALL)
    return (
        Arm("Live", live),
        Arm("Small lambda, exploring", replace(live, ease_lambda=20.0), 60),
    )


def _settled(pk: int) -> ModelComparison | None:
    comparison = ModelComparison.objects.get(pk=pk)
    return comparison if comparison.status in ("done", "failed") else None


def test_the_worker_judges_both_configurations_on_one_split_and_keeps_the_results(
    celery_worker, demo_catalog
):
    arm_a, arm_b = _arms()

    asked = comparisons.comparison_create(created_by=None, arm_a=arm_a, arm_b=arm_b)
    comparison = wait_for(lambda: _settled(asked.pk), timeout=120)

    assert comparison.status == "done", comparison.error
    assert comparison.attempts == 1
    rows = {m["name"]: m for m in comparison.results["metrics"]}
    # Side A (no exploration) scores what the training's own evaluation
    # reports for its configuration on the same time split.
    train, test = split_by_time(training_dataset())
    expected = evaluate(train, test, arm_a.config, item_features=genre_features())
    for name in ("ndcg@10", "recall@10", "coverage", "diversity"):
        assert rows[name]["a"] == pytest.approx(expected["ranking"][name])
    assert rows["rmse"]["a"] == pytest.approx(expected["rating"]["rmse"])
    for name in ("ndcg@10", "recall@10"):
        row = rows[name]
        assert row["difference"] == pytest.approx(row["b"] - row["a"])
        assert row["low"] <= row["difference"] <= row["high"]
    assert rows["coverage"]["interval"] == "difference only"
    assert comparison.results["data"]["profiles_scored"] == len(set(test.users))
    assert comparison.results["arms"]["b"]["exploration"] == 60
    assert comparison.verdict.split(" on NDCG@10: ")[0] in (
        "A better",
        "B better",
        "No clear difference",
    )

    # A second copy of the message finds the run done and leaves it alone.
    assert comparisons.comparison_run(comparison_id=comparison.pk) is None
    kept = ModelComparison.objects.get(pk=comparison.pk)
    assert (kept.results, kept.attempts) == (comparison.results, 1)


@pytest.fixture
def staff_client(client, db):
    staff = User.objects.create_superuser(email="op@example.com", password="x" * 16)
    client.force_login(staff)
    return client


def _form(**changes) -> dict:
    """The two sides of :func:`_arms` as the admin's form posts them."""
    data = {}
    for side, arm in zip("ab", _arms(), strict=True):
        data |= {f"{side}-label": arm.label, f"{side}-exploration": arm.exploration}
        for name, value in arm.config.as_dict().items():
            if isinstance(value, bool):
                if value:
                    data[f"{side}-{name}"] = "on"
            elif isinstance(value, dict):
                data[f"{side}-{name}"] = json.dumps(value)
            else:
                data[f"{side}-{name}"] = "" if value is None else str(value)
    return data | changes


def _as_shown(form) -> dict:
    """What a browser posts back for ``form`` as the page shows it."""
    data = {}
    for bound in form:
        shown = bound.value()  # as the widget renders it
        if isinstance(bound.field, BooleanField):
            if shown:
                data[bound.html_name] = "on"
        else:
            data[bound.html_name] = "" if shown is None else str(shown)
    return data


def test_the_form_starts_from_the_live_configuration_and_submits_as_shown(
    staff_client, enqueued, on_commit
):
    response = staff_client.get(ADD)

    assert response.status_code == 200
    form_a, form_b = (form for _, form in response.context["forms"])
    shown = _as_shown(form_a)
    assert shown["a-label"] == "Live" and shown["a-exploration"] == "0"
    # Every field of the engine's configuration is there, without a list
    # to keep up to date, and starts at the live value.
    live = training.training_config()
    for field in fields(TrainingConfig):
        value = getattr(live, field.name)
        if isinstance(value, bool):
            assert (f"a-{field.name}" in shown) == value
        elif isinstance(value, dict):
            assert json.loads(shown[f"a-{field.name}"]) == value
        else:
            assert shown[f"a-{field.name}"] == ("" if value is None else str(value))

    with on_commit():
        submitted = staff_client.post(ADD, shown | _as_shown(form_b))

    assert submitted.status_code == 302
    comparison = ModelComparison.objects.get()
    assert comparison.config_a["training"] == live.as_dict()
    assert comparison.config_b["training"] == live.as_dict()


def test_a_valid_form_queues_one_run_and_shows_its_page(
    staff_client, enqueued, on_commit
):
    with on_commit():
        response = staff_client.post(ADD, _form())

    comparison = ModelComparison.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "admin:recommendations_modelcomparison_change", args=[comparison.pk]
    )
    assert comparison.status == "queued"
    assert comparison.config_b["exploration"] == 60
    assert comparison.config_a["training"] == _arms()[0].config.as_dict()
    assert enqueued == [(comparisons.COMPARE_TASK, (comparison.pk,))]
    page = staff_client.get(response["Location"])
    assert b"Queued" in page.content and b'hx-trigger="every 2s"' in page.content


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("b-algorithm", "magic", "Select a valid choice"),
        ("b-params", '{"n_factorz": 3}', "n_factorz"),
        ("b-params", "[1, 2]", "Must be a JSON object"),
        ("b-params", "{not json", "Enter a valid JSON"),
        ("b-ease_lambda", "-5", "0 or more"),
        ("b-ease_lambda", "nan", "Enter a number"),
        ("b-max_items", "0", "at least 1"),
        ("b-exploration", "300", "less than or equal to 100"),
        ("b-label", "", "This field is required"),
    ],
)
def test_an_invalid_configuration_is_a_form_error_not_a_500(
    staff_client, field, value, message
):
    response = staff_client.post(ADD, _form(**{field: value}))

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ModelComparison.objects.exists()


def _done(**fields) -> ModelComparison:
    a, b = _arms()
    return ModelComparison.objects.create(
        label_a=a.label,
        config_a=a.as_dict(),
        label_b=b.label,
        config_b=b.as_dict(),
        **fields,
    )


def test_promoting_asks_a_reason_and_writes_it_to_the_admin_log(
    staff_client, enqueued, on_commit
):
    comparison = _done(status="done", results={"winner": "b", "verdict": "B better"})
    url = reverse("admin:recommendations_modelcomparison_promote", args=[comparison.pk])

    without_reason = staff_client.post(url, {"side": "b", "reason": ""})
    assert without_reason.status_code == 400
    assert ModelComparison.objects.get().promotion == ""

    with on_commit():
        response = staff_client.post(url, {"side": "b", "reason": "More variety"})

    assert response.status_code == 302
    comparison.refresh_from_db()
    assert (comparison.promotion, comparison.promoted_side) == ("queued", "b")
    assert comparison.promoted_by.email == "op@example.com"
    entry = LogEntry.objects.get(object_id=str(comparison.pk), action_flag=2)
    assert entry.user.email == "op@example.com"
    assert "Why: More variety" in entry.get_change_message()
    assert enqueued == [(comparisons.TRAIN_WINNER_TASK, (comparison.pk,))]

    again = staff_client.post(url, {"side": "a", "reason": "Changed my mind"})
    assert again.status_code == 409
    assert "already queued" in again.content.decode()


def test_a_run_not_done_cannot_be_promoted(staff_client, enqueued):
    comparison = _done(status="running")
    url = reverse("admin:recommendations_modelcomparison_promote", args=[comparison.pk])

    response = staff_client.post(url, {"side": "b", "reason": "Hurry"})

    assert response.status_code == 409
    assert ModelComparison.objects.get().promotion == ""
    assert enqueued == []


def test_runs_whose_message_or_worker_was_lost_are_sent_again_and_finish(
    celery_worker, demo_catalog
):
    long_ago = timezone.now() - timedelta(minutes=10)
    lost_message = _done(created_at=long_ago)  # queued, its message never sent
    dead_worker = _done(
        created_at=long_ago, status="running", attempts=1, heartbeat_at=long_ago
    )
    live = _done(status="running", attempts=1, heartbeat_at=timezone.now())
    finished = _done(
        created_at=long_ago, status="done", results={"verdict": "kept as it was"}
    )

    sent = comparisons.comparisons_resend()

    assert sorted(sent) == sorted([lost_message.pk, dead_worker.pk])
    for pk, attempts in ((lost_message.pk, 1), (dead_worker.pk, 2)):
        comparison = wait_for(lambda pk=pk: _settled(pk), timeout=120)
        assert comparison.status == "done", comparison.error
        assert comparison.attempts == attempts
        assert "ndcg@10" in {m["name"] for m in comparison.results["metrics"]}
    assert ModelComparison.objects.get(pk=live.pk).status == "running"
    assert ModelComparison.objects.get(pk=finished.pk).results == {
        "verdict": "kept as it was"
    }
