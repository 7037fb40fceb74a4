"""The recommendation health page: its figures on the demo catalog, the alert
a narrowing retrain raises (mail, ERROR log, red line), the promotion gate's
guardrails, ``manage.py health``, /healthz's model age, staff-only access and
the hourly task on a real worker."""

import json
import logging
from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import Profile
from activity.models import Rating
from catalog.models import Title
from config import health as probes
from consent.models import PrivacySettings
from recommendations import tasks
from recommendations.models import HealthSnapshot, ModelVersion, ProfileCandidates
from recommendations.services import health, training
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PAGE = "/admin/recommendations/healthsnapshot/"
HEALTH_TASK = "recommendations.tasks.health_after_promotion"


def top_picks_coverage() -> float:
    """Coverage of Top picks, counted here without the engine."""
    catalog = set(Title.objects.available().values_list("pk", flat=True))
    shown = set()
    for ids in ProfileCandidates.objects.values_list("title_ids", flat=True):
        shown.update(t for t in ids[:10] if t in catalog)
    return len(shown) / len(catalog)


def retrained(version: ModelVersion) -> ModelVersion:
    """A new version ready for promotion, with the same file and metrics."""
    return ModelVersion.objects.create(
        algorithm=version.algorithm,
        parameters=version.parameters,
        status=ModelVersion.Status.READY,
        artifact=version.artifact,
        sha256=version.sha256,
        metrics=version.metrics,
        finished_at=timezone.now(),
    )


def test_figures_of_the_demo_catalog_with_opt_outs(trained):
    profiles = list(Profile.objects.order_by("pk"))
    PrivacySettings.objects.create(profile=profiles[0], personalization=False)
    Profile.objects.filter(pk=profiles[1].pk).update(allow_training=False)

    snapshot = health.health_snapshot_take()

    figures = snapshot.figures
    assert snapshot.model_version == trained
    assert snapshot.exposure_source == HealthSnapshot.Source.CANDIDATES
    assert figures["profiles"] == 40
    assert figures["catalog_titles"] == Title.objects.available().count() == 150
    assert figures["share_personalization_off"] == 1 / 40
    assert figures["share_training_opt_out"] == 1 / 40
    assert figures["share_non_personalized"] >= 1 / 40
    assert figures["candidates_from_active"] == 1.0
    # The profile with personalization off has no Top picks; everyone's page
    # is built (40 profiles, under the sample of 100).
    assert snapshot.details["top_picks_profiles"] == 39
    assert snapshot.details["page_profiles"] == 40
    ProfileCandidates.objects.filter(profile=profiles[0]).delete()
    assert figures["coverage_top_picks"] == pytest.approx(top_picks_coverage())
    assert 0 < figures["gini"] < 1
    assert figures["coverage_page"] >= figures["coverage_top_picks"]
    assert figures["model_age_hours"] == pytest.approx(0.0, abs=0.01)
    assert snapshot.alerts == []


def test_a_retrain_that_narrows_coverage_alerts_by_mail_log_and_page(
    trained, enqueued, on_commit, settings, caplog, admin_client
):
    settings.ADMINS = [("Operator", "ops@example.com")]
    before = health.health_snapshot_take()
    assert before.alerts == []
    new = retrained(trained)

    with on_commit():
        training.model_promote(version=new, force=True)
    assert (HEALTH_TASK, (new.pk,)) in enqueued
    # The new model's refresh: every profile gets the same ten titles.
    narrow = list(Title.objects.available().order_by("pk").values_list("pk", flat=True))
    ProfileCandidates.objects.update(
        model_version=new,
        title_ids=narrow[:10],
        scores=[1.0 - n / 100 for n in range(10)],
        predicted=[4.0] * 10,
    )
    with caplog.at_level(logging.ERROR, logger="recommendations.services.health"):
        snapshot_id = tasks.health_after_promotion(new.pk)

    after = HealthSnapshot.objects.get(pk=snapshot_id)
    assert after.trigger == HealthSnapshot.Trigger.PROMOTION
    assert after.baseline == before
    assert after.figures["coverage_top_picks"] == pytest.approx(10 / 150)
    coverage_fell = (
        f"Coverage of Top picks fell from {before.figures['coverage_top_picks']:.1%} "
        "to 6.7% (tolerance 10% of it)."
    )
    assert coverage_fell in [a["message"] for a in after.alerts]
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ops@example.com"]
    assert "Recommendation health" in mail.outbox[0].subject
    assert coverage_fell in mail.outbox[0].body
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and coverage_fell in errors[0].getMessage()

    page = admin_client.get(PAGE).content.decode()
    assert (
        f'<p class="health-alert" role="alert"><strong>Alert:</strong> {coverage_fell}'
        in page
    )

    # The hourly snapshot after keeps the red line but mails nobody again.
    again = health.health_snapshot_take()
    assert coverage_fell in [a["message"] for a in again.alerts]
    assert len(mail.outbox) == 1


