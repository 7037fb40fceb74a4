"""Accessibility of every page a viewer, a person in the privacy centre and a
curator meet, checked by axe-core in a real browser, at 1440×900 and 390×844.

axe-core is the npm package pinned in ``tests/e2e/package.json`` (``npm ci
--prefix tests/e2e``; ``.ci/run`` and ``make test`` do it). The browser fetches
it from the page's own origin (a route answers it from ``node_modules``), so
the pages keep their strict Content-Security-Policy while they are checked.
Without it the tests skip with the reason; under ``REQUIRE_SERVICES=1`` they
fail.

The rules run are WCAG 2.0, 2.1 and 2.2 at levels A and AA; a page passes with
no violation at all. A second test emulates ``prefers-reduced-motion: reduce``
and finds no CSS animation or transition longer than 0.01 s on the same pages.
"""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from activity.models import ListItem
from catalog.models import Collection, CollectionItem, Genre, Title
from tests.conftest import need_service
from tests.e2e.test_csp_browser import session_cookie

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
AXE_URL = "/__test__/axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

RUN_AXE = """
async (tags) => {
  const results = await axe.run(document, {runOnly: {type: "tag", values: tags}});
  return results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    helpUrl: v.helpUrl,
    targets: v.nodes.map((node) => node.target.join(" ")),
  }));
}
"""

# Every element (and its ::before / ::after) whose computed style would move
# for longer than ``limit`` seconds, and every animation the document runs.
MOTION = """
(limit) => {
  const seconds = (value) => Math.max(...value.split(",").map((part) => {
    const text = part.trim();
    return text.endsWith("ms") ? parseFloat(text) / 1000 : parseFloat(text) || 0;
  }));
  const name = (el) => el.tagName.toLowerCase()
    + (el.id ? "#" + el.id : "")
    + (el.classList.length ? "." + [...el.classList].join(".") : "");
  const moving = [];
  for (const el of document.querySelectorAll("*")) {
    for (const pseudo of [null, "::before", "::after"]) {
      const style = getComputedStyle(el, pseudo);
      const transition = seconds(style.transitionDuration);
      if (style.transitionProperty !== "none" && transition > limit) {
        moving.push(`${name(el)}${pseudo || ""}: transition ${style.transitionDuration}`);
      }
      const animation = seconds(style.animationDuration);
      if (style.animationName !== "none" && animation > limit) {
        moving.push(`${name(el)}${pseudo || ""}: animation ${style.animationName} `
          + style.animationDuration);
      }
    }
  }
  for (const running of document.getAnimations()) {
    const timing = running.effect.getComputedTiming();
    if (timing.activeDuration > limit * 1000) {
      const target = running.effect.target;
      moving.push(`${target ? name(target) : "?"}: ${running.constructor.name} `
        + `${timing.activeDuration} ms`);
    }
  }
  return moving;
}
"""


@pytest.fixture(scope="session")
def axe_source() -> Path:
    need_service(
        AXE.is_file(),
        f"needs axe-core at {AXE} (npm ci --prefix tests/e2e, or make test)",
    )
    return AXE


