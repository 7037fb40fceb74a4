"""The simulated player: device classes, starting a play, heartbeats, resume."""

import re

import pytest
from django.urls import reverse

from activity.devices import device_class_from_user_agent
from activity.models import ViewingEvent
from catalog.models import Title
from recommendations.models import ProfileCandidates
from tests.activity.conftest import HTMX, watch_as
from tests.factories import (
    GenreFactory,
    PrivacySettingsFactory,
    TitleFactory,
    ViewingEventFactory,
)

# --- the device class, from the User-Agent (no database) --------------------------

USER_AGENTS = {
    "tv": [
        "Mozilla/5.0 (SMART-TV; LINUX; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) 76.0.3809.146/6.0 TV Safari/537.36",
        "Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/87.0.4280.88 Safari/537.36 WebAppManager",
        "Mozilla/5.0 (Linux; Android 9; BRAVIA 4K UR2 Build/PTT1.190515.001.S52) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/89.0.4389.105 Mobile Safari/537.36",
        "Mozilla/5.0 (X11; Linux aarch64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/108.0.0.0 Safari/537.36 CrKey/1.56.500000 DeviceType/AndroidTV",
        "AppleTV11,1/11.1",
        "Roku/DVP-9.10 (519.10E04111A)",
        "Mozilla/5.0 (Linux; Android 9; AFTMM Build/PS7233) AppleWebKit/537.36 (KHTML, like Gecko) Silk/108.1.4 like Chrome/108.0.5359.220 Safari/537.36",
    ],
    "tablet": [
        "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Android 13; Tablet; rv:109.0) Gecko/116.0 Firefox/116.0",
    ],
    "mobile": [
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Mobile Safari/537.36",
        "Mozilla/5.0 (Android 14; Mobile; rv:109.0) Gecko/118.0 Firefox/118.0",
    ],
    "desktop": [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15",
        "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/118.0",
        "curl/8.4.0",
        "",
    ],
}


@pytest.mark.parametrize(
    ("user_agent", "device"),
    [(ua, device) for device, uas in USER_AGENTS.items() for ua in uas],
)
def test_device_class_is_told_from_the_user_agent(user_agent, device):
    assert device_class_from_user_agent(user_agent) == device


def test_device_classes_are_the_viewing_events_choices():
    assert {device_class_from_user_agent(uas[0]) for uas in USER_AGENTS.values()} == {
        choice.value for choice in ViewingEvent.Device
    }


# --- the player page --------------------------------------------------------------

IPHONE = USER_AGENTS["mobile"][0]


def play_url(title) -> str:
    return reverse("activity:play", args=[title.pk])


def heartbeat_url(viewing) -> str:
    return reverse("activity:heartbeat", args=[viewing.pk])


@pytest.mark.django_db
def test_player_page_offers_play_and_records_nothing_until_pressed(viewer):
    title = TitleFactory(title="Heat", runtime_minutes=170)

    response = viewer.get(play_url(title))

    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="start" value="beginning"' in page
    assert "2:50:00" in page  # the runtime, as a clock
    assert ViewingEvent.objects.count() == 0


@pytest.mark.django_db
def test_pressing_play_starts_a_viewing_with_the_device_and_opens_the_player(
    viewer, profile
):
    PrivacySettingsFactory(profile=profile, contextual_signals=True)
    title = TitleFactory(title="Heat")

    response = viewer.post(
        play_url(title), {"start": "beginning"}, headers={"User-Agent": IPHONE}
    )

    viewing = ViewingEvent.objects.get()
    assert (viewing.profile, viewing.title, viewing.device_class, viewing.progress) == (
        profile,
        title,
        "mobile",
        0.0,
    )
    assert response.status_code == 302
    assert response["Location"] == f"{play_url(title)}?viewing={viewing.pk}"
    page = viewer.get(response["Location"]).content.decode()
    assert f'hx-post="{heartbeat_url(viewing)}"' in page
    assert "data-player" in page
    assert "js/player.js" in page


@pytest.mark.django_db
def test_player_without_javascript_offers_mark_as_watched_and_stop_at_half(
    viewer, profile
):
    viewing = ViewingEventFactory(profile=profile, progress=0.1)

    page = viewer.get(play_url(viewing.title), {"viewing": viewing.pk}).content.decode()

    assert "Mark as watched" in page
    assert "Stop at 50%" in page
    assert page.count(f'action="{heartbeat_url(viewing)}"') == 3  # htmx form + two


