"""The home page's seed controls and row engagement through the API: "Don't use
as a seed" / "Use again" (``profiles/<id>/excluded-seeds/``), and a title
opened from a home row (``?row=``) counting for that row as on the site."""

import pytest
from django.contrib.sessions.backends.cache import SessionStore
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.access import ACTIVE_PROFILE_SESSION_KEY
from accounts.models import AccessToken, Profile
from accounts.services import token_create
from activity.models import Rating
from catalog.models import Title
from recommendations.models import RowEngagement, SeedExclusion
from recommendations.services import engagement
from tests.api.test_foundation import assert_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewer(demo_viewer: Profile) -> Profile:
    """A demo viewer whose home has "Because you…" rows."""
    return demo_viewer


def program_for(profile: Profile, scope=AccessToken.Scope.READ_WRITE) -> APIClient:
    """A program with a token of the profile's account (``client.token``)."""
    token, secret = token_create(user=profile.user, name="tv", scope=scope)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    client.token = token
    return client


def browser_on(profile: Profile) -> Client:
    """The site in a browser, signed in, with ``profile`` chosen."""
    client = Client()
    client.force_login(profile.user)
    session = client.session
    session[ACTIVE_PROFILE_SESSION_KEY] = profile.pk
    session.save()
    return client


def home(client, profile: Profile) -> dict:
    response = client.get(reverse("api:profile-home", args=[profile.pk]))
    assert response.status_code == 200, response.content
    return response.json()


def seeds_url(profile: Profile) -> str:
    return reverse("api:profile-excluded-seeds", args=[profile.pk])


def seed_url(profile: Profile, title_id: int) -> str:
    return reverse("api:profile-excluded-seed", args=[profile.pk, title_id])


def title_url(profile: Profile, title: Title) -> str:
    return reverse("api:catalog-api:title", args=[profile.pk, title.pk])


def seeds_on(body: dict) -> set[int]:
    """The titles seeding the "Because you…" rows of a home page."""
    return {row["seed"] for row in body["rows"] if row["kind"] == "because"}


def engagement_of(profile: Profile) -> dict[str, int]:
    return dict(
        RowEngagement.objects.filter(profile=profile).values_list("row_kind", "count")
    )


# --- "Don't use as a seed" / "Use again" -------------------------------------------


def test_excluding_a_seed_drops_its_row_and_restoring_brings_it_back(viewer):
    client = program_for(viewer)
    before = home(client, viewer)
    seed = Title.objects.get(
        pk=next(row["seed"] for row in before["rows"] if row["kind"] == "because")
    )
    heading = f"Because you rated {seed.title}"
    assert heading in [row["title"] for row in before["rows"]]

    excluded = client.put(seed_url(viewer, seed.pk))

    assert excluded.status_code == 201, excluded.content
    assert excluded.json()["id"] == seed.pk
    assert excluded.json()["title"] == seed.title
    after = home(client, viewer)
    assert seed.pk not in seeds_on(after)
    assert heading not in [row["title"] for row in after["rows"]]
    assert after["excluded_seeds"] == [{"id": seed.pk, "title": seed.title}]
    # The browser's home says the same, and the history stays.
    page = browser_on(viewer).get(reverse("recommendations:home")).content.decode()
    assert heading not in page
    assert Rating.objects.filter(profile=viewer, title=seed).exists()
    listed = client.get(seeds_url(viewer))
    assert listed.status_code == 200
    assert listed.json()["next"] is None
    assert listed.json()["results"] == [excluded.json()]
    assert client.get(seed_url(viewer, seed.pk)).json() == excluded.json()

    again = client.put(seed_url(viewer, seed.pk))

    assert again.status_code == 200
    assert again.json() == excluded.json()
    assert SeedExclusion.objects.filter(profile=viewer).count() == 1

    restored = client.delete(seed_url(viewer, seed.pk))

    assert restored.status_code == 204
    assert restored.content == b""
    back = home(client, viewer)
    assert seed.pk in seeds_on(back)
    assert heading in [row["title"] for row in back["rows"]]
    assert back["excluded_seeds"] == []
    assert client.get(seeds_url(viewer)).json()["results"] == []
    assert_error(client.get(seed_url(viewer, seed.pk)), 404, "not_found")
    assert_error(client.delete(seed_url(viewer, seed.pk)), 404, "not_found")


