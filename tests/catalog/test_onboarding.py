"""Onboarding: a new profile picks at least 3 titles it likes (or skips)."""

import re

import pytest
from django.urls import reverse

from accounts.access import ACTIVE_PROFILE_SESSION_KEY
from activity.models import Feedback, Rating
from catalog.selectors import (
    ONBOARDING_MIN_PICKS,
    ONBOARDING_SET_SIZE,
    ROW_LENGTH,
    profile_needs_onboarding,
)
from tests.factories import (
    ACCOUNT_PASSWORD,
    AccountFactory,
    GenreFactory,
    ProfileFactory,
    RatingFactory,
    TitleFactory,
)

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
WELCOME = reverse("catalog:onboarding")
PICK = reverse("catalog:onboarding_pick")
DONE = reverse("catalog:onboarding_done")
#: Genre name -> how many titles it has; the 7th is too small to be asked about.
GENRES = {
    "Drama": 14,
    "Comedy": 13,
    "Action": 12,
    "Thriller": 11,
    "Romance": 10,
    "Sci-Fi": 9,
    "Western": 8,
}


@pytest.fixture
def catalog() -> dict[str, list[int]]:
    """Each genre's titles, most rated first ("Drama 00" the most)."""
    viewers = ProfileFactory.create_batch(max(GENRES.values()))
    titles, ratings = {}, []
    for name, size in GENRES.items():
        genre = GenreFactory(name=name)
        titles[name] = []
        for i in range(size):
            title = TitleFactory(title=f"{name} {i:02}", genres=[genre])
            ratings += [Rating(profile=v, title=title, value=4.0) for v in viewers[i:]]
            titles[name].append(title.pk)
    Rating.objects.bulk_create(ratings)
    return titles


@pytest.fixture
def profile(client):
    profile = ProfileFactory(name="Ada", user=AccountFactory())
    choose(client, profile)
    return profile


def choose(client, profile) -> None:
    client.force_login(profile.user)
    session = client.session
    session[ACTIVE_PROFILE_SESSION_KEY] = profile.pk
    session.save()


def on_grid(response) -> list[str]:
    return [title.title for title, _ in response.context["cards"]]


def picks(profile) -> set[str]:
    return set(
        Feedback.objects.filter(profile=profile, kind=Feedback.Kind.PICK).values_list(
            "title__title", flat=True
        )
    )


def pick(client, title_pk: int, picked: bool = True, **headers):
    data = {"title": title_pk, "picked": "1" if picked else "0", "page": "1"}
    return client.post(PICK, data, headers=headers)


# --- The grid -----------------------------------------------------------------


def test_the_grid_shows_the_4_most_rated_titles_of_the_6_biggest_genres(
    client, catalog, profile
):
    response = client.get(WELCOME)

    assert response.status_code == 200
    top = [f"{genre} {i:02}" for i in range(4) for genre in list(GENRES)[:6]]
    assert on_grid(response) == top
    assert len(top) == ONBOARDING_SET_SIZE
    html = response.content.decode()
    assert "What do you like, Ada?" in html
    assert html.count('aria-pressed="false"') == ONBOARDING_SET_SIZE
    assert "Western" not in html


def test_a_title_in_two_genres_is_shown_once(client, profile):
    drama, comedy = GenreFactory(name="Drama"), GenreFactory(name="Comedy")
    both = TitleFactory(title="Both", genres=[drama, comedy])
    RatingFactory.create_batch(5, title=both)
    TitleFactory(title="Only drama", genres=[drama])
    TitleFactory(title="Only comedy", genres=[comedy])

    assert on_grid(client.get(WELCOME)) == ["Both", "Only comedy", "Only drama"]


def test_show_me_others_gives_the_next_set_and_wraps_around(client, catalog, profile):
    first = client.get(WELCOME)
    html = first.content.decode()
    assert (
        '<a id="show-others" class="button button-secondary" href="/welcome/?page=2" '
        'hx-get="/welcome/?page=2" hx-target="#pick-set" hx-swap="outerHTML" '
        'hx-push-url="true">Show me others</a>'
    ) in html

    second = client.get(WELCOME, {"page": "2"})
    assert on_grid(second)[:6] == [f"{g} 04" for g in list(GENRES)[:6]]
    assert not set(on_grid(first)) & set(on_grid(second))
    # The 6 genres' 9 to 14 titles are 69: sets of 24, 24 and 21, then set 1 again.
    third = client.get(WELCOME, {"page": "3"})
    assert len(on_grid(third)) == 69 - 2 * ONBOARDING_SET_SIZE
    assert 'href="/welcome/?page=1"' in third.content.decode()