def test_snapshots_are_kept_a_year(db):
    old = health.health_snapshot_take(now=timezone.now() - timedelta(days=366))
    kept = health.health_snapshot_take(now=timezone.now() - timedelta(days=364))

    latest = health.health_snapshot_take()

    assert list(HealthSnapshot.objects.all()) == [latest, kept]
    assert not HealthSnapshot.objects.filter(pk=old.pk).exists()


def test_a_promotion_snapshot_waits_while_candidates_refresh(trained, enqueued):
    new = retrained(trained)
    training.model_promote(version=new, force=True)

    # No profile's candidates come from the new version yet: asks again later
    # (eagerly, in a test, it cannot wait and leaves it to the hourly one).
    assert tasks.health_after_promotion(new.pk) is None
    assert not HealthSnapshot.objects.exists()
    # A version no longer active gets none.
    assert tasks.health_after_promotion(trained.pk) is None


def test_freshness_lag_over_the_threshold_alerts(trained, settings):
    settings.RECOMMENDER_HEALTH = {
        **django_settings.RECOMMENDER_HEALTH,
        "MAX_LAG_SECONDS": 100,
    }
    now = timezone.now() + timedelta(hours=1)
    refreshed, waiting = Profile.objects.order_by("pk")[:2]
    title = Title.objects.order_by("pk").first()
    for profile, signal_ago, refreshed_ago in (
        (refreshed, 60, 30),
        (waiting, 120, 500),
    ):
        Rating.objects.update_or_create(
            profile=profile,
            title=title,
            defaults={"value": 4.0, "updated_at": now - timedelta(seconds=signal_ago)},
        )
        ProfileCandidates.objects.filter(profile=profile).update(
            updated_at=now - timedelta(seconds=refreshed_ago)
        )

    snapshot = health.health_snapshot_take(now=now)

    figures = snapshot.figures
    assert figures["signals_per_day"] == 2
    # Refreshed 30 s after its signal; still waiting 120 s after its signal.
    assert figures["lag_profiles"] == 2 and figures["lag_waiting"] == 1
    assert figures["lag_p50_s"] == pytest.approx(75.0)
    assert figures["lag_p95_s"] == pytest.approx(115.5)
    assert figures["model_age_hours"] == pytest.approx(1.0, abs=0.01)
    assert [a["message"] for a in snapshot.alerts] == [
        "Freshness lag p95 is 116 s, over the 100 s threshold."
    ]


def test_the_promotion_gate_applies_the_guardrails_when_turned_on(trained, settings):
    narrower = retrained(trained)
    ranking = dict(trained.metrics["ranking"])
    narrower.metrics = {
        **trained.metrics,
        "ranking": {**ranking, "coverage": ranking["coverage"] / 2},
    }
    narrower.save()
    settings.RECOMMENDER_HEALTH = {**django_settings.RECOMMENDER_HEALTH, "GATE": True}

    with pytest.raises(training.PromotionRefused, match="Coverage of Top picks fell"):
        training.model_promote(version=narrower)
    assert training.active_version() == trained

    settings.RECOMMENDER_HEALTH = {**django_settings.RECOMMENDER_HEALTH, "GATE": False}
    assert training.model_promote(version=narrower).status == ModelVersion.Status.ACTIVE


