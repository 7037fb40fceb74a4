"""The writes of a profile's signals: My List, thumbs, viewings, and what they refresh."""

from datetime import timedelta

import pytest
from django.utils import timezone

from activity import services
from activity.models import Feedback, ListItem, Rating, ViewingEvent
from catalog.models import Title
from recommendations.models import ProfileCandidates
from tests.factories import (
    FeedbackFactory,
    ListItemFactory,
    PrivacySettingsFactory,
    ProfileFactory,
    RatingFactory,
    TitleFactory,
    ViewingEventFactory,
)

pytestmark = pytest.mark.django_db


# --- My List ----------------------------------------------------------------------


def test_adding_to_my_list_twice_keeps_one_item_and_its_first_date():
    profile, title = ProfileFactory(), TitleFactory()
    first, first_new = services.list_add(profile=profile, title=title)

    again, again_new = services.list_add(profile=profile, title=title)

    assert (again.pk, first_new, again_new) == (first.pk, True, False)
    assert list(ListItem.objects.values_list("profile_id", "title_id", "added_at")) == [
        (profile.pk, title.pk, first.added_at)
    ]


def test_removing_from_my_list_says_whether_the_title_was_there():
    item = ListItemFactory()

    assert services.list_remove(profile=item.profile, title=item.title) is True
    assert services.list_remove(profile=item.profile, title=item.title) is False
    assert ListItem.objects.count() == 0


def test_removing_from_my_list_leaves_other_profiles_lists_alone():
    item = ListItemFactory()
    other = ListItemFactory(title=item.title)

    services.list_remove(profile=item.profile, title=item.title)

    assert list(ListItem.objects.values_list("pk", flat=True)) == [other.pk]


def test_my_list_changes_enqueue_no_refresh(django_capture_on_commit_callbacks):
    profile, title = ProfileFactory(), TitleFactory()

    with django_capture_on_commit_callbacks() as callbacks:
        services.list_add(profile=profile, title=title)
        services.list_remove(profile=profile, title=title)

    assert callbacks == []


# --- thumbs and "not interested" --------------------------------------------------


def test_thumbs_up_then_down_keeps_only_the_latest():
    profile, title = ProfileFactory(), TitleFactory()

    services.thumbs_set(profile=profile, title=title, kind=Feedback.Kind.THUMBS_UP)
    result = services.thumbs_set(
        profile=profile, title=title, kind=Feedback.Kind.THUMBS_DOWN
    )

    assert result == "thumbs_down"
    assert list(Feedback.objects.values_list("kind", flat=True)) == ["thumbs_down"]


def test_clearing_thumbs_removes_them_and_keeps_other_feedback():
    profile, title = ProfileFactory(), TitleFactory()
    FeedbackFactory(profile=profile, title=title, kind=Feedback.Kind.THUMBS_UP)
    FeedbackFactory(profile=profile, title=title, kind=Feedback.Kind.PICK)

    assert services.thumbs_set(profile=profile, title=title, kind=None) is None

    assert list(Feedback.objects.values_list("kind", flat=True)) == ["pick"]


def test_thumbs_refuse_a_kind_that_is_not_a_thumb():
    profile, title = ProfileFactory(), TitleFactory()

    with pytest.raises(ValueError, match="Not a thumb"):
        services.thumbs_set(profile=profile, title=title, kind="pick")

    assert Feedback.objects.count() == 0


def test_not_interested_enqueues_a_refresh(django_capture_on_commit_callbacks):
    profile, title = ProfileFactory(), TitleFactory()

    with django_capture_on_commit_callbacks() as callbacks:
        services.feedback_add(
            profile=profile, title=title, kind=Feedback.Kind.NOT_INTERESTED
        )

    assert len(callbacks) == 1


def test_clearing_thumbs_that_were_never_set_enqueues_nothing(
    django_capture_on_commit_callbacks,
):
    profile, title = ProfileFactory(), TitleFactory()

    with django_capture_on_commit_callbacks() as callbacks:
        services.thumbs_set(profile=profile, title=title, kind=None)

    assert callbacks == []


# --- starting a viewing -----------------------------------------------------------


