"""The viewer's journey and the admin under the Content-Security-Policy.

A real browser walks the pages a viewer meets and clicks each htmx control on
the way (home, "Why this?", a mood, rating, thumbs, My List, play, the
shelves, search suggestions, a genre page and its "Load more", the privacy
centre's controls and ledger, onboarding picks, the account pages, the
browsable API), then the admin as staff (model lists, change forms with
autocomplete). The policy is enforced (no inline code, no eval), so anything
the templates, htmx, DRF or the admin still did inline would be refused: the
test asserts that no page reported a violation and that the console logged no
error. First it checks that its listener hears a violation at all.
"""

import re
import shutil
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from accounts.access import ACTIVE_PROFILE_SESSION_KEY
from accounts.models import User
from activity.models import Feedback, ListItem, Rating
from catalog.models import Title
from consent.models import PrivacySettings
from tests.factories import GenreFactory, ProfileFactory, RatingFactory, TitleFactory

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

# Every page reports its violations to the test as they happen (the listener
# is installed before any of the page's own scripts run).
RECORD_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportViolation({
    page: document.location.pathname,
    directive: event.effectiveDirective,
    blocked: event.blockedURI,
    source: `${event.sourceFile}:${event.lineNumber}`,
    sample: event.sample,
    element: event.target.outerHTML ? event.target.outerHTML.slice(0, 160) : "",
  });
}, true);
"""


@pytest.fixture
def catalog() -> dict[str, Title]:
    drama = GenreFactory(name="Drama")
    comedy = GenreFactory(name="Comedy")
    titles = {
        "Heat": TitleFactory(
            title="Heat", year=1995, runtime_minutes=20, genres=[drama]
        ),
        "Ronin": TitleFactory(title="Ronin", year=1998, genres=[drama]),
        "Big": TitleFactory(title="Big", year=1988, genres=[comedy]),
    }
    # More dramas than one page of results holds, so the genre page has "Load more".
    Title.objects.bulk_create(
        Title(title=f"Drama {n}", sort_title=f"drama {n:02}", year=2000 + n % 20)
        for n in range(42)
    )
    drama.titles.add(*Title.objects.filter(title__startswith="Drama "))
    for title in titles.values():
        RatingFactory.create_batch(3, title=title, value=4.5)
    return titles


def session_cookie(live_server, user: User, profile=None) -> dict:
    """A signed-in session for ``user`` (its profile chosen, if given), as a cookie."""
    client = Client()
    client.force_login(user)
    if profile is not None:
        session = client.session
        session[ACTIVE_PROFILE_SESSION_KEY] = profile.pk
        session.save()
    name = settings.SESSION_COOKIE_NAME
    return {"name": name, "value": client.cookies[name].value, "url": live_server.url}


def wait_until(condition, page, seconds: float = 5.0) -> None:
    """Lets the browser run (and report) until ``condition()`` holds."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the browser reported nothing"
        page.wait_for_timeout(50)


def screenshot(page, tmp_path: Path, name: str) -> None:
    """Full-page screenshot into the test's folder, copied to /tmp for a look."""
    path = tmp_path / f"{name}.png"
    # caret="initial": Playwright would otherwise hide the text caret by
    # giving each input a style, which htmx would then settle on a swap.
    page.screenshot(path=path, full_page=True, caret="initial")
    shutil.copyfile(path, f"/tmp/h1-csp-{name}.png")


