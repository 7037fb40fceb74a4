"""The context a viewer declares on the home page: "Popular in <region>" (only
for a profile sharing its region, only from at least 20 profiles sharing the
same one) and today's weather picking a mood, with a reason line that says so."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from consent.context import REGIONS, Weather
from recommendations.engine.rerank import MOODS
from recommendations.home.context import WEATHER_MOODS, weather_now
from recommendations.home.page import home_page, page_builder
from recommendations.services.regions import MIN_PROFILES, region_chart
from tests.activity.conftest import watch_as
from tests.factories import (
    GenreFactory,
    PrivacySettingsFactory,
    ProfileFactory,
    RatingFactory,
    TitleFactory,
)

PACIFIC = REGIONS["us-9"]


def sharing(region: str = PACIFIC.code, *, location: bool = True, **profile):
    """A profile that declared ``region`` (shared only with ``location`` on)."""
    settings = PrivacySettingsFactory(
        profile=ProfileFactory(**profile), location=location, region=region
    )
    return settings.profile


def fans(count: int, titles, *, region: str = PACIFIC.code, **kwargs) -> list:
    """``count`` profiles of ``region`` who each rated every title 4.5."""
    made = []
    for _ in range(count):
        profile = sharing(region, **kwargs)
        for title in titles:
            RatingFactory(profile=profile, title=title, value=4.5)
        made.append(profile)
    return made


@pytest.fixture
def titles(db):
    return [TitleFactory(title=f"Local favourite {n}") for n in range(6)]


def region_row(profile):
    """The profile's "Popular in …" row as drafted (before de-duplication
    with the page's other rows), or None."""
    return page_builder(profile=profile)[0].popular_in_region()


def region_titles(profile) -> set[int]:
    return set(region_row(profile).ids)


# --- "Popular in <region>" ---------------------------------------------------------


def test_the_region_row_shows_what_twenty_profiles_of_the_region_liked(titles):
    fans(MIN_PROFILES, titles)
    viewer = sharing(name="Ada")

    row = region_row(viewer)

    assert MIN_PROFILES == 20
    assert row.name == "Popular in the Pacific Coast (US)"
    assert set(row.ids) == {t.pk for t in titles}
    assert set(row.why.values()) == {"Liked in the Pacific Coast (US)"}
    shown = {r.key: r for r in home_page(profile=viewer).rows}["region"]
    assert [t.pk for t in shown.titles] == row.ids


def test_nineteen_profiles_are_not_enough_for_a_region_row(titles):
    fans(MIN_PROFILES - 1, titles)
    viewer = sharing(name="Ada")  # shares the region but liked nothing

    assert region_chart(region=PACIFIC.code).profiles == MIN_PROFILES - 1
    assert region_chart(region=PACIFIC.code).titles == []
    assert region_row(viewer) is None


def test_a_profile_with_location_off_is_never_counted(titles):
    fans(MIN_PROFILES - 1, titles)
    fans(5, titles, location=False)  # same region declared, but not shared
    viewer = sharing(name="Ada")

    assert region_chart(region=PACIFIC.code).profiles == MIN_PROFILES - 1
    assert region_row(viewer) is None


def test_a_profile_with_location_off_is_not_shown_the_row(titles):
    fans(MIN_PROFILES, titles)
    declared_not_shared = sharing(location=False, name="Ada")

    assert region_row(declared_not_shared) is None
    assert region_row(sharing(name="Bea")) is not None


def test_kids_profiles_are_not_counted_and_see_only_kids_titles(titles):
    children = GenreFactory(name="Children")
    cartoon = TitleFactory(title="Cartoon", genres=[children])
    fans(MIN_PROFILES - 1, titles, is_kids=True)
    assert region_chart(region=PACIFIC.code).profiles == 0

    fans(MIN_PROFILES, [*titles, cartoon])
    kid = sharing(name="Kid", is_kids=True)
    chart = region_chart(region=PACIFIC.code)

    assert chart.profiles == MIN_PROFILES
    assert cartoon.pk in {t for t, _ in chart.titles}
    assert region_titles(kid) == {cartoon.pk}
    assert region_titles(sharing()) == {cartoon.pk, *(t.pk for t in titles)}


def test_a_title_liked_by_fewer_than_three_profiles_stays_out(titles):
    fans(MIN_PROFILES, titles[:5])
    rare = TitleFactory(title="One person's taste")
    fans(2, [rare])

    chart = region_chart(region=PACIFIC.code)

    assert chart.profiles == MIN_PROFILES + 2
    assert rare.pk not in {t for t, _ in chart.titles}


def test_other_regions_do_not_count(titles):
    fans(MIN_PROFILES, titles, region="gb")

    assert region_row(sharing(name="Ada")) is None
    assert region_row(sharing("gb", name="Bea")).name == (
        "Popular in the United Kingdom"
    )


def test_the_home_page_shows_the_region_row(client, titles):
    fans(MIN_PROFILES, titles)
    viewer = watch_as(client, sharing(name="Ada"))

    page = viewer.get(reverse("recommendations:home")).content.decode()

    assert "Popular in the Pacific Coast (US)" in page
    assert "Local favourite 0" in page


# --- today's weather -------------------------------------------------------------------


def weather_profile(*, weather=True, declared=Weather.RAINY, on=None, **kwargs):
    settings = PrivacySettingsFactory(
        profile=ProfileFactory(name="Ada"),
        weather=weather,
        weather_today=declared,
        weather_declared_on=on or timezone.localdate(),
        **kwargs,
    )
    return settings.profile


def test_every_weather_maps_to_a_mood_that_exists():
    assert set(WEATHER_MOODS) == {
        Weather.SUNNY,
        Weather.CLOUDY,
        Weather.RAINY,
        Weather.SNOWY,
        Weather.STORMY,
    }
    assert {mood for mood, _ in WEATHER_MOODS.values()} <= set(MOODS)
    assert WEATHER_MOODS[Weather.RAINY] == (
        "feel-good",
        "It’s raining where you are: cosy picks",
    )


def test_declared_rain_picks_cosy_picks(db):
    now = weather_now(weather_profile())

    assert now.kind == Weather.RAINY
    assert now.mood == "feel-good"
    assert now.looked_up is False


def test_weather_declared_yesterday_is_ignored(db):
    yesterday = timezone.localdate() - timedelta(days=1)

    assert weather_now(weather_profile(on=yesterday)) is None


def test_weather_off_ignores_a_declared_weather(db):
    assert weather_now(weather_profile(weather=False)) is None


def test_the_home_page_says_why_its_moody(client, db):
    viewer = watch_as(client, weather_profile())

    page = viewer.get(reverse("recommendations:home")).content.decode()

    assert "It’s raining where you are: cosy picks" in page
    assert 'aria-current="true">Feel-good</a>' in page


def test_a_mood_chip_wins_over_the_weather(client, db):
    viewer = watch_as(client, weather_profile())

    page = viewer.get(reverse("recommendations:home"), {"mood": "thrilling"})

    assert "where you are" not in page.content.decode()
    assert 'aria-current="true">Thrilling</a>' in page.content.decode()


def test_without_context_the_home_page_says_nothing_of_weather(client, db):
    viewer = watch_as(client, ProfileFactory(name="Ada"))

    page = viewer.get(reverse("recommendations:home")).content.decode()

    assert "where you are" not in page
    assert "Popular in the" not in page