def test_starting_a_viewing_records_now_the_device_and_nothing_watched():
    profile, title = ProfileFactory(), TitleFactory()
    PrivacySettingsFactory(profile=profile, contextual_signals=True)
    before = timezone.now()

    viewing = services.viewing_start(
        profile=profile, title=title, device_class=ViewingEvent.Device.TV
    )

    viewing.refresh_from_db()
    assert (
        viewing.profile_id,
        viewing.title_id,
        viewing.device_class,
        viewing.progress,
        viewing.seconds_watched,
        viewing.completed,
        viewing.dismissed,
    ) == (profile.pk, title.pk, "tv", 0.0, 0, False, False)
    assert before <= viewing.started_at <= timezone.now()


def test_resuming_starts_a_new_viewing_where_the_latest_one_stopped():
    profile, title = ProfileFactory(), TitleFactory()
    now = timezone.now()
    ViewingEventFactory(
        profile=profile, title=title, progress=0.2, started_at=now - timedelta(days=2)
    )
    latest = ViewingEventFactory(
        profile=profile,
        title=title,
        progress=0.42,
        started_at=now - timedelta(days=1),
        dismissed=True,
    )

    viewing = services.viewing_start(profile=profile, title=title, resume=True)

    assert viewing.pk != latest.pk
    assert (viewing.progress, viewing.seconds_watched, viewing.dismissed) == (
        0.42,
        0,
        False,
    )
    assert ViewingEvent.objects.filter(profile=profile, title=title).count() == 3


def test_resuming_after_a_finished_viewing_starts_from_the_beginning():
    profile, title = ProfileFactory(), TitleFactory()
    ViewingEventFactory(profile=profile, title=title, progress=0.95, completed=True)

    viewing = services.viewing_start(profile=profile, title=title, resume=True)

    assert viewing.progress == 0.0


def test_starting_over_ignores_the_last_progress():
    profile, title = ProfileFactory(), TitleFactory()
    ViewingEventFactory(profile=profile, title=title, progress=0.6)

    viewing = services.viewing_start(profile=profile, title=title, resume=False)

    assert viewing.progress == 0.0


def test_resuming_reads_only_this_profiles_viewings():
    profile, title = ProfileFactory(), TitleFactory()
    ViewingEventFactory(title=title, progress=0.7)

    viewing = services.viewing_start(profile=profile, title=title)

    assert viewing.progress == 0.0


