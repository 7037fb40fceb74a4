"""The log-in lockout behind a TLS proxy: per (e-mail address, client address),
a wait that failures while locked do not restart, the reset link lifting it
for every client, and 429 with Retry-After for the API."""

import base64
import re
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.db.models import F
from django.test import Client, RequestFactory
from django.urls import reverse

from accounts.client_ip import client_ip
from tests.factories import ACCOUNT_PASSWORD

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.1"  # the TLS proxy: every request's REMOTE_ADDR
CLIENT_A, CLIENT_B, CLIENT_C = "203.0.113.7", "198.51.100.23", "192.0.2.99"
NEW_PASSWORD = "Popcorn-Matinee-1984"


@pytest.fixture(autouse=True)
def behind_one_proxy(settings) -> None:
    settings.TRUSTED_PROXY_COUNT = 1


def via_proxy(client_address: str, claimed: str = "") -> dict:
    """What the proxy hands Django: the client's address appended to the
    X-Forwarded-For the client sent (``claimed``, possibly forged)."""
    forwarded = f"{claimed}, {client_address}" if claimed else client_address
    return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": forwarded}


def log_in(client: Client, email: str, password: str, source: str, claimed=""):
    return client.post(
        reverse("accounts:login"),
        {"username": email, "password": password},
        **via_proxy(source, claimed),
    )


def fail(client: Client, email: str, source: str, times: int = 1):
    for _ in range(times):
        response = log_in(client, email, "wrong-guess", source)
    return response


def test_five_failures_on_five_addresses_lock_nobody_else_out(account):
    attacker = Client()
    for n in range(5):
        fail(attacker, f"someone{n}@example.com", CLIENT_A)

    elsewhere = log_in(Client(), account.email, ACCOUNT_PASSWORD, CLIENT_B)
    same_client = log_in(Client(), account.email, ACCOUNT_PASSWORD, CLIENT_A)

    assert elsewhere.status_code == 302
    assert same_client.status_code == 302


def test_five_failures_on_one_address_lock_it_for_that_client(account):
    response = fail(Client(), account.email, CLIENT_A, times=5)

    right_password = log_in(Client(), account.email, ACCOUNT_PASSWORD, CLIENT_A)

    assert response.status_code == 429
    assert right_password.status_code == 429
    assert "Signing in is locked for now" in right_password.content.decode()
    assert 1790 <= int(right_password["Retry-After"]) <= 1800


def test_another_client_of_a_locked_address_can_still_log_in(account):
    fail(Client(), account.email, CLIENT_A, times=5)

    response = log_in(Client(), account.email, ACCOUNT_PASSWORD, CLIENT_B)

    assert response.status_code == 302


def test_a_forged_x_forwarded_for_does_not_escape_the_count(account):
    attacker = Client()
    for n in range(5):
        log_in(attacker, account.email, "wrong", CLIENT_A, claimed=f"10.9.9.{n}")

    response = log_in(
        Client(), account.email, ACCOUNT_PASSWORD, CLIENT_A, claimed="10.9.9.200"
    )

    assert response.status_code == 429


def test_many_failures_on_one_address_from_many_clients_lock_it_everywhere(
    account, settings
):
    settings.AXES_ACCOUNT_FAILURE_LIMIT = 8
    for n in range(4):
        fail(Client(), account.email, f"203.0.113.{10 + n}", times=2)

    response = log_in(Client(), account.email, ACCOUNT_PASSWORD, CLIENT_C)

    assert response.status_code == 429
    assert AccessAttempt.objects.filter(ip_address=CLIENT_C).exists() is False


def test_attempts_while_locked_do_not_restart_the_wait(account):
    fail(Client(), account.email, CLIENT_A, times=5)
    # 29 minutes pass, during which the client keeps trying.
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=29))
    still_locked = fail(Client(), account.email, CLIENT_A, times=3)

    assert still_locked.status_code == 429
    assert int(still_locked["Retry-After"]) <= 60
    # Two more minutes: the 30 minutes since the fifth failure are over.
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=2))
    response = log_in(Client(), account.email, ACCOUNT_PASSWORD, CLIENT_A)
    assert response.status_code == 302


def reset_password_from(client: Client, source: str, email: str, on_commit) -> None:
    with on_commit():
        client.post(
            reverse("accounts:password_reset"), {"email": email}, **via_proxy(source)
        )
    link = re.search(r"http://testserver(/\S+/)", mail.outbox[-1].body).group(1)
    form_url = client.get(link, **via_proxy(source))["Location"]
    response = client.post(
        form_url,
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        **via_proxy(source),
    )
    assert response.status_code == 302


def test_the_reset_link_lifts_the_lock_for_every_client(account, on_commit):
    for n in range(5):  # the shared proxy also saw failures for other addresses
        fail(Client(), f"someone{n}@example.com", CLIENT_A)
    fail(Client(), account.email, CLIENT_A, times=5)
    fail(Client(), account.email, CLIENT_B, times=5)

    reset_password_from(Client(), CLIENT_C, account.email, on_commit)

    assert log_in(Client(), account.email, NEW_PASSWORD, CLIENT_A).status_code == 302
    assert log_in(Client(), account.email, NEW_PASSWORD, CLIENT_B).status_code == 302


def basic_auth(email: str, password: str) -> dict:
    token = base64.b64encode(f"{email}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


def test_a_locked_api_client_gets_429_with_retry_after_in_json(account, profile):
    """Making a token (the one API operation that takes the password) counts
    wrong passwords towards the same lockout as the log-in page."""
    api_url = reverse("api:tokens")
    api = Client()

    def make_token(password: str, source: str):
        return api.post(
            api_url,
            {"name": "tv"},
            content_type="application/json",
            **basic_auth(account.email, password),
            **via_proxy(source),
        )

    wrong = [make_token("wrong", CLIENT_A) for _ in range(5)]
    locked = make_token(ACCOUNT_PASSWORD, CLIENT_A)
    other_client = make_token(ACCOUNT_PASSWORD, CLIENT_B)

    assert [r.status_code for r in wrong] == [401, 401, 401, 401, 429]
    assert locked.status_code == 429
    assert locked["Content-Type"] == "application/json"
    assert 1790 <= int(locked["Retry-After"]) <= 1800
    [error] = locked.json()["errors"]
    assert error["code"] == "locked_out"
    assert error["detail"].startswith("Signing in is locked")
    assert other_client.status_code == 201
    assert other_client.json()["name"] == "tv"


@pytest.mark.parametrize(
    ("proxies", "meta", "expected"),
    [
        (0, {"HTTP_X_FORWARDED_FOR": "1.1.1.1"}, PROXY),
        (1, {"HTTP_X_FORWARDED_FOR": "6.6.6.6, 1.1.1.1"}, "1.1.1.1"),
        (2, {"HTTP_X_FORWARDED_FOR": "6.6.6.6, 1.1.1.1, 172.16.0.5"}, "1.1.1.1"),
        (2, {"HTTP_X_FORWARDED_FOR": "1.1.1.1"}, "1.1.1.1"),
        (1, {"HTTP_X_FORWARDED_FOR": "2001:db8::1"}, "2001:db8::1"),
        (1, {"HTTP_X_FORWARDED_FOR": "not-an-address"}, PROXY),
        (1, {}, PROXY),
    ],
)
def test_the_client_address_is_the_nth_from_the_right(
    settings, proxies, meta, expected
):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR=PROXY, **meta)

    assert client_ip(request) == expected
