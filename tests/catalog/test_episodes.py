"""Series have seasons and episodes: the demo catalog makes them, the title
page lists them."""

import re
from collections import Counter
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from activity.models import ViewingEvent
from catalog.demo import YEARS, generate_demo_catalog
from catalog.demo_episodes import EPISODES, MAX_SEASONS, SHORT_EPISODES, demo_seasons
from catalog.models import Episode, Season, Title
from catalog.services import demo_catalog_seed
from tests.activity.conftest import watch_as
from tests.factories import ProfileFactory, TitleFactory, series_with

UNTIL = datetime(2026, 1, 1, tzinfo=UTC)


# --- the demo catalog (no database) ----------------------------------------------


def test_every_demo_series_has_seasons_of_numbered_episodes_and_films_none():
    catalog = generate_demo_catalog(seed=3, titles=600, viewers=5, until=UNTIL)

    seasons = demo_seasons(catalog.titles, seed=3)

    series = {i for i, t in enumerate(catalog.titles) if t.kind == "series"}
    assert series and set(seasons) == series
    for index, of_series in seasons.items():
        title = catalog.titles[index]
        ran = (title.end_year or YEARS[1]) - title.year + 1
        assert 1 <= len(of_series) <= min(ran, MAX_SEASONS)
        assert [s.number for s in of_series] == list(range(1, len(of_series) + 1))
        for season in of_series:
            low = min(EPISODES[0], SHORT_EPISODES[0])
            high = max(EPISODES[1], SHORT_EPISODES[1])
            assert low <= len(season.episodes) <= high
            assert [e.number for e in season.episodes] == list(
                range(1, len(season.episodes) + 1)
            )
            assert all(
                abs(e.runtime_minutes - title.runtime_minutes) <= 4
                for e in season.episodes
            )


def test_demo_episode_titles_and_synopses_do_not_repeat():
    catalog = generate_demo_catalog(seed=3, titles=600, viewers=5, until=UNTIL)

    seasons = demo_seasons(catalog.titles, seed=3)

    synopses = Counter()
    for of_series in seasons.values():
        names = [e.title for s in of_series for e in s.episodes]
        assert len(set(names)) == len(names)
        synopses.update(e.synopsis for s in of_series for e in s.episodes)
    assert synopses.most_common(1)[0][1] == 1


def test_the_same_seed_makes_the_same_episodes():
    catalog = generate_demo_catalog(seed=5, titles=200, viewers=5, until=UNTIL)

    assert demo_seasons(catalog.titles, seed=5) == demo_seasons(catalog.titles, seed=5)
    assert demo_seasons(catalog.titles, seed=5) != demo_seasons(catalog.titles, seed=6)


@pytest.mark.django_db
def test_seeding_the_demo_stores_episodes_for_series_only_and_reseeding_replaces_them():
    demo_catalog_seed(seed=7, titles=150, viewers=5, until=UNTIL)
    first = Episode.objects.count()
    demo_catalog_seed(seed=7, titles=150, viewers=5, until=UNTIL)

    series = Title.objects.filter(kind=Title.Kind.SERIES)
    assert first > 0 and Episode.objects.count() == first
    assert set(Season.objects.values_list("title", flat=True)) == set(
        series.values_list("id", flat=True)
    )
    assert not Season.objects.filter(title__kind=Title.Kind.MOVIE).exists()


# --- the title page --------------------------------------------------------------


@pytest.mark.django_db
def test_the_title_page_of_a_series_lists_its_seasons_and_episodes(client):
    series = series_with(3, 2, title="Harbour Lights", year=2010, end_year=2015)
    profile = ProfileFactory()
    watch_as(client, profile)

    page = client.get(series.get_absolute_url()).content.decode()

    assert re.findall(r'<summary class="season-summary">(.*?) <span', page) == [
        "Season 1",
        "Season 2",
    ]
    titles = re.findall(r'<h3 class="episode-title">(.*?)</h3>', page)
    assert [re.sub(r"<[^>]+>", "", t) for t in titles] == [
        "S1:E1 S1 episode 1",
        "S1:E2 S1 episode 2",
        "S1:E3 S1 episode 3",
        "S2:E1 S2 episode 1",
        "S2:E2 S2 episode 2",
    ]
    assert "What happens in S2:E2." in page
    assert "2 seasons" in page
    assert "45 min</li>" not in page  # the series' typical runtime is not its length
    play = reverse("activity:play", args=[series.pk])
    episode_ids = re.findall(
        rf'action="{play}">\s*<input type="hidden" name="csrfmiddlewaretoken"[^>]*>'
        r'\s*<input type="hidden" name="episode" value="(\d+)">',
        page,
    )
    assert [int(i) for i in episode_ids] == list(
        Episode.objects.filter(season__title=series)
        .order_by("season__number", "number")
        .values_list("id", flat=True)
    )


@pytest.mark.django_db
def test_a_visitor_without_a_profile_sees_the_episodes_but_no_play_buttons(client):
    series = series_with(2)

    page = client.get(series.get_absolute_url()).content.decode()

    assert page.count('class="episode"') == 2
    assert 'name="episode"' not in page


@pytest.mark.django_db
def test_a_film_page_has_no_episodes(client):
    film = TitleFactory(runtime_minutes=136)

    page = client.get(film.get_absolute_url()).content.decode()

    assert "Episodes" not in page
    assert "2 h 16 min" in page


@pytest.mark.django_db
def test_the_title_page_reads_the_episodes_in_two_queries(
    client, django_assert_num_queries
):
    small, large = series_with(1), series_with(4, 6, 8)
    client.get(small.get_absolute_url())  # facts cached
    client.get(large.get_absolute_url())

    with django_assert_num_queries(3) as small_queries:
        client.get(small.get_absolute_url())
    with django_assert_num_queries(len(small_queries)):
        client.get(large.get_absolute_url())


@pytest.mark.django_db
def test_the_title_page_opens_the_season_of_the_episode_up_next(client):
    series = series_with(3, 5)
    profile = ProfileFactory()
    finished = Episode.objects.get(season__title=series, season__number=2, number=3)
    ViewingEvent.objects.create(
        profile=profile, title=series, episode=finished, progress=1.0, completed=True
    )
    watch_as(client, profile)

    page = client.get(series.get_absolute_url()).content.decode()

    opened = re.findall(r'<details class="season" open>\s*<summary[^>]*>(.*?) <', page)
    assert opened == ["Season 2"]
    up_next = re.search(r'<li class="episode episode-up-next".*?</li>', page, re.S)[0]
    assert "S2 episode 4" in up_next
    assert "Up next for you" in up_next
    assert page.count("Up next for you") == 1


@pytest.mark.django_db
def test_curators_see_a_series_seasons_and_edit_their_episodes_in_the_admin(
    admin_client,
):
    series = series_with(2, 3, title="Harbour Lights")
    season = Season.objects.get(title=series, number=2)

    title_page = admin_client.get(
        reverse("admin:catalog_title_change", args=[series.pk])
    ).content.decode()
    season_page = admin_client.get(
        reverse("admin:catalog_season_change", args=[season.pk])
    ).content.decode()

    assert reverse("admin:catalog_season_change", args=[season.pk]) in title_page
    assert season_page.count('name="episodes-') >= 3 * 4
    assert "S2 episode 3" in season_page
