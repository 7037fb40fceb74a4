"""Retention: activity older than a profile's window is deleted by the daily
task, and at once when the window is shortened (clock frozen by passing
``now``)."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from activity.models import (
    Feedback,
    Impression,
    ListItem,
    Rating,
    SearchEvent,
    TagApplication,
    ViewingEvent,
)
from consent.models import PrivacySettings
from privacy import services, tasks
from privacy.models import ConsentEvent
from privacy.services import CATEGORIES, months_before
from recommendations.models import RowEngagement, SeedExclusion
from tests.factories import AccountFactory, ProfileFactory, TagFactory, TitleFactory

NOW = datetime(2026, 5, 31, 12, 0, tzinfo=UTC)


def activity_at(profile, at: datetime) -> None:
    """One row of every kind of activity, all of it last active at ``at``."""
    title = TitleFactory()
    Rating.objects.create(
        profile=profile, title=title, value=4.0, created_at=at, updated_at=at
    )
    ViewingEvent.objects.create(
        profile=profile, title=title, started_at=at, updated_at=at
    )
    SearchEvent.objects.create(profile=profile, query="heat", created_at=at)
    Feedback.objects.create(
        profile=profile, title=title, kind=Feedback.Kind.THUMBS_UP, created_at=at
    )
    ListItem.objects.create(profile=profile, title=title, added_at=at)
    TagApplication.objects.create(
        profile=profile, title=title, tag=TagFactory(), created_at=at
    )
    RowEngagement.objects.create(
        profile=profile, row_kind=f"kind-{title.pk}", count=1, updated_at=at
    )
    SeedExclusion.objects.create(profile=profile, title=title, created_at=at)
    Impression.objects.create(
        profile=profile,
        page_view=uuid.uuid4(),
        shown_at=at,
        row_kind="trending",
        row_position=0,
        title=title,
        position=0,
    )


def oldest(profile) -> dict[str, datetime]:
    """Each kind's oldest latest-activity time left for the profile."""
    out = {}
    for name, category in CATEGORIES.items():
        times = category.model.objects.filter(profile=profile).values_list(
            category.time_field, flat=True
        )
        if times:
            out[name] = min(times)
    return out


def with_window(months: int):
    profile = ProfileFactory(user=AccountFactory())
    PrivacySettings.objects.create(profile=profile, retention_months=months)
    return profile


@pytest.fixture
def three_months(db):
    profile = with_window(3)
    cutoff = months_before(NOW, 3)
    assert cutoff == datetime(2026, 2, 28, 12, 0, tzinfo=UTC)
    activity_at(profile, cutoff - timedelta(days=400))
    activity_at(profile, cutoff - timedelta(seconds=1))
    activity_at(profile, cutoff)
    activity_at(profile, NOW - timedelta(days=1))
    return profile


def test_retention_leaves_nothing_older_than_the_window(three_months, on_commit):
    cutoff = months_before(NOW, 3)

    with on_commit():
        counts = services.retention_purge_profile(profile=three_months, now=NOW)

    assert counts == {
        "ratings": 2,
        "viewings": 2,
        "searches": 2,
        "feedback": 2,
        "list": 2,
        "tags": 2,
        "row_engagement": 2,
        "impressions": 2,
    }
    left = oldest(three_months)
    for name, category in CATEGORIES.items():
        if category.retained:
            assert left[name] == cutoff, name
    assert Rating.objects.filter(profile=three_months).count() == 2
    # Rows turned down are a choice, not activity: they stay.
    assert SeedExclusion.objects.filter(profile=three_months).count() == 4
    line = ConsentEvent.objects.get()
    assert (line.kind, line.what) == (
        "erasure",
        "activity older than 3 months auto-deleted",
    )


def test_retention_purge_again_deletes_nothing(three_months, on_commit):
    with on_commit():
        services.retention_purge_profile(profile=three_months, now=NOW)
        assert services.retention_purge_profile(profile=three_months, now=NOW) == {}

    assert ConsentEvent.objects.count() == 1


def test_daily_purge_follows_each_profiles_window(db, on_commit):
    keep = with_window(0)
    long = with_window(18)
    no_settings = ProfileFactory(user=AccountFactory())
    for profile in (keep, long, no_settings):
        activity_at(profile, NOW - timedelta(days=365 * 2))
        activity_at(profile, NOW - timedelta(days=365))

    with on_commit():
        purged = services.retention_purge(now=NOW)

    assert list(purged) == [long.pk]
    assert Rating.objects.filter(profile=keep).count() == 2
    assert Rating.objects.filter(profile=no_settings).count() == 2
    assert Rating.objects.filter(profile=long).count() == 1
    assert oldest(long)["viewings"] >= months_before(NOW, 18)


def test_beat_task_purges_with_the_real_clock(db, on_commit):
    profile = with_window(36)
    activity_at(profile, datetime.now(UTC) - timedelta(days=365 * 4))
    activity_at(profile, datetime.now(UTC) - timedelta(days=30))

    with on_commit():
        assert tasks.retention_purge.delay().get() == 1

    assert SearchEvent.objects.filter(profile=profile).count() == 1


def test_shortening_the_window_deletes_at_once(db, on_commit):
    profile = with_window(36)
    activity_at(profile, datetime.now(UTC) - timedelta(days=365 * 2))
    activity_at(profile, datetime.now(UTC) - timedelta(days=10))

    with on_commit():
        services.privacy_settings_update(profile=profile, retention_months=18)

    assert Rating.objects.filter(profile=profile).count() == 1
    assert ViewingEvent.objects.filter(profile=profile).count() == 1


def test_lengthening_the_window_deletes_nothing(db, on_commit):
    profile = with_window(3)
    activity_at(profile, datetime.now(UTC) - timedelta(days=365))

    with on_commit():
        services.privacy_settings_update(profile=profile, retention_months=18)

    assert Rating.objects.filter(profile=profile).count() == 1


@pytest.mark.parametrize(
    ("moment", "months", "expected"),
    [
        (datetime(2026, 5, 31, tzinfo=UTC), 3, datetime(2026, 2, 28, tzinfo=UTC)),
        (datetime(2024, 5, 31, tzinfo=UTC), 3, datetime(2024, 2, 29, tzinfo=UTC)),
        (datetime(2026, 1, 15, tzinfo=UTC), 18, datetime(2024, 7, 15, tzinfo=UTC)),
        (datetime(2026, 3, 1, tzinfo=UTC), 36, datetime(2023, 3, 1, tzinfo=UTC)),
    ],
)
def test_months_before_counts_calendar_months(moment, months, expected):
    assert months_before(moment, months) == expected
