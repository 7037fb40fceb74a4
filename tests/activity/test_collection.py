"""The privacy rules of collection, through the pages a viewer uses.

While viewing history is paused or the browser session is private, plays
(start and heartbeats) and searches store nothing; without contextual
signals no device class is kept; explicit actions still count; and every
activity write touches the profile so its cached rows are rebuilt.
"""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Profile
from activity import services
from activity.models import Feedback, Rating, SearchEvent, ViewingEvent
from consent.policy import PRIVATE_SESSION_KEY
from tests.activity.conftest import HTMX, watch_as
from tests.factories import (
    FeedbackFactory,
    ListItemFactory,
    PrivacySettingsFactory,
    ProfileFactory,
    RatingFactory,
    TitleFactory,
    ViewingEventFactory,
)

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
HEARTBEAT_ACTION = re.compile(r'data-player-heartbeat hx-post="([^"]+)"')


def private_session(client, profile) -> None:
    session = client.session
    session[PRIVATE_SESSION_KEY] = [profile.pk]
    session.save()


def play_through(client, title) -> str:
    """Presses Play, opens the player it leads to, and sends the heartbeats
    the player would (htmx, then the closing beacon, then "Mark as watched"
    without JavaScript). Returns the player page."""
    started = client.post(
        reverse("activity:play", args=[title.pk]),
        {"start": "beginning"},
        headers={"User-Agent": IPHONE},
    )
    assert started.status_code == 302
    page = client.get(started["Location"]).content.decode()
    (heartbeat,) = HEARTBEAT_ACTION.findall(page)
    for progress in ("0.2500", "0.6000", "0.9500"):
        beat = client.post(
            heartbeat, {"progress": progress, "seconds": "600"}, headers=HTMX
        )
        assert beat.status_code == 200
    assert client.post(heartbeat + "?beacon=1", {"progress": "1"}).status_code == 204
    assert client.post(heartbeat, {"progress": "1"}).status_code == 302
    return page


def search_for(client, query: str):
    return client.get(reverse("catalog:search"), {"q": query})


# --- nothing kept while paused or private -------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("how", ["history paused", "private session"])
def test_twenty_plays_and_five_searches_add_nothing(viewer, profile, how):
    if how == "history paused":
        PrivacySettingsFactory(
            profile=profile, pause_viewing_history=True, pause_search_history=True
        )
    else:
        private_session(viewer, profile)
    titles = [TitleFactory(title=f"Heat {n}") for n in range(20)]
    earlier = ViewingEventFactory(profile=profile, title=titles[0], progress=0.4)
    touched_at = Profile.objects.get(pk=profile.pk).activity_changed_at

    for title in titles:
        page = play_through(viewer, title)
        assert "Not kept" in page
    for query in ("heat", "alien", "the matrix", "up", "heat 2"):
        assert search_for(viewer, query).status_code == 200

    assert list(ViewingEvent.objects.all()) == [earlier]
    earlier_now = ViewingEvent.objects.get()
    assert (earlier_now.progress, earlier_now.seconds_watched) == (
        earlier.progress,
        earlier.seconds_watched,
    )
    assert SearchEvent.objects.count() == 0
    assert Profile.objects.get(pk=profile.pk).activity_changed_at == touched_at


@pytest.mark.django_db
def test_unkept_play_still_plays_and_says_why(viewer, profile):
    PrivacySettingsFactory(profile=profile, pause_viewing_history=True)
    title = TitleFactory(title="Heat")

    started = viewer.post(reverse("activity:play", args=[title.pk]), {})
    page = viewer.get(started["Location"]).content.decode()
    beat = viewer.post(
        reverse("activity:unkept_heartbeat", args=[title.pk]),
        {"progress": "0.5"},
        headers=HTMX,
    )

    assert started["Location"] == (
        reverse("activity:play", args=[title.pk]) + "?unkept=resume"
    )
    assert "data-player " in page
    assert "Not kept: history paused" in page
    assert beat.content.decode() == "Your place is not saved."
    assert ViewingEvent.objects.count() == 0


@pytest.mark.django_db
def test_unkept_heartbeat_refuses_bad_progress_with_400(viewer, profile):
    PrivacySettingsFactory(profile=profile, pause_viewing_history=True)
    title = TitleFactory()

    response = viewer.post(
        reverse("activity:unkept_heartbeat", args=[title.pk]), {"progress": "7"}
    )

    assert response.status_code == 400
    assert "less than or equal to 1" in response.content.decode()


@pytest.mark.django_db
def test_pausing_during_a_play_stops_its_heartbeats_being_kept(viewer, profile):
    title = TitleFactory()
    viewing = services.viewing_start(profile=profile, title=title)
    settings = PrivacySettingsFactory(profile=profile)
    heartbeat = reverse("activity:heartbeat", args=[viewing.pk])
    viewer.post(heartbeat, {"progress": "0.3", "seconds": "60"})

    settings.pause_viewing_history = True
    settings.save()
    response = viewer.post(
        heartbeat, {"progress": "0.95", "seconds": "600"}, headers=HTMX
    )

    viewing.refresh_from_db()
    assert (viewing.progress, viewing.seconds_watched, viewing.completed) == (
        0.3,
        60,
        False,
    )
    assert response.content.decode() == "Your place is not saved."


