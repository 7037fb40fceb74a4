"""The home rows and the title page's stars, driven by the keyboard only.

Each row of posters is one Tab stop (a roving tabindex, WAI-ARIA APG): the
arrow keys move along it, Home and End jump, "Skip row" jumps past it, and a
focused card's "Why this?" opens with I. The half-star rating changes with the
arrows and saves once, on Enter or on leaving the stars. Without JavaScript
every card stays an ordinary link and "Skip row" still skips.
"""

import re

import pytest
from playwright.sync_api import expect

from activity.models import Rating, ViewingEvent
from catalog.models import Title

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

PASSWORD = "arrow-keys-all-evening"
#: Tabs from the top of the home page to the first card of the first row.
FIRST_ROW_TABS = 25
#: Tabs from the top of the home page to "Tune your rows": fewer than 40 (it
#: took about 450 when every card was a link and a "Why this?" in the order).
TUNE_TABS = 39

# Elements in the Tab order inside each row of cards.
TAB_STOPS_PER_ROW = """
() => [...document.querySelectorAll(".row-items")].map((row) => [
  ...row.querySelectorAll("a[href], button, input, select, textarea, summary, [tabindex]"),
].filter((el) => el.tabIndex >= 0 && !el.disabled && el.checkVisibility()).length)
"""


@pytest.fixture
def viewer(demo_viewer):
    user = demo_viewer.user
    user.set_password(PASSWORD)
    user.save()
    return demo_viewer


def focused(page, selector: str, text: str = "") -> bool:
    return page.evaluate(
        """([s, text]) => !!document.activeElement
            && document.activeElement.matches(s)
            && document.activeElement.textContent.includes(text)""",
        [selector, text],
    )


def tab_until(page, selector: str, limit: int, text: str = "") -> int:
    """Press Tab until the focused element matches ``selector``: how many."""
    for tabs in range(1, limit + 1):
        page.keyboard.press("Tab")
        if focused(page, selector, text):
            return tabs
    where = page.evaluate("document.activeElement && document.activeElement.outerHTML")
    raise AssertionError(f"{selector} not reached in {limit} Tabs; focus on {where}")


def sign_in(page, profile) -> None:
    page.goto("/accounts/login/")
    tab_until(page, 'input[type="email"], input[name="username"]', 30)
    page.keyboard.type(profile.user.email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    if "/profiles/" in page.url:
        tab_until(page, "button.picker-profile", 30, text=profile.name)
        page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text(profile.name)


def test_each_row_of_cards_is_one_tab_stop(page, viewer, viewport):
    page.set_viewport_size(viewport)
    sign_in(page, viewer)
    stops = page.evaluate(TAB_STOPS_PER_ROW)
    assert len(stops) >= 5
    assert stops == [1] * len(stops)
    # The "Why this?" buttons left the Tab order but not the page.
    assert page.locator(".home-card .why > summary").count() > 20


def test_delete_on_a_continue_watching_card_removes_it(page, viewer):
    sign_in(page, viewer)
    row = page.locator(".home-row-continue")
    expect(row.locator(".card-link")).to_have_count(1)
    tab_until(page, ".row-items .card-link", FIRST_ROW_TABS)
    expect(row.locator(".card-link")).to_be_focused()
    page.keyboard.press("Delete")
    expect(row.locator(".card-link")).to_have_count(0)
    # Focus goes on to the next row rather than to nowhere.
    expect(page.locator(".home-row").nth(1).locator(".card-link").first).to_be_focused()
    viewing = ViewingEvent.objects.get(profile=viewer, progress=0.3)
    assert viewing.dismissed is True


def test_a_whole_evening_by_keyboard_only(page, viewer):
    sign_in(page, viewer)
    page.goto("/")
    rows = page.locator(".home-row")
    sizes = [rows.nth(n).locator(".card-link").count() for n in range(rows.count())]
    long = next(n for n, size in enumerate(sizes) if size >= 5)
    row = rows.nth(long)
    cards = row.locator(".card-link")
    count = sizes[long]

    tabs = tab_until(page, ".row-items .card-link", FIRST_ROW_TABS)
    expect(rows.first.locator(".card-link").first).to_be_focused()
    print(f"Tabs to the first card: {tabs}; rows {sizes}")
    # Down to the first long row (Continue watching may hold one card).
    for _ in range(long):
        page.keyboard.press("ArrowDown")
    expect(cards.first).to_be_focused()

    # Along the row: each arrow moves one card, and the card comes into view.
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    expect(cards.nth(4)).to_be_focused()
    page.keyboard.press("End")
    expect(cards.nth(count - 1)).to_be_focused()
    expect(cards.nth(count - 1)).to_be_in_viewport()
    page.keyboard.press("ArrowRight")  # no wrap past the end
    expect(cards.nth(count - 1)).to_be_focused()
    page.keyboard.press("Home")
    expect(cards.first).to_be_focused()
    expect(cards.first).to_be_in_viewport()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    chosen = cards.nth(2)
    expect(chosen).to_be_focused()

    # Leaving the row and coming back lands on the card last used.
    page.keyboard.press("Shift+Tab")
    expect(chosen).not_to_be_focused()
    page.keyboard.press("Tab")
    expect(chosen).to_be_focused()

    # One Tab skips the rest of the row: the next stop is the next row's.
    page.keyboard.press("Tab")
    next_row = rows.nth(long + 1)
    assert page.evaluate(
        "(row) => row.contains(document.activeElement)", next_row.element_handle()
    )
    tab_until(page, ".row-items .card-link", 3)
    expect(next_row.locator(".card-link").first).to_be_focused()

    # Up and down go between rows, back to the card last used in each.
    page.keyboard.press("ArrowUp")
    expect(chosen).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(next_row.locator(".card-link").first).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(chosen).to_be_focused()

    # "Why this?" from the focused card, and back with Escape.
    card = row.locator(".row-items > li").nth(2)
    page.keyboard.press("i")
    expect(card.locator(".why > summary")).to_be_focused()
    expect(card.locator(".why-reasons")).to_be_visible()
    page.keyboard.press("Escape")
    expect(chosen).to_be_focused()

    # Enter opens the title.
    href = chosen.get_attribute("href")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(re.escape(href.split("?")[0])))
    title = Title.objects.get(pk=int(href.split("/")[2]))

    # The stars: the arrows only show a value, Enter saves it, once.
    posts = []
    page.on(
        "request",
        lambda request: (
            posts.append(request.url)
            if request.method == "POST" and f"/titles/{title.pk}/rate" in request.url
            else None
        ),
    )
    tab_until(page, ".star-radio", 40)
    for _ in range(8):
        page.keyboard.press("ArrowRight")
    expect(page.locator(".star-radio:checked")).to_have_value("4.5")
    expect(page.locator(".rating-pending")).to_contain_text("Enter to save")
    assert posts == []
    assert not Rating.objects.filter(profile=viewer, title=title).exists()
    page.keyboard.press("Enter")
    expect(page.locator(".rating-value")).to_contain_text("4.5")
    rating = Rating.objects.get(profile=viewer, title=title)
    # One write, with the final value: created and never updated.
    assert (rating.value, rating.updated_at) == (4.5, rating.created_at)
    assert len(posts) == 1

    # Back home, "Tune your rows" is a bounded number of Tabs away.
    page.goto("/")
    tabs = tab_until(page, "#home-controls input, #home-controls button", TUNE_TABS)
    print(f"Tabs to Tune your rows: {tabs}")
    expect(page.get_by_role("heading", name="Tune your rows")).to_be_in_viewport()