def test_the_api_and_the_home_page_share_the_exclusions(viewer):
    client = program_for(viewer)
    seed = next(iter(seeds_on(home(client, viewer))))
    browser = browser_on(viewer)

    browser.post(reverse("recommendations:seed_exclude", args=[seed]))

    assert client.get(seed_url(viewer, seed)).status_code == 200
    assert client.delete(seed_url(viewer, seed)).status_code == 204
    assert not SeedExclusion.objects.exists()


def test_a_read_token_may_list_but_not_exclude_or_restore(world):
    ada = world.ada.adult.profile
    seed, other = world.catalog.grown_up[0], world.catalog.grown_up[1]
    SeedExclusion.objects.create(profile=ada, title=other)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {world.ada.secret('read')}")

    assert client.get(seeds_url(ada)).status_code == 200
    assert_error(client.put(seed_url(ada, seed.pk)), 403, "scope_insufficient")
    assert_error(client.delete(seed_url(ada, other.pk)), 403, "scope_insufficient")
    assert list(SeedExclusion.objects.values_list("title", flat=True)) == [other.pk]


def test_another_accounts_profile_is_404_on_every_seed_operation(world):
    ada, eve = world.ada.adult.profile, world.eve.adult.profile
    title = world.catalog.grown_up[0]
    SeedExclusion.objects.create(profile=ada, title=title)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {world.eve.secret('account')}")

    for response in (
        client.get(seeds_url(ada)),
        client.get(seed_url(ada, title.pk)),
        client.put(seed_url(ada, world.catalog.grown_up[1].pk)),
        client.delete(seed_url(ada, title.pk)),
    ):
        assert_error(response, 404, "not_found")
        assert "Profile" not in response.json()["errors"][0]["detail"]
    assert list(SeedExclusion.objects.values_list("profile", "title")) == [
        (ada.pk, title.pk)
    ]
    assert not SeedExclusion.objects.filter(profile=eve).exists()


def test_a_kids_profile_excludes_only_titles_it_may_see(world):
    kid, ada = world.ada.kid.profile, world.ada.adult.profile
    for_kids, grown_up = world.catalog.for_kids[0], world.catalog.grown_up[0]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {world.ada.secret('kid')}")
    session = browser_on(kid)

    assert_error(client.put(seed_url(kid, grown_up.pk)), 404, "not_found")
    assert_error(client.put(seed_url(kid, 10**9)), 404, "not_found")
    assert_error(client.put(seed_url(ada, for_kids.pk)), 403, "profile_not_allowed")
    # The site's button answers the same for a title the kids profile may not see.
    blocked = session.post(reverse("recommendations:seed_exclude", args=[grown_up.pk]))
    assert blocked.status_code == 404
    assert not SeedExclusion.objects.exists()

    assert client.put(seed_url(kid, for_kids.pk)).status_code == 201
    assert list(SeedExclusion.objects.values_list("profile", "title")) == [
        (kid.pk, for_kids.pk)
    ]


# --- a title opened from a home row ----------------------------------------------------


def test_an_api_open_from_a_row_is_remembered_as_the_title_page_remembers_it(viewer):
    page_title, api_title = Title.objects.exclude(ratings__profile=viewer).order_by(
        "-id"
    )[:2]
    browser = browser_on(viewer)

    browser.get(reverse("catalog:title", args=[page_title.pk]), {"row": "gems"})
    response = browser.get(title_url(viewer, api_title), {"row": "gems"})

    assert response.status_code == 200
    assert response.json()["id"] == api_title.pk
    assert browser.session[engagement.ROW_ORIGIN_SESSION_KEY] == {
        f"{viewer.pk}:{page_title.pk}": "gems",
        f"{viewer.pk}:{api_title.pk}": "gems",
    }
    # Rated on the site, the title opened through the API counts once.
    rate = reverse("activity:rate", args=[api_title.pk])
    assert browser.post(rate, {"value": "4.5"}).status_code == 302
    browser.post(rate, {"value": "5.0"})
    assert engagement_of(viewer) == {"gems": 1}


