"""The kids gate on the privacy API: what the browser keeps behind the account
password (another profile's data and settings, exports, erasure) is refused
to a kids profile's session (403) and allowed to a token with full account
access; a kids profile still reads its own settings and erases its own items,
as it does on its shelves."""

import time
from pathlib import Path

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.access import PASSWORD_CONFIRMED_SESSION_KEY
from accounts.models import AccessToken, Profile, User
from activity.models import Rating, SearchEvent
from consent.models import PrivacySettings
from privacy import services
from privacy.models import ConsentEvent, DataExport
from tests.factories import ACCOUNT_PASSWORD, RatingFactory, SearchEventFactory


def url(name: str, *args) -> str:
    return reverse(f"api:privacy-api:{name}", args=args)


def refused(response, code: str) -> bool:
    """A 403 in the one error shape with ``code``."""
    assert response.status_code == 403, response.content
    assert response.json()["type"] == "client_error"
    return [e["code"] for e in response.json()["errors"]] == [code]


@pytest.fixture(autouse=True)
def export_dir(settings, tmp_path) -> Path:
    settings.PRIVACY_EXPORT_DIR = tmp_path / "exports"
    return tmp_path / "exports"


@pytest.fixture
def parents(adult: Profile, kid: Profile) -> dict:
    """The grown-up's rating and search, and the kid's own rating."""
    PrivacySettings.objects.create(profile=adult, exploration=40)
    return {
        "rating": RatingFactory(profile=adult, value=4.5),
        "search": SearchEventFactory(profile=adult, query="heist"),
        "kids_rating": RatingFactory(profile=kid, value=3.0),
    }


@pytest.fixture
def ready_export(account: User, on_commit) -> DataExport:
    with on_commit():
        export = services.data_export_request(user=account)
    export.refresh_from_db()
    assert export.status == DataExport.Status.READY
    return export


# --- the four holes, closed --------------------------------------------------------


def test_a_kids_session_cannot_read_the_grown_ups_ratings(
    kids_session, api, adult, parents
):
    ledger = url("profile-activity", adult.pk) + "?kind=rating"

    kids = kids_session.get(ledger)
    program = api.get(ledger)

    assert refused(kids, "profile_not_allowed")
    assert program.status_code == 200
    assert [e["id"] for e in program.json()["results"]] == [parents["rating"].pk]


def test_a_kids_session_cannot_change_the_grown_ups_settings(
    kids_session, api, adult, parents
):
    change = {"exploration": 90, "personalization": False}

    kids = kids_session.patch(url("profile-settings", adult.pk), change, format="json")

    assert refused(kids, "profile_not_allowed")
    settings = PrivacySettings.objects.get(profile=adult)
    assert (settings.exploration, settings.personalization) == (40, True)
    assert not ConsentEvent.objects.exists()

    program = api.patch(url("profile-settings", adult.pk), change, format="json")

    assert program.status_code == 200
    assert (program.json()["exploration"], program.json()["personalization"]) == (
        90,
        False,
    )


def test_a_kids_session_cannot_erase_the_grown_ups_searches(
    kids_session, api, adult, parents, on_commit
):
    erase = {"scope": "category", "profile": adult.pk, "category": "searches"}
    one = {"scope": "item", "profile": adult.pk, "kind": "search"}
    one["item"] = parents["search"].pk

    kids_all = kids_session.post(url("erase"), erase, format="json")
    kids_one = kids_session.post(url("erase"), one, format="json")

    assert refused(kids_all, "profile_not_allowed")
    assert refused(kids_one, "profile_not_allowed")
    assert SearchEvent.objects.filter(profile=adult).count() == 1
    assert not ConsentEvent.objects.exists()

    with on_commit():
        program = api.post(url("erase"), erase, format="json")

    assert program.status_code == 200
    assert program.json()["erased"] == {"searches": 1}
    assert not SearchEvent.objects.filter(profile=adult).exists()


def test_a_kids_session_cannot_download_the_accounts_export(
    kids_session, api, ready_export
):
    kids = [
        kids_session.get(url("exports")),
        kids_session.get(url("export", ready_export.pk)),
        kids_session.get(url("export-download", ready_export.pk)),
        kids_session.post(url("exports")),
    ]

    assert all(refused(r, "account_access_required") for r in kids)
    assert DataExport.objects.count() == 1

    program = api.get(url("export-download", ready_export.pk))

    assert program.status_code == 200
    assert program["Content-Type"] == "application/zip"
    assert b"".join(program.streaming_content)[:2] == b"PK"