@pytest.fixture
def site(demo_viewer, live_server) -> dict:
    """The demo catalog, trained, seen by a viewer with a title on My List,
    and by a curator with a collection: the cookies and paths of each page
    (the title pages of a film and of a series)."""
    profile = demo_viewer
    ListItem.objects.get_or_create(
        profile=profile, title=Title.objects.order_by("id").first()
    )
    movie = Title.objects.filter(kind=Title.Kind.MOVIE).order_by("id").first()
    series = Title.objects.filter(kind=Title.Kind.SERIES).order_by("id").first()
    genre = Genre.objects.filter(titles__isnull=False).order_by("id").first()
    collection = Collection.objects.create(name="Staff picks", slug="staff-picks")
    CollectionItem.objects.create(collection=collection, title=movie, position=1)
    staff = type(profile.user).objects.create_superuser(
        email="curator@example.com", password="a-curator-password"
    )
    word = max(movie.title.split(), key=len)
    viewer = [
        "/welcome/",
        "/",
        f"/titles/{movie.pk}/",
        f"/titles/{series.pk}/",
        f"/search/?q={word}",
        f"/genres/{genre.slug}/",
        f"/titles/{movie.pk}/play/",
        "/my-list/",
        "/continue-watching/",
        "/ratings/",
        "/history/",
        "/profiles/manage/",
        "/privacy/",
        "/privacy/activity/",
        "/privacy/consent-log/",
        "/privacy/how-recommendations-work/",
        "/privacy/export/",
        "/privacy/erase/",
        "/api/docs/",
    ]
    curator = [
        "/admin/recommendations/modelversion/",
        f"/admin/recommendations/modelversion/preview-home/?genres={genre.pk}",
        "/admin/catalog/title/",
        "/admin/catalog/collection/",
        f"/admin/catalog/collection/{collection.pk}/preview/",
    ]
    return {
        "word": word,
        "people": {
            "anonymous": (None, ["/", "/accounts/signup/", "/accounts/login/"]),
            "account": (session_cookie(live_server, profile.user), ["/profiles/"]),
            "viewer": (session_cookie(live_server, profile.user, profile), viewer),
            "curator": (session_cookie(live_server, staff), curator),
        },
    }


def walk(page, site: dict):
    """Opens each page as its person, settled (htmx loaders done), in turn."""
    for cookie, paths in site["people"].values():
        page.context.clear_cookies()
        if cookie:
            page.context.add_cookies([cookie])
        for path in paths:
            response = page.goto(path)
            assert response.status == 200, path
            page.wait_for_load_state("networkidle")
            expect(page.locator("h1").first).to_be_visible()
            yield path


def describe(page_path: str, violation: dict) -> str:
    return "\n".join(
        [
            f"{page_path}: {violation['id']} ({violation['impact']}) "
            f"{violation['help']}, {violation['helpUrl']}",
            *(f"    {target}" for target in violation["targets"]),
        ]
    )


def test_every_page_has_no_wcag_22_aa_violation(page, site, axe_source, viewport):
    page.set_viewport_size(viewport)
    page.route(
        f"**{AXE_URL}",
        lambda route: route.fulfill(path=axe_source, content_type="text/javascript"),
    )

    def violations(where: str) -> list[str]:
        page.add_script_tag(url=AXE_URL)
        return [describe(where, v) for v in page.evaluate(RUN_AXE, WCAG_TAGS)]

    # The check can fail: an image without a text alternative is a violation.
    page.goto("/accounts/login/")
    page.evaluate(
        "() => document.querySelector('main').insertAdjacentHTML("
        "'beforeend', '<img src=\"/favicon.ico\">')"
    )
    assert [v for v in violations("login") if v.startswith("login: image-alt ")]

    found = []
    checked = []
    for path in walk(page, site):
        found += violations(path)
        checked.append(path)
    assert len(checked) == sum(len(paths) for _, paths in site["people"].values())

    # The home's controls opened: "Why this?" on a card, the search suggestions
    # with one chosen from the keyboard.
    page.context.clear_cookies()
    page.context.add_cookies([site["people"]["viewer"][0]])
    page.goto("/")
    page.wait_for_load_state("networkidle")
    page.locator("main").get_by_text("Why this?").first.click()
    page.wait_for_load_state("networkidle")
    found += violations("/ with “Why this?” open")
    search = page.locator("#site-search")
    search.fill(site["word"][:4])
    expect(page.locator("#search-suggestions [role=option]").first).to_be_visible()
    search.press("ArrowDown")
    expect(search).to_have_attribute("aria-activedescendant", re.compile(".+"))
    found += violations("/ with search suggestions")

    assert found == [], f"{len(found)} violation(s):\n" + "\n".join(found)


def test_with_reduced_motion_nothing_animates_for_longer_than_a_hundredth(page, site):
    # Without the preference the pages do move (the check can see it).
    moving = [what for _ in walk(page, site) for what in page.evaluate(MOTION, 0.01)]
    assert moving != []

    page.emulate_media(reduced_motion="reduce")
    moving = [
        f"{path}: {what}"
        for path in walk(page, site)
        for what in page.evaluate(MOTION, 0.01)
    ]
    assert moving == [], "\n".join(moving)
