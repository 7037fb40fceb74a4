"""The feedback ledger: every rating, thumb, hidden title, pick, play and search
in one list, newest first, each with a delete that says what it changes."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Profile
from activity.models import Feedback, Rating, SearchEvent, ViewingEvent
from privacy import selectors
from tests.activity.conftest import HTMX, watch_as
from tests.factories import (
    FeedbackFactory,
    ProfileFactory,
    RatingFactory,
    SearchEventFactory,
    TitleFactory,
    ViewingEventFactory,
)

LEDGER = reverse("privacy:ledger")


def at(hour: int) -> datetime:
    return datetime(2026, 3, 1, hour, tzinfo=UTC)


@pytest.fixture
def ada(db) -> Profile:
    return ProfileFactory(name="Ada")


@pytest.fixture
def ada_client(client, ada):
    return watch_as(client, ada)


@pytest.fixture
def history(ada):
    """One of each kind, an hour apart, oldest first."""
    heat, alien = TitleFactory(title="Heat"), TitleFactory(title="Alien")
    return {
        "rating": RatingFactory(profile=ada, title=heat, value=4.5, updated_at=at(1)),
        "thumbs_up": FeedbackFactory(
            profile=ada, title=heat, kind="thumbs_up", created_at=at(2)
        ),
        "thumbs_down": FeedbackFactory(
            profile=ada, title=alien, kind="thumbs_down", created_at=at(3)
        ),
        "not_interested": FeedbackFactory(
            profile=ada, title=alien, kind="not_interested", created_at=at(4)
        ),
        "pick": FeedbackFactory(profile=ada, title=heat, kind="pick", created_at=at(5)),
        "play": ViewingEventFactory(
            profile=ada, title=heat, started_at=at(6), progress=0.42
        ),
        "search": SearchEventFactory(profile=ada, query="heat 1995", created_at=at(7)),
    }


def shown(page: str) -> list[str]:
    """The ledger's items as "kind: what"."""
    return [
        f"{kind}: {what}"
        for kind, what in re.findall(
            r'<span class="ledger-kind [^"]*">([^<]+)</span>\s*<div class="ledger-body">'
            r'\s*<p class="ledger-what">(?:<a [^>]*>)?([^<]+)<',
            page,
        )
    ]


# --- the list ----------------------------------------------------------------------------


def test_ledger_lists_every_kind_newest_first(ada_client, history):
    page = ada_client.get(LEDGER).content.decode()

    assert shown(page) == [
        "Search: “heat 1995”",
        "Play: Heat",
        "Onboarding pick: Heat",
        "Not interested: Alien",
        "Thumbs down: Alien",
        "Thumbs up: Heat",
        "Rating: Heat",
    ]
    assert "42% watched" in page
    assert "4.5 stars" in page
    assert "If deleted, Top picks will no longer use this rating." in page
    assert "If deleted, it is gone from your search history" in page


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("rating", ["Rating: Heat"]),
        ("play", ["Play: Heat"]),
        ("search", ["Search: “heat 1995”"]),
        ("not_interested", ["Not interested: Alien"]),
        ("thumbs_down", ["Thumbs down: Alien"]),
    ],
)
def test_ledger_filters_by_kind(ada_client, history, kind, expected):
    page = ada_client.get(LEDGER, {"kind": kind}).content.decode()

    assert shown(page) == expected


def test_ledger_filters_by_profile_and_shows_whose_items_otherwise(ada_client, ada):
    sibling = ProfileFactory(user=ada.user, name="Sibling")
    SearchEventFactory(profile=ada, query="by ada", created_at=at(1))
    SearchEventFactory(profile=sibling, query="by sibling", created_at=at(2))
    SearchEventFactory(profile=ProfileFactory(name="Bea"), query="by bea")

    everyone = ada_client.get(LEDGER).content.decode()
    only_sibling = ada_client.get(LEDGER, {"profile": sibling.pk}).content.decode()

    assert shown(everyone) == ["Search: “by sibling”", "Search: “by ada”"]
    assert "· Sibling" in everyone
    assert shown(only_sibling) == ["Search: “by sibling”"]


def test_ledger_of_another_accounts_profile_is_a_404(ada_client):
    stranger = ProfileFactory(name="Bea")
    SearchEventFactory(profile=stranger)

    assert ada_client.get(LEDGER, {"profile": stranger.pk}).status_code == 404


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"kind": "emails"}, "There is no kind of activity “emails”."),
        ({"profile": "ada"}, "A profile is given by its number."),
    ],
)
def test_ledger_bad_filters_are_a_400(ada_client, query, message):
    response = ada_client.get(LEDGER, query)

    assert response.status_code == 400
    assert message in response.content.decode()


def test_ledger_pages_fifty_at_a_time(ada_client, ada):
    start = timezone.now()
    for n in range(51):
        SearchEventFactory(
            profile=ada, query=f"q{n}", created_at=start - timedelta(minutes=n)
        )

    first = ada_client.get(LEDGER, {"kind": "search"}).content.decode()
    second = ada_client.get(LEDGER, {"kind": "search", "page": 2}).content.decode()

    assert len(shown(first)) == 50
    assert shown(second) == ["Search: “q50”"]
    assert 'href="?kind=search&amp;page=2"' in first
    assert ada_client.get(LEDGER, {"page": 3}).status_code == 404
    assert ada_client.get(LEDGER, {"page": "x"}).status_code == 404