@pytest.mark.django_db
def test_resume_continues_from_the_last_progress(viewer, profile):
    title = TitleFactory(runtime_minutes=100)
    ViewingEventFactory(profile=profile, title=title, progress=0.42)

    page = viewer.get(play_url(title)).content.decode()
    assert "Resume" in page
    assert "from 42%" in page

    viewer.post(play_url(title), {"start": "resume"})

    latest = ViewingEvent.objects.order_by("-pk").first()
    assert latest.progress == 0.42
    page = viewer.get(play_url(title), {"viewing": latest.pk}).content.decode()
    assert 'data-progress="0.4200"' in page
    assert "42:00" in page


@pytest.mark.django_db
def test_play_from_the_beginning_starts_at_zero(viewer, profile):
    title = TitleFactory()
    ViewingEventFactory(profile=profile, title=title, progress=0.42)

    viewer.post(play_url(title), {"start": "beginning"})

    assert ViewingEvent.objects.order_by("-pk").first().progress == 0.0


@pytest.mark.django_db
def test_another_profiles_viewing_on_the_player_is_a_404(viewer, other_profile):
    viewing = ViewingEventFactory(profile=other_profile)

    response = viewer.get(play_url(viewing.title), {"viewing": viewing.pk})

    assert response.status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("viewing_param", ["abc", "-1", "999999"])
def test_a_bad_viewing_id_on_the_player_is_a_404(viewer, viewing_param):
    title = TitleFactory()

    response = viewer.get(play_url(title), {"viewing": viewing_param})

    assert response.status_code == 404


@pytest.mark.django_db
def test_a_viewing_of_another_title_on_the_player_is_a_404(viewer, profile):
    viewing = ViewingEventFactory(profile=profile)

    response = viewer.get(play_url(TitleFactory()), {"viewing": viewing.pk})

    assert response.status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post"])
def test_an_unavailable_or_unknown_title_cannot_be_played(viewer, method):
    withdrawn = TitleFactory(is_available=False)

    for url in (play_url(withdrawn), reverse("activity:play", args=[999_999])):
        response = getattr(viewer, method)(url)
        assert response.status_code == 404
    assert ViewingEvent.objects.count() == 0


@pytest.mark.django_db
def test_playing_needs_a_chosen_profile(client, profile):
    client.force_login(profile.user)
    title = TitleFactory()

    response = client.post(play_url(title))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:profile_picker"))
    assert ViewingEvent.objects.count() == 0


@pytest.mark.django_db
def test_playing_needs_a_log_in(client):
    title = TitleFactory()

    response = client.post(play_url(title))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert ViewingEvent.objects.count() == 0


@pytest.mark.django_db
def test_a_kids_profile_cannot_play_a_horror_title(kids_viewer):
    horror = TitleFactory(genres=[GenreFactory(name="Horror")])
    rated_r = TitleFactory(maturity_rating=Title.Maturity.R)

    for title in (horror, rated_r):
        assert kids_viewer.get(play_url(title)).status_code == 404
        assert kids_viewer.post(play_url(title)).status_code == 404
    assert ViewingEvent.objects.count() == 0


@pytest.mark.django_db
def test_a_kids_profile_may_play_a_childrens_title(kids_viewer, kids_profile):
    cartoon = TitleFactory(genres=[GenreFactory(name="Animation")])

    response = kids_viewer.post(play_url(cartoon), {"start": "beginning"})

    assert response.status_code == 302
    assert ViewingEvent.objects.get().profile == kids_profile


# --- heartbeats -------------------------------------------------------------------


@pytest.mark.django_db
def test_a_heartbeat_records_progress_and_answers_htmx_with_the_status(viewer, profile):
    viewing = ViewingEventFactory(profile=profile, progress=0.1, seconds_watched=60)

    response = viewer.post(
        heartbeat_url(viewing), {"progress": "0.3", "seconds": "1200"}, headers=HTMX
    )

    assert response.status_code == 200
    assert response.content.decode().strip() == "Your place is saved."
    viewing.refresh_from_db()
    assert (viewing.progress, viewing.seconds_watched, viewing.completed) == (
        0.3,
        1200,
        False,
    )