def test_show_me_others_with_htmx_swaps_only_the_grid(client, catalog, profile):
    RatingFactory(profile=profile)  # an earlier pick state must show on any set
    Feedback.objects.create(
        profile=profile, title_id=catalog["Drama"][4], kind=Feedback.Kind.PICK
    )

    response = client.get(WELCOME, {"page": "2"}, headers=HTMX)

    html = response.content.decode()
    assert "<html" not in html
    assert html.strip().startswith('<div id="pick-set" class="pick-set">')
    assert html.count('class="pick"') == ONBOARDING_SET_SIZE
    assert html.count('aria-pressed="true"') == 1
    assert 'href="/welcome/?page=3"' in html
    assert "HX-Request" in response["Vary"]


@pytest.mark.parametrize("page", ["0", "4", "-1", "abc", "1.5", "9" * 30])
def test_a_set_that_does_not_exist_is_404(client, catalog, profile, page):
    assert client.get(WELCOME, {"page": page}).status_code == 404


def test_an_empty_catalog_offers_nothing_to_pick_but_a_way_home(client, profile):
    response = client.get(WELCOME)

    assert response.status_code == 200
    assert "There are no titles to pick from yet." in response.content.decode()


# --- Picking --------------------------------------------------------------------


def test_a_pick_with_htmx_is_stored_and_answers_the_pressed_toggle(
    client, catalog, profile
):
    drama = catalog["Drama"][0]

    response = pick(client, drama, **HTMX)

    assert response.status_code == 200
    assert picks(profile) == {"Drama 00"}
    html = response.content.decode()
    assert html.strip().startswith(f'<li class="pick" id="pick-{drama}">')
    assert 'name="picked" value="0" aria-pressed="true"' in html
    assert '<p id="pick-count" hx-swap-oob="innerHTML">1 of 3 picked</p>' in html
    assert re.search(r'<form id="onboarding-done"[^>]*hx-swap-oob="true"', html)
    assert re.search(
        r'<button class="button button-primary" type="submit" disabled>', html
    )


def test_picking_twice_keeps_one_pick(client, catalog, profile):
    pick(client, catalog["Drama"][0], **HTMX)
    pick(client, catalog["Drama"][0], **HTMX)

    assert Feedback.objects.filter(profile=profile).count() == 1


def test_un_picking_removes_the_pick(client, catalog, profile):
    pick(client, catalog["Drama"][0], **HTMX)
    pick(client, catalog["Comedy"][0], **HTMX)

    response = pick(client, catalog["Drama"][0], picked=False, **HTMX)

    assert picks(profile) == {"Comedy 00"}
    html = response.content.decode()
    assert 'name="picked" value="1" aria-pressed="false"' in html
    assert ">1 of 3 picked<" in html


def test_the_third_pick_enables_done(client, catalog, profile):
    for genre in ("Drama", "Comedy"):
        pick(client, catalog[genre][0], **HTMX)

    response = pick(client, catalog["Action"][0], **HTMX)

    html = response.content.decode()
    assert ">3 picked: you’re all set<" in html
    assert '<button class="button button-primary" type="submit">Done</button>' in html


def test_a_pick_without_javascript_comes_back_to_the_same_set(client, catalog, profile):
    title = catalog["Drama"][5]

    response = client.post(PICK, {"title": title, "picked": "1", "page": "2"})

    assert response.status_code == 302
    assert response["Location"] == f"/welcome/?page=2#pick-{title}"
    page = client.get(WELCOME, {"page": "2"}).content.decode()
    assert f'id="pick-button-{title}" class="pick-button" type="submit" ' in page
    assert 'name="picked" value="0" aria-pressed="true"' in page
    assert ">1 of 3 picked<" in page


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"title": "abc", "picked": "1"},
        {"title": "1", "picked": "maybe"},
        {"title": "-4", "picked": "1"},
        {"title": str(2**64), "picked": "1"},
        {"title": "1", "picked": "1", "page": "x"},
    ],
)
def test_a_bad_pick_is_400_and_stores_nothing(client, catalog, profile, data):
    response = client.post(PICK, data)

    assert response.status_code == 400
    assert not Feedback.objects.exists()


def test_picking_an_unknown_or_withdrawn_title_is_404(client, catalog, profile):
    withdrawn = TitleFactory(is_available=False)

    assert pick(client, 999999).status_code == 404
    assert pick(client, withdrawn.pk).status_code == 404
    assert not Feedback.objects.exists()


def test_picks_need_a_post(client, catalog, profile):
    assert client.get(PICK, {"title": catalog["Drama"][0]}).status_code == 405
    assert client.get(DONE).status_code == 405


# --- Done and skip --------------------------------------------------------------


def test_done_is_refused_with_2_picks(client, catalog, profile):
    for genre in ("Drama", "Comedy"):
        pick(client, catalog[genre][0])

    html = client.get(WELCOME).content.decode()
    assert '<button class="button button-primary" type="submit" disabled>' in html
    response = client.post(DONE)

    assert response.status_code == 400
    assert f"Pick at least {ONBOARDING_MIN_PICKS} titles you like" in (
        response.content.decode()
    )
    assert len(picks(profile)) == 2


