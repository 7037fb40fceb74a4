"""Throttles: the request past a scope's rate gets 429 with Retry-After, a
friendly page for pages and JSON under /api/, and changes nothing."""

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User
from activity.models import Feedback, Rating
from tests.activity.conftest import HTMX, watch_as
from tests.factories import ProfileFactory, TitleFactory

pytestmark = pytest.mark.django_db

STRONG_PASSWORD = "Popcorn-Matinee-1984"


@pytest.fixture
def rates(settings):
    """Sets some scopes' rates for the test, leaving the others as they are."""

    def set_rates(**scopes: str) -> None:
        table = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {
                **table,
                **{scope.replace("_", "-"): rate for scope, rate in scopes.items()},
            },
        }

    return set_rates


def assert_throttled_page(response, limit_seconds: int) -> None:
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= limit_seconds
    assert "429.html" in [t.name for t in response.templates]
    assert "One moment, please" in response.content.decode()


def assert_throttled_json(response, limit_seconds: int) -> None:
    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert 1 <= int(response["Retry-After"]) <= limit_seconds
    assert [e["code"] for e in response.json()["errors"]] == ["throttled"]


# --- ratings and feedback, per profile ----------------------------------------------


def test_rating_pages_past_the_rate_get_the_friendly_429_and_store_nothing(
    client, rates
):
    rates(profile_writes="3/min")
    profile = ProfileFactory()
    title = TitleFactory()
    watch_as(client, profile)
    rate_url = reverse("activity:rate", args=[title.pk])

    codes = [
        client.post(rate_url, {"value": v}, headers=HTMX).status_code
        for v in ("1.0", "2.0", "3.0")
    ]
    refused = client.post(rate_url, {"value": "5.0"}, headers=HTMX)

    assert codes == [200, 200, 200]
    assert_throttled_page(refused, 60)
    assert Rating.objects.get(profile=profile, title=title).value == 3.0


def test_every_kind_of_write_counts_in_the_profiles_one_bucket(client, rates):
    rates(profile_writes="3/min")
    profile = ProfileFactory()
    title = TitleFactory()
    watch_as(client, profile)

    client.post(reverse("activity:rate", args=[title.pk]), {"value": "4.0"})
    client.post(reverse("activity:thumbs", args=[title.pk]), {"thumb": "thumbs_up"})
    client.post(reverse("activity:title_my_list", args=[title.pk]), {"action": "add"})
    refused = client.post(
        reverse("activity:not_interested", args=[title.pk]), {"action": "add"}
    )

    assert_throttled_page(refused, 60)
    assert not Feedback.objects.filter(profile=profile, kind="not_interested").exists()


def test_another_profile_has_its_own_budget(client, rates):
    rates(profile_writes="1/min")
    ada = ProfileFactory()
    kid = ProfileFactory(user=ada.user, name="Kid")
    title = TitleFactory()
    rate_url = reverse("activity:rate", args=[title.pk])
    watch_as(client, ada)
    client.post(rate_url, {"value": "4.0"}, headers=HTMX)
    assert client.post(rate_url, {"value": "4.0"}, headers=HTMX).status_code == 429

    watch_as(client, kid)

    assert client.post(rate_url, {"value": "2.0"}, headers=HTMX).status_code == 200


def test_api_writes_past_the_rate_get_429_json_and_reads_are_not_counted(rates):
    rates(profile_writes="2/min")
    profile = ProfileFactory()
    title = TitleFactory()
    api = APIClient()
    api.force_authenticate(profile.user)
    ratings_url = reverse("api:profile-ratings", args=[profile.pk])
    feedback_url = reverse("api:profile-feedback", args=[profile.pk])

    first = api.post(ratings_url, {"title": title.pk, "value": 2.0}, format="json")
    second = api.post(
        feedback_url, {"title": title.pk, "kind": "thumbs_up"}, format="json"
    )
    refused = api.post(ratings_url, {"title": title.pk, "value": 5.0}, format="json")
    read = api.get(ratings_url)

    assert (first.status_code, second.status_code) == (201, 201)
    assert_throttled_json(refused, 60)
    assert Rating.objects.get(profile=profile, title=title).value == 2.0
    assert read.status_code == 200


