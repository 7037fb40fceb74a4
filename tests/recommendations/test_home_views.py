"""The home page as a browser gets it ("/"), and its controls: mood chips,
"Why this?", seeds, exploration and calibration, row engagement."""

import html
import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from accounts.access import ACTIVE_PROFILE_SESSION_KEY
from accounts.models import Profile
from activity.models import Rating, ViewingEvent
from catalog.models import Title
from consent.models import PrivacySettings
from privacy.models import ConsentEvent
from recommendations.home.rows import FIRST_SCREEN, REPEATABLE, SHELVES
from recommendations.models import RowEngagement, SeedExclusion
from recommendations.services import engagement
from tests.factories import (
    GenreFactory,
    PrivacySettingsFactory,
    ProfileFactory,
    TitleFactory,
)

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
_SECTION = re.compile(
    r'<section class="row home-row home-row-(?P<kind>[\w-]+)" '
    r'aria-labelledby="row-(?P<key>[\w-]+)">(?P<body>.*?)</section>',
    re.S,
)


def home_rows(page: str) -> dict[str, list[str]]:
    """Each home row's heading and the titles of its cards, read from the HTML."""
    found = {}
    for match in _SECTION.finditer(page):
        body = match["body"]
        name = re.search(r"<h2 id=\"row-[\w-]+\">(.*?)</h2>", body)[1]
        titles = re.findall(r'<img class="card-poster" [^>]*alt="([^"]*)"', body)
        found[html.unescape(name)] = [html.unescape(t) for t in titles]
    return found


def watching(client, profile) -> None:
    client.force_login(profile.user)
    session = client.session
    session[ACTIVE_PROFILE_SESSION_KEY] = profile.pk
    session.save()


@pytest.fixture
def viewer(client, demo_viewer: Profile) -> Profile:
    """A demo viewer with ratings and a viewing in progress, watching."""
    watching(client, demo_viewer)
    return demo_viewer


def get_home(client, **params):
    return client.get(reverse("recommendations:home"), params)


# --- The page -------------------------------------------------------------------------


def test_the_home_renders_every_row_of_the_profile_in_one_response(client, viewer):
    response = get_home(client)

    page = response.content.decode()
    assert response.status_code == 200
    rows = home_rows(page)
    names = list(rows)
    assert names[:2] == ["Continue watching", f"Top picks for {viewer.name}"]
    assert any(name.startswith("Because you rated ") for name in names)
    assert {"Trending now", "Top 10 today"} <= set(names)
    assert all(rows.values())
    assert page.count('<p class="row-reason">') == len(rows)
    assert "% match</span>" in page
    title = Title.objects.get(title=rows[names[1]][0])
    why = reverse("recommendations:why", args=[title.pk]) + "?row=top-picks"
    assert f'href="/titles/{title.pk}/?row=top-picks"' in page
    assert f'<a class="why-load" href="{why}" hx-get="{why}"' in page
    assert '<svg class="bubble-svg"' in page
    assert f'action="{reverse("privacy:home_controls")}"' in page
    assert "row-load" not in page  # nothing is left to load later


def test_the_bubble_meter_comes_after_the_rows_not_before_the_first(client, viewer):
    page = get_home(client).content.decode()

    # Content first: the first row leads; the meter sits below the rows, by the
    # controls its "Explore beyond your usual" link leads to.
    first_row = page.index('<section class="row home-row')
    last_row = page.rindex('<section class="row home-row')
    meter = page.index('<section class="bubble"')
    assert first_row < last_row < meter < page.index('id="home-controls"')