def test_done_is_accepted_with_3_picks_and_goes_home(client, catalog, profile):
    for genre in ("Drama", "Comedy", "Action"):
        pick(client, catalog[genre][0])

    html = client.get(WELCOME).content.decode()
    assert '<button class="button button-primary" type="submit">Done</button>' in html
    response = client.post(DONE)

    assert response.status_code == 302
    assert response["Location"] == reverse("recommendations:home")
    assert picks(profile) == {"Drama 00", "Comedy 00", "Action 00"}


def test_skip_goes_home(client, catalog, profile):
    html = client.get(WELCOME).content.decode()

    assert '<a class="button button-quiet" href="/">Skip for now</a>' in html


# --- Who may onboard ------------------------------------------------------------


def test_onboarding_needs_a_log_in_and_a_profile(client, catalog):
    assert client.get(WELCOME)["Location"].startswith(reverse("accounts:login"))
    assert client.post(DONE)["Location"].startswith(reverse("accounts:login"))

    client.force_login(AccountFactory())
    response = client.post(PICK, {"title": catalog["Drama"][0], "picked": "1"})

    assert response["Location"].startswith(reverse("accounts:profile_picker"))
    assert not Feedback.objects.exists()


def test_another_users_profile_cannot_be_used(client, catalog, profile):
    stranger = ProfileFactory(name="Stranger")

    response = client.post(
        reverse("accounts:profile_choose", args=[stranger.pk]), {"next": WELCOME}
    )
    assert response.status_code == 404

    # A session that names someone else's profile is not theirs to pick for.
    session = client.session
    session[ACTIVE_PROFILE_SESSION_KEY] = stranger.pk
    session.save()
    response = client.post(PICK, {"title": catalog["Drama"][0], "picked": "1"})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:profile_picker"))
    assert client.get(WELCOME).status_code == 302
    assert not Feedback.objects.exists()


def test_a_pick_lands_on_the_active_profile_only(client, catalog, profile):
    sibling = ProfileFactory(user=profile.user, name="Sibling")

    pick(client, catalog["Drama"][0])

    assert picks(profile) == {"Drama 00"}
    assert picks(sibling) == set()


# --- Who lands here -------------------------------------------------------------


def test_creating_a_profile_redirects_to_onboarding(client, catalog, profile):
    response = client.post(
        reverse("accounts:profile_create"),
        {"name": "Grace", "avatar_color": "#3498db"},
    )

    assert response.status_code == 302
    assert response["Location"] == WELCOME
    welcome = client.get(WELCOME)
    assert welcome.context["request"].profile.name == "Grace"
    assert "What do you like, Grace?" in welcome.content.decode()


def test_signing_up_lands_the_first_profile_on_onboarding(client, catalog):
    response = client.post(
        reverse("accounts:signup"),
        {
            "name": "Grace",
            "email": "g.hopper@example.com",
            "password1": ACCOUNT_PASSWORD,
            "password2": ACCOUNT_PASSWORD,
        },
        follow=True,
    )

    assert response.redirect_chain == [(WELCOME, 302)]
    assert "What do you like, Grace?" in response.content.decode()


def test_profiles_with_ratings_or_picks_skip_onboarding(catalog):
    fresh, rater, picker, thumbs = ProfileFactory.create_batch(4)
    RatingFactory(profile=rater)
    Feedback.objects.create(
        profile=picker, title_id=catalog["Drama"][0], kind=Feedback.Kind.PICK
    )
    Feedback.objects.create(
        profile=thumbs, title_id=catalog["Drama"][0], kind=Feedback.Kind.THUMBS_UP
    )

    assert profile_needs_onboarding(fresh) is True
    assert profile_needs_onboarding(rater) is False
    assert profile_needs_onboarding(picker) is False
    assert profile_needs_onboarding(thumbs) is True


# --- Page quality -----------------------------------------------------------------


@pytest.mark.parametrize("titles", [1, 50])
def test_onboarding_query_count_does_not_grow(
    client, profile, django_assert_num_queries, titles
):
    genre = GenreFactory(name="Drama")
    for _ in range(titles):
        TitleFactory(genres=[genre])
    client.get(WELCOME)  # fills the row cache, as the home does

    # user, profile (the session comes from the cache); the set's titles; the
    # profile's picks
    with django_assert_num_queries(4):
        response = client.get(WELCOME)
    # One genre: its row of (at most) 20 most rated titles.
    assert len(response.context["cards"]) == min(titles, ROW_LENGTH)


def test_onboarding_has_no_inline_script_or_style(client, catalog, profile):
    for response in [
        client.get(WELCOME),
        client.get(WELCOME, {"page": "2"}, headers=HTMX),
        pick(client, catalog["Drama"][0], **HTMX),
    ]:
        html = response.content.decode()
        assert re.findall(r"<script(?![^>]*\bsrc=)", html) == []
        assert re.findall(r"\s(?:on[a-z]+|style)=", html) == []