def test_a_programs_open_is_kept_under_its_token_not_in_a_session(viewer):
    title = Title.objects.exclude(ratings__profile=viewer).order_by("-id").first()
    tv, phone = program_for(viewer), program_for(viewer)

    response = tv.get(title_url(viewer, title), {"row": "top-picks"})

    assert response.status_code == 200
    assert not response.cookies  # a program keeps no session
    origins = engagement.row_origins(session=SessionStore(), token=tv.token)
    assert origins[engagement.ROW_ORIGIN_SESSION_KEY] == {
        f"{viewer.pk}:{title.pk}": "top-picks"
    }
    # Another token (another device) did not open it.
    elsewhere = engagement.row_origins(session=SessionStore(), token=phone.token)
    assert elsewhere[engagement.ROW_ORIGIN_SESSION_KEY] == {}
    # What the rating and play endpoints call then counts it for the row, once.
    for _ in range(2):
        engagement.row_engagement_note(
            session=engagement.row_origins(session=SessionStore(), token=tv.token),
            profile=viewer,
            title_id=title.pk,
        )
    assert engagement_of(viewer) == {"top-picks": 1}


@pytest.mark.parametrize("row", ["nonsense", "Top-Picks", "top_picks", " gems"])
def test_an_unknown_row_is_a_400_naming_it_and_nothing_is_remembered(world, row):
    ada = world.ada.adult.profile
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {world.ada.secret('read')}")
    title = world.catalog.grown_up[0]

    response = client.get(title_url(ada, title), {"row": row})

    body = assert_error(response, 400, "invalid_choice")
    assert [error["attr"] for error in body["errors"]] == ["row"]
    assert body["errors"][0]["detail"] == (
        f"“{row}” is not a kind of home row; one of: "
        + ", ".join(engagement.ROW_KINDS)
        + "."
    )
    token = AccessToken.objects.get(user=world.ada.user, name="read")
    origins = engagement.row_origins(session=SessionStore(), token=token)
    assert origins[engagement.ROW_ORIGIN_SESSION_KEY] == {}


def test_an_empty_row_is_no_row_as_on_the_site(world):
    ada = world.ada.adult.profile
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {world.ada.secret('read')}")

    response = client.get(title_url(ada, world.catalog.grown_up[0]), {"row": ""})

    assert response.status_code == 200
    token = AccessToken.objects.get(user=world.ada.user, name="read")
    origins = engagement.row_origins(session=SessionStore(), token=token)
    assert origins[engagement.ROW_ORIGIN_SESSION_KEY] == {}


def test_a_row_open_of_a_title_not_to_be_seen_is_a_404_and_remembers_nothing(world):
    kid, eve = world.ada.kid.profile, world.eve.adult.profile
    grown_up = world.catalog.grown_up[0]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {world.ada.secret('kid')}")

    assert_error(
        client.get(title_url(kid, grown_up), {"row": "gems"}), 404, "not_found"
    )
    assert_error(
        client.get(title_url(eve, world.catalog.for_kids[0]), {"row": "gems"}),
        404,
        "not_found",
    )
    token = AccessToken.objects.get(user=world.ada.user, name="kid")
    origins = engagement.row_origins(session=SessionStore(), token=token)
    assert origins[engagement.ROW_ORIGIN_SESSION_KEY] == {}


def test_a_programs_rating_and_play_count_for_the_row_it_opened_them_from(viewer):
    rated, played = Title.objects.exclude(ratings__profile=viewer).order_by("-id")[:2]
    tv, phone = program_for(viewer), program_for(viewer)
    ratings = reverse("api:profile-ratings", args=[viewer.pk])
    viewings = reverse("api:profile-viewings", args=[viewer.pk])

    tv.get(title_url(viewer, rated), {"row": "gems"})
    tv.get(title_url(viewer, played), {"row": "top-picks"})
    first = tv.post(ratings, {"title": rated.pk, "value": 4.5}, format="json")
    tv.post(ratings, {"title": rated.pk, "value": 5}, format="json")
    # Played on another device (another token): it opened no row.
    elsewhere = phone.post(viewings, {"title": played.pk}, format="json")

    assert first.status_code == 201, first.content
    assert elsewhere.status_code == 201, elsewhere.content
    assert engagement_of(viewer) == {"gems": 1}

    play = tv.post(viewings, {"title": played.pk}, format="json")

    assert play.status_code == 201, play.content
    assert engagement_of(viewer) == {"gems": 1, "top-picks": 1}


def test_a_rating_through_the_api_counts_for_a_row_opened_on_the_site(viewer):
    title = Title.objects.exclude(ratings__profile=viewer).order_by("-id").first()
    browser = browser_on(viewer)
    browser.get(reverse("catalog:title", args=[title.pk]), {"row": "trending"})

    response = browser.post(
        reverse("api:profile-ratings", args=[viewer.pk]),
        {"title": title.pk, "value": 4},
        content_type="application/json",
    )

    assert response.status_code == 201, response.content
    assert engagement_of(viewer) == {"trending": 1}