@pytest.mark.django_db
def test_a_late_heartbeat_does_not_move_progress_back(viewer, profile):
    viewing = ViewingEventFactory(profile=profile, progress=0.6, seconds_watched=3600)

    response = viewer.post(
        heartbeat_url(viewing), {"progress": "0.2", "seconds": "600"}, headers=HTMX
    )

    assert response.status_code == 200
    viewing.refresh_from_db()
    assert (viewing.progress, viewing.seconds_watched) == (0.6, 3600)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data",
    [
        {"progress": "-0.1", "seconds": "10"},
        {"progress": "1.5", "seconds": "10"},
        {"progress": "abc", "seconds": "10"},
        {"progress": "nan", "seconds": "10"},
        {"progress": "inf", "seconds": "10"},
        {"progress": "", "seconds": "10"},
        {"seconds": "10"},
        {"progress": "0.5", "seconds": "-5"},
        {"progress": "0.5", "seconds": "ten"},
        {"progress": "0.5", "seconds": str(10**12)},
    ],
)
def test_a_bad_heartbeat_is_a_400_and_changes_nothing(viewer, profile, data):
    viewing = ViewingEventFactory(profile=profile, progress=0.25, seconds_watched=1500)

    response = viewer.post(heartbeat_url(viewing), data, headers=HTMX)

    assert response.status_code == 400
    assert "errorlist" in response.content.decode()
    viewing.refresh_from_db()
    assert (viewing.progress, viewing.seconds_watched, viewing.completed) == (
        0.25,
        1500,
        False,
    )


@pytest.mark.django_db
def test_a_bad_heartbeat_without_htmx_is_a_400_page(viewer, profile):
    viewing = ViewingEventFactory(profile=profile, progress=0.25)

    response = viewer.post(heartbeat_url(viewing), {"progress": "2"})

    assert response.status_code == 400
    assert "Nothing was changed." in response.content.decode()


@pytest.mark.django_db
def test_a_heartbeat_for_another_profiles_viewing_is_a_404(
    client, profile, other_profile
):
    viewing = ViewingEventFactory(profile=other_profile, progress=0.2)
    watch_as(client, profile)

    response = client.post(heartbeat_url(viewing), {"progress": "0.9"}, headers=HTMX)

    assert response.status_code == 404
    viewing.refresh_from_db()
    assert (viewing.progress, viewing.completed) == (0.2, False)


@pytest.mark.django_db
def test_a_heartbeat_for_the_same_accounts_other_profile_is_a_404(
    client, profile, kids_profile
):
    viewing = ViewingEventFactory(profile=profile, progress=0.2)
    watch_as(client, kids_profile)

    response = client.post(heartbeat_url(viewing), {"progress": "0.9"}, headers=HTMX)

    assert response.status_code == 404
    viewing.refresh_from_db()
    assert viewing.progress == 0.2


@pytest.mark.django_db
def test_a_heartbeat_must_be_a_post(viewer, profile):
    viewing = ViewingEventFactory(profile=profile)

    assert viewer.get(heartbeat_url(viewing)).status_code == 405


@pytest.mark.django_db
def test_a_heartbeat_past_90_percent_completes_and_says_so(viewer, profile):
    viewing = ViewingEventFactory(
        profile=profile, title=TitleFactory(title="Heat"), progress=0.5
    )

    response = viewer.post(
        heartbeat_url(viewing), {"progress": "0.91", "seconds": "4000"}, headers=HTMX
    )

    assert "“Heat” is marked as watched" in response.content.decode()
    viewing.refresh_from_db()
    assert (viewing.progress, viewing.completed) == (0.91, True)


@pytest.mark.django_db
def test_mark_as_watched_without_javascript_completes_and_returns_to_the_player(
    viewer, profile
):
    viewing = ViewingEventFactory(
        profile=profile,
        title=TitleFactory(runtime_minutes=100),
        progress=0.1,
        seconds_watched=600,
    )

    response = viewer.post(heartbeat_url(viewing), {"progress": "1"})

    assert response.status_code == 302
    assert response["Location"] == (f"{play_url(viewing.title)}?viewing={viewing.pk}")
    viewing.refresh_from_db()
    assert (viewing.progress, viewing.seconds_watched, viewing.completed) == (
        1.0,
        600 + 5400,
        True,
    )
    page = viewer.get(response["Location"]).content.decode()
    assert "is marked as watched" in page
    assert "Play again" in page


def play_again(page: str) -> str | None:
    """The player's "Play again" box: '' when shown, ' hidden' when waiting for
    the end of the title, None when there is none."""
    found = re.search(
        r'<div data-player-again( hidden)?>\s*<form class="play-form" method="post"'
        r' action="([^"]+)">.*?name="start" value="beginning">.*?Play again</button>',
        page,
        re.S,
    )
    if found is None:
        return None
    return found[1] or ""


