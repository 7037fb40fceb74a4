"""The privacy API (``/api/v1/privacy/``): owner-only, throttled, paginated, in
the one error shape, and listing what the privacy centre's pages list."""

import io
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from accounts.models import AccessToken, Profile, User
from accounts.services import token_create
from activity.models import Feedback, Rating, SearchEvent, ViewingEvent
from consent.models import PrivacySettings
from privacy import services
from privacy.models import ConsentEvent, DataExport, ErasureReceipt
from tests.activity.conftest import watch_as
from tests.factories import (
    ACCOUNT_PASSWORD,
    AccountFactory,
    FeedbackFactory,
    GenreFactory,
    ProfileFactory,
    RatingFactory,
    SearchEventFactory,
    TitleFactory,
    ViewingEventFactory,
)
from tests.privacy.test_export import fill


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def export_dir(settings, tmp_path) -> Path:
    settings.PRIVACY_EXPORT_DIR = tmp_path / "exports"
    return tmp_path / "exports"


@pytest.fixture
def ada(db) -> Profile:
    profile = ProfileFactory(user=AccountFactory(email="ada@example.com"), name="Ada")
    fill(profile)
    return profile


@pytest.fixture
def eve(db) -> Profile:
    profile = ProfileFactory(user=AccountFactory(email="eve@example.com"), name="Eve")
    fill(profile, query="eve")
    return profile


def token_client(user: User, scope: str = AccessToken.Scope.ACCOUNT) -> APIClient:
    _, secret = token_create(user=user, name=f"test {scope}", scope=scope)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@pytest.fixture
def api(ada) -> APIClient:
    """Ada's program, with full account access."""
    return token_client(ada.user)


def url(name: str, *args) -> str:
    return reverse(f"api:privacy-api:{name}", args=args)


def errors(response) -> list[tuple[str, str | None]]:
    """The one error shape's (code, attr) pairs."""
    body = response.json()
    assert set(body) == {"type", "errors"}
    return [(e["code"], e["attr"]) for e in body["errors"]]


def every_page(client: APIClient, first: str) -> list[list[dict]]:
    """The results of each page, following ``next`` from ``first``."""
    pages, link = [], first
    while link:
        response = client.get(link)
        assert response.status_code == 200
        pages.append(response.json()["results"])
        link = response.json()["next"]
    return pages


# --- settings ----------------------------------------------------------------------


def test_settings_read_own_profile(api, ada):
    response = api.get(url("profile-settings", ada.pk))

    assert response.status_code == 200
    assert response.json()["exploration"] == 70
    assert response.json()["hidden_genres"] == [ada.privacy.hidden_genres.get().pk]
    assert response.json()["allow_training"] is True


