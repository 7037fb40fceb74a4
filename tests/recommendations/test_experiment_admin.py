"""Online tests in the admin: defining a test and its arms, starting and
stopping it with a reason kept in the admin log, read-only arms once it runs,
and promoting an arm to be what everyone gets (audited, in the changelog)."""

import html
import re

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.urls import reverse

from recommendations.models import (
    Experiment,
    ExperimentArm,
    ModelVersion,
    ServingDefaults,
)
from recommendations.services import experiment_admin, experiments
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ADD = reverse("admin:recommendations_experiment_add")
CHANGES = reverse("privacy:changelog")


def text_of(response) -> str:
    body = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", html.unescape(body))


def url(name: str, experiment: Experiment) -> str:
    return reverse(f"admin:recommendations_experiment_{name}", args=[experiment.pk])


def make(
    *,
    status=Experiment.Status.DRAFT,
    kind=Experiment.Kind.AB,
    arms=({}, {"exploration": 30}),
    name="More exploration",
) -> Experiment:
    experiment = Experiment.objects.create(
        name=name,
        hypothesis="Viewers take more when Top picks explore a little more.",
        kind=kind,
        traffic_share=0.5,
        status=status,
    )
    for key, config in zip("ABC", arms, strict=False):
        ExperimentArm.objects.create(
            experiment=experiment,
            key=key,
            name="Control" if key == "A" else f"Arm {key}",
            config=config,
        )
    return experiment


def add_form(arms: list[tuple[str, str, str]], **fields) -> dict:
    """The add page's POST: the test's fields and its inline arms."""
    data = {
        "name": "Trending first",
        "hypothesis": "Trending before Top picks gets more plays.",
        "kind": "ab",
        "traffic_share": "0.5",
        "arms-TOTAL_FORMS": str(len(arms)),
        "arms-INITIAL_FORMS": "0",
        "arms-MIN_NUM_FORMS": "0",
        "arms-MAX_NUM_FORMS": "1000",
        **fields,
    }
    for n, (key, name, config) in enumerate(arms):
        data |= {
            f"arms-{n}-key": key,
            f"arms-{n}-name": name,
            f"arms-{n}-weight": "1",
            f"arms-{n}-config": config,
        }
    return data


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- defining a test ---------------------------------------------------------------


def test_a_test_with_two_valid_arms_is_saved_as_a_draft(admin_client):
    response = admin_client.post(
        ADD,
        add_form(
            [("a", "Control", "{}"), ("b", "Trending", '{"row_order": ["trending"]}')]
        ),
    )
    assert response.status_code == 302
    experiment = Experiment.objects.get()
    assert experiment.status == Experiment.Status.DRAFT
    assert [(a.key, a.config) for a in experiment.arms.all()] == [
        ("A", {}),
        ("B", {"row_order": ["trending"]}),
    ]


def test_an_arms_bad_configuration_is_shown_in_the_form_and_nothing_is_saved(
    admin_client,
):
    response = admin_client.post(
        ADD,
        add_form(
            [
                ("A", "Control", "{}"),
                ("B", "Wild", '{"exploration": 500, "colour": "red"}'),
            ]
        ),
    )
    assert response.status_code == 200
    page = text_of(response)
    assert "exploration is a whole number from 0 to 100." in page
    assert "Unknown setting: colour" in page
    assert not Experiment.objects.exists()


def test_a_configuration_that_is_not_an_object_is_refused(admin_client):
    response = admin_client.post(
        ADD, add_form([("A", "Control", "{}"), ("B", "List", "[1, 2]")])
    )
    assert 'Must be a JSON object, e.g. {"exploration": 30}.' in text_of(response)
    assert not Experiment.objects.exists()


def test_one_arm_is_not_a_test(admin_client):
    response = admin_client.post(ADD, add_form([("A", "Control", "{}")]))
    assert "A test needs at least two arms" in text_of(response)
    assert not Experiment.objects.exists()


