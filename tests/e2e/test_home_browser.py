"""The personalized home in a real browser, refreshed by a real Celery worker.

A catalog where sci-fi and comedy are separate tastes (each watched by its
own viewers) trains the model. A new profile picks three sci-fi titles at
onboarding and finds sci-fi leading its Top picks; it then rates a comedy
5★, the worker folds the rating into its candidates, and the home gains a
"Because you rated <that comedy>" row.
"""

import re
import shutil
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Profile
from activity.models import Feedback, Rating
from catalog.models import Title
from outbox.models import OutboxMessage
from recommendations.home.rows import MIN_ROW, NEIGHBOURS
from recommendations.models import ModelVersion, ProfileCandidates
from recommendations.services import training, trending
from tests.factories import GenreFactory, ProfileFactory, TitleFactory

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

PASSWORD = "stars-and-laughter-at-home"
NAME = "Nova"
WORKER_SECONDS = 30.0  # the first task on a cold worker imports a lot
ROW_SECONDS = 20.0

#: Each genre's titles: every first word with every second word.
TITLE_WORDS = {
    "Sci-Fi": (
        ("Quantum", "Neon", "Red Moon", "Dark Matter", "Silent", "Last"),
        ("Orbit", "Colony", "Android", "Signal", "Nebula"),
    ),
    "Comedy": (
        ("Big", "Awkward", "Lucky", "Silly", "Noisy", "Accidental"),
        ("Wedding", "Holiday", "Neighbours", "Roommates", "Karaoke Night"),
    ),
    "Drama": (
        ("Winter", "Quiet", "Paper", "Salt", "Harbour", "Long"),
        ("Letters", "Orchard", "Bridges", "Shift"),
    ),
    "Horror": (
        ("Hollow", "Black", "Ninth", "Whispering"),
        ("Cellar", "Lake", "Room", "Pines"),
    ),
}
#: Viewers by taste: how many, the titles each rates per genre, their ratings.
TASTES = (
    (24, {"Sci-Fi": 15, "Drama": 2}, (3.5, 5.0)),
    (24, {"Comedy": 15, "Drama": 2}, (3.5, 5.0)),
    (12, {"Drama": 8, "Horror": 5}, (3.0, 5.0)),
    (4, {"Sci-Fi": 5, "Comedy": 5}, (3.0, 4.5)),
)


