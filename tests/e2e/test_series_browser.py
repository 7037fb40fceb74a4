"""A series in a real browser: its title page lists seasons and episodes, Play
plays the next episode, and the player offers the one after."""

import re

import pytest
from playwright.sync_api import expect

from activity.models import ViewingEvent
from catalog.models import Episode
from tests.e2e.test_csp_browser import session_cookie
from tests.factories import ProfileFactory, series_with

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_a_series_plays_episode_by_episode(page, live_server, viewport):
    series = series_with(3, 5, title="Harbour Lights", year=2010, end_year=2015)
    profile = ProfileFactory(name="Ada")
    for episode in Episode.objects.filter(season__title=series).order_by(
        "season__number", "number"
    )[:6]:  # the first season, and S2:E1 to S2:E3
        ViewingEvent.objects.create(
            profile=profile, title=series, episode=episode, progress=1.0, completed=True
        )
    page.set_viewport_size(viewport)
    page.context.add_cookies([session_cookie(live_server, profile.user, profile)])

    page.goto(series.get_absolute_url())

    expect(page.get_by_text("2010–2015")).to_be_visible()
    expect(page.get_by_text("2 seasons")).to_be_visible()
    expect(page.get_by_role("button", name="Play S2:E4", exact=True)).to_be_visible()
    episodes = page.get_by_role("region", name="Episodes")
    expect(episodes.get_by_text("Season 1 · 3 episodes")).to_be_visible()
    expect(episodes.get_by_role("heading", name="S1:E1 S1 episode 1")).to_be_hidden()
    up_next = episodes.locator(".episode-up-next")
    expect(up_next.get_by_role("heading")).to_have_text("S2:E4 S2 episode 4")
    expect(up_next.get_by_text("Up next for you")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]

    page.get_by_role("button", name="Play S2:E4", exact=True).click()

    expect(page).to_have_url(re.compile(r"/play/\?viewing=\d+$"))
    expect(page.locator(".player-episode")).to_have_text("S2:E4 S2 episode 4")
    next_episode = page.get_by_role("button", name=re.compile("Next episode"))
    for _ in range(20):  # the simulated player runs a minute a second; skip ahead
        if next_episode.is_visible():
            break
        skip = page.get_by_role("button", name="Skip ahead 10 min")
        if skip.is_enabled():
            skip.click()
        page.wait_for_timeout(250)
    expect(next_episode).to_contain_text("S2:E5")
    next_episode.click()

    expect(page.locator(".player-episode")).to_have_text("S2:E5 S2 episode 5")
    played = ViewingEvent.objects.filter(profile=profile).order_by("id")
    assert [(v.episode.code, v.completed) for v in played][-2:] == [
        ("S2:E4", True),
        ("S2:E5", False),
    ]
