"""Impressions: the cards each home page view showed (site and API), and the
plays and new ratings that follow them (takes), within the privacy rules."""

import html
import re
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import AccessToken
from accounts.services import token_create
from activity.models import Impression
from activity.services import impression_take, impressions_record
from consent.policy import PRIVATE_SESSION_KEY
from tests.activity.conftest import watch_as
from tests.factories import (
    GenreFactory,
    PrivacySettingsFactory,
    RatingFactory,
    TitleFactory,
)

pytestmark = pytest.mark.django_db

PHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
_SECTION = re.compile(
    r'<section class="row home-row home-row-(?P<kind>[\w-]+)" .*?</section>', re.S
)
_CARD = re.compile(r'<img class="card-poster" [^>]*alt="([^"]*)"')


@pytest.fixture
def catalog(db):
    """Enough rated titles for the rows everyone gets (popular, genres…)."""
    drama, comedy = GenreFactory(name="Drama"), GenreFactory(name="Comedy")
    titles = []
    for i in range(12):
        title = TitleFactory(title=f"Film {i}", genres=[(drama, comedy)[i % 2]])
        for _ in range(1 + i % 4):
            RatingFactory(title=title)
        titles.append(title)
    return titles


def shown_on(page: str) -> list[tuple[str, int, int, str]]:
    """The cards of a home page as its HTML shows them: (row kind, row's place,
    card's place, title)."""
    cards = []
    for r, section in enumerate(_SECTION.finditer(page)):
        for p, name in enumerate(_CARD.findall(section[0])):
            cards.append((section["kind"], r, p, html.unescape(name)))
    return cards


def kept(profile, **lookup) -> list[tuple[str, int, int, str]]:
    rows = Impression.objects.filter(profile=profile, **lookup).order_by(
        "row_position", "position"
    )
    return [(i.row_kind, i.row_position, i.position, i.title.title) for i in rows]


def home(client, **headers):
    return client.get(reverse("recommendations:home"), **headers)


def inserts(queries) -> list[str]:
    return [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith('INSERT INTO "activity_impression"')
    ]


# --- what a page view keeps ----------------------------------------------------------


def test_a_home_page_view_keeps_every_card_shown_in_one_insert(
    client, profile, catalog
):
    watch_as(client, profile)

    with CaptureQueriesContext(connection) as queries:
        page = home(client).content.decode()

    shown = shown_on(page)
    assert len(shown) >= 10
    assert kept(profile) == shown
    assert len(inserts(queries)) == 1
    impressions = Impression.objects.filter(profile=profile)
    assert {i.surface for i in impressions} == {"home"}
    assert len({i.page_view for i in impressions}) == 1
    assert {(i.model_version_id, i.experiment_id, i.arm) for i in impressions} == {
        (None, None, "")
    }
    assert not impressions.filter(taken_at__isnull=False).exists()


def test_a_personal_page_keeps_the_model_version_it_came_from(client, demo_viewer):
    watch_as(client, demo_viewer)

    page = home(client).content.decode()

    assert kept(demo_viewer) == shown_on(page)
    versions = set(
        Impression.objects.filter(profile=demo_viewer).values_list(
            "model_version_id", flat=True
        )
    )
    assert versions == {demo_viewer.candidates.model_version_id}
    kinds = set(
        Impression.objects.filter(profile=demo_viewer).values_list(
            "row_kind", flat=True
        )
    )
    assert {"top-picks", "because"} <= kinds


def test_a_cached_page_is_recorded_again_under_a_new_page_view(
    client, profile, catalog
):
    watch_as(client, profile)
    home(client)

    with CaptureQueriesContext(connection) as queries:
        page = home(client).content.decode()

    views = list(
        Impression.objects.filter(profile=profile)
        .order_by("shown_at", "id")
        .values_list("page_view", flat=True)
        .distinct()
    )
    assert len(set(views)) == 2
    assert len(inserts(queries)) == 1
    for view in set(views):
        assert kept(profile, page_view=view) == shown_on(page)