def test_an_interleaving_test_has_exactly_two_arms(admin_client):
    arms = [("A", "Control", "{}"), ("B", "B", "{}"), ("C", "C", "{}")]
    response = admin_client.post(ADD, add_form(arms, kind="interleaving"))
    assert "An interleaving test has exactly two arms" in text_of(response)
    assert not Experiment.objects.exists()


def test_a_traffic_share_outside_0_to_1_is_explained(admin_client):
    arms = [("A", "Control", "{}"), ("B", "B", '{"calibration": true}')]
    response = admin_client.post(ADD, add_form(arms, traffic_share="1.5"))
    assert "more than 0, at most 1" in text_of(response)
    assert not Experiment.objects.exists()


def test_the_list_shows_status_traffic_assigned_and_a_link_to_the_analysis(
    admin_client,
):
    experiment = make(status=Experiment.Status.RUNNING)
    page = text_of(
        admin_client.get(reverse("admin:recommendations_experiment_changelist"))
    )
    assert "More exploration" in page
    assert "Running" in page and "50%" in page
    html_page = admin_client.get(
        reverse("admin:recommendations_experiment_changelist")
    ).content.decode()
    assert f'href="{url("analysis", experiment)}"' in html_page


# --- start and stop ------------------------------------------------------------------


def test_start_asks_why_then_runs_the_test_and_the_admin_log_keeps_who_and_why(
    admin_client, admin_user, django_capture_on_commit_callbacks
):
    experiment = make()
    page = admin_client.get(url("start", experiment))
    assert page.status_code == 200
    assert 'value="Yes, start the test"' in page.content.decode()

    empty = admin_client.post(url("start", experiment), {"confirmed": "yes"})
    assert empty.status_code == 400
    experiment.refresh_from_db()
    assert experiment.status == Experiment.Status.DRAFT
    assert experiments.running_experiments() == ()

    with django_capture_on_commit_callbacks(execute=True):
        done = admin_client.post(
            url("start", experiment),
            {"confirmed": "yes", "reason": "Exploration looked good offline"},
        )
    assert done.status_code == 302
    experiment.refresh_from_db()
    assert experiment.status == Experiment.Status.RUNNING
    assert experiment.started_at is not None
    entry = LogEntry.objects.get(object_id=str(experiment.pk))
    assert entry.user == admin_user
    assert entry.change_message == "Started. Why: Exploration looked good offline"
    # The serving side sees it at once (its cache was dropped).
    assert [e.id for e in experiments.running_experiments()] == [experiment.pk]


def test_starting_beside_a_running_test_says_who_gets_the_profiles(admin_client):
    make(status=Experiment.Status.RUNNING)
    experiments.experiments_changed()
    draft = make(name="Trending first")
    page = text_of(admin_client.get(url("start", draft)))
    assert (
        "Also running: More exploration. A profile is in one test at most (the "
        "earliest started admits it first), so this one gets the profiles those "
        "leave out."
    ) in page


def test_a_draft_with_an_invalid_arm_cannot_start(admin_client):
    experiment = make(arms=({}, {"model_version": 999}))
    response = admin_client.get(url("start", experiment), follow=True)
    assert any("Arm B: model_version 999" in m for m in messages_of(response))
    experiment.refresh_from_db()
    assert experiment.status == Experiment.Status.DRAFT


def test_stop_asks_why_and_is_logged(
    admin_client, admin_user, django_capture_on_commit_callbacks
):
    experiment = make(status=Experiment.Status.RUNNING)
    assert admin_client.get(url("stop", experiment)).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            url("stop", experiment), {"confirmed": "yes", "reason": "Enough data"}
        )
    experiment.refresh_from_db()
    assert experiment.status == Experiment.Status.STOPPED
    assert experiment.stopped_at is not None
    entry = LogEntry.objects.get(object_id=str(experiment.pk))
    assert (entry.user, entry.change_message) == (
        admin_user,
        "Stopped. Why: Enough data",
    )
    assert experiments.running_experiments() == ()


def test_stopping_a_test_that_is_not_running_changes_nothing(admin_client):
    experiment = make()
    response = admin_client.post(
        url("stop", experiment), {"confirmed": "yes", "reason": "x"}, follow=True
    )
    assert any("is not running" in m for m in messages_of(response))
    experiment.refresh_from_db()
    assert experiment.status == Experiment.Status.DRAFT
    assert not LogEntry.objects.exists()


