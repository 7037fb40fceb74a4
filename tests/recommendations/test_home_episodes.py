"""Continue watching on the home page resumes a series at the right episode."""

import re
from datetime import datetime, timedelta

import pytest
from django.db.models import Count
from django.urls import reverse

from activity.models import ViewingEvent
from catalog.models import Episode, Season
from tests.conftest import DEMO_END
from tests.recommendations.test_home_views import get_home, home_rows, watching

pytestmark = pytest.mark.django_db


def continue_row(page: str) -> str:
    return re.search(
        r'<section class="row home-row home-row-continue".*?</section>', page, re.S
    )[0]


@pytest.fixture
def series(demo_viewer):
    """A demo series the viewer has not rated, with a second season of 4+."""
    season = (
        Season.objects.filter(number=2, title__is_available=True)
        .exclude(title__ratings__profile=demo_viewer)
        .annotate(n=Count("episodes"))
        .filter(n__gte=4)
        .select_related("title")
        .order_by("title_id")
        .first()
    )
    assert season is not None, "the demo catalog has a series of two seasons"
    return season.title


def play(profile, series, season, number, *, progress, minutes_later):
    episode = Episode.objects.get(
        season__title=series, season__number=season, number=number
    )
    at = datetime.fromisoformat(DEMO_END) + timedelta(minutes=minutes_later)
    ViewingEvent.objects.create(
        profile=profile,
        title=series,
        episode=episode,
        started_at=at,
        updated_at=at,
        progress=progress,
        completed=progress >= ViewingEvent.COMPLETED_AT,
    )


def test_continue_watching_shows_the_next_episode_of_a_series(
    client, demo_viewer, series
):
    play(demo_viewer, series, 2, 3, progress=1.0, minutes_later=5)
    watching(client, demo_viewer)

    page = get_home(client).content.decode()

    assert series.title in home_rows(page)["Continue watching"]
    card = re.search(
        rf'href="{series.get_absolute_url()}\?row=continue".*?</a>',
        continue_row(page),
        re.S,
    )[0]
    assert '<span class="card-meta">S2:E4</span>' in card


def test_continue_watching_shows_a_partly_watched_episode_and_its_progress(
    client, demo_viewer, series
):
    play(demo_viewer, series, 2, 4, progress=0.4, minutes_later=5)
    watching(client, demo_viewer)

    row = continue_row(get_home(client).content.decode())

    card = re.search(
        rf'href="{series.get_absolute_url()}\?row=continue".*?</progress>', row, re.S
    )[0]
    assert '<span class="card-meta">S2:E4</span>' in card
    assert 'value="40"' in card


def test_a_series_finished_to_its_last_episode_is_not_on_continue_watching(
    client, demo_viewer, series
):
    last = Episode.objects.filter(season__title=series).order_by(
        "-season__number", "-number"
    )[0]
    play(
        demo_viewer,
        series,
        last.season.number,
        last.number,
        progress=1.0,
        minutes_later=5,
    )
    watching(client, demo_viewer)

    rows = home_rows(get_home(client).content.decode())

    assert series.title not in rows.get("Continue watching", [])


def test_the_cards_title_page_plays_the_episode_the_card_shows(
    client, demo_viewer, series
):
    play(demo_viewer, series, 2, 3, progress=1.0, minutes_later=5)
    watching(client, demo_viewer)

    client.post(reverse("activity:play", args=[series.pk]), {"start": "resume"})

    assert ViewingEvent.objects.latest("id").episode.code == "S2:E4"