def test_an_htmx_swap_of_the_rows_is_a_page_view_too(client, profile, catalog):
    watch_as(client, profile)

    page = home(client, HTTP_HX_REQUEST="true").content.decode()

    assert kept(profile) == shown_on(page)


def test_the_api_home_keeps_its_cards_as_surface_api(profile, catalog):
    _, secret = token_create(
        user=profile.user, name="tv", scope=AccessToken.Scope.READ_WRITE
    )
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")

    body = api.get(f"/api/v1/profiles/{profile.pk}/home/").json()

    sent = [
        (row["kind"], r, p, card["title"])
        for r, row in enumerate(body["rows"])
        for p, card in enumerate(row["items"])
    ]
    assert sent
    assert kept(profile) == sent
    assert set(
        Impression.objects.filter(profile=profile).values_list("surface", flat=True)
    ) == {"api"}


def test_a_visitor_without_a_profile_keeps_nothing(client, catalog):
    assert home(client).status_code == 200

    assert not Impression.objects.exists()


@pytest.mark.parametrize(
    "choice",
    [
        {"pause_viewing_history": True},
        {"personalization": False},
    ],
    ids=["history paused", "non-profiling mode"],
)
def test_nothing_is_kept_while_the_viewer_said_so(client, profile, catalog, choice):
    PrivacySettingsFactory(profile=profile, **choice)
    watch_as(client, profile)

    assert home(client).status_code == 200

    assert not Impression.objects.exists()


def test_nothing_is_kept_in_a_private_session(client, profile, catalog):
    watch_as(client, profile)
    session = client.session
    session[PRIVATE_SESSION_KEY] = [profile.pk]
    session.save()

    assert home(client).status_code == 200

    assert not Impression.objects.exists()


@pytest.mark.parametrize("contextual, device", [(True, "mobile"), (False, "")])
def test_the_device_class_is_kept_only_with_contextual_signals_on(
    client, profile, catalog, contextual, device
):
    PrivacySettingsFactory(profile=profile, contextual_signals=contextual)
    watch_as(client, profile)

    home(client, HTTP_USER_AGENT=PHONE)

    assert set(
        Impression.objects.filter(profile=profile).values_list(
            "device_class", flat=True
        )
    ) == {device}


# --- takes ------------------------------------------------------------------------------


def show(profile, cards, *, hours_ago: float = 0) -> None:
    """One page view of ``cards`` ((row_kind, row_position, title, position)),
    shown ``hours_ago``."""
    page_view = uuid.uuid4()
    impressions_record(
        profile=profile,
        cards=[(k, r, t.pk, p, "") for k, r, t, p in cards],
        page_view=page_view,
        surface="home",
        model_version_id=None,
        experiment_id=None,
        arm="",
        device_class="",
        private_session=False,
    )
    Impression.objects.filter(page_view=page_view).update(
        shown_at=timezone.now() - timedelta(hours=hours_ago)
    )


def taken(profile) -> list[tuple[str, int, str]]:
    return list(
        Impression.objects.filter(profile=profile, taken_at__isnull=False)
        .order_by("shown_at")
        .values_list("row_kind", "row_position", "take")
    )


def test_a_play_from_a_row_marks_the_latest_impression_in_that_row(viewer, profile):
    film, other = TitleFactory(), TitleFactory()
    show(profile, [("trending", 0, film, 3), ("new", 1, film, 0)], hours_ago=3)
    show(profile, [("trending", 0, film, 2), ("new", 1, film, 0), ("new", 1, other, 1)])

    viewer.get(reverse("catalog:title", args=[film.pk]), {"row": "trending"})
    response = viewer.post(reverse("activity:play", args=[film.pk]))

    assert response.status_code == 302
    latest_trending = Impression.objects.get(
        profile=profile, row_kind="trending", position=2
    )
    assert latest_trending.take == "play"
    assert latest_trending.taken_at is not None
    assert taken(profile) == [("trending", 0, "play")]  # one impression only