def test_naming_somebody_elses_profile_spends_only_your_own_budget(rates):
    rates(profile_writes="2/min")
    victim = ProfileFactory()
    attacker = ProfileFactory()
    title = TitleFactory()
    api = APIClient()
    api.force_authenticate(attacker.user)
    victims_url = reverse("api:profile-ratings", args=[victim.pk])
    for _ in range(3):
        api.post(victims_url, {"title": title.pk, "value": 1.0}, format="json")

    owner = APIClient()
    owner.force_authenticate(victim.user)
    response = owner.post(victims_url, {"title": title.pk, "value": 4.0}, format="json")

    assert response.status_code == 201


# --- sign-up and password reset, per client address and per e-mail address --------


def sign_up(client: Client, email: str, **meta):
    return client.post(
        reverse("accounts:signup"),
        {
            "name": "Sam",
            "email": email,
            "password1": STRONG_PASSWORD,
            "password2": STRONG_PASSWORD,
        },
        **meta,
    )


def test_sign_up_past_the_rate_for_one_address_gets_429(rates):
    rates(signup_email="2/hour")
    responses = [
        sign_up(Client(), email) for email in ("sam@example.com", "SAM@example.com")
    ]

    refused = sign_up(Client(), "Sam@Example.com")
    other_address = sign_up(Client(), "kim@example.com")

    assert [r.status_code for r in responses] == [302, 302]
    assert_throttled_page(refused, 3600)
    assert other_address.status_code == 302
    assert sorted(User.objects.values_list("email", flat=True)) == [
        "kim@example.com",
        "sam@example.com",
    ]


def test_sign_up_past_the_rate_for_one_client_address_gets_429(rates, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    rates(signup_ip="2/hour")
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    for n in range(2):
        sign_up(
            Client(), f"v{n}@example.com", HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy
        )

    refused = sign_up(
        Client(), "v3@example.com", HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy
    )
    other_client = sign_up(
        Client(), "v4@example.com", HTTP_X_FORWARDED_FOR="198.51.100.2", **proxy
    )

    assert_throttled_page(refused, 3600)
    assert other_client.status_code == 302
    assert not User.objects.filter(email="v3@example.com").exists()


def test_password_reset_past_the_rate_for_one_address_gets_429_and_queues_no_mail(
    client, rates, enqueued, on_commit
):
    rates(password_reset_email="2/hour")
    reset_url = reverse("accounts:password_reset")
    with on_commit():
        codes = [
            client.post(reset_url, {"email": "ada@example.com"}).status_code
            for _ in range(2)
        ]
        refused = client.post(reset_url, {"email": "ADA@example.com"})

    assert codes == [302, 302]
    assert_throttled_page(refused, 3600)
    assert len(enqueued) == 2


def test_password_reset_past_the_rate_for_one_client_address_gets_429(
    client, rates, enqueued, on_commit
):
    rates(password_reset_ip="2/hour")
    reset_url = reverse("accounts:password_reset")
    with on_commit():
        for n in range(2):
            client.post(reset_url, {"email": f"v{n}@example.com"})
        refused = client.post(reset_url, {"email": "v9@example.com"})

    assert_throttled_page(refused, 3600)
    assert [args[0] for _, args in enqueued] == ["v0@example.com", "v1@example.com"]


def test_the_form_pages_themselves_are_not_counted(client, rates):
    rates(signup_ip="1/hour", password_reset_ip="1/hour")

    pages = [client.get(reverse("accounts:signup")) for _ in range(3)]
    pages += [client.get(reverse("accounts:password_reset")) for _ in range(3)]

    assert {page.status_code for page in pages} == {200}