def test_a_kids_session_cannot_erase_the_account(kids_session, account):
    response = kids_session.post(
        url("erase"), {"scope": "account", "password": ACCOUNT_PASSWORD}
    )

    assert refused(response, "account_access_required")
    assert User.objects.filter(pk=account.pk).exists()


def test_a_kids_session_cannot_read_the_account_wide_pages(kids_session, kid):
    for path in (url("inventory"), url("consent-log")):
        assert refused(kids_session.get(path), "account_access_required")


# --- what a kids profile may do on its own, as in the browser --------------------


def test_a_kids_session_reads_its_own_settings_but_changes_them_with_the_password(
    kids_session, kid
):
    read = kids_session.get(url("profile-settings", kid.pk))
    change = kids_session.patch(
        url("profile-settings", kid.pk), {"exploration": 10}, format="json"
    )

    assert read.status_code == 200
    assert read.json()["exploration"] == PrivacySettings().exploration
    assert refused(change, "account_access_required")
    assert not PrivacySettings.objects.filter(profile=kid).exists()


def test_a_kids_session_erases_its_own_item_but_not_a_whole_category(
    kids_session, kid, parents, on_commit
):
    own = parents["kids_rating"]

    with on_commit():
        item = kids_session.post(
            url("erase"),
            {"scope": "item", "profile": kid.pk, "kind": "rating", "item": own.pk},
            format="json",
        )
    category = kids_session.post(
        url("erase"),
        {"scope": "category", "profile": kid.pk, "category": "ratings"},
        format="json",
    )
    ledger = kids_session.get(url("profile-activity", kid.pk))

    assert item.status_code == 200
    assert not Rating.objects.filter(pk=own.pk).exists()
    assert refused(category, "account_access_required")
    assert refused(ledger, "account_access_required")
    assert Rating.objects.filter(profile__is_kids=False).count() == 1


def test_the_account_password_typed_on_the_site_opens_the_gate(
    kids_session, adult, parents
):
    session = kids_session.session
    session[PASSWORD_CONFIRMED_SESSION_KEY] = time.time()
    session.save()

    response = kids_session.patch(
        url("profile-settings", adult.pk), {"exploration": 90}, format="json"
    )

    assert response.status_code == 200
    assert PrivacySettings.objects.get(profile=adult).exploration == 90


def test_a_kids_session_gets_404_for_another_accounts_profile(kids_session, stranger):
    for response in (
        kids_session.get(url("profile-settings", stranger.pk)),
        kids_session.patch(
            url("profile-settings", stranger.pk), {"exploration": 1}, format="json"
        ),
    ):
        assert response.status_code == 404
        assert response.json()["errors"][0]["code"] == "not_found"


# --- token scopes ----------------------------------------------------------------


def test_a_read_token_cannot_change_settings_or_erase(token_client, adult, parents):
    reader = token_client(AccessToken.Scope.READ)
    writer = token_client(AccessToken.Scope.READ_WRITE)
    change = {"exploration": 90}

    read = reader.get(url("profile-settings", adult.pk))
    by_reader = reader.patch(url("profile-settings", adult.pk), change, format="json")
    by_writer = writer.patch(url("profile-settings", adult.pk), change, format="json")
    erase = reader.post(
        url("erase"),
        {
            "scope": "item",
            "profile": adult.pk,
            "kind": "rating",
            "item": parents["rating"].pk,
        },
        format="json",
    )

    assert read.status_code == 200
    assert refused(by_reader, "scope_insufficient")
    assert refused(by_writer, "account_access_required")
    assert refused(erase, "scope_insufficient")
    assert PrivacySettings.objects.get(profile=adult).exploration == 40
    assert Rating.objects.filter(pk=parents["rating"].pk).exists()


def test_a_token_tied_to_a_profile_reaches_that_profile_only(
    token_client, adult, kid, parents, ready_export
):
    tied = token_client(AccessToken.Scope.ACCOUNT, profile=adult)

    own_ledger = tied.get(url("profile-activity", adult.pk))
    own_log = tied.get(url("consent-log") + f"?profile={adult.pk}")

    assert own_ledger.status_code == 200
    assert own_log.status_code == 200
    assert refused(tied.get(url("profile-activity", kid.pk)), "profile_not_allowed")
    for whole_account in (
        tied.get(url("inventory")),
        tied.get(url("consent-log")),
        tied.get(url("exports")),
        tied.get(url("export-download", ready_export.pk)),
        tied.post(url("exports")),
    ):
        assert refused(whole_account, "profile_not_allowed")


def test_no_token_is_401_with_www_authenticate(adult):
    response = APIClient().get(url("profile-settings", adult.pk))

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
