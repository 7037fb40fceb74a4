"""Hiding a genre in the privacy centre: a preview says what it would do, the
receipt says what it did, the home rows show it, and Undo brings them back."""

import re
import shutil
from collections import Counter
from pathlib import Path

import pytest
from playwright.sync_api import expect

from catalog.models import Genre, Title
from recommendations.services.candidates import profile_refresh
from tests.e2e.test_keyboard_browser import PASSWORD, sign_in

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def viewer(demo_viewer):
    profile_refresh(profile_id=demo_viewer.pk)
    user = demo_viewer.user
    user.set_password(PASSWORD)
    user.save()
    return demo_viewer


def home_title_ids(page) -> set[int]:
    page.goto("/")
    hrefs = page.locator("a.card-link").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    return {int(re.search(r"/titles/(\d+)/", href).group(1)) for href in hrefs}


def screenshot(page, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=path, full_page=True, caret="initial")
    shutil.copyfile(path, f"/tmp/r1-receipts-{name}.png")


def test_hide_a_genre_see_the_receipt_and_the_rows_change_then_undo(
    page, viewer, tmp_path
):
    sign_in(page, viewer)
    before = home_title_ids(page)
    counts = Counter(
        Title.genres.through.objects.filter(title_id__in=before).values_list(
            "genre_id", flat=True
        )
    )
    genre = Genre.objects.get(pk=counts.most_common(1)[0][0])
    of_genre = set(
        Title.objects.filter(pk__in=before, genres=genre).values_list("pk", flat=True)
    )

    page.goto("/privacy/")
    page.get_by_role("checkbox", name=genre.name, exact=True).check()
    page.get_by_role("button", name="Preview", exact=True).click()
    preview = page.locator(".receipt-preview .receipt-text")
    expect(preview).to_contain_text(f"Hiding {genre.name} would remove ")
    page.get_by_role("button", name="Confirm").click()
    receipt = page.locator("#controls .receipt-text")
    expect(receipt).to_contain_text(f"Hiding {genre.name} removed ")
    screenshot(page, tmp_path, "centre-receipt")
    said = int(re.search(r"removed (\d+) title", receipt.inner_text()).group(1))

    # The home rows, in another tab: the titles that left are the receipt's.
    home = page.context.new_page()
    after = home_title_ids(home)
    assert len(before - after) == said
    assert of_genre and not of_genre & after

    page.get_by_role("button", name="Undo").click()
    expect(receipt).to_contain_text(f"Showing {genre.name} again added ")
    assert home_title_ids(home) == before
