"""The title page's actions, "More like this", and the profile's shelf pages."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from activity.models import Feedback, ListItem, Rating, ViewingEvent
from catalog.models import Title
from recommendations import selectors as recommendation_selectors
from recommendations.models import ProfileCandidates
from tests.activity.conftest import HTMX, watch_as
from tests.factories import (
    FeedbackFactory,
    GenreFactory,
    ListItemFactory,
    ProfileFactory,
    RatingFactory,
    TitleFactory,
    ViewingEventFactory,
)

pytestmark = pytest.mark.django_db


def url(name: str, *args) -> str:
    return reverse(f"activity:{name}", args=args)


# --- the title page -------------------------------------------------------------------


def test_title_page_loads_the_actions_and_more_like_this_with_plain_links(viewer):
    title = TitleFactory(title="Heat")

    page = viewer.get(reverse("catalog:title", args=[title.pk])).content.decode()

    actions, similar = (
        url("title_actions", title.pk),
        reverse("recommendations:more_like_this", args=[title.pk]),
    )
    assert f'hx-get="{actions}" hx-trigger="load"' in page
    assert f'href="{actions}"' in page
    assert f'href="{url("play", title.pk)}"' in page
    assert f'hx-get="{similar}" hx-trigger="load"' in page
    assert f'href="{similar}"' in page


def test_title_page_asks_a_visitor_to_sign_in_instead(client):
    title = TitleFactory(title="Heat")

    page = client.get(reverse("catalog:title", args=[title.pk])).content.decode()

    assert "Sign in to watch" in page
    assert url("title_actions", title.pk) not in page
    assert reverse("recommendations:more_like_this", args=[title.pk]) not in page


def test_title_page_actions_add_no_query(viewer):
    """The loaders read only what the title page already has."""
    title = TitleFactory()
    path = reverse("catalog:title", args=[title.pk])
    with CaptureQueriesContext(connection) as signed_in:
        viewer.get(path)
    viewer.logout()
    with CaptureQueriesContext(connection) as visitor:
        viewer.get(path)

    # a visitor's request reads no user or profile (2 queries; the session
    # is read from the cache); the title's public facts were cached by the
    # first request
    assert len(signed_in) == len(visitor) + 2 + 4


# --- the actions panel ----------------------------------------------------------------


def test_actions_fragment_shows_the_profiles_own_state(viewer, profile):
    title = TitleFactory(title="Heat")
    RatingFactory(profile=profile, title=title, value=3.5)
    FeedbackFactory(profile=profile, title=title, kind=Feedback.Kind.THUMBS_UP)
    ListItemFactory(profile=profile, title=title)
    ViewingEventFactory(profile=profile, title=title, progress=0.42)
    RatingFactory(title=title, value=1.0)  # someone else's

    response = viewer.get(url("title_actions", title.pk), headers=HTMX)

    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in page
    assert 'Your rating<span class="rating-value">: 3.5 stars' in page
    assert f'id="rate-{title.pk}-3-5" checked' in page
    assert page.count(" checked") == 1
    assert 'value="remove" aria-pressed="true"' in page  # on My List
    assert (
        f'id="thumbs-up-{title.pk}" type="submit" name="thumb" value="none" '
        'aria-pressed="true"'
    ) in page
    assert "from 42%" in page
    assert "Clear rating" in page


def test_actions_page_without_htmx_is_a_whole_page(viewer):
    title = TitleFactory(title="Heat")

    page = viewer.get(url("title_actions", title.pk)).content.decode()

    assert "<html" in page
    assert "<h1" in page and "Heat" in page
    assert page.count('type="radio"') == 10
    assert "Save rating" in page  # in <noscript>


def test_rating_radios_have_labels_from_half_a_star_to_five(viewer):
    title = TitleFactory()

    page = viewer.get(url("title_actions", title.pk), headers=HTMX).content.decode()

    labels = [
        f'<span class="visually-hidden">{label}</span>'
        for label in ("0.5 stars", "1 star", "3.5 stars", "5 stars")
    ]
    assert all(label in page for label in labels)
    for value in ("0.5", "1.0", "3.5", "5.0"):
        slug = value.replace(".", "-")
        assert f'value="{value}" id="rate-{title.pk}-{slug}"' in page
        assert f'for="rate-{title.pk}-{slug}"' in page


def test_actions_for_an_unknown_or_withdrawn_title_are_a_404(viewer):
    withdrawn = TitleFactory(is_available=False)

    assert viewer.get(url("title_actions", withdrawn.pk)).status_code == 404
    assert viewer.get(url("title_actions", 999_999)).status_code == 404


def test_actions_need_a_profile(client, profile):
    client.force_login(profile.user)
    title = TitleFactory()

    response = client.get(url("title_actions", title.pk), headers=HTMX)

    # htmx is sent to the picker as a whole page, not a fragment
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(reverse("accounts:profile_picker"))


# --- rating ---------------------------------------------------------------------------


def test_rating_with_htmx_stores_it_and_swaps_the_stars(viewer, profile):
    title = TitleFactory()

    response = viewer.post(url("rate", title.pk), {"value": "3.5"}, headers=HTMX)

    assert response.status_code == 200
    page = response.content.decode()
    assert page.strip().startswith(f'<form class="rating-form" id="rating-{title.pk}"')
    assert f'id="rate-{title.pk}-3-5" checked' in page
    assert list(Rating.objects.values_list("profile", "title", "value")) == [
        (profile.pk, title.pk, 3.5)
    ]


def test_rating_again_updates_the_one_rating(viewer, profile):
    title = TitleFactory()
    RatingFactory(profile=profile, title=title, value=2.0)

    viewer.post(url("rate", title.pk), {"value": "4.5"}, headers=HTMX)

    assert list(Rating.objects.values_list("value", flat=True)) == [4.5]


def test_rating_without_javascript_goes_back_with_a_message(viewer, profile):
    title = TitleFactory(title="Heat")

    response = viewer.post(url("rate", title.pk), {"value": "5"}, follow=True)

    assert response.redirect_chain == [(url("title_actions", title.pk), 302)]
    assert "You rated “Heat” 5 stars." in response.content.decode()
    assert Rating.objects.get().value == 5.0


@pytest.mark.parametrize("value", ["7", "3.3", "abc", "0", "-1", "nan", "", "5.5"])
@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "plain"])
def test_an_invalid_rating_is_a_400_with_a_message_and_stores_nothing(
    viewer, profile, value, headers
):
    title = TitleFactory()
    RatingFactory(profile=profile, title=title, value=2.5)

    response = viewer.post(url("rate", title.pk), {"value": value}, headers=headers)

    assert response.status_code == 400
    assert 'class="errorlist" role="alert"' in response.content.decode()
    assert list(Rating.objects.values_list("value", flat=True)) == [2.5]


def test_clearing_a_rating_deletes_it(viewer, profile):
    title = TitleFactory()
    RatingFactory(profile=profile, title=title, value=2.5)
    other = RatingFactory(title=title, value=4.0)

    response = viewer.post(
        url("rate", title.pk), {"clear": "1", "value": "2.5"}, headers=HTMX
    )

    assert response.status_code == 200
    assert " checked" not in response.content.decode()
    assert list(Rating.objects.values_list("pk", flat=True)) == [other.pk]


def test_rating_enqueues_a_refresh(viewer, django_capture_on_commit_callbacks):
    title = TitleFactory()

    with django_capture_on_commit_callbacks() as callbacks:
        viewer.post(url("rate", title.pk), {"value": "4.0"}, headers=HTMX)

    assert len(callbacks) == 1


def test_rating_through_the_page_refreshes_candidates(client, trained, on_commit):
    candidates = (
        ProfileCandidates.objects.filter(profile__is_kids=False)
        .select_related("profile")
        .first()
    )
    profile, top = candidates.profile, candidates.title_ids[0]
    watch_as(client, profile)

    with on_commit():
        client.post(url("rate", top), {"value": "4.5"}, headers=HTMX)

    assert Rating.objects.get(profile=profile, title_id=top).value == 4.5
    assert top not in ProfileCandidates.objects.get(profile=profile).title_ids


def test_rating_a_withdrawn_or_unknown_title_is_a_404(viewer):
    withdrawn = TitleFactory(is_available=False)

    for pk in (withdrawn.pk, 999_999):
        response = viewer.post(url("rate", pk), {"value": "4.0"}, headers=HTMX)
        assert response.status_code == 404
    assert Rating.objects.count() == 0


def test_rating_must_be_a_post(viewer):
    title = TitleFactory()

    assert viewer.get(url("rate", title.pk)).status_code == 405


# --- thumbs, not interested, My List -------------------------------------------------


def test_thumbs_up_then_down_then_off(viewer, profile):
    title = TitleFactory()

    response = viewer.post(
        url("thumbs", title.pk), {"thumb": "thumbs_up"}, headers=HTMX
    )
    assert f'id="thumbs-up-{title.pk}" type="submit" name="thumb" value="none"' in (
        response.content.decode()
    )
    assert list(Feedback.objects.values_list("kind", flat=True)) == ["thumbs_up"]

    viewer.post(url("thumbs", title.pk), {"thumb": "thumbs_down"}, headers=HTMX)
    assert list(Feedback.objects.values_list("kind", flat=True)) == ["thumbs_down"]

    response = viewer.post(url("thumbs", title.pk), {"thumb": "none"}, headers=HTMX)
    assert 'aria-pressed="true"' not in response.content.decode()
    assert Feedback.objects.count() == 0


@pytest.mark.parametrize("thumb", ["pick", "not_interested", "sideways", ""])
def test_an_unknown_thumb_is_a_400_and_changes_nothing(viewer, profile, thumb):
    title = TitleFactory()
    FeedbackFactory(profile=profile, title=title, kind=Feedback.Kind.THUMBS_UP)

    response = viewer.post(url("thumbs", title.pk), {"thumb": thumb}, headers=HTMX)

    assert response.status_code == 400
    assert list(Feedback.objects.values_list("kind", flat=True)) == ["thumbs_up"]


def test_not_interested_hides_and_undo_shows_again(
    viewer, profile, django_capture_on_commit_callbacks
):
    title = TitleFactory()

    with django_capture_on_commit_callbacks() as callbacks:
        response = viewer.post(
            url("not_interested", title.pk), {"action": "add"}, headers=HTMX
        )
    assert len(callbacks) == 1
    assert "Hidden from your rows." in response.content.decode()
    assert "Undo" in response.content.decode()
    assert list(Feedback.objects.values_list("profile", "title", "kind")) == [
        (profile.pk, title.pk, "not_interested")
    ]

    response = viewer.post(
        url("not_interested", title.pk), {"action": "remove"}, headers=HTMX
    )
    assert "Not interested" in response.content.decode()
    assert Feedback.objects.count() == 0


def test_not_interested_without_javascript_redirects_with_a_message(viewer):
    title = TitleFactory(title="Heat")

    response = viewer.post(
        url("not_interested", title.pk), {"action": "add"}, follow=True
    )

    assert "“Heat” is hidden from your rows." in response.content.decode()
    assert Feedback.objects.get().kind == "not_interested"


def test_my_list_toggle_adds_and_removes(viewer, profile):
    title = TitleFactory()

    response = viewer.post(
        url("title_my_list", title.pk), {"action": "add"}, headers=HTMX
    )
    assert 'value="remove" aria-pressed="true"' in response.content.decode()
    assert list(ListItem.objects.values_list("profile", "title")) == [
        (profile.pk, title.pk)
    ]

    response = viewer.post(
        url("title_my_list", title.pk), {"action": "remove"}, headers=HTMX
    )
    assert 'value="add" aria-pressed="false"' in response.content.decode()
    assert ListItem.objects.count() == 0


@pytest.mark.parametrize("action", ["toggle", "", "ADD"])
def test_an_unknown_list_action_is_a_400_and_changes_nothing(viewer, action):
    title = TitleFactory()

    response = viewer.post(url("title_my_list", title.pk), {"action": action})

    assert response.status_code == 400
    assert ListItem.objects.count() == 0


def test_a_safe_next_is_followed_and_a_foreign_one_is_not(viewer):
    title = TitleFactory()
    action = url("title_my_list", title.pk)

    inside = viewer.post(action, {"action": "add", "next": "/my-list/?page=1"})
    outside = viewer.post(
        action, {"action": "remove", "next": "https://evil.example/steal"}
    )

    assert inside["Location"] == "/my-list/?page=1"
    assert outside["Location"] == url("title_actions", title.pk)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("rate", {"value": "4.0"}),
        ("thumbs", {"thumb": "thumbs_up"}),
        ("not_interested", {"action": "add"}),
        ("title_my_list", {"action": "add"}),
        ("play", {"start": "beginning"}),
    ],
)
def test_a_kids_profile_cannot_act_on_a_title_unsuitable_for_children(
    kids_viewer, name, data
):
    horror = TitleFactory(genres=[GenreFactory(name="Horror")])
    rated_r = TitleFactory(maturity_rating=Title.Maturity.R)
    crime_cartoon = TitleFactory(
        genres=[GenreFactory(name="Animation"), GenreFactory(name="Crime")]
    )

    for title in (horror, rated_r, crime_cartoon):
        response = kids_viewer.post(url(name, title.pk), data, headers=HTMX)
        assert response.status_code == 404
        assert kids_viewer.get(url("title_actions", title.pk)).status_code == 404
    assert Rating.objects.count() == Feedback.objects.count() == 0
    assert ListItem.objects.count() == ViewingEvent.objects.count() == 0


def test_a_kids_profile_may_rate_a_g_rated_title(kids_viewer, kids_profile):
    title = TitleFactory(maturity_rating=Title.Maturity.G)

    response = kids_viewer.post(url("rate", title.pk), {"value": "5.0"}, headers=HTMX)

    assert response.status_code == 200
    assert Rating.objects.get().profile == kids_profile


# --- More like this --------------------------------------------------------------------


def test_more_like_this_without_a_model_shows_most_rated_titles_sharing_most_genres(
    viewer, profile
):
    crime, drama, thriller = (
        GenreFactory(name="Crime"),
        GenreFactory(name="Drama"),
        GenreFactory(name="Thriller"),
    )
    heat = TitleFactory(title="Heat", genres=[crime, drama, thriller])
    both_popular = TitleFactory(title="Both popular", genres=[crime, drama])
    TitleFactory(title="Both quiet", genres=[crime, thriller])
    one = TitleFactory(title="One genre", genres=[drama])
    TitleFactory(title="Unrelated", genres=[GenreFactory(name="Comedy")])
    TitleFactory(title="Withdrawn", genres=[crime, drama], is_available=False)
    rated = TitleFactory(title="Rated", genres=[crime, drama, thriller])
    hidden = TitleFactory(title="Hidden", genres=[crime, drama, thriller])
    RatingFactory.create_batch(3, title=both_popular)
    RatingFactory.create_batch(5, title=one)
    RatingFactory(profile=profile, title=rated)
    FeedbackFactory(profile=profile, title=hidden, kind=Feedback.Kind.NOT_INTERESTED)

    response = viewer.get(
        reverse("recommendations:more_like_this", args=[heat.pk]), headers=HTMX
    )

    similar = response.context["similar"]
    assert similar.source == "genres"
    assert [t.title for t in similar.titles] == [
        "Both popular",
        "Both quiet",
        "One genre",
    ]
    assert [t.rating_count for t in similar.titles] == [3, 0, 5]
    page = response.content.decode()
    assert "<html" not in page
    assert 'aria-label="More like Heat"' in page
    assert "Popular titles that share genres with Heat" in page


def test_more_like_this_without_javascript_is_a_page(viewer):
    drama = GenreFactory(name="Drama")
    heat = TitleFactory(title="Heat", genres=[drama])
    TitleFactory(title="Ronin", genres=[drama])

    page = viewer.get(
        reverse("recommendations:more_like_this", args=[heat.pk])
    ).content.decode()

    assert "<html" in page
    assert "More like Heat" in page
    assert "Ronin" in page


def test_more_like_this_for_a_kids_profile_keeps_to_childrens_titles(kids_viewer):
    animation, horror = GenreFactory(name="Animation"), GenreFactory(name="Horror")
    cartoon = TitleFactory(title="Cartoon", genres=[animation])
    TitleFactory(title="Another cartoon", genres=[animation])
    TitleFactory(title="Scary cartoon", genres=[animation, horror])
    TitleFactory(title="Adult cartoon", genres=[animation], maturity_rating="R")

    response = kids_viewer.get(
        reverse("recommendations:more_like_this", args=[cartoon.pk]), headers=HTMX
    )

    assert [t.title for t in response.context["similar"].titles] == ["Another cartoon"]


def test_more_like_this_of_a_withdrawn_or_unknown_title_is_a_404(viewer):
    withdrawn = TitleFactory(is_available=False)

    assert (
        viewer.get(
            reverse("recommendations:more_like_this", args=[withdrawn.pk])
        ).status_code
        == 404
    )
    assert (
        viewer.get(
            reverse("recommendations:more_like_this", args=[999_999])
        ).status_code
        == 404
    )


def test_more_like_this_uses_the_models_neighbours(client, trained):
    from recommendations.services import training

    profile = ProfileFactory(name="Newcomer")
    watch_as(client, profile)
    ranking = training.recommender_for(trained).ranking
    title_id = int(ranking.item_ids[0])
    expected = recommendation_selectors.similar_title_ids(title_id, 20)
    rows, weights = ranking.neighbours(count=20)
    positive = weights[0] > 0

    response = client.get(
        reverse("recommendations:more_like_this", args=[title_id]), headers=HTMX
    )

    assert expected == [int(t) for t in ranking.item_ids[rows[0][positive]]]
    similar = response.context["similar"]
    assert similar.source == "model"
    assert [t.pk for t in similar.titles] == [
        pk
        for pk in recommendation_selectors.similar_title_ids(title_id, 60)
        if Title.objects.filter(pk=pk, is_available=True).exists()
    ][:20]
    assert "Viewers who watched" in response.content.decode()


def test_more_like_this_from_the_model_leaves_out_what_the_profile_rated(
    client, trained
):
    profile = ProfileFactory(name="Newcomer")
    watch_as(client, profile)
    title_id = next(
        pk
        for pk in Title.objects.order_by("pk").values_list("pk", flat=True)
        if recommendation_selectors.similar_title_ids(pk, 5)
    )
    first, second = recommendation_selectors.similar_title_ids(title_id, 2)
    RatingFactory(profile=profile, title_id=first)
    FeedbackFactory(profile=profile, title_id=second, kind=Feedback.Kind.THUMBS_DOWN)

    response = client.get(
        reverse("recommendations:more_like_this", args=[title_id]), headers=HTMX
    )

    shown = [t.pk for t in response.context["similar"].titles]
    assert shown and first not in shown and second not in shown


def test_a_title_the_model_does_not_know_falls_back_to_genres(client, trained):
    profile = ProfileFactory(name="Newcomer")
    watch_as(client, profile)
    genre = GenreFactory(name="Brand new genre")
    fresh = TitleFactory(title="Fresh", genres=[genre])
    TitleFactory(title="Also fresh", genres=[genre])

    response = client.get(
        reverse("recommendations:more_like_this", args=[fresh.pk]), headers=HTMX
    )

    assert response.context["similar"].source == "genres"
    assert [t.title for t in response.context["similar"].titles] == ["Also fresh"]


@pytest.mark.parametrize("count", [1, 20])
def test_more_like_this_query_count_is_fixed(viewer, django_assert_num_queries, count):
    drama = GenreFactory(name="Drama")
    heat = TitleFactory(genres=[drama])
    for _ in range(count):
        RatingFactory(title=TitleFactory(genres=[drama]))

    # user, profile (the session is read from the cache), title, active
    # model, genres, titles, its "show fewer" (and "not interested") titles
    with django_assert_num_queries(7):
        response = viewer.get(
            reverse("recommendations:more_like_this", args=[heat.pk]), headers=HTMX
        )
    assert len(response.context["similar"].titles) == count


# --- the shelves ----------------------------------------------------------------------

#: user, profile (the session is read from the cache), count, one page of
#: rows with titles
SHELF_QUERIES = 4


def test_my_list_lists_the_profiles_titles_latest_first(viewer, profile, other_profile):
    now = timezone.now()
    old = ListItemFactory(
        profile=profile, title=TitleFactory(title="Old"), added_at=now - timedelta(2)
    )
    new = ListItemFactory(
        profile=profile, title=TitleFactory(title="New"), added_at=now - timedelta(1)
    )
    ListItemFactory(profile=profile, title=TitleFactory(is_available=False))
    ListItemFactory(profile=other_profile, title=TitleFactory(title="Not mine"))

    response = viewer.get(url("my_list"))

    assert [item.pk for item in response.context["items"]] == [new.pk, old.pk]
    page = response.content.decode()
    assert "Not mine" not in page
    assert f'action="{url("my_list_remove", new.pk)}"' in page
    assert 'aria-current="page">My List' in page


def test_continue_watching_shows_the_latest_unfinished_viewing_per_title(
    viewer, profile
):
    now = timezone.now()
    heat, ronin, alien, up = (
        TitleFactory(title=name) for name in ("Heat", "Ronin", "Alien", "Up")
    )
    ViewingEventFactory(profile=profile, title=heat, started_at=now - timedelta(5))
    latest_heat = ViewingEventFactory(
        profile=profile, title=heat, progress=0.5, started_at=now - timedelta(1)
    )
    ronin_viewing = ViewingEventFactory(
        profile=profile, title=ronin, started_at=now - timedelta(2)
    )
    # finished last time: not to continue, whatever came before
    ViewingEventFactory(profile=profile, title=alien, started_at=now - timedelta(4))
    ViewingEventFactory(
        profile=profile,
        title=alien,
        progress=0.95,
        completed=True,
        started_at=now - timedelta(3),
    )
    ViewingEventFactory(profile=profile, title=up, dismissed=True)
    ViewingEventFactory(title=heat)  # someone else's

    response = viewer.get(url("continue_watching"))

    assert [v.pk for v in response.context["items"]] == [
        latest_heat.pk,
        ronin_viewing.pk,
    ]
    assert "50% watched" in response.content.decode()


def test_ratings_page_lists_ratings_latest_first_with_stars(viewer, profile):
    now = timezone.now()
    older = RatingFactory(
        profile=profile, title=TitleFactory(title="Alien"), value=3.5,
        updated_at=now - timedelta(2),
    )  # fmt: skip
    newer = RatingFactory(
        profile=profile, title=TitleFactory(title="Heat"), value=5.0,
        updated_at=now - timedelta(1),
    )  # fmt: skip
    RatingFactory(title=older.title, value=1.0)

    response = viewer.get(url("ratings"))

    assert [r.pk for r in response.context["items"]] == [newer.pk, older.pk]
    page = response.content.decode()
    assert "<span>3.5 stars</span>" in page and "<span>5 stars</span>" in page
    assert page.count('class="half-star lit"') == 10 + 7


def test_history_lists_every_viewing_latest_first(viewer, profile):
    now = timezone.now()
    title = TitleFactory(title="Heat")
    first = ViewingEventFactory(
        profile=profile, title=title, progress=0.3, started_at=now - timedelta(2),
        device_class="tv",
    )  # fmt: skip
    second = ViewingEventFactory(
        profile=profile, title=title, progress=0.95, completed=True,
        started_at=now - timedelta(1), device_class="mobile",
    )  # fmt: skip

    response = viewer.get(url("history"))

    assert [v.pk for v in response.context["items"]] == [second.pk, first.pk]
    page = response.content.decode()
    assert "30% watched · on TV" in page
    assert "Watched</span> · on Mobile" in page


@pytest.mark.parametrize(
    "shelf", ["my_list", "continue_watching", "ratings", "history"]
)
def test_an_empty_shelf_says_what_fills_it(viewer, shelf):
    response = viewer.get(url(shelf))

    assert response.status_code == 200
    assert 'class="empty shelf-empty"' in response.content.decode()


def _fill(shelf: str, profile, count: int) -> None:
    now = timezone.now()
    for n in range(count):
        title = TitleFactory()
        at = now - timedelta(minutes=n)
        if shelf == "my_list":
            ListItemFactory(profile=profile, title=title, added_at=at)
        elif shelf == "ratings":
            RatingFactory(profile=profile, title=title, updated_at=at)
        else:
            ViewingEventFactory(profile=profile, title=title, started_at=at)


@pytest.mark.parametrize("count", [1, 50])
@pytest.mark.parametrize(
    "shelf", ["my_list", "continue_watching", "ratings", "history"]
)
def test_shelf_query_count_is_fixed(
    viewer, profile, django_assert_num_queries, shelf, count
):
    _fill(shelf, profile, count)

    with django_assert_num_queries(SHELF_QUERIES):
        response = viewer.get(url(shelf))

    assert len(response.context["items"]) == count


@pytest.mark.parametrize("count", [1, 50])
def test_kids_shelf_query_count_is_fixed(
    kids_viewer, kids_profile, django_assert_num_queries, count
):
    _fill("my_list", kids_profile, count)
    Title.objects.update(maturity_rating="G")

    with django_assert_num_queries(SHELF_QUERIES):
        response = kids_viewer.get(url("my_list"))

    assert len(response.context["items"]) == count


@pytest.mark.parametrize(
    "shelf", ["my_list", "continue_watching", "ratings", "history"]
)
def test_shelves_page_at_50_with_a_plain_next_link(viewer, profile, shelf):
    _fill(shelf, profile, 51)

    first = viewer.get(url(shelf))
    second = viewer.get(url(shelf), {"page": 2})

    assert len(first.context["items"]) == 50
    assert 'rel="next" href="?page=2">Next page</a>' in first.content.decode()
    assert len(second.context["items"]) == 1
    assert 'rel="prev" href="?page=1"' in second.content.decode()
    assert "Next page" not in second.content.decode()
    assert viewer.get(url(shelf), {"page": 3}).status_code == 404
    assert viewer.get(url(shelf), {"page": "x"}).status_code == 404


def test_a_kids_profiles_shelf_leaves_out_titles_unsuitable_for_children(
    kids_viewer, kids_profile
):
    ListItemFactory(profile=kids_profile, title=TitleFactory(maturity_rating="R"))
    ok = ListItemFactory(profile=kids_profile, title=TitleFactory(maturity_rating="G"))

    response = kids_viewer.get(url("my_list"))

    assert [item.pk for item in response.context["items"]] == [ok.pk]


@pytest.mark.parametrize(
    "shelf", ["my_list", "continue_watching", "ratings", "history"]
)
def test_shelves_need_a_profile(client, profile, shelf):
    client.force_login(profile.user)

    response = client.get(url(shelf))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:profile_picker"))


# --- removing from the shelves ----------------------------------------------------


def test_removing_from_my_list_with_htmx_swaps_the_item_for_a_note(viewer, profile):
    item = ListItemFactory(profile=profile, title=TitleFactory(title="Heat"))

    response = viewer.post(url("my_list_remove", item.pk), headers=HTMX)

    assert response.status_code == 200
    assert response.content.decode() == (
        '<li class="shelf-item shelf-removed" role="status">“Heat” is off My List.</li>'
    )
    assert ListItem.objects.count() == 0


def test_removing_from_my_list_without_javascript_returns_to_the_same_page(
    viewer, profile
):
    item = ListItemFactory(profile=profile)

    response = viewer.post(url("my_list_remove", item.pk), {"next": "/my-list/?page=2"})

    assert response["Location"] == "/my-list/?page=2"
    assert ListItem.objects.count() == 0


def test_removing_from_continue_watching_dismisses_the_viewing(viewer, profile):
    viewing = ViewingEventFactory(profile=profile, progress=0.4)

    viewer.post(url("continue_watching_remove", viewing.pk), headers=HTMX)

    viewing.refresh_from_db()
    assert (viewing.dismissed, viewing.progress) == (True, 0.4)
    assert list(viewer.get(url("continue_watching")).context["items"]) == []
    assert [v.pk for v in viewer.get(url("history")).context["items"]] == [viewing.pk]


def test_playing_a_dismissed_title_again_brings_it_back(viewer, profile):
    viewing = ViewingEventFactory(profile=profile, progress=0.4, dismissed=True)

    viewer.post(url("play", viewing.title.pk), {"start": "resume"})

    items = viewer.get(url("continue_watching")).context["items"]
    assert [(v.title_id, v.progress, v.dismissed) for v in items] == [
        (viewing.title_id, 0.4, False)
    ]


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("my_list_remove", ListItemFactory),
        ("continue_watching_remove", ViewingEventFactory),
    ],
)
def test_removing_another_profiles_item_is_a_404_and_changes_nothing(
    viewer, profile, name, make
):
    others = [
        make(profile=ProfileFactory()),  # another account's profile
        make(profile=ProfileFactory(user=profile.user)),  # the same account's other
    ]
    before = [(type(o).objects.filter(pk=o.pk).values().first()) for o in others]

    for other in others:
        response = viewer.post(url(name, other.pk), headers=HTMX)
        assert response.status_code == 404
    assert viewer.post(url(name, 999_999)).status_code == 404

    assert [type(o).objects.filter(pk=o.pk).values().first() for o in others] == before


@pytest.mark.parametrize(
    "name",
    ["my_list_remove", "continue_watching_remove"],
)
def test_removing_must_be_a_post(viewer, name):
    assert viewer.get(url(name, 1)).status_code == 405


def test_the_header_links_to_my_list_once_a_profile_is_chosen(viewer):
    page = viewer.get(url("ratings")).content.decode()

    assert f'<a class="nav-my-list" href="{url("my_list")}">' in page
    assert '<span class="nav-my-list-text">My List</span></a>' in page


def test_more_like_this_from_the_model_reads_a_fixed_number_of_queries(
    client, trained, django_assert_num_queries
):
    from recommendations.services import training

    watch_as(client, ProfileFactory(name="Newcomer"))
    title_id = int(training.recommender_for(trained).ranking.item_ids[0])

    # user, profile (the session is read from the cache), title, active
    # model, the neighbours' titles, its "show fewer" titles
    with django_assert_num_queries(6):
        response = client.get(
            reverse("recommendations:more_like_this", args=[title_id]), headers=HTMX
        )
    assert response.context["similar"].source == "model"


def test_actions_fragment_reads_a_fixed_number_of_queries(
    viewer, profile, django_assert_num_queries
):
    title = TitleFactory()
    RatingFactory(profile=profile, title=title)
    ViewingEventFactory.create_batch(3, profile=profile, title=title)

    # user, profile (the session is read from the cache), and the title with
    # everything this profile did to it
    with django_assert_num_queries(3):
        viewer.get(url("title_actions", title.pk), headers=HTMX)