def test_a_title_shows_in_one_row_of_suggestions_and_once_on_the_first_screen(
    client, viewer
):
    page = get_home(client).content.decode()
    rows = [(m["kind"], home_rows(m[0]).popitem()[1]) for m in _SECTION.finditer(page)]

    others = [(kind, titles) for kind, titles in rows if kind not in SHELVES]
    suggested = [t for kind, ts in others if kind not in REPEATABLE for t in ts]
    assert len(suggested) >= 60  # a full page: several rows of suggestions
    assert len(suggested) == len(set(suggested))
    first_screen = [
        t for kind, ts in rows[:FIRST_SCREEN] if kind not in SHELVES for t in ts
    ]
    assert len(first_screen) == len(set(first_screen))
    everything = [t for _, ts in others for t in ts]
    assert max(everything.count(t) for t in everything) <= 2


def test_the_home_has_no_inline_script_or_style(client, viewer):
    for response in [
        get_home(client),
        get_home(client, mood="thrilling"),
        client.get(reverse("recommendations:home"), headers=HTMX),
    ]:
        page = response.content.decode()
        assert re.findall(r"<script(?![^>]*\bsrc=)", page) == []
        assert re.findall(r"\s(?:on[a-z]+|style)=", page) == []


def test_the_home_is_a_fixed_number_of_queries_cold_and_warm(
    client, viewer, django_assert_num_queries
):
    get_home(client)
    cache.clear()
    # session, user, profile; candidates' version; to build: candidates,
    # model, the profile's six kinds of signals, catalog snapshot (7), charts
    # (trend table, newest activity ×3, recent activity ×3), collections,
    # the titles shown, the hard filters and "show fewer" titles; the cards
    # shown (impressions: one insert, as on every page below)
    with django_assert_num_queries(30):
        get_home(client)
    # user, profile (the session is cached); candidates' version; withdrawn?
    with django_assert_num_queries(5):
        get_home(client)
    # a mood is another page, built from the cached catalog and charts: user,
    # profile, candidates' version; candidates, model, six kinds of signals,
    # collections, titles, the hard filters and "show fewer" titles
    with django_assert_num_queries(15):
        get_home(client, mood="feel-good")


def test_a_rating_rebuilds_the_rows_at_once(client, viewer, on_commit):
    rows = home_rows(get_home(client).content.decode())
    top = Title.objects.get(title=rows[f"Top picks for {viewer.name}"][0])

    with on_commit():
        client.post(reverse("activity:rate", args=[top.pk]), {"value": "2.0"})

    rows = home_rows(get_home(client).content.decode())
    assert top.title not in {t for titles in rows.values() for t in titles}


def test_a_title_withdrawn_leaves_the_cached_home_at_once(client, viewer):
    rows = home_rows(get_home(client).content.decode())
    title = Title.objects.get(title=rows["Trending now"][0])

    Title.objects.filter(pk=title.pk).update(is_available=False)

    rows = home_rows(get_home(client).content.decode())
    assert title.title not in {t for titles in rows.values() for t in titles}


def test_continue_watching_cards_remove_with_a_working_csrf_token(viewer):
    client = Client(enforce_csrf_checks=True)
    watching(client, viewer)
    page = get_home(client).content.decode()
    viewing = ViewingEvent.objects.get(profile=viewer, completed=False)
    remove = reverse("activity:continue_watching_remove", args=[viewing.pk])
    form = re.search(rf'action="{remove}".*?</form>', page, re.S)[0]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)[1]

    response = client.post(remove, {"csrfmiddlewaretoken": token, "next": "/"})

    assert response.status_code == 302
    viewing.refresh_from_db()
    assert viewing.dismissed
    assert "Continue watching" not in home_rows(get_home(client).content.decode())


# --- Not personalized -------------------------------------------------------------------


def test_personalization_off_shows_everyones_rows_and_says_so(client, viewer):
    PrivacySettings.objects.update_or_create(
        profile=viewer, defaults={"personalization": False}
    )

    page = get_home(client).content.decode()

    assert '<p class="home-note" role="note">Personalized rows are off for' in page
    names = list(home_rows(page))
    assert names[0] == "Trending now"
    assert not {"Continue watching", "My List"} & set(names)
    assert not any(name.startswith(("Top picks", "Because")) for name in names)
    assert "bubble-svg" not in page