def test_starting_a_viewing_enqueues_no_refresh(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        services.viewing_start(profile=ProfileFactory(), title=TitleFactory())

    assert callbacks == []


# --- heartbeats -------------------------------------------------------------------


def test_heartbeat_records_progress_and_seconds():
    viewing = ViewingEventFactory(progress=0.1, seconds_watched=600)

    services.viewing_heartbeat(viewing=viewing, progress=0.35, seconds_watched=2100)

    viewing.refresh_from_db()
    assert (viewing.progress, viewing.seconds_watched, viewing.completed) == (
        0.35,
        2100,
        False,
    )


def test_heartbeat_never_moves_progress_or_seconds_backwards():
    viewing = ViewingEventFactory(progress=0.5, seconds_watched=3000)

    services.viewing_heartbeat(viewing=viewing, progress=0.3, seconds_watched=1200)

    viewing.refresh_from_db()
    assert (viewing.progress, viewing.seconds_watched) == (0.5, 3000)


def test_heartbeat_updates_the_viewings_updated_at():
    viewing = ViewingEventFactory(updated_at=timezone.now() - timedelta(hours=1))
    before = timezone.now()

    services.viewing_heartbeat(viewing=viewing, progress=0.3, seconds_watched=10)

    viewing.refresh_from_db()
    assert viewing.updated_at >= before


@pytest.mark.parametrize("progress", [-0.01, 1.01, float("nan"), float("inf")])
def test_heartbeat_refuses_progress_outside_0_to_1(progress):
    viewing = ViewingEventFactory(progress=0.25, seconds_watched=1500)

    with pytest.raises(ValueError):
        services.viewing_heartbeat(viewing=viewing, progress=progress)

    viewing.refresh_from_db()
    assert (viewing.progress, viewing.seconds_watched) == (0.25, 1500)


def test_heartbeat_refuses_negative_seconds():
    viewing = ViewingEventFactory(progress=0.25, seconds_watched=1500)

    with pytest.raises(ValueError):
        services.viewing_heartbeat(viewing=viewing, progress=0.3, seconds_watched=-1)

    viewing.refresh_from_db()
    assert (viewing.progress, viewing.seconds_watched) == (0.25, 1500)


def test_heartbeat_without_seconds_counts_the_progress_gained_as_watched():
    viewing = ViewingEventFactory(
        title=TitleFactory(runtime_minutes=120), progress=0.25, seconds_watched=100
    )

    services.viewing_heartbeat(viewing=viewing, progress=0.75)

    viewing.refresh_from_db()
    # half of 120 minutes gained
    assert (viewing.progress, viewing.seconds_watched) == (0.75, 100 + 3600)


def test_heartbeat_without_seconds_uses_100_minutes_for_an_unknown_runtime():
    viewing = ViewingEventFactory(
        title=TitleFactory(runtime_minutes=None), progress=0.0, seconds_watched=0
    )

    services.viewing_heartbeat(viewing=viewing, progress=0.5)

    viewing.refresh_from_db()
    assert viewing.seconds_watched == 3000


@pytest.mark.parametrize(
    ("progress", "completed"), [(0.89, False), (0.9, True), (1.0, True)]
)
def test_heartbeat_completes_the_viewing_at_the_completion_mark(progress, completed):
    viewing = ViewingEventFactory(progress=0.5)

    services.viewing_heartbeat(viewing=viewing, progress=progress, seconds_watched=60)

    viewing.refresh_from_db()
    assert (viewing.progress, viewing.completed) == (progress, completed)


def test_completing_a_viewing_enqueues_one_refresh(django_capture_on_commit_callbacks):
    viewing = ViewingEventFactory(progress=0.5)

    with django_capture_on_commit_callbacks() as callbacks:
        services.viewing_heartbeat(viewing=viewing, progress=0.8, seconds_watched=60)
    assert callbacks == []

    with django_capture_on_commit_callbacks() as callbacks:
        services.viewing_heartbeat(viewing=viewing, progress=0.95, seconds_watched=90)
    assert len(callbacks) == 1

    with django_capture_on_commit_callbacks() as callbacks:
        services.viewing_heartbeat(viewing=viewing, progress=1.0, seconds_watched=99)
    assert callbacks == []


def test_completing_a_viewing_refreshes_the_profiles_candidates(trained, on_commit):
    candidates = ProfileCandidates.objects.select_related("profile").first()
    profile, top = candidates.profile, candidates.title_ids[0]
    viewing = services.viewing_start(profile=profile, title=Title.objects.get(pk=top))

    with on_commit():
        services.viewing_heartbeat(viewing=viewing, progress=0.95, seconds_watched=60)

    after = ProfileCandidates.objects.get(profile=profile)
    assert after.updated_at > candidates.updated_at
    assert top not in after.title_ids


def test_rating_enqueues_a_refresh_that_takes_the_title_out_of_candidates(
    trained, on_commit
):
    candidates = ProfileCandidates.objects.select_related("profile").first()
    profile, top = candidates.profile, candidates.title_ids[0]

    with on_commit():
        services.rating_upsert(
            profile=profile, title=Title.objects.get(pk=top), value=4.5
        )

    assert Rating.objects.get(profile=profile, title_id=top).value == 4.5
    assert top not in ProfileCandidates.objects.get(profile=profile).title_ids


# --- removing viewings ------------------------------------------------------------


def test_dismissing_a_viewing_keeps_it_in_the_history():
    viewing = ViewingEventFactory(progress=0.3)

    services.viewing_dismiss(viewing=viewing)

    assert list(ViewingEvent.objects.values_list("pk", "dismissed", "progress")) == [
        (viewing.pk, True, 0.3)
    ]


def test_clearing_a_rating_enqueues_a_refresh(django_capture_on_commit_callbacks):
    rating = RatingFactory()

    with django_capture_on_commit_callbacks() as callbacks:
        services.rating_delete(profile=rating.profile, title=rating.title)

    assert Rating.objects.count() == 0
    assert len(callbacks) == 1
