"""The privacy API (``/api/v1/privacy/``): owner-only, throttled, in the schema."""

import io
import zipfile
from pathlib import Path

import pytest
from django.urls import reverse
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from accounts.models import Profile, User
from activity.models import Rating, SearchEvent
from consent.models import PrivacySettings
from privacy.models import ConsentEvent, DataExport, ErasureReceipt
from tests.factories import (
    ACCOUNT_PASSWORD,
    AccountFactory,
    GenreFactory,
    ProfileFactory,
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


@pytest.fixture
def api(ada) -> APIClient:
    client = APIClient()
    client.force_authenticate(ada.user)
    return client


def url(name: str, *args) -> str:
    return reverse(f"api:privacy-api:{name}", args=args)


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
    assert set(response.json()) == {"exploration", "retention_months"}
    assert PrivacySettings.objects.get(profile=ada).exploration == 70
    assert not ConsentEvent.objects.exists()


def test_settings_of_someone_else_are_404(api, eve):
    read = api.get(url("profile-settings", eve.pk))
    write = api.patch(
        url("profile-settings", eve.pk), {"personalization": False}, format="json"
    )

    assert (read.status_code, write.status_code) == (404, 404)
    assert PrivacySettings.objects.get(profile=eve).personalization is True


def test_shortening_retention_through_the_api_deletes_at_once(api, ada):
    from datetime import timedelta

    from django.utils import timezone

    SearchEvent.objects.filter(profile=ada).update(
        created_at=timezone.now() - timedelta(days=200)
    )

    response = api.patch(
        url("profile-settings", ada.pk), {"retention_months": 3}, format="json"
    )

    assert response.status_code == 200
    assert not SearchEvent.objects.filter(profile=ada).exists()
    assert Rating.objects.filter(profile=ada).count() == 2


def test_inventory_counts_own_data_only(api, ada, eve):
    response = api.get(url("inventory"))

    assert response.status_code == 200
    profiles = response.json()["profiles"]
    assert [p["name"] for p in profiles] == ["Ada"]
    held = {h["key"]: h["count"] for h in profiles[0]["holdings"]}
    assert held["ratings"] == 2
    assert held["searches"] == 1
    assert profiles[0]["candidates"] == 1


def test_export_create_status_and_download(api, ada, on_commit):
    with on_commit():
        created = api.post(url("exports"))

    assert created.status_code == 202
    export_id = created.json()["id"]
    status = api.get(url("export", export_id)).json()
    assert status["status"] == "ready"
    assert status["download_url"].endswith(url("export-download", export_id))
    download = api.get(url("export-download", export_id))
    assert download.status_code == 200
    body = b"".join(download.streaming_content)
    archive = zipfile.ZipFile(io.BytesIO(body))
    assert "ratings.json" in archive.namelist()
    assert [e["id"] for e in api.get(url("exports")).json()] == [export_id]


def test_export_of_someone_else_is_404_through_the_api(ada, eve, on_commit):
    owner = APIClient()
    owner.force_authenticate(ada.user)
    with on_commit():
        export_id = owner.post(url("exports")).json()["id"]
    other = APIClient()
    other.force_authenticate(eve.user)

    assert other.get(url("export", export_id)).status_code == 404
    assert other.get(url("export-download", export_id)).status_code == 404
    assert other.get(url("exports")).json() == []


def test_fourth_export_in_a_day_is_429(api, ada, on_commit):
    for _ in range(3):
        with on_commit():
            assert api.post(url("exports")).status_code == 202

    refused = api.post(url("exports"))

    assert refused.status_code == 429
    assert DataExport.objects.filter(user=ada.user).count() == 3


def test_export_service_limit_holds_when_the_throttle_allows_more(
    api, ada, on_commit, settings
):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"privacy": "100/min", "privacy-export": "100/day"},
    }
    for _ in range(3):
        with on_commit():
            api.post(url("exports"))

    refused = api.post(url("exports"))

    assert refused.status_code == 429
    assert "3 exports a day" in refused.json()["detail"]


def test_privacy_api_is_throttled(api, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"privacy": "2/min", "privacy-export": "3/day"},
    }

    codes = [api.get(url("inventory")).status_code for _ in range(3)]

    assert codes == [200, 200, 429]


def test_privacy_api_needs_log_in(ada):
    anonymous = APIClient()

    assert anonymous.get(url("inventory")).status_code == 403
    assert anonymous.get(url("profile-settings", ada.pk)).status_code == 403


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
    assert Rating.objects.filter(profile=eve).count() == 2


def test_erase_needs_the_fields_of_its_scope(api, ada):
    response = api.post(url("erase"), {"scope": "item", "profile": ada.pk})

    assert response.status_code == 400
    assert set(response.json()) == {"kind", "item"}


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
    assert right.status_code == 200
    assert not Profile.objects.filter(pk=second.pk).exists()
    assert last.status_code == 409
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
    assert client.get(url("inventory")).status_code == 403


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
        "/api/v1/privacy/inventory/",
        "/api/v1/privacy/exports/",
        "/api/v1/privacy/exports/{export_id}/",
        "/api/v1/privacy/exports/{export_id}/download/",
        "/api/v1/privacy/erase/",
    }
    assert client.get("/api/schema/").status_code == 200
