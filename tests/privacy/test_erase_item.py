"""Erasing one item is one action with one outcome, whichever way it is asked
for: the ledger's delete, the erase API, the erase-item form, or the delete
button of the Ratings and History shelves (which post to that form). Each
deletes the row, writes the same consent-log line, rebuilds the profile's
rows, forgets its cached pages, deletes its exports, and for a signal that
recommendations learn from refreshes its candidates and its model rows."""

import re
from html import unescape

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import AccessToken, Profile
from accounts.services import token_create
from activity.models import (
    Feedback,
    ListItem,
    Rating,
    SearchEvent,
    TagApplication,
    ViewingEvent,
)
from privacy import registry, services
from privacy.models import ConsentEvent, DataExport
from recommendations.models import ProfileCandidates
from tests.activity.conftest import HTMX, watch_as
from tests.factories import (
    FeedbackFactory,
    ListItemFactory,
    ProfileFactory,
    RatingFactory,
    SearchEventFactory,
    TagFactory,
    TitleFactory,
    ViewingEventFactory,
)

#: Every kind of item: its table, and whether recommendations learn from it.
KINDS = {
    "rating": (Rating, True),
    "play": (ViewingEvent, True),
    "search": (SearchEvent, False),
    "thumbs_up": (Feedback, True),
    "thumbs_down": (Feedback, True),
    "not_interested": (Feedback, True),
    "pick": (Feedback, True),
    "show_fewer": (Feedback, True),
    "list": (ListItem, False),
    "tag": (TagApplication, False),
}
IN_LEDGER = {"rating", "play", "search", "thumbs_up", "thumbs_down"}
IN_LEDGER |= {"not_interested", "pick", "show_fewer"}
#: The shelves whose delete button erases an item, by the kind it erases.
SHELVES = {"rating": "activity:ratings", "play": "activity:history"}
PAGE = "privacy:erase_item"


@pytest.fixture
def ada(db) -> Profile:
    return ProfileFactory(name="Ada")


@pytest.fixture
def items(ada) -> dict:
    """One row of every kind, each on its own title."""
    title = TitleFactory
    return {
        "rating": RatingFactory(profile=ada, title=title(title="Heat")),
        "play": ViewingEventFactory(profile=ada, title=title(title="Ronin")),
        "search": SearchEventFactory(profile=ada, query="heat 1995"),
        **{
            kind: FeedbackFactory(profile=ada, title=title(title=kind), kind=kind)
            for kind in (
                "thumbs_up",
                "thumbs_down",
                "not_interested",
                "pick",
                "show_fewer",
            )
        },
        "list": ListItemFactory(profile=ada, title=title(title="Alien")),
        "tag": TagApplication.objects.create(
            profile=ada, title=title(title="Up"), tag=TagFactory()
        ),
    }


@pytest.fixture
def held(ada, settings, tmp_path) -> dict:
    """What an erasure must clean up: a ready export, a cached home page,
    stored candidates, and a profile last changed long ago."""
    settings.PRIVACY_EXPORT_DIR = tmp_path
    zip_path = tmp_path / "export-1.zip"
    zip_path.write_bytes(b"zip")
    export = DataExport.objects.create(
        user=ada.user,
        status=DataExport.Status.READY,
        file=str(zip_path),
        size=3,
        expires_at=timezone.now() + timezone.timedelta(days=7),
    )
    cache.set(f"home:pages:{ada.pk}", ["home:test-page"], None)
    cache.set("home:test-page", "the rows", None)
    ProfileCandidates.objects.create(
        profile=ada, title_ids=[1], scores=[1.0], predicted=[4.0]
    )
    long_ago = timezone.now() - timezone.timedelta(days=1)
    Profile.objects.filter(pk=ada.pk).update(activity_changed_at=long_ago)
    return {"export": export, "zip": zip_path, "long_ago": long_ago}


def _form_fields(page: str, action: str) -> dict[str, str]:
    """The hidden fields of the first form on ``page`` that posts to ``action``."""
    form = re.search(rf'<form[^>]*action="{re.escape(action)}".*?</form>', page, re.S)
    assert form, f"no form posts to {action}"
    return {
        name: unescape(value)
        for name, value in re.findall(
            r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form[0]
        )
    }


