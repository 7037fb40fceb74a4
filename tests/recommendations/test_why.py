""" "Why this?" from one source: each card says first why its title is in the
row it sits in, then only signals that agree with it.

The sentences are read here as a viewer reads them, by their words (not by
the claims ``recommendations.home.why`` tags them with), so a sentence that
changes its words without changing its tag is still checked.
"""

import re
from datetime import UTC, datetime

import pytest
from django.core.cache import cache
from django.db.models import Count
from django.urls import reverse

from accounts.models import Profile
from catalog.models import Collection, CollectionItem, Title
from consent.models import PrivacySettings
from recommendations.engine.rerank import MOODS
from recommendations.home.page import Tuning, home_page
from recommendations.home.snapshot import charts
from recommendations.home.why import why_page, why_this
from tests.factories import ListItemFactory, ViewingEventFactory
from tests.recommendations.test_home_views import HTMX, watching

pytestmark = pytest.mark.django_db

#: What a sentence says, by its words.
SAYS = {
    "few viewers": re.compile(r"few viewers|less known|hidden gem", re.I),
    "popular": re.compile(
        r"trending|top 10|popular in|most (watched|rated)|liked by viewers in", re.I
    ),
    "outside your genres": re.compile(r"outside the genres|genres you rarely", re.I),
    "your genres": re.compile(r"a genre you watch often|close to your taste", re.I),
    "about you": re.compile(
        r"\byou (rated|watched|picked|started|’re watching)|your my list|"
        r"we predict|your taste|you watch often",
        re.I,
    ),
    "not about you": re.compile(r"nothing you did", re.I),
}
#: Never said on one card.
CONTRADICTING = [
    ("few viewers", "popular"),
    ("outside your genres", "your genres"),
    ("not about you", "about you"),
]


def contradictions(sentences: list[str]) -> list[tuple[str, str]]:
    said = {
        claim
        for sentence in sentences
        for claim, words in SAYS.items()
        if words.search(sentence)
    }
    return [pair for pair in CONTRADICTING if set(pair) <= said]


def states_the_rows_reason(row, title, first: str) -> bool:
    """Whether ``first`` says why ``title`` is in ``row`` (a built ``Row``)."""
    kind = row.kind
    if kind == "because":
        seed = Title.objects.get(pk=row.seed_id).title
        return bool(
            re.fullmatch(
                rf"You (rated|watched|picked) {re.escape(seed)}( [\d.]+★)?; "
                rf"viewers who liked {re.escape(seed)} loved this\.",
                first,
            )
        )
    if kind == "genre":
        genre = re.sub(r"^Popular in | you’ll like$", "", row.name)
        return first in (
            f"{genre} is a genre you watch often.",
            f"Popular in {genre}: one of its most rated titles.",
        )
    if kind == "collection":
        return first == f"Picked by our editors for “{row.name}”."
    expected = {
        "continue": r"You started watching it \(\d+% watched\)\.|"
        r"You’re watching it: S\d+:E\d+ is next\.",
        "short": r"It’s \d+ minutes, for when you’re short on time\.",
        "top-picks": r"We predict you’d rate it [\d.]+★ \(\d+% match\)\.",
        "trending": r"Trending on Marquee right now\.|"
        r"Trending in [\w -]+, a genre you watch often\.",
        "top10": r"On today’s Top 10: among the most watched titles of the day\.",
        "new": r"New on Marquee\.",
        "gems": r"Few viewers know it, but it’s close to your taste\.",
        "outside": r"It’s outside the genres you usually watch(; viewers rate it .+)?\.",
        "my-list": r"It’s on your My List\.",
        "region": r"Liked by viewers in .+\.",
    }[kind]
    return bool(re.fullmatch(expected, first))


@pytest.fixture
def curated(trained):
    """An editors' collection of the two most trending titles and two of the
    least rated."""
    trending = [t for t, _ in charts().trending[:2]]
    rare = list(
        Title.objects.exclude(pk__in=trending)
        .annotate(n=Count("ratings"))
        .order_by("n", "id")
        .values_list("pk", flat=True)[:2]
    )
    made = Collection.objects.create(name="Editors’ mix", slug="editors-mix")
    for n, pk in enumerate([*trending, *rare]):
        CollectionItem.objects.create(collection=made, title_id=pk, position=n)
    cache.clear()
    return made


