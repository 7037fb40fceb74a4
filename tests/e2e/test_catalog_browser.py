"""A visitor and a curator in a real browser."""

import pytest
from playwright.sync_api import expect

from accounts.models import User
from tests.factories import GenreFactory, RatingFactory, TitleFactory

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_visitor_sees_the_catalog_rows_at_phone_and_desktop_width(page, viewport):
    drama = GenreFactory(name="Drama")
    heat = TitleFactory(title="Heat", year=1995, genres=[drama])
    RatingFactory.create_batch(2, title=heat, value=4.5)
    page.set_viewport_size(viewport)

    page.goto("/")

    # A visitor gets the rows everyone gets; a title shows once on the first screen.
    trending = page.get_by_role("region", name="Trending now")
    expect(trending.get_by_role("link", name="Heat")).to_be_visible()
    expect(page.get_by_role("link", name="Heat")).to_have_count(1)
    # Nothing overflows the page sideways: rows scroll inside themselves.
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]


def test_curator_logs_in_to_the_admin_and_finds_a_title(page):
    User.objects.create_superuser(
        email="curator@example.com", password="a-long-pass-phrase"
    )
    TitleFactory(title="The Matrix", year=1999)

    page.goto("/admin/")
    page.get_by_label("E-mail address").fill("curator@example.com")
    page.get_by_label("Password").fill("a-long-pass-phrase")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Titles").click()
    page.locator("#searchbar").fill("matrix")
    page.keyboard.press("Enter")
    page.wait_for_url("**?q=matrix")

    expect(page.get_by_role("link", name="The Matrix")).to_be_visible()
