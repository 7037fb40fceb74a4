"""A title nobody has watched yet, in a real browser: after training, the
viewer whose taste it fits sees it among their Top picks or a "Because you…"
row, its card flagged "New" in words a screen reader says too."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from recommendations.services import training
from tests.e2e.test_keyboard_browser import sign_in
from tests.recommendations.test_cold_titles import (
    NEW_TITLE,
    curator_adds_title,
    favourite_genres,
)

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

PASSWORD = "arrow-keys-all-evening"  # sign_in's


def test_a_new_title_card_says_new(page, client, demo_viewer, on_commit, tmp_path):
    fan = demo_viewer
    fan.user.set_password(PASSWORD)
    fan.user.save()
    curator_adds_title(client, favourite_genres(fan))
    with on_commit():
        training.model_train(params={"n_factors": 10, "n_epochs": 5, "random_state": 0})

    sign_in(page, fan)
    card = page.locator(
        ".home-row-top-picks li.home-card, .home-row-because li.home-card"
    ).filter(has=page.get_by_role("img", name=NEW_TITLE))
    expect(card).to_have_count(1)
    badge = card.locator(".card-new")
    expect(badge).to_be_visible()
    expect(badge).to_have_text("New on Marquee")
    expect(card.get_by_role("link").first).to_contain_text("New on Marquee")
    shots = Path(os.environ.get("SCREENSHOT_DIR", tmp_path))
    card.scroll_into_view_if_needed()
    page.screenshot(path=shots / "new-title-card.png")
