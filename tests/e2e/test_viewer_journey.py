"""A viewer's whole first evening, and a kids profile, in a real browser."""

import re
import time

import pytest
from playwright.sync_api import expect

from accounts.models import Profile
from activity.models import Feedback, ListItem, Rating, ViewingEvent
from catalog.models import Title
from tests.factories import GenreFactory, RatingFactory, TitleFactory

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-evening-of-films"
FILM_7 = re.compile(r"^Film 7\b")


def wait_until(condition, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the heartbeat never reached the database"
        time.sleep(0.05)


@pytest.fixture
def catalog() -> dict[str, Title]:
    genres = {
        name: GenreFactory(name=name)
        for name in ("Drama", "Sci-Fi", "Comedy", "Horror")
    }
    titles = {}
    for n in range(12):
        genre = list(genres.values())[n % 3]
        titles[f"Film {n}"] = TitleFactory(
            title=f"Film {n}", year=1990 + n, runtime_minutes=20, genres=[genre]
        )
        RatingFactory.create_batch(3 + n % 4, title=titles[f"Film {n}"], value=4.0)
    titles["Alien"] = TitleFactory(
        title="Alien", year=1979, runtime_minutes=117, genres=[genres["Horror"]]
    )
    titles["Toy Tales"] = TitleFactory(
        title="Toy Tales",
        year=1995,
        genres=[GenreFactory(name="Animation")],
        maturity_rating=Title.Maturity.G,
    )
    return titles


def test_sign_up_onboard_rate_list_watch_and_sign_out(page, catalog):
    page.goto("/accounts/signup/")
    page.get_by_label("Your name").fill("Sam")
    page.get_by_label("E-mail address").fill("audit-55f3d1@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    # The first profile carries the name typed, not a piece of the address.
    expect(page.get_by_role("heading", level=1)).to_contain_text("Sam")
    expect(page.get_by_text("audit-55f3d1", exact=False)).to_have_count(0)

    # A second profile, then onboarding with three picks.
    page.goto("/profiles/new/")
    page.get_by_label("Name").fill("Evening")
    page.get_by_role("button", name="Add profile").click()
    expect(page).to_have_url(re.compile(r"/welcome/"))
    picks = page.locator("button.pick-button")
    for n in range(3):
        picks.nth(n).click()
        expect(picks.nth(n)).to_have_attribute("aria-pressed", "true")
    page.get_by_role("button", name="Done").click()
    expect(page).to_have_url(re.compile(r"/$"))
    profile = Profile.objects.get(name="Evening")
    assert Feedback.objects.filter(profile=profile, kind="pick").count() == 3

    # Rate a title 4.5 and find it on the Ratings page.
    film = catalog["Film 7"]
    page.goto(f"/titles/{film.pk}/")
    page.locator("label", has_text="4.5 stars").click()
    expect(page.get_by_text("Your rating: 4.5")).to_be_visible()
    assert Rating.objects.get(profile=profile, title=film).value == 4.5
    page.goto("/ratings/")
    expect(page.get_by_role("main").get_by_role("link", name=FILM_7)).to_be_visible()

    # Add it to My List.
    page.goto(f"/titles/{film.pk}/")
    page.get_by_role("button", name="My List").click()
    expect(page.get_by_role("button", name="My List")).to_have_attribute(
        "aria-pressed", "true"
    )
    page.goto("/my-list/")
    expect(page.get_by_role("main").get_by_role("link", name=FILM_7)).to_be_visible()
    assert ListItem.objects.filter(profile=profile, title=film).exists()

    # Play to 95 %: first half way, so it shows in Continue watching.
    page.goto(f"/titles/{film.pk}/")
    page.get_by_role("button", name="Play").first.click()
    page.get_by_role("button", name="Skip ahead 10 min").click()
    viewing = ViewingEvent.objects.filter(profile=profile, title=film)
    wait_until(lambda: viewing.filter(progress__gte=0.5).exists())
    page.goto("/continue-watching/")
    expect(page.get_by_role("main").get_by_role("link", name=FILM_7)).to_be_visible()

    page.goto(f"/titles/{film.pk}/")
    page.get_by_role("button", name=re.compile("Resume")).click()
    page.get_by_role("button", name="Skip ahead 10 min").click()
    wait_until(lambda: viewing.filter(completed=True, progress__gte=0.95).exists())

    page.goto("/continue-watching/")
    expect(page.get_by_role("main").get_by_role("link", name=FILM_7)).to_have_count(0)
    page.goto("/history/")
    expect(
        page.get_by_role("main").get_by_role("link", name=FILM_7).first
    ).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    assert page.goto("/ratings/").url.endswith("/accounts/login/?next=/ratings/")


def test_a_kids_profile_cannot_reach_a_horror_title(page, catalog):
    page.goto("/accounts/signup/")
    page.get_by_label("Your name").fill("Parent")
    page.get_by_label("E-mail address").fill("family@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    page.goto("/profiles/new/")
    page.get_by_label("Name").fill("Kid")
    page.get_by_label("Kids profile").check()
    page.get_by_role("button", name="Add profile").click()
    expect(page).to_have_url(re.compile(r"/welcome/"))

    assert page.goto(f"/titles/{catalog['Alien'].pk}/").status == 404
    page.goto("/search/?q=alien")
    expect(
        page.get_by_role("main").get_by_role("link", name=re.compile(r"^Alien"))
    ).to_have_count(0)
    assert page.goto(f"/titles/{catalog['Toy Tales'].pk}/").status == 200
    page.goto("/")
    # Wait for the lazy rows, then look: the kids title is there, the horror one is not.
    expect(
        page.get_by_role("main")
        .get_by_role("link", name=re.compile(r"^Toy Tales"))
        .first
    ).to_be_visible()
    expect(
        page.get_by_role("main").get_by_role("link", name=re.compile(r"^Alien"))
    ).to_have_count(0)