def test_the_viewer_journey_and_the_admin_break_no_rule_of_the_policy(
    page, live_server, catalog, tmp_path
):
    violations: list[dict] = []
    console_errors: list[str] = []
    page.expose_function("reportViolation", lambda v: violations.append(v))
    page.add_init_script(RECORD_VIOLATIONS)
    page.on(
        "console",
        lambda message: (
            console_errors.append(f"{page.url}: {message.text}")
            if message.type == "error"
            else None
        ),
    )
    page.on("pageerror", lambda error: console_errors.append(f"{page.url}: {error}"))

    # The listener hears a violation: an inline style added by hand is one.
    page.goto("/accounts/login/")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    page.evaluate(
        "document.body.insertAdjacentHTML('beforeend', '<p style=\"color: red\">x</p>')"
    )
    wait_until(lambda: violations, page)
    assert [v["directive"] for v in violations] == ["style-src-attr"]
    violations.clear()
    console_errors.clear()

    # A viewer, signed in, chooses their profile.
    profile = ProfileFactory(name="Robin")
    page.context.add_cookies([session_cookie(live_server, profile.user)])
    page.goto("/profiles/")
    page.get_by_role("button", name="Robin").click()
    expect(page.get_by_role("heading", name="Hi, Robin")).to_be_visible()

    # Home: "Why this?" on a card, then a mood.
    page.wait_for_load_state()  # htmx has read the page
    trending = page.get_by_role("region", name="Trending now")
    card = trending.get_by_role("listitem").filter(has_text="Heat")
    card.get_by_text("Why this?").click()
    expect(card.locator(".why-reasons li").first).to_be_visible()
    screenshot(page, tmp_path, "home")
    page.get_by_role("link", name="Thrilling").click()
    expect(page.get_by_role("link", name="Thrilling")).to_have_attribute(
        "aria-current", "true"
    )
    expect(page).to_have_url(re.compile(r"/\?mood="))

    # A title: rate it, thumbs up, My List, then play and skip ahead.
    heat = catalog["Heat"]
    page.goto(f"/titles/{heat.pk}/")
    page.locator("label", has_text="4.5 stars").click()
    expect(page.get_by_text("Your rating: 4.5")).to_be_visible()
    page.get_by_role("button", name="Thumbs up").click()
    expect(page.get_by_role("button", name="Thumbs up")).to_have_attribute(
        "aria-pressed", "true"
    )
    page.get_by_role("button", name="My List").click()
    expect(page.get_by_role("button", name="My List")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(page.locator("section.more-like-this")).not_to_have_attribute(
        "hx-get", re.compile(".*")
    )
    page.get_by_role("button", name="Play").first.click()
    expect(page).to_have_url(re.compile(rf"/titles/{heat.pk}/play/"))
    with page.expect_response(lambda r: r.request.method == "POST") as heartbeat:
        page.get_by_role("button", name="Skip ahead 10 min").click()
    assert heartbeat.value.status == 200
    assert Rating.objects.get(profile=profile, title=heat).value == 4.5
    assert Feedback.objects.filter(
        profile=profile, title=heat, kind=Feedback.Kind.THUMBS_UP
    ).exists()
    assert ListItem.objects.filter(profile=profile, title=heat).exists()

    # My List and the other shelves.
    for path in ("/my-list/", "/continue-watching/", "/ratings/", "/history/"):
        page.goto(path)
        expect(
            page.get_by_role("main").get_by_role("link", name="Heat").first
        ).to_be_visible()

    # Search: suggestions as the viewer types, then the results page.
    page.goto("/")
    page.locator("#site-search").fill("ron")
    suggestions = page.locator("#search-suggestions")
    expect(suggestions.get_by_role("option", name=re.compile("^Ronin"))).to_be_visible()
    page.locator("#site-search").press("Enter")
    expect(page).to_have_url(re.compile(r"/search/\?q=ron"))
    expect(
        page.get_by_role("main").get_by_role("link", name=re.compile("^Ronin"))
    ).to_be_visible()

    # Genres, and a genre page's "Load more".
    page.goto("/genres/")
    page.get_by_role("main").get_by_role(
        "link", name=re.compile("^Drama")
    ).first.click()
    expect(page).to_have_url(re.compile(r"/genres/drama/$"))
    page.wait_for_load_state()
    results = page.get_by_role("main").get_by_role("link", name=re.compile("^Drama "))
    expect(results.first).to_be_visible()
    expect(results).not_to_have_count(42)  # a page holds 40 of the 44 dramas
    page.get_by_role("link", name="Load more").click()
    expect(results).to_have_count(42)
    expect(page).to_have_url(re.compile(r"/genres/drama/$"))  # appended, not opened

    # The privacy centre and each of its htmx controls; each answer swaps the
    # controls and says what changed, which is awaited before the next.
    page.goto("/privacy/")
    changed = page.locator("#controls .privacy-changed")
    page.get_by_role("switch", name="Pause viewing history").click()
    expect(changed).to_have_text("Robin: Pause viewing history is on.")
    page.locator("#retention-months").select_option("3")
    page.locator("form[action$='/retention/']").get_by_role("button").click()
    expect(changed).to_contain_text("older than 3 months")
    page.locator("#exploration").fill("70")
    page.locator("form[action$='/exploration/']").get_by_role("button").click()
    expect(changed).to_have_text("Robin: exploration is 70.")
    page.get_by_label("Comedy").check()
    page.get_by_role("button", name="Save hidden genres").click()
    expect(changed).to_have_text("Hidden from Robin’s recommendations: Comedy.")
    page.get_by_role("navigation", name="Profiles").get_by_role("link").click()
    expect(page).to_have_url(re.compile(rf"/privacy/\?profile={profile.pk}$"))
    screenshot(page, tmp_path, "privacy-centre")
    settings_row = PrivacySettings.objects.get(profile=profile)
    assert settings_row.pause_viewing_history is True
    assert settings_row.retention_months == 3
    assert settings_row.exploration == 70

    page.goto("/privacy/activity/")
    page.get_by_label("Show").select_option(index=1)
    expect(page).to_have_url(re.compile(r"/privacy/activity/\?kind="))
    for path in (
        "/privacy/consent-log/",
        "/privacy/how-recommendations-work/",
        "/privacy/export/",
        "/privacy/erase/",
    ):
        assert page.goto(path).status == 200, path

    # Onboarding's picks, and the account's own pages.
    page.goto("/welcome/")
    pick = page.locator("button.pick-button").first
    pick.click()
    expect(pick).to_have_attribute("aria-pressed", "true")
    for path in (
        "/profiles/manage/",
        "/profiles/new/",
        f"/profiles/{profile.pk}/edit/",
        "/accounts/password/change/",
    ):
        assert page.goto(path).status == 200, path

    # The API, opened in the browser: JSON (no browsable HTML face).
    page.goto(f"/api/v1/profiles/{profile.pk}/ratings/")
    expect(page.get_by_text('"value":4.5')).to_be_visible()
    # Its docs: Swagger UI, served from here, draws the operations.
    page.goto("/api/docs/")
    expect(
        page.get_by_text("/api/v1/profiles/{profile_id}/ratings/").first
    ).to_be_visible()

    # The admin, as staff: the log-in page, the model lists, and change forms
    # with their widgets (autocomplete, filter_horizontal, inlines).
    page.context.clear_cookies()
    for path in ("/accounts/signup/", "/accounts/password/reset/", "/admin/login/"):
        assert page.goto(path).status == 200, path
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    staff = User.objects.create_superuser(email="op@example.com", password="x" * 16)
    page.context.add_cookies([session_cookie(live_server, staff)])
    for path in (
        "/admin/",
        "/admin/catalog/title/?q=heat",
        "/admin/recommendations/modelversion/",
        f"/admin/catalog/title/{heat.pk}/change/",
        "/admin/catalog/collection/add/",
    ):
        assert page.goto(path).status == 200, path
    page.locator(".select2-selection").first.click()
    expect(page.locator(".select2-results__option").first).to_be_visible()
    screenshot(page, tmp_path, "admin-collection")

    assert violations == [], "\n".join(map(str, violations))
    assert console_errors == [], "\n".join(console_errors)
