"""What every API endpoint shares: signing in, the one error shape, the grant
table of accounts/api_access.py, and JSON (never HTML) for every error."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import AccessToken, Profile
from accounts.services import token_create, token_revoke

ERROR_KEYS = {"type", "errors"}


def assert_error(response, status: int, code: str) -> dict:
    """The one error shape, as JSON, with ``code`` among its errors."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert body["type"] == ("server_error" if status >= 500 else body["type"])
    codes = [error["code"] for error in body["errors"]]
    assert code in codes, body
    for error in body["errors"]:
        assert set(error) == {"code", "detail", "attr"}
        assert error["detail"]
    return body


def settings_url(profile: Profile) -> str:
    return reverse("api:privacy-api:profile-settings", args=[profile.pk])


# --- signing in -------------------------------------------------------------------


def test_no_credentials_is_401_asking_for_a_bearer_token(db, adult) -> None:
    response = APIClient().get(settings_url(adult))

    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.parametrize(
    "header",
    [
        "Bearer mqt_not-a-real-token",
        "Bearer",
        "Bearer two parts",
        "Bearer \u00e9t\u00e9",
    ],
)
def test_a_wrong_token_is_401(db, adult, header: str) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get(settings_url(adult))

    assert_error(response, 401, "authentication_failed")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_token_works_until_revoked_and_not_after_expiry(account, adult) -> None:
    token, secret = token_create(user=account, name="tv")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")

    assert client.get(settings_url(adult)).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None

    token_revoke(token=token)
    assert_error(client.get(settings_url(adult)), 401, "authentication_failed")


def test_an_expired_token_is_401(account, adult) -> None:
    from datetime import timedelta

    from django.utils import timezone

    token, secret = token_create(
        user=account, name="soon", expires_at=timezone.now() + timedelta(hours=1)
    )
    AccessToken.objects.filter(pk=token.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")

    assert_error(client.get(settings_url(adult)), 401, "authentication_failed")


def test_only_the_digest_of_a_token_is_kept(account) -> None:
    token, secret = token_create(user=account, name="tv")

    stored = AccessToken.objects.filter(pk=token.pk).values().get()
    assert secret not in {str(value) for value in stored.values()}
    assert secret.startswith(token.prefix)


def test_a_kids_profile_token_cannot_have_account_scope(account, kid) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="kids profile"):
        token_create(user=account, name="x", scope="account", profile=kid)


# --- the grant table ----------------------------------------------------------------


def test_another_accounts_profile_is_404_for_any_grant(api, stranger) -> None:
    assert_error(api.get(settings_url(stranger)), 404, "not_found")


def test_a_read_token_reads_but_does_not_write(token_client, adult) -> None:
    reader = token_client("read")

    assert reader.get(settings_url(adult)).status_code == 200
    response = reader.post(
        reverse("api:profile-ratings", args=[adult.pk]),
        {"title": 1, "value": 4},
        format="json",
    )
    assert_error(response, 403, "scope_insufficient")


def test_a_read_write_token_cannot_do_account_things(token_client, adult) -> None:
    writer = token_client("read-write")

    response = writer.patch(settings_url(adult), {"calibration": True}, format="json")

    assert_error(response, 403, "account_access_required")


def test_a_token_tied_to_a_profile_acts_for_it_only(token_client, adult, kid) -> None:
    kids_token = token_client("read-write", profile=kid)

    assert kids_token.get(settings_url(kid)).status_code == 200
    assert_error(kids_token.get(settings_url(adult)), 403, "profile_not_allowed")


def test_the_browser_on_a_kids_profile_acts_for_it_only(
    kids_session, adult, kid
) -> None:
    assert kids_session.get(settings_url(kid)).status_code == 200
    assert_error(kids_session.get(settings_url(adult)), 403, "profile_not_allowed")


def test_the_browser_on_a_grown_up_profile_may_do_account_things(
    client, account, adult
) -> None:
    client.force_login(account)

    response = client.get(settings_url(adult))

    assert response.status_code == 200


