""" "Why this?" on a home card floats over the page: opening it moves nothing.

Its reasons show over the rows below (the row keeps its height, the next row
stays where it was), inside the window at phone and desktop width, and it
closes on Escape (focus back on the card), on a click elsewhere and when the
page scrolls; only one is open at a time.
"""

import pytest
from playwright.sync_api import expect

from tests.e2e.test_keyboard_browser import sign_in
from tests.e2e.test_keyboard_browser import viewer as viewer  # the fixture

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def boxes(page) -> list[dict]:
    """Where each home row is on the page (document coordinates)."""
    return page.evaluate(
        """() => [...document.querySelectorAll(".home-row")].map((row) => {
            const r = row.getBoundingClientRect();
            return {top: Math.round(r.top + scrollY), height: Math.round(r.height)};
        })"""
    )


def test_why_this_opens_over_the_page_and_moves_nothing(page, viewer, viewport):
    page.set_viewport_size(viewport)
    sign_in(page, viewer)
    row = page.locator(".home-row").nth(1)
    card = row.locator(".row-items > li").nth(1)
    card.scroll_into_view_if_needed()
    before = boxes(page)

    card.locator(".why > summary").click()

    reasons = card.locator(".why-reasons")
    expect(reasons).to_be_visible()
    assert boxes(page) == before  # no row grew, nothing below moved
    panel = reasons.bounding_box()
    assert panel["height"] > 20
    assert panel["x"] >= 0 and panel["x"] + panel["width"] <= viewport["width"]
    assert panel["y"] >= 0 and panel["y"] + panel["height"] <= viewport["height"]
    # It is drawn above what it covers: the topmost element at its centre is it.
    on_top = page.evaluate(
        """([x, y]) => !!document.elementFromPoint(x, y).closest(".why-reasons")""",
        [panel["x"] + panel["width"] / 2, panel["y"] + panel["height"] / 2],
    )
    assert on_top

    page.keyboard.press("Escape")
    expect(reasons).to_be_hidden()
    expect(card.locator(".card-link")).to_be_focused()

    # A click elsewhere closes it; opening another closes the first.
    card.locator(".why > summary").click()
    expect(reasons).to_be_visible()
    page.locator("h1").click()
    expect(reasons).to_be_hidden()
    card.locator(".why > summary").click()
    other = row.locator(".row-items > li").nth(0)
    other.locator(".why > summary").click()
    expect(other.locator(".why-reasons")).to_be_visible()
    expect(reasons).to_be_hidden()

    # A scroll of the page closes it (it would be left behind).
    page.mouse.wheel(0, 300)
    expect(other.locator(".why-reasons")).to_be_hidden()
