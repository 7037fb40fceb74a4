"""The taste sliders in the privacy centre, in a real browser: moving one
saves it at once (htmx), the home page's Top picks follow, and "Reset to
what you do" puts them back. The sliders are labelled range inputs, moved
here with the keyboard."""

import re

import pytest
from playwright.sync_api import expect

from catalog.models import Genre, Title
from consent import policy
from privacy.models import ConsentEvent
from privacy.selectors import taste_of
from tests.e2e.test_keyboard_browser import PASSWORD, sign_in

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def viewer(demo_viewer):
    user = demo_viewer.user
    user.set_password(PASSWORD)
    user.save()
    return demo_viewer


def top_picks_ids(page) -> list[int]:
    page.goto("/")
    row = page.locator("section.home-row-top-picks")
    expect(row).to_be_visible()
    hrefs = row.locator("a.card-link").evaluate_all("els => els.map(e => e.href)")
    return [int(re.search(r"/titles/(\d+)/", h).group(1)) for h in hrefs]


def in_genre(ids: list[int], genre: Genre) -> int:
    return Title.objects.filter(pk__in=ids, genres=genre).count()


def test_moving_a_slider_changes_the_rows_and_reset_restores_them(page, viewer):
    sign_in(page, viewer)
    before = top_picks_ids(page)
    genres = [Genre.objects.get(slug=g.slug) for g in taste_of(viewer).genres][:6]
    genre = min(genres, key=lambda g: in_genre(before, g))

    page.goto("/privacy/")
    slider = page.get_by_role("slider", name=genre.name, exact=True)
    expect(slider).to_have_value("100")
    slider.focus()
    page.keyboard.press("ArrowRight")
    expect(page.locator(f"#taste-{genre.slug}-value")).to_contain_text("More")
    # The card is swapped in with its receipt; the keyboard is back on the
    # slider before the next step (else the key may land between the two).
    expect(page.get_by_role("slider", name=genre.name, exact=True)).to_be_focused()
    expect(page.locator("#taste-sliders").get_by_role("status")).to_contain_text(
        f"{genre.name}: more"
    )
    page.keyboard.press("ArrowRight")
    value = page.locator(f"#taste-{genre.slug}-value")
    expect(value).to_contain_text("Much more")
    expect(page.locator("#taste-sliders").get_by_role("status")).to_contain_text(
        f"{genre.name}: much more"
    )
    # The card was swapped in place; the keyboard is still on the slider.
    expect(page.get_by_role("slider", name=genre.name, exact=True)).to_be_focused()
    expect(page.locator("#account-summary")).to_contain_text(f"taste: {genre.name}")
    page.screenshot(path="/tmp/r3/taste-sliders.png", full_page=True)

    after = top_picks_ids(page)
    assert in_genre(after, genre) > in_genre(before, genre)
    settings = policy.settings_for(type(viewer).objects.get(pk=viewer.pk))
    assert policy.taste_levels(settings) == {genre.pk: 200}
    assert ConsentEvent.objects.filter(what=f"taste: {genre.name}").count() == 2

    page.goto("/privacy/")
    page.get_by_role("button", name="Reset to what you do").click()
    expect(page.locator("#taste-sliders").get_by_role("status")).to_contain_text(
        "follow what"
    )
    expect(page.get_by_role("slider", name=genre.name, exact=True)).to_have_value("100")
    assert top_picks_ids(page) == before