def program(profile: Profile) -> APIClient:
    """A program with a read-write token acting for ``profile``."""
    _, secret = token_create(
        user=profile.user, name="eraser", scope=AccessToken.Scope.READ_WRITE
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def _erase(path: str, kind: str, item, client) -> int:
    """Erases ``item`` the way ``path`` does; returns the HTTP status."""
    ada = item.profile
    if path == "service":
        services.erase_item(profile=ada, kind=kind, item_id=item.pk)
        return 200
    if path == "ledger":
        url = reverse("privacy:ledger_delete", args=[kind, item.pk])
        return client.post(url, headers=HTMX).status_code
    if path == "api":
        data = {"scope": "item", "profile": ada.pk, "kind": kind, "item": item.pk}
        return program(ada).post(reverse("api:privacy-api:erase"), data).status_code
    if path == "page":
        data = {"profile": ada.pk, "kind": kind, "item": item.pk}
        return client.post(reverse(PAGE), data, headers=HTMX).status_code
    # A shelf: post its delete button's form as the page renders it.
    page = client.get(reverse(SHELVES[kind])).content.decode()
    fields = _form_fields(page, reverse(PAGE))
    assert (fields["kind"], fields["item"]) == (kind, str(item.pk))
    return client.post(reverse(PAGE), fields, headers=HTMX).status_code


PATHS = [
    *((kind, "service") for kind in KINDS),
    *((kind, "ledger") for kind in KINDS if kind in IN_LEDGER),
    *((kind, "api") for kind in KINDS),
    *((kind, "page") for kind in KINDS),
    *((kind, "shelf") for kind in SHELVES),
]


def test_the_table_covers_every_item_kind_and_the_ledgers():
    assert set(KINDS) == set(registry.ITEMS)
    assert set(registry.LEDGER_KINDS) == IN_LEDGER
    assert {k for k, (_, signal) in KINDS.items() if signal} == {
        name for name, (entry, _) in registry.ITEMS.items() if entry.signal
    }


@pytest.mark.parametrize(("kind", "path"), PATHS)
def test_every_way_to_erase_an_item_has_one_outcome(
    client, ada, items, held, enqueued, django_capture_on_commit_callbacks, kind, path
):
    item = items[kind]
    model, signal = KINDS[kind]
    others = {k: i.pk for k, i in items.items() if k != kind}
    watch_as(client, ada)

    with django_capture_on_commit_callbacks(execute=True):
        status = _erase(path, kind, item, client)

    assert status == 200
    assert not model.objects.filter(pk=item.pk).exists()
    assert all(KINDS[k][0].objects.filter(pk=pk).exists() for k, pk in others.items())
    line = ConsentEvent.objects.get()
    assert (line.user_id, line.profile_id_at_time, line.profile_name) == (
        ada.user_id,
        ada.pk,
        "Ada",
    )
    assert (line.kind, line.what, line.old_value, line.new_value) == (
        ConsentEvent.Kind.ERASURE,
        f"one {kind} erased",
        "",
        f"{kind} {item.pk}",
    )
    assert Profile.objects.get(pk=ada.pk).activity_changed_at > held["long_ago"]
    assert cache.get(f"home:pages:{ada.pk}") is None
    assert cache.get("home:test-page") is None
    export = DataExport.objects.get()
    assert (export.status, export.file) == (DataExport.Status.EXPIRED, "")
    assert not held["zip"].exists()
    sent = sorted(enqueued)
    if signal:
        assert sent == [
            ("privacy.tasks.model_forget", ([ada.pk],)),
            ("recommendations.tasks.refresh_profile", (ada.pk,)),
        ]
        assert not ProfileCandidates.objects.filter(profile=ada).exists()
    else:  # not learnt from: the candidates and the model stay as they are
        assert sent == []
        assert ProfileCandidates.objects.filter(profile=ada).exists()


def test_erasing_by_a_legacy_kind_logs_the_one_kind_name(ada, items, held):
    """The erase service still takes "viewing" and "feedback" (the names it
    took before the ledger's); the consent log says "play" and the thumb."""
    services.erase_item(profile=ada, kind="viewing", item_id=items["play"].pk)
    services.erase_item(profile=ada, kind="feedback", item_id=items["pick"].pk)

    assert list(
        ConsentEvent.objects.order_by("id").values_list("what", "new_value")
    ) == [
        ("one play erased", f"play {items['play'].pk}"),
        ("one pick erased", f"pick {items['pick'].pk}"),
    ]


def test_the_erase_api_takes_the_ledgers_kind_names_only(ada, items):
    response = program(ada).post(
        reverse("api:privacy-api:erase"),
        {
            "scope": "item",
            "profile": ada.pk,
            "kind": "viewing",
            "item": items["play"].pk,
        },
    )

    assert response.status_code == 400
    assert [(e["code"], e["attr"]) for e in response.json()["errors"]] == [
        ("invalid_choice", "kind")
    ]
    assert ViewingEvent.objects.filter(pk=items["play"].pk).exists()
    assert not ConsentEvent.objects.exists()


def test_a_kids_profile_erases_its_own_shelf_item_without_the_password(client, db):
    kid = ProfileFactory(name="Kid", is_kids=True)
    rating = RatingFactory(profile=kid)
    sibling_rating = RatingFactory(profile=ProfileFactory(user=kid.user))
    watch_as(client, kid)

    own = client.post(
        reverse(PAGE),
        {"profile": kid.pk, "kind": "rating", "item": rating.pk},
        headers=HTMX,
    )
    sibling = client.post(
        reverse(PAGE),
        {
            "profile": sibling_rating.profile_id,
            "kind": "rating",
            "item": sibling_rating.pk,
        },
    )

    assert own.status_code == 200
    assert not Rating.objects.filter(pk=rating.pk).exists()
    assert sibling.status_code == 302
    assert sibling["Location"].startswith(reverse("accounts:confirm_password"))
    assert Rating.objects.filter(pk=sibling_rating.pk).exists()


def test_the_shelf_answers_htmx_with_a_note_in_place_of_the_item(client, ada, items):
    watch_as(client, ada)
    rating = items["rating"]

    response = client.post(
        reverse(PAGE),
        {"profile": ada.pk, "kind": "rating", "item": rating.pk},
        headers=HTMX,
    )

    assert response.content.decode() == (
        '<li class="shelf-item shelf-removed" role="status">Rating deleted: Heat. '
        "Top picks will no longer use this rating.</li>"
    )


def test_the_shelf_without_javascript_goes_back_to_its_page(client, ada, items):
    watch_as(client, ada)
    viewing = items["play"]

    response = client.post(
        reverse(PAGE),
        {"profile": ada.pk, "kind": "play", "item": viewing.pk, "next": "/history/"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/history/"
    assert not ViewingEvent.objects.filter(pk=viewing.pk).exists()