def test_http_basic_is_not_accepted_outside_making_tokens(account, adult) -> None:
    from tests.factories import ACCOUNT_PASSWORD

    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION="Basic "
        + __import__("base64")
        .b64encode(f"{account.email}:{ACCOUNT_PASSWORD}".encode())
        .decode()
    )

    assert_error(client.get(settings_url(adult)), 401, "not_authenticated")


# --- JSON for every error under /api/ -------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/api/v1/nowhere/", "/api/v1/profiles/abc/ratings/", "/api/nothing", "/api/v1/"],
)
def test_an_address_no_route_matches_is_a_json_404(api, path: str) -> None:
    assert_error(api.get(path), 404, "not_found")


def test_a_404_names_no_model(api) -> None:
    response = api.get(reverse("api:privacy-api:export", args=[987654]))

    body = assert_error(response, 404, "not_found")
    assert "DataExport" not in str(body) and "matches" not in str(body)


def test_a_method_the_endpoint_lacks_is_a_json_405(api, adult) -> None:
    assert_error(
        api.put(settings_url(adult), {}, format="json"), 405, "method_not_allowed"
    )


def test_an_oversized_body_is_a_json_413(api, adult, settings) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = api.patch(
        settings_url(adult),
        '{"calibration": true, "pad": "' + "x" * 2000 + '"}',
        content_type="application/json",
    )

    assert_error(response, 413, "too_large")


def test_malformed_json_is_a_json_400(api, adult) -> None:
    response = api.patch(
        settings_url(adult), '{"calibration": tru', content_type="application/json"
    )

    assert_error(response, 400, "parse_error")


def test_a_validation_error_names_its_field(api, adult) -> None:
    response = api.patch(settings_url(adult), {"exploration": 500}, format="json")

    body = assert_error(response, 400, "max_value")
    assert body["type"] == "validation_error"
    assert [e["attr"] for e in body["errors"]] == ["exploration"]


def test_a_session_write_without_csrf_is_a_json_403(account, adult) -> None:
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(account)

    response = client.patch(settings_url(adult), {"calibration": True}, format="json")

    body = assert_error(response, 403, "permission_denied")
    assert "CSRF" in body["errors"][0]["detail"]


# --- the schema and its docs ----------------------------------------------------------


def test_the_schema_documents_bearer_tokens_and_the_error_shape(client, db) -> None:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")

    schema = response.json()
    assert schema["components"]["securitySchemes"]["tokenAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schema["components"]["securitySchemes"]["tokenAuth"][
            "description"
        ],
    }
    settings_op = schema["paths"]["/api/v1/privacy/profiles/{profile_id}/settings/"]
    statuses = set(settings_op["patch"]["responses"])
    assert {"200", "400", "401", "403", "404", "413", "429"} <= statuses


def test_swagger_ui_is_served_without_a_cdn(client, db) -> None:
    response = client.get("/api/docs/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "swagger-ui" in page
    assert "cdn" not in page.lower() and "unpkg" not in page.lower()


def test_a_profile_turned_kids_caps_its_account_token(token_client, adult) -> None:
    full = token_client("account", profile=adult)
    Profile.objects.filter(pk=adult.pk).update(is_kids=True)

    response = full.patch(settings_url(adult), {"calibration": True}, format="json")

    assert_error(response, 403, "account_access_required")


def test_the_whole_schema_validates_without_a_warning(tmp_path) -> None:
    """`manage.py spectacular --validate --fail-on-warn`, as a newcomer runs it."""
    import subprocess
    import sys

    out = tmp_path / "schema.yml"
    done = subprocess.run(
        [
            *(sys.executable, "manage.py", "spectacular"),
            *("--validate", "--fail-on-warn", "--file", str(out)),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stderr and "Error" not in done.stderr
    assert out.read_text().count("operationId:") >= 50
