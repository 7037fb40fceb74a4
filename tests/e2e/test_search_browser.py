"""The header's search suggestions in a real browser, driven by keyboard only."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import RatingFactory, TitleFactory

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_suggestions_forgive_a_typo_and_are_driven_from_the_keyboard(page):
    matrix = TitleFactory(title="The Matrix", year=1999)
    RatingFactory.create_batch(2, title=matrix)
    TitleFactory(title="Heat", year=1995)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    page.goto("/search/")
    box = page.get_by_role("combobox", name="Search titles")
    box.focus()
    page.keyboard.type("Matrrix")

    listbox = page.get_by_role("listbox", name="Suggestions")
    expect(listbox).to_be_visible()
    expect(page.get_by_text("No exact match. Closest titles:")).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    first = listbox.get_by_role("option", name=re.compile("The Matrix"))
    everything = listbox.get_by_role("option", name="All results for “Matrrix”")

    page.keyboard.press("ArrowDown")
    expect(box).to_have_attribute("aria-activedescendant", f"suggestion-{matrix.pk}")
    expect(first).to_have_attribute("aria-selected", "true")
    page.keyboard.press("ArrowDown")
    expect(box).to_have_attribute("aria-activedescendant", "suggestion-all")
    expect(everything).to_have_attribute("aria-selected", "true")
    expect(first).to_have_attribute("aria-selected", "false")
    page.keyboard.press("ArrowUp")
    expect(box).to_have_attribute("aria-activedescendant", f"suggestion-{matrix.pk}")
    expect(box).to_be_focused()

    page.keyboard.press("Escape")
    expect(listbox).to_have_count(0)
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(box).not_to_have_attribute("aria-activedescendant", re.compile(".*"))
    expect(box).to_have_value("Matrrix")

    page.keyboard.press("Backspace")  # "Matrri": still a typo, still found
    expect(listbox).to_be_visible()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{matrix.get_absolute_url()}")
    expect(page.get_by_role("heading", level=1)).to_have_text("The Matrix")
    assert errors == []


def test_results_page_offers_did_you_mean(page):
    TitleFactory(title="Titanic", year=1997)

    page.goto("/")
    box = page.get_by_role("combobox", name="Search titles")
    box.fill("Tiatnic")
    box.press("Enter")

    expect(page.get_by_text("No titles match “Tiatnic”. Did you mean")).to_be_visible()
    page.get_by_role("link", name="Titanic", exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Results for “Titanic”")