def fifty_pages(profiles: list[Profile]):
    """50 (profile, page) pairs: profiles × moods × exploration × late/phone."""
    moods = [None, *MOODS]
    for n in range(50):
        profile = profiles[n % len(profiles)]
        tuning = Tuning(exploration=(0, 50, 100)[n % 3], hour=(15, 23)[n % 2])
        device = ("desktop", "mobile", "")[n % 3]
        page = home_page(
            profile=profile,
            mood=moods[n % len(moods)],
            device=device,
            tuning=tuning,
        )
        yield profile, page


def test_no_card_of_50_home_pages_contradicts_itself_and_each_leads_with_its_row(
    curated,
):
    adults = list(
        Profile.objects.filter(is_kids=False, ratings__value__gte=4)
        .distinct()
        .order_by("id")[:8]
    )
    for n, profile in enumerate(adults):
        # Late and on a phone: "Short on time"; a saved title, one in progress.
        PrivacySettings.objects.update_or_create(
            profile=profile, defaults={"contextual_signals": True}
        )
        unseen = Title.objects.exclude(ratings__profile=profile).order_by("id")
        ListItemFactory(profile=profile, title=unseen[n])
        ViewingEventFactory(
            profile=profile,
            title=unseen[n + 1],
            progress=0.4,
            started_at=datetime(2025, 12, 31, tzinfo=UTC),
        )
    PrivacySettings.objects.update_or_create(
        profile=adults[-1], defaults={"personalization": False}
    )
    kids = list(Profile.objects.filter(is_kids=True).order_by("id")[:1])
    profiles = [
        Profile.objects.select_related("privacy").get(pk=p.pk) for p in adults + kids
    ]

    kinds, cards = set(), 0
    for profile, page in fifty_pages(profiles):
        why = why_page(profile=profile, page=page)
        for row in page.rows:
            kinds.add(row.kind)
            for title in row.titles:
                sentences = why[row.key, title.pk]
                cards += 1
                assert contradictions(sentences) == [], (row.key, sentences)
                assert states_the_rows_reason(row, title, sentences[0]), (
                    row.key,
                    title.title,
                    sentences,
                )
                assert len(set(sentences)) == len(sentences) <= 4
        if profile == adults[-1]:  # personalization off
            assert {s[-1] for s in why.values()} == {
                "Your personalized rows are off, so nothing you did chose it."
            }

    assert cards > 50 * 40
    assert kinds >= {
        "continue",
        "short",
        "top-picks",
        "because",
        "trending",
        "my-list",
        "top10",
        "genre",
        "gems",
        "new",
        "outside",
        "collection",
    }


def test_a_trending_card_that_few_viewers_know_says_trending_never_few_viewers(
    demo_viewer,
):
    page = home_page(profile=demo_viewer)
    why = why_page(profile=demo_viewer, page=page)
    trending = next(row for row in page.rows if row.kind == "trending")
    # Asked about from its title page (no row), a trending title may be a
    # hidden gem for this viewer; on the Trending row it is trending first.
    gems = [
        title
        for title in trending.titles
        if "Few viewers know it, but it’s close to your taste."
        in why_this(profile=demo_viewer, title=title)
    ]
    assert gems
    for title in trending.titles:
        sentences = why["trending", title.pk]
        assert sentences[0].startswith("Trending")
        assert not any("Few viewers" in s for s in sentences)
    for title in gems:
        assert contradictions(why_this(profile=demo_viewer, title=title)) == []


def test_the_cards_why_this_link_names_its_row_and_the_popover_leads_with_it(
    client, demo_viewer
):
    watching(client, demo_viewer)
    page = client.get(reverse("recommendations:home")).content.decode()
    links = re.findall(r'<a class="why-load" href="(/why/(\d+)/\?row=([\w-]+))"', page)
    by_row = {row: (url, int(pk)) for url, pk, row in links}
    assert {"top-picks", "trending", "top10"} <= set(by_row)

    for row, lead in [
        ("top-picks", "We predict you’d rate it"),
        ("trending", "Trending"),
        ("top10", "On today’s Top 10"),
    ]:
        url, pk = by_row[row]
        popover = client.get(url, headers=HTMX).content.decode()
        first = re.search(r"<li>(.*?)</li>", popover, re.S)[1]
        assert first.startswith(lead)
        title = Title.objects.get(pk=pk)
        assert why_this(profile=demo_viewer, title=title, row=row)[0] == first