def test_a_visitor_and_a_new_profile_share_the_rows_everyone_gets(
    client, trained, django_assert_num_queries
):
    visitor = home_rows(get_home(client).content.decode())
    newbie = ProfileFactory(name="Bo")
    watching(client, newbie)

    # user, profile, candidates (none yet), active model, its hard filters
    # and "show fewer" titles (none: the page everyone gets); withdrawn?;
    # the cards shown (impressions)
    with django_assert_num_queries(7):
        page = get_home(client).content.decode()

    assert home_rows(page) == visitor
    assert "Marquee doesn’t know what Bo likes yet" in page


# --- Moods ---------------------------------------------------------------------------------


def test_a_mood_chip_reranks_and_htmx_gets_the_rows_alone(client, viewer):
    plain = home_rows(get_home(client).content.decode())

    response = client.get(
        reverse("recommendations:home"), {"mood": "light-short"}, headers=HTMX
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert page.lstrip().startswith('<div class="home-main" id="home-main">')
    assert "<html" not in page
    assert 'aria-current="true">Light &amp; short</a>' in page
    top = f"Top picks for {viewer.name}"
    assert home_rows(page)[top] != plain[top]
    assert "Mood: Light &amp; short." in page
    assert "HX-Request" in response["Vary"]


@pytest.mark.parametrize("headers", [{}, HTMX])
def test_an_unknown_mood_is_a_400_that_says_so(client, viewer, headers):
    response = client.get(
        reverse("recommendations:home"), {"mood": "sleepy"}, headers=headers
    )

    assert response.status_code == 400
    assert "There is no mood “sleepy”" in response.content.decode()


# --- Why this? ------------------------------------------------------------------------------


def test_why_this_is_a_popover_for_htmx_and_a_page_without(client, viewer):
    rows = home_rows(get_home(client).content.decode())
    title = Title.objects.get(title=rows[f"Top picks for {viewer.name}"][0])
    url = reverse("recommendations:why", args=[title.pk])

    fragment = client.get(url, headers=HTMX).content.decode()
    page = client.get(url).content.decode()

    assert fragment.lstrip().startswith('<div class="why-body" role="status">')
    assert "We predict you’d rate it" in fragment
    assert "<html" not in fragment
    assert page.startswith("<!doctype html>")
    assert f'<h1 class="page-title">Why “{html.escape(title.title)}”?</h1>' in page


def test_why_this_for_a_title_a_kids_profile_may_not_see_is_404(client):
    horror = TitleFactory(genres=[GenreFactory(name="Horror")])
    watching(client, ProfileFactory(is_kids=True))

    assert (
        client.get(reverse("recommendations:why", args=[horror.pk])).status_code == 404
    )


# --- Seeds ------------------------------------------------------------------------------------


def test_dont_use_as_a_seed_keeps_the_history_and_can_be_undone(client, viewer):
    page = get_home(client).content.decode()
    seed_id = int(re.search(r'action="/seeds/(\d+)/exclude/"', page)[1])
    seed = Title.objects.get(pk=seed_id)

    response = client.post(
        reverse("recommendations:seed_exclude", args=[seed_id]), headers=HTMX
    )

    assert response.status_code == 200
    assert "won’t pick rows for you any more" in response.content.decode()
    assert SeedExclusion.objects.filter(profile=viewer, title=seed).exists()
    assert Rating.objects.filter(profile=viewer, title=seed).exists()
    rows = home_rows(get_home(client).content.decode())
    assert f"Because you rated {seed.title}" not in rows

    response = client.post(reverse("recommendations:seed_restore", args=[seed_id]))

    assert response.status_code == 302
    assert not SeedExclusion.objects.exists()
    assert f"Because you rated {seed.title}" in home_rows(
        get_home(client).content.decode()
    )


def test_seed_controls_refuse_get_and_unknown_titles(client, viewer):
    url = reverse("recommendations:seed_exclude", args=[Title.objects.first().pk])
    assert client.get(url).status_code == 405
    missing = reverse("recommendations:seed_exclude", args=[10**6])
    assert client.post(missing).status_code == 404
    assert not SeedExclusion.objects.exists()


# --- Exploration and calibration -------------------------------------------------------------


def test_the_controls_save_exploration_and_calibration(client, viewer):
    before = Profile.objects.get(pk=viewer.pk).activity_changed_at

    response = client.post(
        reverse("privacy:home_controls"), {"exploration": "80"}, headers=HTMX
    )

    assert response.status_code == 200
    settings = PrivacySettings.objects.get(profile=viewer)
    assert (settings.exploration, settings.calibration) == (80, False)
    assert set(
        ConsentEvent.objects.filter(profile_id_at_time=viewer.pk).values_list(
            "what", flat=True
        )
    ) == {"exploration", "calibration"}
    assert Profile.objects.get(pk=viewer.pk).activity_changed_at > before
    page = response.content.decode()
    assert 'value="80"' in page
    assert "with plenty of variety" in page


@pytest.mark.parametrize("value", ["150", "-1", "lots", ""])
def test_controls_refuse_a_bad_exploration_and_change_nothing(client, viewer, value):
    response = client.post(
        reverse("privacy:home_controls"), {"exploration": value, "calibration": "on"}
    )

    assert response.status_code == 400
    assert not PrivacySettings.objects.filter(profile=viewer).exists()
    assert not ConsentEvent.objects.exists()


def test_a_kids_profile_needs_the_account_password_for_the_controls(client):
    kid = ProfileFactory(is_kids=True)
    watching(client, kid)

    response = client.post(reverse("privacy:home_controls"), {"exploration": "90"})

    assert response.status_code == 302
    assert reverse("accounts:confirm_password") in response["Location"]
    assert not PrivacySettings.objects.filter(profile=kid).exists()


# --- Row engagement ------------------------------------------------------------------------------


def test_a_rating_of_a_title_opened_from_a_row_counts_for_that_row(client, viewer):
    title = Title.objects.exclude(ratings__profile=viewer).order_by("-id").first()
    other = Title.objects.exclude(ratings__profile=viewer).order_by("-id")[1]
    rate = reverse("activity:rate", args=[title.pk])

    client.get(reverse("catalog:title", args=[title.pk]), {"row": "gems"})
    client.post(rate, {"value": "4.5"})
    client.post(rate, {"value": "5.0"})  # the same visit counts once
    client.get(reverse("catalog:title", args=[other.pk]), {"row": "nonsense"})
    client.post(reverse("activity:rate", args=[other.pk]), {"value": "3.0"})
    client.get(reverse("catalog:title", args=[other.pk]), {"row": "top-picks"})
    client.post(reverse("activity:play", args=[other.pk]), {"start": "beginning"})

    assert dict(
        RowEngagement.objects.filter(profile=viewer).values_list("row_kind", "count")
    ) == {"gems": 1, "top-picks": 1}


def test_rows_engaged_with_rise_on_the_home(client, viewer):
    names = list(home_rows(get_home(client).content.decode()))
    trending = names.index("Trending now")
    engagement.row_engagement_record(profile=viewer, row_kind="trending")

    names = list(home_rows(get_home(client).content.decode()))

    assert names.index("Trending now") < trending


def test_a_profile_with_privacy_saved_and_hidden_genres_never_sees_them(client, viewer):
    drama = GenreFactory(name="Drama")
    assert Title.objects.filter(genres=drama).count() > 20
    PrivacySettingsFactory(profile=viewer).hidden_genres.add(drama)

    rows = home_rows(get_home(client).content.decode())

    shown = {t for titles in rows.values() for t in titles}
    assert len(shown) > 20
    assert not Title.objects.filter(title__in=shown, genres=drama).exists()