def test_leaving_the_stars_saves_once_and_escape_saves_nothing(page, viewer):
    sign_in(page, viewer)
    title = Title.objects.exclude(ratings__profile=viewer).order_by("-id").first()
    posts = []
    page.on(
        "request",
        lambda request: (
            posts.append(request.url)
            if request.method == "POST" and "/rate" in request.url
            else None
        ),
    )
    page.goto(title.get_absolute_url())
    tab_until(page, ".star-radio", 40)
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(page.locator(".star-radio:checked")).to_have_value("1.5")
    page.keyboard.press("Escape")  # back to no rating, nothing sent
    expect(page.locator(".star-radio:checked")).to_have_count(0)
    expect(page.locator(".rating-pending")).to_be_empty()
    expect(page.locator(".star-radio").nth(2)).to_be_focused()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Tab")  # leaving the stars saves
    expect(page.locator(".rating-value")).to_contain_text("3 stars")
    rating = Rating.objects.get(profile=viewer, title=title)
    assert (rating.value, rating.updated_at) == (3.0, rating.created_at)
    assert len(posts) == 1


def test_a_click_on_a_star_saves_at_once_and_each_half_is_24_px(page, viewer):
    sign_in(page, viewer)
    title = Title.objects.exclude(ratings__profile=viewer).order_by("-id").first()
    page.goto(title.get_absolute_url())
    halves = page.locator(".star-half")
    expect(halves).to_have_count(10)
    for n in range(10):
        box = halves.nth(n).bounding_box()
        assert box["width"] >= 24 and box["height"] >= 24, (n, box)
    halves.nth(6).click()  # 3.5 stars
    expect(page.locator(".rating-value")).to_contain_text("3.5")
    assert Rating.objects.get(profile=viewer, title=title).value == 3.5


def test_without_javascript_cards_stay_links_and_skip_row_skips(
    browser, live_server, viewer
):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, viewer)
        per_row = page.evaluate(TAB_STOPS_PER_ROW)  # runs with page scripts off
        cards = page.locator(".home-row").first.locator(".card-link").count()
        assert per_row[0] >= cards  # every card a link in the Tab order
        tab_until(page, ".skip-row", 30)
        page.keyboard.press("Enter")
        page.keyboard.press("Tab")
        assert page.evaluate(
            "(row) => row.contains(document.activeElement)",
            page.locator(".home-row").nth(1).element_handle(),
        )
    finally:
        context.close()
