"""The home's layout on a phone (390×844) and a wide screen: content first,
every header link reachable, posters that hold their place while they load.

A trained demo catalog and a viewer with ratings and a title in progress, so
the home has the genre "bubble meter" and a full set of rows.
"""

import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.test_csp_browser import session_cookie

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def screenshot(page, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=path, caret="initial")
    shutil.copyfile(path, f"/tmp/layout-{name}.png")


@pytest.fixture
def home(page, live_server, demo_viewer):
    page.context.add_cookies(
        [session_cookie(live_server, demo_viewer.user, demo_viewer)]
    )
    return page


def test_on_a_phone_the_first_row_leads_and_the_meter_is_below_the_rows(
    home, viewport, tmp_path
):
    home.set_viewport_size(viewport)
    home.goto("/")
    first_poster = home.locator("main .home-row .card-poster").first
    expect(first_poster).to_be_visible()

    box = first_poster.bounding_box()
    # Content first: the first row's first poster is whole in the first screen,
    # starting in its upper half (it started 492 px down, under the meter).
    assert box["y"] < viewport["height"] / 2, box
    assert box["y"] + box["height"] <= viewport["height"], box
    screenshot(home, tmp_path, f"home-{viewport['width']}")

    # The meter is still there, after the last row, and its link leads on.
    meter = home.get_by_role("region", name=re.compile(r"^Your rows: "))
    last_row = home.locator("main .home-row").last
    assert meter.bounding_box()["y"] > last_row.bounding_box()["y"]
    meter.scroll_into_view_if_needed()
    expect(meter.get_by_role("link", name="Explore beyond your usual")).to_be_visible()
    assert home.evaluate("document.documentElement.scrollWidth") <= viewport["width"]


def test_the_privacy_link_is_in_the_header_on_a_phone(home):
    home.set_viewport_size(PHONE)
    home.goto("/")

    link = home.get_by_role("banner").get_by_role("link", name="Privacy")
    expect(link).to_be_visible()
    box = link.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    assert box["width"] >= 24 and box["height"] >= 24, box  # a target to tap
    link.click()
    expect(home).to_have_url(re.compile(r"/privacy/$"))


def test_posters_hold_their_box_and_show_initials_until_they_load(home, tmp_path):
    home.set_viewport_size(PHONE)
    # First paint without a single poster: the boxes are there already.
    home.route(re.compile(r"/titles/\d+/poster\.svg"), lambda route: route.abort())
    home.goto("/")
    card = home.locator("main .home-row .home-card").first
    box = card.locator(".poster-box")
    expect(card.locator(".poster-initials")).to_be_visible()
    initials = card.locator(".poster-initials").inner_text()
    assert re.fullmatch(r"[A-Z0-9]{1,2}", initials), initials
    blank = box.bounding_box()
    assert blank["height"] == pytest.approx(blank["width"] * 1.5, abs=1), blank
    title_y = card.locator(".card-title").bounding_box()["y"]
    screenshot(home, tmp_path, "posters-loading-390")

    # With the posters: nothing below them moved.
    home.unroute(re.compile(r"/titles/\d+/poster\.svg"))
    home.reload()
    poster = card.locator(".card-poster")
    expect(poster).to_be_visible()
    home.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=poster.element_handle()
    )
    assert box.bounding_box() == pytest.approx(blank, abs=0.5)
    assert card.locator(".card-title").bounding_box()["y"] == pytest.approx(
        title_y, abs=0.5
    )
