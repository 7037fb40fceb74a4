"""Impressions ("Rows you were shown") and experiment assignments ("Tests you
took part in") are personal data like the rest: listed, exported, erased
with their category, the profile and the account, aged by the viewer's
retention window, and pruned for everyone after IMPRESSION_RETENTION_DAYS."""

import json
import uuid
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from activity.models import Impression
from activity.services import impressions_prune
from consent.models import PrivacySettings
from privacy import registry, selectors, services, tasks
from recommendations.models import Experiment, ExperimentAssignment, ProfileCandidates
from tests.factories import AccountFactory, ProfileFactory, TitleFactory

pytestmark = pytest.mark.django_db


def shown(profile, title, *, at=None, take: str = "") -> Impression:
    return Impression.objects.create(
        profile=profile,
        page_view=uuid.uuid4(),
        shown_at=at or timezone.now(),
        row_kind="trending",
        row_position=1,
        title=title,
        position=2,
        model_version_id=7,
        arm="B",
        take=take,
        taken_at=timezone.now() if take else None,
    )


@pytest.fixture
def family(db):
    user = AccountFactory(email="ada@example.com")
    ada = ProfileFactory(user=user, name="Ada")
    kid = ProfileFactory(user=user, name="Kid")
    film = TitleFactory(title="Heat")
    for profile in (ada, kid):
        shown(profile, film, take="play")
        shown(profile, film)
    test = Experiment.objects.create(name="Calmer rows", hypothesis="Fewer surprises.")
    ExperimentAssignment.objects.create(experiment=test, profile=ada, arm="B")
    return ada, kid


def test_the_inventory_lists_rows_shown_and_tests(family):
    ada, _ = family

    inventory = selectors.inventory(ada.user)
    holdings = {
        h.key: h for p in inventory.profiles if p.profile == ada for h in p.holdings
    }

    assert holdings["impressions"].count == 2
    assert holdings["experiment_assignments"].count == 1
    assert "never to choose your titles" in holdings["impressions"].note
    assert registry.entry_for(Impression).never_recommends


def test_the_export_holds_every_impression_with_every_column(
    family, settings, tmp_path, on_commit
):
    ada, _ = family
    settings.PRIVACY_EXPORT_DIR = tmp_path
    with on_commit():
        export = services.data_export_request(user=ada.user)
    export.refresh_from_db()

    zipped = zipfile.ZipFile(export.file)
    rows = json.loads(zipped.read("impressions.json"))
    assignments = json.loads(zipped.read("experiment_assignments.json"))

    assert len(rows) == 4
    columns = {f.attname for f in Impression._meta.concrete_fields}
    assert columns - {"title_id"} <= set(rows[0]) | {"profile_id"}
    assert {r["take"] for r in rows} == {"play", ""}
    assert {(a["experiment__name"], a["arm"]) for a in assignments} == {
        ("Calmer rows", "B")
    }
    assert "impressions.csv" in zipped.namelist()


def test_erasing_the_category_deletes_that_profiles_impressions_only(family, on_commit):
    ada, kid = family

    with on_commit():
        erased = services.erase_category(profile=ada, category="impressions")

    assert erased == 2
    assert not Impression.objects.filter(profile=ada).exists()
    assert Impression.objects.filter(profile=kid).count() == 2


def test_erasing_what_nothing_learns_from_leaves_the_model_alone(
    family, on_commit, enqueued
):
    """Impressions and searches choose no title: erasing them rewrites no
    model file and keeps the profile's candidates; ratings do both."""
    ada, _ = family
    ProfileCandidates.objects.create(profile=ada, title_ids=[1], scores=[1.0])

    with on_commit():
        services.erase_category(profile=ada, category="impressions")
        services.erase_category(profile=ada, category="searches")

    assert ProfileCandidates.objects.filter(profile=ada).exists()
    assert enqueued == []

    with on_commit():
        services.erase_category(profile=ada, category="ratings")

    assert not ProfileCandidates.objects.filter(profile=ada).exists()
    assert sorted(task for task, _ in enqueued) == [
        "privacy.tasks.model_forget",
        "recommendations.tasks.refresh_profile",
    ]


def test_erasing_the_account_deletes_impressions_and_assignments(family, on_commit):
    ada, _ = family

    with on_commit():
        receipt = services.erase_account(user=ada.user)

    assert receipt.row_counts["activity.Impression"] == 4
    assert receipt.row_counts["recommendations.ExperimentAssignment"] == 1
    assert not Impression.objects.exists()
    assert not ExperimentAssignment.objects.exists()


def test_the_viewers_retention_window_ages_impressions(db, on_commit):
    now = datetime(2026, 5, 31, 12, tzinfo=UTC)
    profile = ProfileFactory()
    PrivacySettings.objects.create(profile=profile, retention_months=3)
    film = TitleFactory()
    old = shown(profile, film, at=now - timedelta(days=100))
    young = shown(profile, film, at=now - timedelta(days=80))

    with on_commit():
        counts = services.retention_purge_profile(profile=profile, now=now)

    assert counts == {"impressions": 1}
    assert list(Impression.objects.values_list("pk", flat=True)) == [young.pk]
    assert not Impression.objects.filter(pk=old.pk).exists()


def test_everyones_impressions_are_pruned_after_the_retention_days(db, settings):
    settings.IMPRESSION_RETENTION_DAYS = 90
    now = timezone.now()
    film = TitleFactory()
    a, b = ProfileFactory(), ProfileFactory()
    for profile in (a, b):
        for days in (200, 91, 95):
            shown(profile, film, at=now - timedelta(days=days))
    kept = [shown(a, film, at=now - timedelta(days=89)), shown(b, film, at=now)]

    assert impressions_prune(now=now, batch=2) == 6

    assert sorted(Impression.objects.values_list("pk", flat=True)) == sorted(
        i.pk for i in kept
    )
    assert impressions_prune(now=now) == 0


def test_the_daily_prune_runs_as_a_beat_task(db, settings):
    settings.IMPRESSION_RETENTION_DAYS = 30
    film = TitleFactory()
    profile = ProfileFactory()
    shown(profile, film, at=timezone.now() - timedelta(days=31))
    shown(profile, film)

    assert tasks.impressions_prune.delay().get() == 1

    assert Impression.objects.count() == 1
    assert "impressions-prune" in settings.CELERY_BEAT_SCHEDULE
