"""Sign-up and password reset tell nobody whether an address has an account:
the same answer for both, the same one outbox row, and the mail sent by a
worker task, never inside the request."""

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import Profile, User
from tests.factories import ACCOUNT_PASSWORD

pytestmark = pytest.mark.django_db

STRONG_PASSWORD = "Popcorn-Matinee-1984"


def sign_up(email: str):
    return Client().post(
        reverse("accounts:signup"),
        {
            "name": "Grace",
            "email": email,
            "password1": STRONG_PASSWORD,
            "password2": STRONG_PASSWORD,
        },
    )


@pytest.mark.parametrize("typed", ["ada@example.com", "Ada@Example.com"])
def test_sign_up_answers_an_existing_address_as_a_new_one(account, typed):
    new = sign_up("grace@example.com")
    existing = sign_up(typed)

    assert existing.status_code == new.status_code == 302
    assert existing["Location"] == new["Location"] == reverse("catalog:onboarding")
    assert existing.content == new.content
    assert "already exists" not in existing.content.decode()


def test_sign_up_with_an_existing_address_changes_nothing_and_mails_the_owner(
    account, on_commit
):
    with on_commit():
        sign_up("Ada@Example.com")

    account.refresh_from_db()
    assert account.check_password(ACCOUNT_PASSWORD)
    assert User.objects.count() == 1
    assert Profile.objects.count() == 0
    [notice] = mail.outbox
    assert notice.to == ["ada@example.com"]
    assert notice.subject == "Someone tried to sign up to Marquee with your address"
    assert "If it was you, log in" in notice.body
    assert "http://testserver/accounts/login/" in notice.body
    assert "http://testserver/accounts/password/reset/" in notice.body


def test_sign_up_with_a_new_address_mails_a_welcome(db, on_commit):
    with on_commit():
        sign_up("grace@example.com")

    [welcome] = mail.outbox
    assert welcome.to == ["grace@example.com"]
    assert welcome.subject == "Welcome to Marquee"


def test_sign_up_queues_one_identical_task_and_sends_no_mail_itself(
    account, enqueued, on_commit
):
    with on_commit():
        sign_up("grace@example.com")
        sign_up("ada@example.com")

    assert mail.outbox == []
    assert enqueued == [
        (
            "accounts.tasks.signup_mail",
            ("grace@example.com", True, "testserver", False),
        ),
        ("accounts.tasks.signup_mail", ("ada@example.com", False, "testserver", False)),
    ]


def test_password_reset_queues_the_same_task_for_known_and_unknown_addresses(
    client, account, enqueued, on_commit
):
    with on_commit():
        known = client.post(
            reverse("accounts:password_reset"), {"email": "ada@example.com"}
        )
        unknown = client.post(
            reverse("accounts:password_reset"), {"email": "who@example.com"}
        )

    assert mail.outbox == []
    assert (known.status_code, known["Location"]) == (
        unknown.status_code,
        unknown["Location"],
    )
    assert enqueued == [
        (
            "accounts.tasks.password_reset_mail",
            ("ada@example.com", "testserver", False),
        ),
        (
            "accounts.tasks.password_reset_mail",
            ("who@example.com", "testserver", False),
        ),
    ]


def test_the_reset_task_mails_the_link_for_a_known_address_only(account):
    from accounts.tasks import password_reset_mail

    password_reset_mail.delay("who@example.com", "marquee.test", True)
    password_reset_mail.delay("ADA@example.com", "marquee.test", True)

    [message] = mail.outbox
    assert message.to == ["ada@example.com"]
    assert message.subject == "Reset your Marquee password"
    assert "https://marquee.test/accounts/password/reset/" in message.body