def test_ledger_filter_with_htmx_returns_only_the_results(ada_client, history):
    response = ada_client.get(
        LEDGER, {"kind": "play"}, headers={**HTMX, "HX-Target": "ledger-results"}
    )

    page = response.content.decode()
    assert page.lstrip().startswith('<div id="ledger-results"')
    assert shown(page) == ["Play: Heat"]


def test_ledger_reads_a_fixed_number_of_queries(ada_client, ada):
    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            assert ada_client.get(LEDGER).status_code == 200
        return len(context)

    RatingFactory(profile=ada)
    few = queries()
    for _ in range(20):
        title = TitleFactory()
        RatingFactory(profile=ada, title=title)
        ViewingEventFactory(profile=ada, title=title)
        FeedbackFactory(profile=ada, title=title, kind="thumbs_up")
        SearchEventFactory(profile=ada)

    assert queries() == few


def test_ledger_union_reads_every_kind_in_one_query(ada, history):
    with CaptureQueriesContext(connection) as context:
        rows = list(selectors.ledger([ada.pk]))

    assert len(context) == 1
    assert [row[0] for row in rows] == [
        "search",
        "play",
        "pick",
        "not_interested",
        "thumbs_down",
        "thumbs_up",
        "rating",
    ]


# --- deleting ------------------------------------------------------------------------------

MODELS = {
    "rating": Rating,
    "thumbs_up": Feedback,
    "thumbs_down": Feedback,
    "not_interested": Feedback,
    "pick": Feedback,
    "play": ViewingEvent,
    "search": SearchEvent,
}
#: Deleting these changes what recommendations learn from: the profile's
#: candidates are refreshed.
SIGNALS = {"rating", "thumbs_up", "thumbs_down", "not_interested", "pick", "play"}


@pytest.mark.parametrize("kind", list(MODELS))
def test_deleting_an_item_removes_it_and_refreshes_the_profile(
    ada_client, ada, history, kind, enqueued, django_capture_on_commit_callbacks
):
    item = history[kind]
    long_ago = timezone.now() - timedelta(days=1)
    Profile.objects.filter(pk=ada.pk).update(activity_changed_at=long_ago)

    with django_capture_on_commit_callbacks(execute=True):
        response = ada_client.post(
            reverse("privacy:ledger_delete", args=[kind, item.pk]),
            {"next": f"{LEDGER}?kind={kind}"},
        )

    assert response.status_code == 302
    assert response["Location"] == f"{LEDGER}?kind={kind}"
    assert not MODELS[kind].objects.filter(pk=item.pk).exists()
    left = sum(model.objects.count() for model in {*MODELS.values()})
    assert left == len(history) - 1
    assert Profile.objects.get(pk=ada.pk).activity_changed_at > long_ago
    refreshes = [args for name, args in enqueued if name.endswith("refresh_profile")]
    assert refreshes == ([(ada.pk,)] if kind in SIGNALS else [])
    page = ada_client.get(LEDGER).content.decode()
    assert f'id="ledger-{kind}-{item.pk}"' not in page


def test_deleting_with_htmx_swaps_in_a_note_of_what_changed(ada_client, history):
    rating = history["rating"]

    response = ada_client.post(
        reverse("privacy:ledger_delete", args=["rating", rating.pk]), headers=HTMX
    )

    assert response.status_code == 200
    assert response.content.decode() == (
        '<li class="ledger-item ledger-removed" role="status">Rating deleted: Heat. '
        "Top picks will no longer use this rating.</li>"
    )


def test_deleting_another_accounts_item_is_a_404_and_deletes_nothing(ada_client):
    stranger = ProfileFactory(name="Bea")
    rating = RatingFactory(profile=stranger)
    search = SearchEventFactory(profile=stranger)

    rating_response = ada_client.post(
        reverse("privacy:ledger_delete", args=["rating", rating.pk])
    )
    search_response = ada_client.post(
        reverse("privacy:ledger_delete", args=["search", search.pk])
    )

    assert (rating_response.status_code, search_response.status_code) == (404, 404)
    assert (Rating.objects.count(), SearchEvent.objects.count()) == (1, 1)


def test_deleting_with_the_wrong_kind_is_a_404(ada_client, history):
    thumbs = history["thumbs_up"]

    unknown = ada_client.post(reverse("privacy:ledger_delete", args=["mood", 1]))
    wrong = ada_client.post(
        reverse("privacy:ledger_delete", args=["thumbs_down", thumbs.pk])
    )

    assert (unknown.status_code, wrong.status_code) == (404, 404)
    assert Feedback.objects.filter(pk=thumbs.pk).exists()


def test_deleting_needs_a_post(ada_client, history):
    url = reverse("privacy:ledger_delete", args=["rating", history["rating"].pk])

    assert ada_client.get(url).status_code == 405
    assert Rating.objects.count() == 1
