"""Tests served to viewers (``recommendations.services.experiments``): who is
placed in which arm, and what an arm really changes on the home page."""

from collections import Counter

import pytest
from django.conf import settings as conf
from django.urls import reverse
from django.utils import timezone

from accounts.models import Profile
from consent.models import PrivacySettings
from privacy import services as privacy_services
from privacy.models import ConsentEvent
from recommendations.engine.recommender import History
from recommendations.home.cache import page_key
from recommendations.home.page import Tuning, home_page
from recommendations.models import (
    Experiment,
    ExperimentArm,
    ExperimentAssignment,
    ModelVersion,
    ProfileCandidates,
    ServingDefaults,
)
from recommendations.services import experiments, training
from recommendations.services.dataset import profile_histories
from tests.factories import ProfileFactory

pytestmark = pytest.mark.django_db


def experiment_start(
    *arms: tuple[str, dict],
    name: str = "More variety",
    kind: str = Experiment.Kind.AB,
    share: float = 1.0,
    include_kids: bool = False,
    started_at=None,
) -> Experiment:
    """A running test with these arms (key, config), each of weight 1."""
    experiment = Experiment.objects.create(
        name=name,
        hypothesis="More variety in Top picks leads to more plays.",
        kind=kind,
        traffic_share=share,
        include_kids=include_kids,
        status=Experiment.Status.RUNNING,
        started_at=started_at or timezone.now(),
    )
    for key, config in arms:
        ExperimentArm.objects.create(
            experiment=experiment, key=key, name=f"Arm {key}", config=config
        )
    experiments.experiments_changed()
    return experiment


def row(page, kind: str):
    return next(r for r in page.rows if r.kind == kind)


def ids(page, kind: str) -> list[int]:
    return [t.pk for t in row(page, kind).titles]


# --- who takes part ----------------------------------------------------------------


def test_assignment_is_deterministic_and_respects_the_traffic_share(
    django_assert_max_num_queries,
):
    experiment = experiment_start(("A", {}), ("B", {"exploration": 60}), share=0.3)
    # Unsaved profiles with the default settings (each reads its settings once).
    profiles = [Profile(pk=n, name=f"p{n}") for n in range(1, 3001)]
    for p in profiles:
        p.privacy = PrivacySettings(profile=p)
    experiments.running_experiments()  # read once, then from the cache

    with django_assert_max_num_queries(0):
        first = [experiments.arm_for(p) for p in profiles]
    again = [experiments.arm_for(p) for p in profiles]

    assert [c and c.page_arm for c in first] == [c and c.page_arm for c in again]
    arms = Counter(c.page_arm for c in first if c is not None)
    placed = sum(arms.values())
    assert 0.27 < placed / len(profiles) < 0.33
    assert set(arms) == {"A", "B"}
    assert abs(arms["A"] - arms["B"]) < 0.15 * placed
    assert all(c.experiment.id == experiment.pk for c in first if c is not None)


def test_opted_out_non_profiling_and_kids_profiles_are_never_assigned():
    experiment_start(("B", {"exploration": 80}))
    grown_up = ProfileFactory()
    opted_out = ProfileFactory()
    privacy_services.privacy_settings_update(profile=opted_out, experiments=False)
    non_profiling = ProfileFactory()
    privacy_services.privacy_settings_update(
        profile=non_profiling, personalization=False
    )
    kid = ProfileFactory(is_kids=True)

    assert experiments.arm_for(grown_up).page_arm == "B"
    assert experiments.arm_for(opted_out) is None
    assert experiments.arm_for(non_profiling) is None
    assert experiments.arm_for(kid) is None
    assert experiments.arm_for(None) is None


def test_a_kids_profile_is_assigned_only_by_a_test_that_includes_kids():
    experiment_start(("B", {"exploration": 80}), include_kids=True)
    kid = ProfileFactory(is_kids=True)

    assert experiments.arm_for(kid).page_arm == "B"


def test_a_profile_is_in_one_test_at_most_the_earliest_started():
    now = timezone.now()
    later = experiment_start(("A", {}), name="Later", started_at=now)
    earlier = experiment_start(
        ("B", {}), name="Earlier", started_at=now - timezone.timedelta(days=1)
    )
    profile = ProfileFactory()

    choice = experiments.arm_for(profile)

    assert choice.experiment.id == earlier.pk
    Experiment.objects.filter(pk=earlier.pk).update(status=Experiment.Status.STOPPED)
    experiments.experiments_changed()
    assert experiments.arm_for(profile).experiment.id == later.pk


def test_running_tests_cost_no_query_once_cached(django_assert_num_queries):
    experiment_start(("A", {}), ("B", {}))
    experiments.running_experiments()

    with django_assert_num_queries(0):
        assert [e.name for e in experiments.running_experiments()] == ["More variety"]


