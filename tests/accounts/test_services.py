"""Writes to accounts and profiles, and the rules they keep."""

import pytest
from axes.models import AccessAttempt
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import timezone

from accounts import services
from accounts.models import Profile, User
from tests.factories import AccountFactory, ProfileFactory

pytestmark = pytest.mark.django_db


def test_signup_creates_the_user_and_a_first_profile_with_the_name_given(
    enqueued, on_commit
):
    with on_commit():
        user = services.user_signup(
            email="grace.hopper@Example.COM",
            password="pw-1",
            profile_name="  Grace ",
            domain="marquee.test",
            use_https=True,
        )

    assert user.email == "grace.hopper@example.com"
    assert user.source == User.Source.SIGNUP
    assert user.check_password("pw-1")
    assert [(p.name, p.is_kids) for p in user.profiles.all()] == [("Grace", False)]
    assert enqueued == [
        (
            "accounts.tasks.signup_mail",
            ("grace.hopper@example.com", True, "marquee.test", True),
        )
    ]


def test_signup_with_an_address_taken_in_another_case_makes_nothing_but_the_mail(
    enqueued, on_commit
):
    AccountFactory(email="grace@example.com")

    with on_commit():
        user = services.user_signup(
            email="Grace@example.com",
            password="pw-1",
            profile_name="Grace",
            domain="marquee.test",
            use_https=False,
        )

    assert user is None
    assert User.objects.count() == 1
    assert Profile.objects.count() == 0
    assert enqueued == [
        (
            "accounts.tasks.signup_mail",
            ("Grace@example.com", False, "marquee.test", False),
        )
    ]


def test_the_database_keeps_addresses_unique_ignoring_case():
    AccountFactory(email="grace@example.com")

    with pytest.raises(IntegrityError):
        User.objects.create_user(email="GRACE@example.com", password="pw-1")


def test_log_in_lookup_ignores_case_but_prefers_an_exact_match():
    user = AccountFactory(email="grace@example.com")

    assert User.objects.get_by_natural_key("Grace@Example.com") == user
    with pytest.raises(User.DoesNotExist):
        User.objects.get_by_natural_key("nobody@example.com")


def test_profile_create_adds_a_profile_with_the_given_look():
    user = AccountFactory()

    profile = services.profile_create(
        user=user, name="  Kids ", avatar_color=Profile.AvatarColor.GREEN, is_kids=True
    )

    profile.refresh_from_db()
    assert (profile.user, profile.name, profile.avatar_color, profile.is_kids) == (
        user,
        "Kids",
        "#2ecc71",
        True,
    )


def test_a_sixth_profile_is_refused_and_nothing_is_added():
    user = AccountFactory()
    ProfileFactory.create_batch(Profile.MAX_PER_USER, user=user)

    with pytest.raises(ValidationError) as refused:
        services.profile_create(user=user, name="Sixth")

    assert refused.value.code == "profile_limit"
    assert "at most 5 profiles" in refused.value.message
    assert user.profiles.count() == 5
    assert not user.profiles.filter(name="Sixth").exists()


def test_profile_names_are_unique_per_account_ignoring_case():
    user = AccountFactory()
    ProfileFactory(user=user, name="Anna")
    ProfileFactory(name="Bob")  # another account's name is free to use

    with pytest.raises(ValidationError) as refused:
        services.profile_create(user=user, name="anna")
    services.profile_create(user=user, name="Bob")

    assert refused.value.message_dict == {
        "name": ["You already have a profile called “anna”."]
    }
    assert sorted(user.profiles.values_list("name", flat=True)) == ["Anna", "Bob"]


@pytest.mark.parametrize(
    ("name", "colour", "field"),
    [
        ("", "#e50914", "name"),
        ("x" * 1024, "#e50914", "name"),
        ("Ok", "#123456", "avatar_color"),
    ],
)
def test_profile_create_validates_what_the_model_allows(name, colour, field):
    user = AccountFactory()

    with pytest.raises(ValidationError) as refused:
        services.profile_create(user=user, name=name, avatar_color=colour)

    assert field in refused.value.message_dict
    assert user.profiles.count() == 0


def test_profile_update_renames_recolours_and_marks_kids():
    profile = ProfileFactory(name="anna", avatar_color=Profile.AvatarColor.BLUE)

    services.profile_update(
        profile=profile, name="Anna", avatar_color="#e84393", is_kids=True
    )

    profile.refresh_from_db()
    assert (profile.name, profile.avatar_color, profile.is_kids) == (
        "Anna",
        "#e84393",
        True,
    )


def test_profile_update_refuses_the_name_of_a_sibling_and_saves_nothing():
    anna = ProfileFactory(name="Anna")
    bob = ProfileFactory(user=anna.user, name="Bob")

    with pytest.raises(ValidationError):
        services.profile_update(
            profile=bob, name="ANNA", avatar_color="#e84393", is_kids=True
        )

    bob.refresh_from_db()
    assert (bob.name, bob.is_kids) == ("Bob", False)


def test_login_lockout_clear_forgets_failures_for_that_address_only():
    user = AccountFactory(email="grace@example.com")
    for username in ("grace@example.com", "other@example.com"):
        AccessAttempt.objects.create(
            username=username,
            ip_address="10.0.0.1",
            user_agent="test",
            failures_since_start=5,
            attempt_time=timezone.now(),
        )

    services.login_lockout_clear(user=user)

    assert list(AccessAttempt.objects.values_list("username", flat=True)) == [
        "other@example.com"
    ]