def test_start_stop_and_promote_need_a_change_permission(client):
    experiment = make()
    viewer = UserFactory(email="viewer@example.com")
    client.force_login(viewer)
    response = client.get(url("start", experiment))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]

    staff = UserFactory(email="reader@example.com", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_experiment"))
    client.force_login(staff)
    assert client.get(url("analysis", experiment)).status_code == 200
    posted = {"confirmed": "yes", "reason": "Because", "arm": "B"}
    assert client.post(url("start", experiment), posted).status_code == 403
    experiment.status = Experiment.Status.RUNNING
    experiment.save()
    assert client.post(url("stop", experiment), posted).status_code == 403
    assert client.post(url("promote", experiment), posted).status_code == 403
    experiment.refresh_from_db()
    assert experiment.status == Experiment.Status.RUNNING
    assert not LogEntry.objects.exists()


def test_promote_is_post_only(admin_client):
    experiment = make(status=Experiment.Status.RUNNING)
    assert admin_client.get(url("promote", experiment)).status_code == 405


def test_a_running_tests_arms_kind_and_traffic_are_read_only(admin_client):
    experiment = make(status=Experiment.Status.RUNNING)
    a, b = experiment.arms.order_by("key")
    page = admin_client.get(url("change", experiment))
    assert "its arms, kind, traffic and kids rule are fixed" in text_of(page)
    assert 'name="traffic_share"' not in page.content.decode()
    assert 'name="arms-1-config"' not in page.content.decode()

    response = admin_client.post(
        url("change", experiment),
        {
            "name": "Renamed",
            "hypothesis": experiment.hypothesis,
            "kind": "interleaving",
            "traffic_share": "1.0",
            "arms-TOTAL_FORMS": "2",
            "arms-INITIAL_FORMS": "2",
            "arms-MIN_NUM_FORMS": "0",
            "arms-MAX_NUM_FORMS": "1000",
            "arms-0-id": str(a.pk),
            "arms-0-experiment": str(experiment.pk),
            "arms-0-key": "A",
            "arms-0-name": "Control",
            "arms-0-weight": "1",
            "arms-0-config": "{}",
            "arms-1-id": str(b.pk),
            "arms-1-experiment": str(experiment.pk),
            "arms-1-key": "B",
            "arms-1-name": "Changed",
            "arms-1-weight": "9",
            "arms-1-config": '{"exploration": 90}',
            "arms-1-DELETE": "on",
        },
    )
    assert response.status_code == 302
    experiment.refresh_from_db()
    assert experiment.name == "Renamed"
    assert (experiment.kind, experiment.traffic_share) == ("ab", 0.5)
    b.refresh_from_db()
    assert (b.name, b.weight, b.config) == ("Arm B", 1, {"exploration": 30})


def test_a_running_test_cannot_be_deleted(admin_client):
    experiment = make(status=Experiment.Status.RUNNING)
    assert (
        admin_client.post(url("delete", experiment), {"post": "yes"}).status_code == 403
    )
    assert Experiment.objects.filter(pk=experiment.pk).exists()


# --- promote -----------------------------------------------------------------------


def promote(client, experiment, arm="B", reason="B took more, nothing narrowed"):
    return client.post(
        url("promote", experiment),
        {"arm": arm, "confirmed": "yes", "reason": reason},
        follow=True,
    )


def test_promote_asks_why_first(admin_client):
    experiment = make(status=Experiment.Status.RUNNING)
    page = admin_client.post(url("promote", experiment), {"arm": "B"})
    assert page.status_code == 200
    assert "Arm B (Arm B) becomes what everyone gets: exploration 30 of 100" in (
        text_of(page)
    )
    experiment.refresh_from_db()
    assert experiment.status == Experiment.Status.RUNNING


def test_promoting_an_arm_sets_the_defaults_ends_the_test_and_enters_the_changelog(
    admin_client, admin_user, client, django_capture_on_commit_callbacks
):
    experiment = make(
        status=Experiment.Status.RUNNING,
        arms=({}, {"exploration": 30, "calibration": False, "row_order": ["trending"]}),
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = promote(admin_client, experiment)
    assert any("is now what everyone gets" in m for m in messages_of(response))
    experiment.refresh_from_db()
    assert experiment.status == Experiment.Status.PROMOTED
    assert experiment.winner == "B"
    assert experiment.stopped_at is not None
    defaults = ServingDefaults.objects.get(pk=1)
    assert (defaults.exploration, defaults.calibration, defaults.row_order) == (
        30,
        False,
        ["trending"],
    )
    assert experiments.serving_defaults().exploration == 30
    listing = text_of(
        admin_client.get(reverse("admin:recommendations_experiment_changelist"))
    )
    assert (
        "What everyone gets now (outside a test, where viewers have not set their "
        "own): exploration 30 of 100; “Keep my genre mix” off; Trending first"
    ) in listing
    entry = LogEntry.objects.get(object_id=str(experiment.pk))
    assert entry.user == admin_user
    assert entry.change_message.startswith("Promoted arm B (Arm B): exploration 30")
    assert entry.change_message.endswith("Why: B took more, nothing narrowed")

    changes = text_of(client.get(CHANGES))
    assert (
        "Test “More exploration”: arm B became the default (exploration 30 of 100; "
        "“Keep my genre mix” off; Trending first)"
    ) in changes
    assert "Online test" in changes


def test_promoting_a_draft_is_refused_with_a_message(admin_client):
    experiment = make()
    response = promote(admin_client, experiment)
    assert response.status_code == 200
    assert any("has not run" in m for m in messages_of(response))
    experiment.refresh_from_db()
    assert experiment.status == Experiment.Status.DRAFT
    assert not ServingDefaults.objects.exists()
    assert not LogEntry.objects.exists()


def test_promoting_an_arm_whose_configuration_no_longer_holds_is_refused(
    admin_client,
):
    experiment = make(
        status=Experiment.Status.STOPPED, arms=({}, {"model_version": 999})
    )
    response = promote(admin_client, experiment)
    assert response.status_code == 200
    assert any(
        "Arm B's configuration no longer holds: model_version 999" in m
        for m in messages_of(response)
    )
    experiment.refresh_from_db()
    assert experiment.status == Experiment.Status.STOPPED
    assert not LogEntry.objects.exists()


def test_a_test_is_promoted_once(admin_client):
    experiment = make(status=Experiment.Status.RUNNING)
    promote(admin_client, experiment)
    again = promote(admin_client, experiment, arm="A")
    assert any("already made arm B the default" in m for m in messages_of(again))
    experiment.refresh_from_db()
    assert experiment.winner == "B"
    assert LogEntry.objects.filter(object_id=str(experiment.pk)).count() == 1


def test_the_service_needs_a_reason(admin_user):
    experiment = make()
    with pytest.raises(experiment_admin.ExperimentRefused, match="Say why"):
        experiment_admin.experiment_start(
            experiment_id=experiment.pk, user=admin_user, reason="  "
        )
    experiment.refresh_from_db()
    assert experiment.status == Experiment.Status.DRAFT


def test_promoting_a_model_version_arm_promotes_that_version(
    trained, admin_client, on_commit
):
    candidate = ModelVersion.objects.create(
        algorithm=trained.algorithm,
        status=ModelVersion.Status.READY,
        artifact=trained.artifact,
        sha256=trained.sha256,
        parameters=trained.parameters,
        metrics=trained.metrics,
        data_counts=trained.data_counts,
    )
    experiment = make(
        status=Experiment.Status.RUNNING, arms=({}, {"model_version": candidate.pk})
    )
    with on_commit():
        promote(admin_client, experiment)
    candidate.refresh_from_db()
    trained.refresh_from_db()
    assert candidate.status == ModelVersion.Status.ACTIVE
    assert trained.status == ModelVersion.Status.RETIRED
    experiment.refresh_from_db()
    assert (experiment.status, experiment.winner) == ("promoted", "B")