def test_an_edit_is_seen_after_experiments_changed():
    experiment = experiment_start(("A", {}), ("B", {}))
    experiments.running_experiments()
    Experiment.objects.filter(pk=experiment.pk).update(name="Renamed")

    experiments.experiments_changed()

    assert [e.name for e in experiments.running_experiments()] == ["Renamed"]


def test_assignment_record_is_idempotent():
    experiment = experiment_start(("B", {}))
    profile = ProfileFactory()

    for _ in range(2):
        experiments.assignment_record(
            profile_id=profile.pk, experiment_id=experiment.pk, arm="B"
        )

    assert list(ExperimentAssignment.objects.values_list("profile", "arm")) == [
        (profile.pk, "B")
    ]


# --- arm configurations ----------------------------------------------------------------


def test_arm_config_errors_say_what_is_wrong(trained):
    ready = ModelVersion.objects.get(status=ModelVersion.Status.ACTIVE)
    failed = ModelVersion.objects.create(
        algorithm="svd", status=ModelVersion.Status.FAILED
    )

    assert experiments.arm_config_errors({}) == []
    assert (
        experiments.arm_config_errors(
            {
                "model_version": ready.pk,
                "exploration": 60,
                "calibration": True,
                "row_order": ["gems", "top-picks"],
            }
        )
        == []
    )
    assert experiments.arm_config_errors(
        {
            "colour": "red",
            "exploration": 101,
            "calibration": "yes",
            "model_version": failed.pk,
            "row_order": ["gems", "sport"],
        }
    ) == [
        "Unknown setting: colour; an arm may set model_version, exploration, "
        "calibration, row_order.",
        "exploration is a whole number from 0 to 100.",
        "calibration is true or false.",
        f"model_version {failed.pk} is not the number of a Ready or Active model "
        "version.",
        "row_order names unknown kinds of rows: sport; the kinds are "
        + ", ".join(experiments.ROW_KINDS)
        + ".",
    ]
    assert experiments.arm_config_errors({"exploration": True}) == [
        "exploration is a whole number from 0 to 100."
    ]


# --- what an arm changes on the page ------------------------------------------------------


def test_an_exploration_arm_changes_top_picks_as_the_slider_would(demo_viewer):
    default = home_page(profile=demo_viewer)
    slider = home_page(profile=demo_viewer, tuning=Tuning(exploration=100))
    assert ids(default, "top-picks") != ids(slider, "top-picks")

    experiment = experiment_start(("B", {"exploration": 100}))
    in_arm = home_page(profile=demo_viewer)

    assert ids(in_arm, "top-picks") == ids(slider, "top-picks")
    assert (in_arm.experiment_id, in_arm.arm) == (experiment.pk, "B")
    assert experiments.effective_tuning(demo_viewer) == (100, True)


def test_a_viewers_own_exploration_wins_over_the_arm(client, demo_viewer):
    default = home_page(profile=demo_viewer)
    experiment_start(("B", {"exploration": 100}))
    # The viewer moves the slider to 20 (the built-in default) itself.
    privacy_services.privacy_settings_update(profile=demo_viewer, exploration=20)
    demo_viewer.refresh_from_db()

    assert PrivacySettings.objects.get(profile=demo_viewer).own_choices == [
        "exploration"
    ]
    assert experiments.effective_tuning(demo_viewer) == (20, True)
    assert ids(home_page(profile=demo_viewer), "top-picks") == ids(default, "top-picks")


def test_the_home_slider_shows_the_arms_exploration(client, demo_viewer):
    from tests.recommendations.test_home_views import watching

    experiment_start(("B", {"exploration": 70}))
    watching(client, demo_viewer)

    page = client.get("/").content.decode()

    assert 'id="id_exploration" min="0" max="100" step="10" value="70"' in page


def test_a_row_order_arm_moves_its_rows_first_after_continue_watching(demo_viewer):
    default = [r.kind for r in home_page(profile=demo_viewer).rows]
    # The two kinds of rows furthest down, one row each.
    single = [k for k in default if default.count(k) == 1 and k != "continue"]
    last, before = single[-1], single[-2]
    assert default.index(before) > 3

    experiment_start(("B", {"row_order": [last, before]}))
    kinds = [r.kind for r in home_page(profile=demo_viewer).rows]

    assert kinds[:3] == ["continue", last, before]
    assert sorted(kinds) == sorted(default)


def test_the_serving_defaults_row_order_applies_to_everyone_not_in_an_arm(
    demo_viewer,
):
    ServingDefaults.objects.create(pk=1, row_order=["new"])
    experiments.experiments_changed()

    kinds = [r.kind for r in home_page(profile=demo_viewer).rows]

    assert kinds[:2] == ["continue", "new"]
    experiment_start(("B", {"row_order": ["gems"]}))
    assert [r.kind for r in home_page(profile=demo_viewer).rows][:2] == [
        "continue",
        "gems",
    ]


