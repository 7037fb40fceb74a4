"""Series are watched episode by episode: what Play plays next, the player,
the title page's panel and Continue watching ("S2:E4")."""

import re

import pytest
from django.urls import reverse

from activity import selectors, services
from activity.models import Rating, ViewingEvent
from catalog.models import Episode
from tests.activity.conftest import HTMX
from tests.factories import (
    EpisodeFactory,
    SeasonFactory,
    TitleFactory,
    ViewingEventFactory,
    series_with,
)

pytestmark = pytest.mark.django_db


def episode(series, season: int, number: int) -> Episode:
    return Episode.objects.select_related("season").get(
        season__title=series, season__number=season, number=number
    )


def watched(profile, series, season: int, number: int, progress=1.0, **fields):
    """A viewing of one episode (finished unless told how far it got)."""
    return ViewingEventFactory(
        profile=profile,
        title=series,
        episode=episode(series, season, number),
        progress=progress,
        completed=progress >= ViewingEvent.COMPLETED_AT,
        **fields,
    )


def codes(up_next) -> tuple[str, float]:
    return up_next.episode.code, up_next.progress


# --- which episode comes next ----------------------------------------------------


def test_a_series_never_played_starts_at_its_first_episode(profile):
    series = series_with(3, 4)

    assert codes(selectors.up_next(profile, series)) == ("S1:E1", 0.0)


def test_after_finishing_an_episode_the_next_one_plays(profile):
    series = series_with(5, 4)
    watched(profile, series, 1, 3)

    assert codes(selectors.up_next(profile, series)) == ("S1:E4", 0.0)


def test_after_a_seasons_last_episode_the_next_seasons_first_plays(profile):
    series = series_with(3, 4)
    watched(profile, series, 1, 2)
    watched(profile, series, 1, 3)

    assert codes(selectors.up_next(profile, series)) == ("S2:E1", 0.0)


def test_a_partly_watched_episode_resumes_where_it_stopped(profile):
    series = series_with(3, 6)
    watched(profile, series, 1, 3)
    watched(profile, series, 2, 4, progress=0.4)

    assert codes(selectors.up_next(profile, series)) == ("S2:E4", 0.4)


def test_after_the_very_last_episode_the_series_starts_over(profile):
    series = series_with(2, 2)
    watched(profile, series, 2, 2)

    assert codes(selectors.up_next(profile, series)) == ("S1:E1", 0.0)


def test_the_latest_play_decides_even_when_it_went_back_to_an_earlier_episode(
    profile,
):
    series = series_with(4)
    watched(profile, series, 1, 4, started_at="2025-01-02T00:00Z")
    watched(profile, series, 1, 1, progress=0.2, started_at="2025-01-03T00:00Z")

    assert codes(selectors.up_next(profile, series)) == ("S1:E1", 0.2)


def test_seasons_play_in_number_order_whatever_order_they_were_added(profile):
    series = TitleFactory(kind="series")
    second = SeasonFactory(title=series, number=2)
    first = SeasonFactory(title=series, number=1)
    EpisodeFactory(season=second, number=1)
    EpisodeFactory(season=first, number=2)
    EpisodeFactory(season=first, number=1)
    watched(profile, series, 1, 2)

    assert codes(selectors.up_next(profile, series)) == ("S2:E1", 0.0)


def test_a_film_and_a_series_without_episodes_have_no_next_episode(profile):
    assert selectors.up_next(profile, TitleFactory()) is None
    assert selectors.up_next(profile, TitleFactory(kind="series")) is None


def test_another_profiles_plays_do_not_move_this_profiles_place(profile, other_profile):
    series = series_with(4)
    watched(other_profile, series, 1, 3)

    assert codes(selectors.up_next(profile, series)) == ("S1:E1", 0.0)


# --- starting a play -------------------------------------------------------------


def test_starting_a_series_records_a_viewing_of_the_next_episode(profile):
    series = series_with(3, 4)
    watched(profile, series, 1, 3)

    viewing = services.viewing_start(profile=profile, title=series)

    viewing.refresh_from_db()
    assert (viewing.title_id, viewing.episode.code) == (series.pk, "S2:E1")
    assert viewing.progress == 0.0


def test_starting_a_chosen_episode_resumes_that_episode(profile):
    series = series_with(3)
    watched(profile, series, 1, 2, progress=0.5)
    watched(profile, series, 1, 3, progress=0.1)

    viewing = services.viewing_start(
        profile=profile, title=series, episode=episode(series, 1, 2)
    )

    assert (viewing.episode.code, viewing.progress) == ("S1:E2", 0.5)


def test_an_episode_of_another_series_is_refused(profile):
    series, other = series_with(2), series_with(2)

    with pytest.raises(ValueError):
        services.viewing_start(
            profile=profile, title=series, episode=episode(other, 1, 1)
        )
    assert not ViewingEvent.objects.exists()


def test_an_episode_plays_for_its_own_runtime(profile):
    series = series_with(1)
    ep = episode(series, 1, 1)
    ep.runtime_minutes = 30
    ep.save()
    viewing = services.viewing_start(profile=profile, title=series)

    viewing = services.viewing_heartbeat(viewing=viewing, progress=0.5)

    # half of a 30-minute episode, not of the series' typical 45 minutes
    assert viewing.seconds_watched == 15 * 60