@pytest.mark.django_db
def test_a_play_that_is_not_kept_offers_play_again_at_the_end(viewer, profile):
    PrivacySettingsFactory(profile=profile, pause_viewing_history=True)
    title = TitleFactory(title="Heat")

    page = viewer.get(play_url(title), {"unkept": "beginning"}).content.decode()
    again = viewer.post(play_url(title), {"start": "beginning"})

    assert play_again(page) == " hidden"  # player.js shows it at the end
    assert f'action="{play_url(title)}"' in page
    assert again["Location"] == f"{play_url(title)}?unkept=beginning"
    assert ViewingEvent.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(("completed", "shown"), [(False, " hidden"), (True, "")])
def test_a_kept_viewing_offers_play_again_once_watched(
    viewer, profile, completed, shown
):
    viewing = ViewingEventFactory(
        profile=profile, progress=1.0 if completed else 0.3, completed=completed
    )

    page = viewer.get(play_url(viewing.title), {"viewing": viewing.pk})

    assert play_again(page.content.decode()) == shown


@pytest.mark.django_db
def test_stop_at_half_without_javascript_records_50_percent(viewer, profile):
    viewing = ViewingEventFactory(profile=profile, progress=0.1)

    viewer.post(heartbeat_url(viewing), {"progress": "0.5"})

    viewing.refresh_from_db()
    assert (viewing.progress, viewing.completed) == (0.5, False)


@pytest.mark.django_db
def test_the_players_parting_beacon_gets_an_empty_answer(viewer, profile):
    viewing = ViewingEventFactory(profile=profile, progress=0.1)

    response = viewer.post(
        heartbeat_url(viewing) + "?beacon=1", {"progress": "0.2", "seconds": "60"}
    )

    assert (response.status_code, response.content) == (204, b"")
    viewing.refresh_from_db()
    assert viewing.progress == 0.2


@pytest.mark.django_db
def test_completing_through_the_player_enqueues_a_refresh(
    viewer, profile, django_capture_on_commit_callbacks
):
    viewing = ViewingEventFactory(profile=profile, progress=0.5)

    with django_capture_on_commit_callbacks() as callbacks:
        viewer.post(heartbeat_url(viewing), {"progress": "0.5"}, headers=HTMX)
    assert callbacks == []

    with django_capture_on_commit_callbacks() as callbacks:
        viewer.post(heartbeat_url(viewing), {"progress": "0.95"}, headers=HTMX)
    assert len(callbacks) == 1


@pytest.mark.django_db
def test_completing_through_the_player_refreshes_candidates(client, trained, on_commit):
    candidates = (
        ProfileCandidates.objects.filter(profile__is_kids=False)
        .select_related("profile")
        .first()
    )
    profile, top = candidates.profile, candidates.title_ids[0]
    watch_as(client, profile)
    title = Title.objects.get(pk=top)
    client.post(play_url(title), {"start": "beginning"})
    viewing = ViewingEvent.objects.get(profile=profile, title=title, progress=0)

    with on_commit():
        client.post(heartbeat_url(viewing), {"progress": "0.97"}, headers=HTMX)

    assert top not in ProfileCandidates.objects.get(profile=profile).title_ids


@pytest.mark.django_db
def test_player_page_reads_a_fixed_number_of_queries(
    viewer, profile, django_assert_num_queries
):
    title = TitleFactory()
    viewing = ViewingEventFactory(profile=profile, title=title)
    ViewingEventFactory.create_batch(3, profile=profile, title=title)

    # user, profile (the session is read from the cache), the title with the
    # profile's state, the viewing
    with django_assert_num_queries(4):
        viewer.get(play_url(title), {"viewing": viewing.pk})


@pytest.mark.django_db
def test_a_heartbeat_reads_and_writes_a_fixed_number_of_queries(
    viewer, profile, django_assert_num_queries
):
    viewing = ViewingEventFactory(profile=profile, progress=0.1)

    # user, profile (the session is read from the cache), the viewing; then in
    # a transaction: savepoint, the viewing locked, its update, the profile
    # touched (its cached rows are stale), release
    with django_assert_num_queries(8):
        viewer.post(heartbeat_url(viewing), {"progress": "0.2"}, headers=HTMX)