def test_settings_update_is_applied_and_logged(api, ada):
    comedy = GenreFactory(name="Comedy")

    response = api.patch(
        url("profile-settings", ada.pk),
        {
            "personalization": False,
            "allow_training": False,
            "hidden_genres": [comedy.pk],
        },
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["personalization"] is False
    assert response.json()["hidden_genres"] == [comedy.pk]
    settings = PrivacySettings.objects.get(profile=ada)
    assert settings.personalization is False
    assert list(settings.hidden_genres.all()) == [comedy]
    ada.refresh_from_db()
    assert ada.allow_training is False
    assert sorted(ConsentEvent.objects.values_list("what", flat=True)) == [
        "allow_training",
        "hidden genre Comedy",
        "hidden genre Horror",
        "personalization",
    ]


def test_settings_out_of_range_is_400_and_changes_nothing(api, ada):
    response = api.patch(
        url("profile-settings", ada.pk),
        {"exploration": 150, "retention_months": 7},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    assert {attr for _, attr in errors(response)} == {
        "exploration",
        "retention_months",
    }
    assert PrivacySettings.objects.get(profile=ada).exploration == 70
    assert not ConsentEvent.objects.exists()


def test_a_hidden_genre_id_must_be_a_whole_number(api, ada):
    comedy = GenreFactory(name="Comedy")

    response = api.patch(
        url("profile-settings", ada.pk),
        {"hidden_genres": [comedy.pk + 0.5]},
        format="json",
    )

    assert response.status_code == 400
    assert errors(response) == [("invalid", "hidden_genres")]
    assert [g.name for g in ada.privacy.hidden_genres.all()] == ["Horror"]


def test_settings_of_someone_else_are_404(api, eve):
    read = api.get(url("profile-settings", eve.pk))
    write = api.patch(
        url("profile-settings", eve.pk), {"personalization": False}, format="json"
    )

    assert (read.status_code, write.status_code) == (404, 404)
    assert errors(read) == errors(write) == [("not_found", None)]
    assert PrivacySettings.objects.get(profile=eve).personalization is True


def test_shortening_retention_through_the_api_deletes_at_once(api, ada):
    SearchEvent.objects.filter(profile=ada).update(
        created_at=timezone.now() - timedelta(days=200)
    )

    response = api.patch(
        url("profile-settings", ada.pk), {"retention_months": 3}, format="json"
    )

    assert response.status_code == 200
    assert not SearchEvent.objects.filter(profile=ada).exists()
    assert Rating.objects.filter(profile=ada).count() == 2


# --- inventory ---------------------------------------------------------------------


def test_inventory_counts_own_data_only(api, ada, eve):
    response = api.get(url("inventory"))

    assert response.status_code == 200
    profiles = response.json()["profiles"]
    assert [p["name"] for p in profiles] == ["Ada"]
    held = {h["key"]: h["count"] for h in profiles[0]["holdings"]}
    assert held["ratings"] == 2
    assert held["searches"] == 1
    assert profiles[0]["candidates"] == 1


# --- exports -----------------------------------------------------------------------


def test_export_create_status_and_download(api, ada, on_commit):
    with on_commit():
        created = api.post(url("exports"))

    assert created.status_code == 202
    export_id = created.json()["id"]
    status = api.get(url("export", export_id)).json()
    assert status["status"] == "ready"
    assert status["download_url"].endswith(url("export-download", export_id))
    download = api.get(url("export-download", export_id), HTTP_ACCEPT="application/zip")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/zip"
    body = b"".join(download.streaming_content)
    archive = zipfile.ZipFile(io.BytesIO(body))
    assert "ratings.json" in archive.namelist()
    listed = api.get(url("exports")).json()
    assert [e["id"] for e in listed["results"]] == [export_id]
    assert listed["next"] is None


def test_export_of_someone_else_is_404_through_the_api(ada, eve, on_commit):
    owner = token_client(ada.user)
    with on_commit():
        export_id = owner.post(url("exports")).json()["id"]
    other = token_client(eve.user)

    detail = other.get(url("export", export_id))
    download = other.get(url("export-download", export_id))

    assert (detail.status_code, download.status_code) == (404, 404)
    assert errors(detail) == errors(download) == [("not_found", None)]
    assert "DataExport" not in detail.content.decode() + download.content.decode()
    assert other.get(url("exports")).json()["results"] == []


def test_an_export_whose_file_is_gone_is_a_404_in_the_one_shape(api, ada, on_commit):
    with on_commit():
        export_id = api.post(url("exports")).json()["id"]
    Path(DataExport.objects.get(pk=export_id).file).unlink()

    response = api.get(url("export-download", export_id))

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "type": "client_error",
        "errors": [{"code": "not_found", "detail": "Not found.", "attr": None}],
    }


def test_exports_are_listed_newest_first_a_page_at_a_time(api, ada):
    made = [
        DataExport.objects.create(
            user=ada.user,
            status=DataExport.Status.FAILED,
            created_at=datetime(2026, 1, day, tzinfo=UTC),
        )
        for day in (3, 1, 2)
    ]

    pages = every_page(api, url("exports") + "?page_size=2")

    assert [[e["id"] for e in page] for page in pages] == [
        [made[0].pk, made[2].pk],
        [made[1].pk],
    ]


def test_fourth_export_in_a_day_is_429(api, ada, on_commit):
    for _ in range(3):
        with on_commit():
            assert api.post(url("exports")).status_code == 202

    refused = api.post(url("exports"))

    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert DataExport.objects.filter(user=ada.user).count() == 3


def test_export_limit_is_429_in_the_one_shape_with_retry_after(
    api, ada, on_commit, settings
):
    """The service's own rule, when the throttle would allow more."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "privacy": "100/min",
            "privacy-export": "100/day",
        },
    }
    now = timezone.now()
    for hours in (20, 10, 1):
        DataExport.objects.create(
            user=ada.user,
            status=DataExport.Status.READY,
            created_at=now - timedelta(hours=hours),
        )

    refused = api.post(url("exports"))

    assert refused.status_code == 429
    assert errors(refused) == [("export_limit", None)]
    detail = refused.json()["errors"][0]["detail"]
    assert "3 exports a day" in detail
    retry_at = now - timedelta(hours=20) + timedelta(days=1)
    assert f"{retry_at:%Y-%m-%d %H:%M}" in detail
    wait = int(refused["Retry-After"])
    assert 4 * 3600 - 60 <= wait <= 4 * 3600 + 1
    assert DataExport.objects.filter(user=ada.user).count() == 3


def test_privacy_api_is_throttled(api, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "privacy": "2/min",
        },
    }

    responses = [api.get(url("inventory")) for _ in range(3)]

    assert [r.status_code for r in responses] == [200, 200, 429]
    assert errors(responses[2]) == [("throttled", None)]
    assert int(responses[2]["Retry-After"]) > 0


def test_privacy_api_needs_a_token(ada):
    anonymous = APIClient()

    inventory = anonymous.get(url("inventory"))
    settings_ = anonymous.get(url("profile-settings", ada.pk))

    assert (inventory.status_code, settings_.status_code) == (401, 401)
    assert inventory["WWW-Authenticate"].startswith("Bearer")
    assert errors(inventory) == [("not_authenticated", None)]


# --- consent log -------------------------------------------------------------------


@pytest.fixture
def logged(ada) -> list[ConsentEvent]:
    """Five lines: three about Ada, one about another profile, one account-wide."""
    kit = ProfileFactory(user=ada.user, name="Kit", is_kids=True)
    services.privacy_settings_update(profile=ada, personalization=False)
    services.privacy_settings_update(profile=ada, exploration=20)
    services.privacy_settings_update(profile=kit, pause_search_history=True)
    services.data_export_request(user=ada.user)
    services.erase_category(profile=ada, category="searches")
    return list(ConsentEvent.objects.filter(user=ada.user))


def test_consent_log_lists_what_its_page_lists(client, api, ada, eve, logged):
    services.privacy_settings_update(profile=eve, personalization=False)
    page = watch_as(client, ada).get(reverse("privacy:consent_log"))

    response = api.get(url("consent-log"))

    assert response.status_code == 200
    shown = list(page.context["page"].object_list)
    assert len(shown) == 5
    assert [e["id"] for e in response.json()["results"]] == [e.pk for e in shown]
    lines = {e["what"]: e for e in response.json()["results"]}
    assert lines["exploration"] | {"id": 0, "created_at": ""} == {
        "id": 0,
        "created_at": "",
        "profile": ada.pk,
        "profile_name": "Ada",
        "kind": "setting",
        "kind_label": "Setting changed",
        "what": "exploration",
        "what_label": "Exploration",
        "old_value": "70",
        "new_value": "20",
    }
    export = lines["data export requested"]
    assert (export["profile"], export["profile_name"]) == (None, None)


def test_consent_log_pages_and_filters_by_profile(api, ada, logged):
    pages = every_page(api, url("consent-log") + "?page_size=2")
    adas = api.get(url("consent-log") + f"?profile={ada.pk}")

    assert [len(page) for page in pages] == [2, 2, 1]
    assert [e["id"] for page in pages for e in page] == [e.pk for e in logged]
    assert [e["id"] for e in adas.json()["results"]] == [
        e.pk for e in logged if e.profile_id_at_time == ada.pk
    ]
    assert len(adas.json()["results"]) == 3


def test_consent_log_of_another_accounts_profile_is_404(api, eve, logged):
    response = api.get(url("consent-log") + f"?profile={eve.pk}")
    bad = api.get(url("consent-log") + "?profile=abc")

    assert response.status_code == 404
    assert bad.status_code == 400
    assert errors(bad) == [("invalid", "profile")]


# --- the activity ledger -----------------------------------------------------------


def at(hour: int) -> datetime:
    return datetime(2026, 3, 1, hour, tzinfo=UTC)


@pytest.fixture
def history(db) -> Profile:
    """One of each kind the ledger lists, an hour apart, and two rows of the
    same time (the order's tie-break)."""
    ada = ProfileFactory(user=AccountFactory(email="ada@example.com"), name="Ada")
    heat, alien = TitleFactory(title="Heat", year=1995), TitleFactory(title="Alien")
    RatingFactory(profile=ada, title=heat, value=4.5, updated_at=at(1))
    FeedbackFactory(profile=ada, title=heat, kind="thumbs_up", created_at=at(2))
    FeedbackFactory(profile=ada, title=alien, kind="thumbs_down", created_at=at(3))
    FeedbackFactory(profile=ada, title=alien, kind="not_interested", created_at=at(4))
    FeedbackFactory(profile=ada, title=heat, kind="pick", created_at=at(5))
    ViewingEventFactory(profile=ada, title=heat, started_at=at(6), progress=0.42)
    SearchEventFactory(profile=ada, query="heist", created_at=at(7))
    SearchEventFactory(profile=ada, query="heat", created_at=at(7))
    RatingFactory(profile=ada, title=alien, value=2.0, updated_at=at(7))
    return ada


def test_ledger_lists_what_its_page_lists(client, history):
    page = watch_as(client, history).get(reverse("privacy:ledger"))
    api = token_client(history.user)

    response = api.get(url("profile-activity", history.pk))

    assert response.status_code == 200
    shown = page.context["entries"]
    results = response.json()["results"]
    assert len(shown) == 9
    assert [(e["kind"], e["id"]) for e in results] == [(e.kind, e.pk) for e in shown]
    heat_rating = Rating.objects.get(profile=history, title__title="Heat")
    assert results[-1] == {
        "kind": "rating",
        "id": heat_rating.pk,
        "label": "Rating",
        "profile": history.pk,
        "title": {"id": heat_rating.title_id, "title": "Heat", "year": 1995},
        "query": None,
        "at": "2026-03-01T01:00:00Z",
        "value": 4.5,
        "completed": False,
        "if_deleted": "Top picks will no longer use this rating.",
    }
    search = next(e for e in results if e["kind"] == "search")
    assert (search["title"], search["value"]) == (None, None)
    assert search["query"] in {"heat", "heist"}
    play = next(e for e in results if e["kind"] == "play")
    assert (play["value"], play["title"]["title"]) == (0.42, "Heat")


def test_ledger_pages_forward_and_back_without_losing_a_row(history):
    api = token_client(history.user)
    everything = [
        (e["kind"], e["id"])
        for e in api.get(url("profile-activity", history.pk)).json()["results"]
    ]

    forward, link, last = [], url("profile-activity", history.pk) + "?page_size=2", None
    while link:
        last = api.get(link).json()
        forward.append([(e["kind"], e["id"]) for e in last["results"]])
        link = last["next"]
    back, link = [], last["previous"]
    while link:
        page = api.get(link).json()
        back.insert(0, [(e["kind"], e["id"]) for e in page["results"]])
        link = page["previous"]

    assert [row for page in forward for row in page] == everything
    assert [len(page) for page in forward] == [2, 2, 2, 2, 1]
    assert back == forward[:-1]
    assert parse_qs(urlsplit(last["previous"]).query)["page_size"] == ["2"]


def test_ledger_filters_by_kind(history):
    api = token_client(history.user)

    ratings = api.get(url("profile-activity", history.pk) + "?kind=rating")
    unknown = api.get(url("profile-activity", history.pk) + "?kind=rated")

    assert [e["value"] for e in ratings.json()["results"]] == [2.0, 4.5]
    assert unknown.status_code == 400
    assert errors(unknown) == [("invalid_choice", "kind")]


def test_ledger_refuses_a_cursor_it_did_not_give(history):
    api = token_client(history.user)

    response = api.get(url("profile-activity", history.pk) + "?cursor=cD1ub3BlJnI9MQ==")

    assert response.status_code == 400
    assert errors(response) == [("invalid", "cursor")]


def test_ledger_of_another_accounts_profile_is_404(history, eve):
    api = token_client(history.user)

    response = api.get(url("profile-activity", eve.pk))

    assert response.status_code == 404
    assert errors(response) == [("not_found", None)]


@pytest.mark.parametrize(
    "kind", ["rating", "play", "search", "thumbs_up", "not_interested", "pick"]
)
def test_an_item_seen_in_the_ledger_is_erased_by_its_kind_and_id(
    history, on_commit, kind
):
    api = token_client(history.user, AccessToken.Scope.READ_WRITE)
    reader = token_client(history.user)
    listed = reader.get(url("profile-activity", history.pk) + f"?kind={kind}")
    entry = listed.json()["results"][0]
    before = ConsentEvent.objects.count()

    with on_commit():
        erased = api.post(
            url("erase"),
            {
                "scope": "item",
                "profile": history.pk,
                "kind": entry["kind"],
                "item": entry["id"],
            },
            format="json",
        )

    assert erased.status_code == 200
    assert erased.json() == {
        "scope": "item",
        "erased": {kind: 1},
        "receipt": None,
        "model_versions": [],
    }
    after = reader.get(url("profile-activity", history.pk)).json()["results"]
    assert (kind, entry["id"]) not in {(e["kind"], e["id"]) for e in after}
    assert len(after) == 8
    model = {"rating": Rating, "play": ViewingEvent, "search": SearchEvent}
    assert not model.get(kind, Feedback).objects.filter(pk=entry["id"]).exists()
    assert ConsentEvent.objects.count() == before + 1


# --- erasure -----------------------------------------------------------------------


def test_erase_item_and_category(api, ada, eve, on_commit):
    rating = Rating.objects.filter(profile=ada).first()
    theirs = Rating.objects.filter(profile=eve).first()

    with on_commit():
        item = api.post(
            url("erase"),
            {"scope": "item", "profile": ada.pk, "kind": "rating", "item": rating.pk},
        )
        category = api.post(
            url("erase"),
            {"scope": "category", "profile": ada.pk, "category": "searches"},
        )
    not_mine = api.post(
        url("erase"),
        {"scope": "item", "profile": ada.pk, "kind": "rating", "item": theirs.pk},
    )
    their_profile = api.post(
        url("erase"), {"scope": "category", "profile": eve.pk, "category": "ratings"}
    )

    assert (item.status_code, category.status_code) == (200, 200)
    assert category.json()["erased"] == {"searches": 1}
    assert not Rating.objects.filter(pk=rating.pk).exists()
    assert not SearchEvent.objects.filter(profile=ada).exists()
    assert (not_mine.status_code, their_profile.status_code) == (404, 404)
    assert errors(not_mine) == errors(their_profile) == [("not_found", None)]
    assert Rating.objects.filter(profile=eve).count() == 2


def test_erase_needs_the_fields_of_its_scope(api, ada):
    response = api.post(url("erase"), {"scope": "item", "profile": ada.pk})

    assert response.status_code == 400
    assert sorted(errors(response)) == [("required", "item"), ("required", "kind")]


def test_erase_takes_whole_numbers_for_ids(api, ada):
    rating = Rating.objects.filter(profile=ada).first()

    response = api.post(
        url("erase"),
        {"scope": "item", "profile": ada.pk, "kind": "rating", "item": rating.pk + 0.5},
        format="json",
    )

    assert response.status_code == 400
    assert errors(response) == [("invalid", "item")]
    assert Rating.objects.filter(profile=ada).count() == 2


def test_erase_profile_needs_the_password(api, ada, on_commit):
    second = ProfileFactory(user=ada.user, name="Second")

    wrong = api.post(
        url("erase"), {"scope": "profile", "profile": second.pk, "password": "nope"}
    )
    with on_commit():
        right = api.post(
            url("erase"),
            {"scope": "profile", "profile": second.pk, "password": ACCOUNT_PASSWORD},
        )
    last = api.post(
        url("erase"),
        {"scope": "profile", "profile": ada.pk, "password": ACCOUNT_PASSWORD},
    )

    assert wrong.status_code == 400
    assert errors(wrong) == [("incorrect_password", "password")]
    assert right.status_code == 200
    assert not Profile.objects.filter(pk=second.pk).exists()
    assert last.status_code == 409
    assert errors(last) == [("erasure_refused", None)]
    assert "erase the whole account" in last.json()["errors"][0]["detail"]
    assert Profile.objects.filter(pk=ada.pk).exists()


def test_erase_account_through_the_api(ada, on_commit):
    user_id = ada.user_id
    client = APIClient()
    client.login(username="ada@example.com", password=ACCOUNT_PASSWORD)

    refused = client.post(url("erase"), {"scope": "account", "password": "nope"})
    assert refused.status_code == 400
    with on_commit():
        response = client.post(
            url("erase"), {"scope": "account", "password": ACCOUNT_PASSWORD}
        )

    assert response.status_code == 200
    receipt = ErasureReceipt.objects.get()
    assert response.json()["receipt"] == receipt.reference
    assert response.json()["erased"]["activity.Rating"] == 2
    assert not User.objects.filter(pk=user_id).exists()
    assert client.get(url("inventory")).status_code == 401


def test_erase_account_with_an_account_token(ada, on_commit):
    api = token_client(ada.user)

    with on_commit():
        response = api.post(
            url("erase"), {"scope": "account", "password": ACCOUNT_PASSWORD}
        )

    assert response.status_code == 200
    assert not User.objects.filter(pk=ada.user_id).exists()
    assert api.get(url("inventory")).status_code == 401


# --- the schema --------------------------------------------------------------------


def test_schema_lists_the_privacy_api_without_warnings(client, db):
    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        schema = SchemaGenerator().get_schema(request=None, public=True)
    problems = [
        m
        for m in [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
        if "privacy" in m
    ]

    assert problems == []
    paths = {p for p in schema["paths"] if p.startswith("/api/v1/privacy/")}
    assert paths == {
        "/api/v1/privacy/profiles/{profile_id}/settings/",
        "/api/v1/privacy/profiles/{profile_id}/activity/",
        "/api/v1/privacy/inventory/",
        "/api/v1/privacy/consent-log/",
        "/api/v1/privacy/exports/",
        "/api/v1/privacy/exports/{export_id}/",
        "/api/v1/privacy/exports/{export_id}/download/",
        "/api/v1/privacy/erase/",
    }
    operations = schema["paths"]["/api/v1/privacy/exports/"]
    assert {"202", "429"} <= set(operations["post"]["responses"])
    erase = schema["paths"]["/api/v1/privacy/erase/"]["post"]
    assert {"200", "400", "403", "404", "409", "429"} <= set(erase["responses"])
    assert "Deleting a profile is this operation" in erase["description"]
    for path in paths:
        for operation in schema["paths"][path].values():
            assert operation["tags"] == ["privacy"]
            assert operation["summary"]
    assert client.get("/api/schema/").status_code == 200