def test_ratings_stay_on_the_series_while_plays_are_per_episode(profile):
    series = series_with(2)
    watched(profile, series, 1, 1)

    rating, _ = services.rating_upsert(profile=profile, title=series, value=4.5)

    assert (rating.title_id, Rating.objects.filter(profile=profile).count()) == (
        series.pk,
        1,
    )
    assert not hasattr(Rating, "episode")


# --- the pages -------------------------------------------------------------------


def play_url(title) -> str:
    return reverse("activity:play", args=[title.pk])


def test_play_on_the_title_page_starts_the_next_episode(viewer, profile):
    series = series_with(3, 5)
    watched(profile, series, 2, 3)

    response = viewer.post(play_url(series), {"start": "resume"})

    viewing = ViewingEvent.objects.latest("id")
    assert viewing.episode.code == "S2:E4"
    assert response["Location"] == f"{play_url(series)}?viewing={viewing.pk}"
    page = viewer.get(response["Location"]).content.decode()
    assert "S2:E4" in page
    assert "S2 episode 4" in page


def test_play_of_a_chosen_episode_plays_it(viewer, profile):
    series = series_with(3)
    chosen = episode(series, 1, 3)

    viewer.post(play_url(series), {"start": "resume", "episode": chosen.pk})

    assert ViewingEvent.objects.get(profile=profile).episode == chosen


def test_play_of_another_series_episode_is_a_404_and_stores_nothing(viewer):
    series, other = series_with(2), series_with(2)

    response = viewer.post(
        play_url(series), {"start": "resume", "episode": episode(other, 1, 1).pk}
    )

    assert response.status_code == 404
    assert not ViewingEvent.objects.exists()


def test_the_title_panel_offers_to_resume_the_right_episode(viewer, profile):
    series = series_with(3, 6)
    watched(profile, series, 2, 4, progress=0.4)

    page = viewer.get(
        reverse("activity:title_actions", args=[series.pk]), headers=HTMX
    ).content.decode()

    button = re.search(r'value="resume">.*?</button>', page, re.S)[0]
    assert "Resume S2:E4" in button
    assert "from 40%" in button
    assert f'name="episode" value="{episode(series, 2, 4).pk}"' in page


def test_the_title_panel_of_a_film_has_no_episode(viewer):
    film = TitleFactory(runtime_minutes=100)

    page = viewer.get(
        reverse("activity:title_actions", args=[film.pk]), headers=HTMX
    ).content.decode()

    assert 'name="episode"' not in page
    assert re.search(r"</svg>\s*Play</button>", page)


def test_a_finished_episode_offers_the_next_episode(viewer, profile):
    series = series_with(2, 2)
    viewing = watched(profile, series, 1, 2)

    page = viewer.get(play_url(series), {"viewing": viewing.pk}).content.decode()

    form = re.search(r"<form[^>]*>(?:(?!</form>).)*Next episode.*?</form>", page, re.S)
    assert form is not None
    assert f'name="episode" value="{episode(series, 2, 1).pk}"' in form[0]
    assert "S2:E1" in form[0]


# --- Continue watching -----------------------------------------------------------


def test_continue_watching_shows_the_episode_a_series_resumes_at(viewer, profile):
    series = series_with(3, 6)
    watched(profile, series, 2, 3)
    film = TitleFactory(title="A film", runtime_minutes=100)
    ViewingEventFactory(profile=profile, title=film, progress=0.5)

    page = viewer.get(reverse("activity:continue_watching")).content.decode()

    assert [v.up_next_code for v in selectors.continue_watching(profile)] == [
        "",
        "S2:E4",
    ]
    assert '<span class="episode-code">S2:E4</span> next episode' in page
    assert "50% watched" in page


def test_continue_watching_shows_a_partly_watched_episode(viewer, profile):
    series = series_with(3, 6)
    watched(profile, series, 2, 4, progress=0.25)

    page = viewer.get(reverse("activity:continue_watching")).content.decode()

    assert '<span class="episode-code">S2:E4</span> 25% watched' in page


def test_a_series_watched_to_its_last_episode_leaves_continue_watching(profile):
    series = series_with(2, 2)
    watched(profile, series, 1, 2)
    assert list(selectors.continue_watching(profile).values_list("title", flat=True))
    watched(profile, series, 2, 2)

    assert not selectors.continue_watching(profile).exists()


def test_resume_on_continue_watching_plays_the_next_episode(viewer, profile):
    series = series_with(3, 6)
    watched(profile, series, 2, 3)

    viewer.post(play_url(series), {"start": "resume"})

    assert ViewingEvent.objects.latest("id").episode.code == "S2:E4"


def test_the_history_lists_each_episode_played(viewer, profile):
    series = series_with(3)
    watched(profile, series, 1, 1)
    watched(profile, series, 1, 2, progress=0.3)

    page = viewer.get(reverse("activity:history")).content.decode()

    assert '<span class="episode-code">S1:E1</span>S1 episode 1' in page
    assert '<span class="episode-code">S1:E2</span>S1 episode 2' in page
