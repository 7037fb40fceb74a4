"""A program's first day, using nothing but the published schema.

The program knows the account's e-mail and password and the schema at
``/api/schema/``; every path it calls is looked up there by method and path
template (never ``reverse()``), and every answer is checked against the
schema's description of it. It makes a token with HTTP Basic, finds its
profile, rates five titles, reads the home page and finds a "Because you
rated…" row with its reason, adds a title to My List, asks for an export and
downloads it, and finally revokes its token, which stops working at once.
"""

import base64
from collections.abc import Callable

import pytest
import requests
import schemathesis
from rest_framework.test import APIClient

from accounts.models import Profile
from catalog.models import Title
from tests.factories import ACCOUNT_PASSWORD, AccountFactory, ProfileFactory


class Program:
    """Calls the API by the schema's path templates, as a program would."""

    def __init__(self, client: APIClient, run: Callable) -> None:
        self.client = client
        self.run = run  # runs a request with transaction.on_commit work done
        self.raw = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
        self.schema = schemathesis.openapi.from_dict(self.raw)
        self.headers: dict[str, str] = {}

    def call(self, method: str, template: str, *, body=None, query=None, **ids):
        operations = self.raw["paths"].get(template, {})
        assert method.lower() in operations, (
            f"the schema has no {method} {template}; it has {sorted(self.raw['paths'])}"
        )
        url = template.format(**ids)
        with self.run():
            response = getattr(self.client, method.lower())(
                url,
                body if body is not None else query,
                format="json" if body is not None else None,
                **self.headers,
            )
        documented = operations[method.lower()]["responses"]
        assert str(response.status_code) in documented, (
            f"{method} {url}: {response.status_code} is not documented "
            f"({sorted(documented)}): {response.content[:300]!r}"
        )
        self.schema[template][method].validate_response(
            _as_schemathesis(response, method, url)
        )
        return response


def _as_schemathesis(response, method: str, url: str) -> schemathesis.Response:
    return schemathesis.Response(
        status_code=response.status_code,
        headers={name.lower(): [value] for name, value in response.headers.items()},
        content=b"" if response.streaming else response.content,
        request=requests.Request(method, f"http://testserver{url}").prepare(),
        elapsed=0.0,
        verify=True,
    )


@pytest.fixture
def newcomer(db, demo_catalog) -> Profile:
    """A new account with one grown-up profile, made before the model is
    trained so that its candidates are stored with everybody's."""
    user = AccountFactory(email="tv-app@example.com")
    return ProfileFactory(user=user, name="Robin")


def test_a_program_rates_reads_its_rows_exports_and_signs_out(
    settings, tmp_path, newcomer: Profile, trained, on_commit
) -> None:
    settings.PRIVACY_EXPORT_DIR = tmp_path / "exports"
    program = Program(APIClient(), on_commit)
    basic = base64.b64encode(f"{newcomer.user.email}:{ACCOUNT_PASSWORD}".encode())

    # A token, made with the account password (HTTP Basic), shown once.
    program.headers = {"HTTP_AUTHORIZATION": f"Basic {basic.decode()}"}
    made = program.call(
        "POST", "/api/v1/tokens/", body={"name": "Living-room TV", "scope": "account"}
    )
    assert made.status_code == 201, made.content
    token = made.json()
    assert token["secret"].startswith("mqt_") and token["scope"] == "account"
    program.headers = {"HTTP_AUTHORIZATION": f"Bearer {token['secret']}"}

    # Its profile.
    profiles = program.call("GET", "/api/v1/profiles/").json()["results"]
    assert [(p["id"], p["name"]) for p in profiles] == [(newcomer.pk, "Robin")]
    profile_id = profiles[0]["id"]

    # Five titles rated, from the catalog as the profile sees it.
    catalog = program.call(
        "GET",
        "/api/v1/profiles/{profile_id}/titles/",
        profile_id=profile_id,
        query={"page_size": 5},
    ).json()["results"]
    assert len(catalog) == 5
    for stars, title in zip((5, 4.5, 5.0, 4, 4.5), catalog, strict=True):
        rated = program.call(
            "POST",
            "/api/v1/profiles/{profile_id}/ratings/",
            profile_id=profile_id,
            body={"title": title["id"], "value": stars},
        )
        assert rated.status_code == 201, rated.content
        assert rated.json()["value"] == stars
    ratings = program.call(
        "GET", "/api/v1/profiles/{profile_id}/ratings/", profile_id=profile_id
    ).json()["results"]
    assert sorted(r["title"] for r in ratings) == sorted(t["id"] for t in catalog)

    # The home page's rows: one of them because of what it rated, saying so.
    home = program.call(
        "GET", "/api/v1/profiles/{profile_id}/home/", profile_id=profile_id
    ).json()
    rated_names = {t["title"] for t in catalog}
    because = [row for row in home["rows"] if row["kind"] == "because"]
    assert because, [row["title"] for row in home["rows"]]
    row = because[0]
    seed = Title.objects.get(pk=row["seed"])
    assert seed.title in rated_names
    assert row["title"] == f"Because you rated {seed.title}"
    assert row["reason"] and row["items"]
    assert not {item["id"] for item in row["items"]} & {t["id"] for t in catalog}

    # My List.
    wanted = row["items"][0]["id"]
    added = program.call(
        "POST",
        "/api/v1/profiles/{profile_id}/my-list/",
        profile_id=profile_id,
        body={"title": wanted},
    )
    assert added.status_code == 201, added.content
    my_list = program.call(
        "GET", "/api/v1/profiles/{profile_id}/my-list/", profile_id=profile_id
    ).json()["results"]
    assert [item["title"] for item in my_list] == [wanted]

    # An export of the account, built by the (eager) worker, downloaded.
    asked = program.call("POST", "/api/v1/privacy/exports/")
    assert asked.status_code == 202, asked.content
    export = program.call(
        "GET", "/api/v1/privacy/exports/{export_id}/", export_id=asked.json()["id"]
    ).json()
    assert export["status"] == "ready"
    assert export["row_counts"]["activity.Rating"] == 5
    assert export["row_counts"]["activity.ListItem"] == 1
    assert export["download_url"]
    download = program.call(
        "GET", "/api/v1/privacy/exports/{export_id}/download/", export_id=export["id"]
    )
    assert download.status_code == 200
    assert download["Content-Type"] == "application/zip"

    # Signing out: the token revoked, and refused from then on.
    revoked = program.call("DELETE", "/api/v1/tokens/{token_id}/", token_id=token["id"])
    assert revoked.status_code == 204
    refused = program.call("GET", "/api/v1/profiles/")
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"].startswith("Bearer")
    assert refused.json()["errors"][0]["code"] == "authentication_failed"
