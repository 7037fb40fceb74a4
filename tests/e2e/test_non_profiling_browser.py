"""The non-profiling switch on the home page, in a real browser: the viewer
chooses "Not based on my activity", the rows become everyone's, and opening a
title from a row, playing it and searching keep nothing; "Based on my
activity" brings the personal rows back. Both choices are drawn alike."""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from activity.models import SearchEvent, ViewingEvent
from activity.services import REFRESH_PROFILE_TASK
from outbox.models import OutboxMessage
from recommendations.models import RowEngagement

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

PASSWORD = "rows-for-everyone-tonight"
#: Where the screenshot of the switched home goes (looked at by a person).
SCREENSHOT = Path(os.environ.get("MARQUEE_VAR_DIR", "var")) / "non-profiling-home.png"


@pytest.fixture
def viewer(demo_viewer):
    user = demo_viewer.user
    user.set_password(PASSWORD)
    user.save()
    return demo_viewer


def sign_in(page, profile) -> None:
    page.goto("/accounts/login/")
    page.get_by_label(re.compile("e-mail", re.I)).fill(profile.user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    if "/profiles/" in page.url:
        page.locator("button.picker-profile", has_text=profile.name).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(profile.name)


def recorded(profile) -> dict[str, int]:
    return {
        "plays": ViewingEvent.objects.filter(profile=profile).count(),
        "searches": SearchEvent.objects.filter(profile=profile).count(),
        "row engagement": RowEngagement.objects.filter(profile=profile).count(),
        "refreshes": OutboxMessage.objects.filter(
            task=REFRESH_PROFILE_TASK, args=[profile.pk]
        ).count(),
    }


def test_the_home_switch_changes_the_rows_and_records_nothing(page, viewer):
    sign_in(page, viewer)
    page.goto("/")
    top_picks = page.get_by_role("heading", name=f"Top picks for {viewer.name}")
    expect(top_picks).to_be_visible()
    activity = page.get_by_role("radio", name=re.compile("^Based on my activity"))
    everyone = page.get_by_role("radio", name=re.compile("^Not based on my activity"))
    expect(activity).to_be_checked()

    # Neutral: the two choices are the same size and weight.
    choices = page.locator(".basis-choice")
    first, second = choices.nth(0).bounding_box(), choices.nth(1).bounding_box()
    assert (round(first["width"]), round(first["height"])) == (
        round(second["width"]),
        round(second["height"]),
    )
    weights = page.locator(".basis-name").evaluate_all(
        "els => els.map(el => getComputedStyle(el).fontWeight + ' '"
        " + getComputedStyle(el).fontSize)"
    )
    assert weights[0] == weights[1]

    everyone.check()
    page.get_by_role("button", name="Save").click()

    expect(top_picks).to_have_count(0)
    expect(page.get_by_text("these rows are the same for everyone")).to_be_visible()
    expect(page.get_by_role("heading", name="Trending now")).to_be_visible()
    expect(everyone).to_be_checked()
    page.locator("#rows-basis").scroll_into_view_if_needed()
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))
    before = recorded(viewer)

    # Open a title from a row and play it: nothing is kept.
    page.locator("section.home-row-trending a.card-link").first.click()
    expect(page).to_have_url(re.compile(r"/titles/\d+/\?row=trending"))
    page.get_by_role("button", name=re.compile("^(Play|Resume)")).first.click()
    expect(page.get_by_role("note").filter(has_text="Not kept")).to_contain_text(
        "not based on your activity"
    )
    page.get_by_role("button", name="Skip ahead 10 min").click()
    # Search: nothing is kept either.
    page.goto("/search/?q=the")
    expect(page.get_by_role("heading", level=1)).to_be_visible()

    assert recorded(viewer) == before

    # Back to rows based on activity: the personal rows return.
    page.goto("/")
    page.get_by_role("radio", name=re.compile("^Based on my activity")).check()
    page.get_by_role("button", name="Save").click()
    expect(top_picks).to_be_visible()
    page.goto("/search/?q=the")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert SearchEvent.objects.filter(profile=viewer).count() == 1