def test_a_model_version_arm_serves_that_versions_candidates(demo_viewer, on_commit):
    with on_commit():
        training.model_train(
            params={"n_factors": 4, "n_epochs": 2, "random_state": 3}, force=True
        )
    stored = ProfileCandidates.objects.get(profile=demo_viewer).model_version_id
    other = ModelVersion.objects.exclude(pk=stored).exclude(
        status=ModelVersion.Status.FAILED
    )[0]
    ModelVersion.objects.filter(pk=other.pk).update(status=ModelVersion.Status.READY)
    default = home_page(profile=demo_viewer)
    assert default.model_version_id == stored

    experiment_start(("B", {"model_version": other.pk}))
    page = home_page(profile=demo_viewer)

    (history,) = profile_histories([demo_viewer.pk])
    history = History(**{**history.__dict__, "use_trained_vector": False})
    (found,) = training.recommender_for(other).candidates(
        [history], count=conf.RECOMMENDER["CANDIDATES"]
    )
    assert page.model_version_id == other.pk
    assert set(ids(page, "top-picks")) <= set(found.title_ids[:120].tolist())
    assert ids(page, "top-picks") != ids(default, "top-picks")


def test_interleaved_top_picks_draw_from_both_rankers_in_turn(demo_viewer):
    experiment = experiment_start(
        ("A", {"exploration": 0}),
        ("B", {"exploration": 100}),
        kind=Experiment.Kind.INTERLEAVING,
    )

    page = home_page(profile=demo_viewer)
    again = home_page(profile=demo_viewer)

    picks = row(page, "top-picks").titles
    rankers = Counter(t.ranker for t in picks)
    # A title both rankings would have placed there is both arms' ("AB").
    assert {"A", "B"} <= set(rankers) <= {"A", "B", "AB"}
    # The arms take turns; a shared title used the turn of one of them.
    assert abs(rankers["A"] - rankers["B"]) <= rankers["AB"] + 1
    assert (page.experiment_id, page.arm) == (experiment.pk, "interleaved")
    top = [c for c in page.cards() if c.row_kind == "top-picks"]
    assert [c.ranker for c in top] == [t.ranker for t in picks]
    assert all(c.ranker == "" for c in page.cards() if c.row_kind != "top-picks")
    assert [(t.pk, t.ranker) for t in picks] == [
        (t.pk, t.ranker) for t in row(again, "top-picks").titles
    ]


def test_interleaved_top_picks_of_two_identical_arms_credit_neither(demo_viewer):
    experiment_start(
        ("A", {"exploration": 40}),
        ("B", {"exploration": 40}),
        kind=Experiment.Kind.INTERLEAVING,
    )

    page = home_page(profile=demo_viewer)

    top = [c for c in page.cards() if c.row_kind == "top-picks"]
    assert top
    assert {c.ranker for c in top} == {"AB"}


def test_cached_pages_never_cross_arms(demo_viewer):
    outside = page_key(profile=demo_viewer, mood="").key
    b = experiment_start(("B", {"exploration": 90}), name="First")
    in_b = page_key(profile=demo_viewer, mood="").key
    Experiment.objects.filter(pk=b.pk).update(status=Experiment.Status.STOPPED)
    experiment_start(("A", {}), name="Second")
    in_a = page_key(profile=demo_viewer, mood="").key

    assert len({outside, in_b, in_a}) == 3
    ServingDefaults.objects.create(pk=1, exploration=40)
    experiments.experiments_changed()
    assert page_key(profile=demo_viewer, mood="").key != in_a


def test_leaving_tests_deletes_assignments_and_is_never_assigned_again():
    experiment = experiment_start(("B", {}))
    profile = ProfileFactory()
    experiments.assignment_record(
        profile_id=profile.pk, experiment_id=experiment.pk, arm="B"
    )

    privacy_services.privacy_settings_update(profile=profile, experiments=False)

    assert not ExperimentAssignment.objects.filter(profile=profile).exists()
    assert experiments.arm_for(profile) is None
    assert list(
        ConsentEvent.objects.filter(profile_id_at_time=profile.pk).values_list(
            "what", "old_value", "new_value"
        )
    ) == [("experiments", "on", "off")]


def test_the_home_controls_make_only_what_the_viewer_moved_its_own(client, demo_viewer):
    from tests.recommendations.test_home_views import watching

    experiment_start(("B", {"exploration": 70, "calibration": False}))
    watching(client, demo_viewer)

    # The form sends both, as shown: the viewer moved the slider alone.
    response = client.post(reverse("privacy:home_controls"), {"exploration": 40})

    assert response.status_code == 302
    saved = PrivacySettings.objects.get(profile=demo_viewer)
    assert (saved.own_choices, saved.exploration) == (["exploration"], 40)
    demo_viewer = Profile.objects.select_related("privacy").get(pk=demo_viewer.pk)
    assert experiments.effective_tuning(demo_viewer) == (40, False)
    assert list(
        ConsentEvent.objects.filter(profile_id_at_time=demo_viewer.pk).values_list(
            "what", "old_value", "new_value"
        )
    ) == [("exploration", "20", "40")]