def test_health_command_prints_the_latest_figures_as_json(trained):
    with pytest.raises(CommandError, match="No health snapshot yet"):
        call_command("health")

    fresh = StringIO()
    call_command("health", "--refresh", stdout=fresh)
    latest = StringIO()
    call_command("health", stdout=latest)

    printed = json.loads(fresh.getvalue())
    assert json.loads(latest.getvalue()) == printed
    snapshot = HealthSnapshot.objects.get()
    assert printed["taken_at"] == snapshot.created_at.isoformat()
    assert printed["model_version"] == trained.pk
    assert printed["trigger"] == "manual"
    assert printed["exposure_source"] == "candidates"
    assert printed["alerts"] == []
    assert printed["figures"]["catalog_titles"] == 150
    assert printed["figures"]["coverage_top_picks"] == pytest.approx(
        top_picks_coverage()
    )
    assert {g["name"] for g in printed["details"]["genres"]} >= {"Drama", "Comedy"}


def test_the_page_is_for_staff_only(client, enqueued, on_commit):
    login = reverse("admin:login")
    assert client.get(PAGE).url.startswith(login)
    viewer = UserFactory(email="viewer@example.com")
    client.force_login(viewer)
    assert client.get(PAGE).url.startswith(login)
    assert client.post(PAGE + "refresh/").url.startswith(login)
    assert enqueued == []

    staff = UserFactory(email="staff@example.com", is_staff=True)
    client.force_login(staff)
    page = client.get(PAGE)
    assert page.status_code == 200
    assert "No snapshot yet" in page.content.decode()
    assert client.get(PAGE + "refresh/").status_code == 405
    with on_commit():
        assert client.post(PAGE + "refresh/").url == PAGE
    assert enqueued == [("recommendations.tasks.health_snapshot", ("manual",))]


def test_the_page_shows_every_figure_with_its_sparkline(trained, admin_client):
    health.health_snapshot_take(now=timezone.now() - timedelta(hours=1))
    health.health_snapshot_take()

    page = admin_client.get(PAGE).content.decode()

    assert "Exposure is computed from candidates, not from what was shown" in page
    for label in (
        "Catalog coverage of Top picks",
        "Catalog coverage of the whole page",
        "Gini of exposure",
        "Effective catalog size",
        "Popularity amplification",
        "Niche-taste profiles: amplification",
        "Genre calibration",
        "Intra-list diversity",
        "Opted out of training",
        "Lag to refreshed candidates, p95",
        "Age of the active model",
        "Exposure by release decade against the catalog",
        "Titles never recommended",
    ):
        assert label in page
    assert page.count('<svg class="health-spark"') >= 20
    assert "No alerts" in page
    index = admin_client.get("/admin/").content.decode()
    assert f'href="{PAGE}"' in index


def test_healthz_reports_the_active_models_age(trained, client):
    probes.MODEL_AGE.read()
    try:
        body = client.get("/healthz", HTTP_HOST="10.0.0.7:8000").json()
    finally:
        probes.MODEL_AGE.forget()

    assert body == {"status": "ok", "model_age_hours": 0.0}


def test_beat_runs_the_health_snapshot_hourly_on_a_real_worker(
    celery_worker, demo_catalog
):
    entry = django_settings.CELERY_BEAT_SCHEDULE["recommendation-health"]
    assert entry["task"] == tasks.health_snapshot.name

    result = tasks.health_snapshot.apply_async(ignore_result=False)
    snapshot = HealthSnapshot.objects.get(pk=result.get(timeout=120))

    assert snapshot.trigger == HealthSnapshot.Trigger.HOURLY
    assert snapshot.model_version is None
    assert snapshot.figures["catalog_titles"] == 150
    assert snapshot.figures["share_non_personalized"] == 1.0