def test_a_play_not_opened_from_a_row_marks_the_latest_impression(viewer, profile):
    film = TitleFactory()
    show(profile, [("trending", 0, film, 0)], hours_ago=2)
    show(profile, [("new", 3, film, 5)], hours_ago=1)

    viewer.post(reverse("activity:play", args=[film.pk]))

    assert taken(profile) == [("new", 3, "play")]


def test_a_new_rating_marks_an_impression_and_a_changed_one_does_not(viewer, profile):
    film = TitleFactory()
    show(profile, [("top10", 0, film, 0)], hours_ago=2)
    show(profile, [("top10", 0, film, 0)], hours_ago=1)

    viewer.post(reverse("activity:rate", args=[film.pk]), {"value": "4.0"})
    viewer.post(reverse("activity:rate", args=[film.pk]), {"value": "3.0"})

    assert taken(profile) == [("top10", 0, "rating")]
    assert Impression.objects.filter(profile=profile, take="").count() == 1


def test_outside_the_attribution_window_nothing_is_marked(viewer, profile, settings):
    settings.IMPRESSION_ATTRIBUTION_HOURS = 24
    film = TitleFactory()
    show(profile, [("trending", 0, film, 0)], hours_ago=25)

    viewer.get(reverse("catalog:title", args=[film.pk]), {"row": "trending"})
    viewer.post(reverse("activity:play", args=[film.pk]))

    assert taken(profile) == []


def test_each_take_marks_the_latest_impression_once(profile):
    film = TitleFactory()
    show(profile, [("trending", 0, film, 0)], hours_ago=2)
    show(profile, [("genre", 2, film, 4)], hours_ago=1)

    # A play, then a rating of what the latest card showed: one take.
    assert impression_take(profile=profile, title_id=film.pk, take="play")
    assert not impression_take(profile=profile, title_id=film.pk, take="rating")
    assert taken(profile) == [("genre", 2, "play")]

    # Shown again and played again: the new card is taken, the old card
    # (an older impression) never.
    show(profile, [("because", 1, film, 3)])
    assert impression_take(profile=profile, title_id=film.pk, take="play")
    assert Impression.objects.filter(profile=profile, take="play").count() == 2
    assert Impression.objects.get(row_kind="trending").taken_at is None


def test_a_take_never_marks_another_profiles_impression(profile, other_profile):
    film = TitleFactory()
    show(other_profile, [("trending", 0, film, 0)])

    assert not impression_take(profile=profile, title_id=film.pk, take="play")
    assert taken(other_profile) == []


def test_plays_in_a_private_session_or_the_non_profiling_mode_mark_nothing(
    viewer, profile
):
    film = TitleFactory()
    show(profile, [("trending", 0, film, 0)])
    session = viewer.session
    session[PRIVATE_SESSION_KEY] = [profile.pk]
    session.save()

    viewer.post(reverse("activity:rate", args=[film.pk]), {"value": "4.0"})
    assert taken(profile) == []

    PrivacySettingsFactory(profile=profile, personalization=False)
    assert not impression_take(profile=profile, title_id=film.pk, take="play")
    assert taken(profile) == []


def test_the_api_play_and_rating_attribute_like_the_pages(profile):
    film, other = TitleFactory(), TitleFactory()
    show(profile, [("trending", 0, film, 0), ("trending", 0, other, 1)])
    _, secret = token_create(
        user=profile.user, name="tv", scope=AccessToken.Scope.READ_WRITE
    )
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")

    played = api.post(
        f"/api/v1/profiles/{profile.pk}/viewings/", {"title": film.pk}, format="json"
    )
    rated = api.post(
        f"/api/v1/profiles/{profile.pk}/ratings/",
        {"title": other.pk, "value": 4.5},
        format="json",
    )

    assert (played.status_code, rated.status_code) == (201, 201)
    assert dict(
        Impression.objects.filter(profile=profile).values_list("title_id", "take")
    ) == {film.pk: "play", other.pk: "rating"}