def wait_until(condition, message, seconds: float = WORKER_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, message() if callable(message) else message
        time.sleep(0.1)


def refreshed_since(profile, moment) -> bool:
    """The profile's candidates were stored after ``moment``, and no refresh of
    it waits in the outbox (the signals of a burst share one)."""
    stored = ProfileCandidates.objects.filter(profile=profile, updated_at__gt=moment)
    waiting = OutboxMessage.objects.filter(
        task="recommendations.tasks.refresh_profile", args=[profile.pk]
    )
    return stored.exists() and not waiting.exists()


def succeeded(worker, task: str, since: int) -> int:
    """How many runs of ``task`` the worker logged as succeeded since ``since``."""
    pattern = rf"Task {re.escape(task)}\[[^]]+\] succeeded in "
    return len(re.findall(pattern, worker.log(since)))


def build_catalog() -> dict[str, list[Title]]:
    """Titles per genre, and viewers of three tastes rating within their genres.

    Within a genre, titles are picked by a Zipf-like popularity, so the catalog
    has favourites; every rating falls in the last seven weeks.
    """
    rng = np.random.default_rng(5)
    catalog = {}
    for genre_name, (firsts, seconds) in TITLE_WORDS.items():
        genre = GenreFactory(name=genre_name)
        names = [f"{first} {second}" for second in seconds for first in firsts]
        catalog[genre_name] = [
            TitleFactory(
                title=name, year=1980 + n, runtime_minutes=85 + n, genres=[genre]
            )
            for n, name in enumerate(names)
        ]
    now = timezone.now()
    ratings = []
    for count, mix, (low, high) in TASTES:
        for _ in range(count):
            viewer = ProfileFactory()
            for genre_name, how_many in mix.items():
                titles = catalog[genre_name]
                weights = 1.0 / np.arange(1, len(titles) + 1)
                chosen = rng.choice(
                    len(titles), size=how_many, replace=False, p=weights / weights.sum()
                )
                for n in chosen:
                    at = now - timedelta(days=float(rng.uniform(1, 50)))
                    value = float(rng.choice(np.arange(low, high + 0.5, 0.5)))
                    ratings.append(
                        Rating(
                            profile=viewer,
                            title=titles[n],
                            value=value,
                            created_at=at,
                            updated_at=at,
                        )
                    )
    Rating.objects.bulk_create(ratings)
    return catalog


def genre_share(title_ids, titles: list[Title]) -> float:
    ids = {t.pk for t in titles}
    return sum(t in ids for t in title_ids) / len(title_ids)


def card_title_ids(region) -> list[int]:
    hrefs = region.locator("a.card-link").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    return [int(re.search(r"/titles/(\d+)/", href).group(1)) for href in hrefs]


def card_title_ids_of_picks(page) -> list[int]:
    """The ids of the titles in the onboarding set on screen, in order."""
    ids = page.locator("button.pick-button").evaluate_all(
        "buttons => buttons.map(b => b.id)"
    )
    return [int(i.removeprefix("pick-button-")) for i in ids]


def screenshot(page, tmp_path: Path, name: str) -> None:
    """Full-page screenshot into the test's folder, copied to /tmp for a look.

    Posters below the first rows load lazily, when scrolled to; a full-page
    shot does not scroll, so they are asked for now and awaited.
    """
    page.evaluate(
        "() => document.querySelectorAll('img[loading=lazy]')"
        ".forEach(img => { img.loading = 'eager'; })"
    )
    page.wait_for_function("() => [...document.images].every(img => img.complete)")
    path = tmp_path / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    shutil.copyfile(path, f"/tmp/h7-{name}.png")


def test_sci_fi_picks_lead_top_picks_and_a_comedy_rating_seeds_a_row(
    page, live_server, celery_worker, artifact_dir, tmp_path
):
    catalog = build_catalog()
    sci_fi, comedy = catalog["Sci-Fi"], catalog["Comedy"]
    viewers = Profile.objects.count()

    # Train; the worker scores every viewer's candidates before the browser starts.
    log_start = celery_worker.log_size()
    version = training.model_train(
        params={"n_factors": 8, "n_epochs": 10, "random_state": 0}
    )
    assert version.status == ModelVersion.Status.ACTIVE
    trending.trending_refresh()
    wait_until(
        lambda: (
            ProfileCandidates.objects.filter(model_version=version).count() == viewers
        ),
        lambda: f"the worker did not score the viewers:\n{celery_worker.log_tail()}",
    )
    assert succeeded(celery_worker, "recommendations.tasks.score_candidates", log_start)

    # Sign up, add a profile, onboard with exactly three sci-fi titles.
    page.goto("/accounts/signup/")
    page.get_by_label("Your name").fill("Stella")
    page.get_by_label("E-mail address").fill("stargazer@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page).to_have_url(re.compile(r"/welcome/"))
    page.goto("/profiles/new/")
    page.get_by_label("Name").fill(NAME)
    page.get_by_role("button", name="Add profile").click()
    expect(page).to_have_url(re.compile(r"/welcome/"))
    profile = Profile.objects.get(name=NAME)

    sci_fi_ids = {t.pk for t in sci_fi}
    picked: list[int] = []
    for _ in range(4):  # sets of titles, "Show me others" between them
        shown = card_title_ids_of_picks(page)
        for title_id in [t for t in shown if t in sci_fi_ids][: 3 - len(picked)]:
            button = page.locator(f"#pick-button-{title_id}")
            button.click()
            expect(page.locator(f"#pick-button-{title_id}")).to_have_attribute(
                "aria-pressed", "true"
            )
            picked.append(title_id)
        if len(picked) == 3:
            break
        page.get_by_role("link", name="Show me others").click()
        expect(page.locator("button.pick-button").first).to_be_visible()
    assert len(picked) == 3, "the onboarding sets hold fewer than three sci-fi titles"
    expect(page.locator("#pick-count")).to_have_text("3 picked: you’re all set")
    page.get_by_role("button", name="Done").click()
    expect(page).to_have_url(re.compile(r"/$"))
    assert sorted(
        Feedback.objects.filter(profile=profile).values_list("title_id", flat=True)
    ) == sorted(picked)

    # The picks' refreshes coalesce (one per burst); the worker runs them.
    picked_at = Feedback.objects.filter(profile=profile).latest("created_at").created_at
    wait_until(
        lambda: refreshed_since(profile, picked_at),
        lambda: f"the worker did not refresh the picks:\n{celery_worker.log_tail()}",
    )
    before = ProfileCandidates.objects.get(profile=profile)
    assert before.model_version_id == version.pk
    # The model learned the split: sci-fi leads the stored candidates.
    assert genre_share(before.title_ids[:10], sci_fi) > 0.5

    page.goto("/")
    top_picks = page.get_by_role("region", name=f"Top picks for {NAME}", exact=True)
    expect(top_picks).to_be_visible()
    shown = card_title_ids(top_picks)
    assert len(shown) >= 4
    assert not set(shown) & set(picked)
    assert genre_share(shown, sci_fi) > 0.5, [
        Title.objects.get(pk=t).title for t in shown
    ]
    expect(page.get_by_role("region", name=re.compile(r"^Because you"))).to_have_count(
        0
    )
    screenshot(page, tmp_path, "home-sci-fi-1440")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(top_picks).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, tmp_path, "home-sci-fi-390")
    page.set_viewport_size({"width": 1440, "height": 900})

    # Rate the comedy the viewers watched most 5★: the worker refreshes.
    laugh = max(comedy, key=lambda t: Rating.objects.filter(title=t).count())
    page.goto(f"/titles/{laugh.pk}/")
    page.locator("label.star-half", has_text=re.compile(r"^5 stars$")).click()
    expect(page.get_by_text("Your rating: 5 stars")).to_be_visible()
    assert Rating.objects.get(profile=profile, title=laugh).value == 5.0
    rated_at = Rating.objects.get(profile=profile, title=laugh).updated_at
    wait_until(
        lambda: refreshed_since(profile, rated_at),
        lambda: f"the worker did not refresh the rating:\n{celery_worker.log_tail()}",
    )
    after = ProfileCandidates.objects.get(profile=profile)
    assert after.updated_at > before.updated_at
    assert laugh.pk not in after.title_ids
    assert genre_share(after.title_ids[:20], comedy) > genre_share(
        before.title_ids[:20], comedy
    )

    # The home gains a row seeded by the comedy, filled with its neighbours.
    because = page.get_by_role(
        "region", name=f"Because you rated {laugh.title}", exact=True
    )
    deadline = time.monotonic() + ROW_SECONDS
    page.goto("/")
    while not because.count() and time.monotonic() < deadline:
        time.sleep(0.5)
        page.reload()
    expect(because).to_be_visible()
    expect(because.get_by_text("You rated it 5★")).to_be_visible()
    seeded = card_title_ids(because)
    assert len(seeded) >= MIN_ROW
    nearest, _ = training.recommender_for(version).ranking.nearest(laugh.pk, NEIGHBOURS)
    assert set(seeded) <= set(nearest.tolist()) - {laugh.pk}
    # Comedies fill it more than their share of the catalog.
    assert genre_share(seeded, comedy) > len(comedy) / Title.objects.count()