@pytest.mark.django_db
def test_private_session_is_per_profile(client, profile):
    sibling = ProfileFactory(user=profile.user, name="Sibling")
    watch_as(client, sibling)
    private_session(client, profile)  # Ada is private; Sibling watches
    title = TitleFactory()

    play_through(client, title)
    search_for(client, "heat")

    assert ViewingEvent.objects.filter(profile=sibling).count() == 1
    assert SearchEvent.objects.filter(profile=sibling).count() == 1


@pytest.mark.django_db
def test_paused_search_history_still_keeps_plays(viewer, profile):
    PrivacySettingsFactory(profile=profile, pause_search_history=True)

    play_through(viewer, TitleFactory())
    search_for(viewer, "heat")

    assert ViewingEvent.objects.filter(profile=profile).count() == 1
    assert SearchEvent.objects.count() == 0


@pytest.mark.django_db
def test_ratings_and_thumbs_still_count_in_a_private_session(viewer, profile):
    private_session(viewer, profile)
    title = TitleFactory()

    viewer.post(reverse("activity:rate", args=[title.pk]), {"value": "4.5"})
    viewer.post(reverse("activity:thumbs", args=[title.pk]), {"thumb": "thumbs_up"})

    assert list(Rating.objects.values_list("profile", "value")) == [(profile.pk, 4.5)]
    assert list(Feedback.objects.values_list("profile", "kind")) == [
        (profile.pk, "thumbs_up")
    ]


# --- contextual signals ----------------------------------------------------------------


@pytest.mark.django_db
def test_without_contextual_signals_no_device_class_is_kept(viewer, profile):
    play_through(viewer, TitleFactory())  # contextual signals are off by default

    assert list(ViewingEvent.objects.values_list("device_class", flat=True)) == [""]


@pytest.mark.django_db
def test_with_contextual_signals_the_device_class_is_kept(viewer, profile):
    PrivacySettingsFactory(profile=profile, contextual_signals=True)

    play_through(viewer, TitleFactory())

    assert list(ViewingEvent.objects.values_list("device_class", flat=True)) == [
        "mobile"
    ]


def test_viewing_start_drops_the_device_class_without_context(db):
    profile = ProfileFactory()

    viewing = services.viewing_start(
        profile=profile, title=TitleFactory(), device_class="tv"
    )

    viewing.refresh_from_db()
    assert viewing.device_class == ""


# --- every write touches the profile ------------------------------------------------


def _touched(profile: Profile, write) -> bool:
    before = timezone.now() - timedelta(days=1)
    Profile.objects.filter(pk=profile.pk).update(activity_changed_at=before)
    write()
    return Profile.objects.get(pk=profile.pk).activity_changed_at > before


WRITES = {
    "rating_upsert": lambda p, t: services.rating_upsert(profile=p, title=t, value=3.0),
    "rating_delete": lambda p, t: (
        RatingFactory(profile=p, title=t),
        services.rating_delete(profile=p, title=t),
    ),
    "feedback_add": lambda p, t: services.feedback_add(
        profile=p, title=t, kind="not_interested"
    ),
    "feedback_remove": lambda p, t: (
        FeedbackFactory(profile=p, title=t),
        services.feedback_remove(profile=p, title=t, kind="thumbs_up"),
    ),
    "thumbs_set": lambda p, t: services.thumbs_set(
        profile=p, title=t, kind="thumbs_up"
    ),
    "list_add": lambda p, t: services.list_add(profile=p, title=t),
    "list_remove": lambda p, t: (
        ListItemFactory(profile=p, title=t),
        services.list_remove(profile=p, title=t),
    ),
    "viewing_start": lambda p, t: services.viewing_start(profile=p, title=t),
    "viewing_heartbeat": lambda p, t: services.viewing_heartbeat(
        viewing=ViewingEventFactory(profile=p, title=t), progress=0.5
    ),
    "viewing_dismiss": lambda p, t: services.viewing_dismiss(
        viewing=ViewingEventFactory(profile=p, title=t)
    ),
    "search_record": lambda p, t: services.search_record(profile=p, query="heat"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("write", list(WRITES))
def test_every_activity_write_touches_the_profile(write):
    profile, title = ProfileFactory(), TitleFactory()

    assert _touched(profile, lambda: WRITES[write](profile, title))


@pytest.mark.django_db
def test_writes_that_store_nothing_do_not_touch_the_profile():
    profile = ProfileFactory()
    PrivacySettingsFactory(
        profile=profile, pause_viewing_history=True, pause_search_history=True
    )

    assert not _touched(
        profile, lambda: services.viewing_start(profile=profile, title=TitleFactory())
    )
    assert not _touched(
        profile, lambda: services.search_record(profile=profile, query="heat")
    )
