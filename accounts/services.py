"""Writes to accounts and profiles.

Every function here is keyword-only and runs in one transaction. Rule
breaches (a sixth profile, a name already used, the last profile) raise
``ValidationError`` with a message meant for the person, which views add to
their form.
"""

import secrets

from axes.utils import reset as axes_reset
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.backends import lockout_username
from accounts.models import Profile, User


@transaction.atomic
def admin_create_if_missing(*, email: str) -> str | None:
    """Creates the first superuser with a random password.

    Returns the password (to be shown once) when an account was created, and
    ``None`` when a superuser already exists.
    """
    if User.objects.filter(is_superuser=True).exists():
        return None
    password = secrets.token_urlsafe(12)
    User.objects.create_superuser(email=email, password=password)
    return password


def first_profile_name(email: str) -> str:
    """The part of the address before the @, cut to a profile name's length."""
    name_field = Profile._meta.get_field("name")
    name = email.rsplit("@", 1)[0].strip()[: name_field.max_length]
    return name or "Me"


@transaction.atomic
def user_signup(*, email: str, password: str) -> User:
    """A new account with one profile, named from the e-mail address.

    The password is expected to have passed the validators already (the form
    runs them, with the e-mail address at hand for the similarity check).
    """
    email = User.objects.normalize_email(email.strip())
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError(
            {"email": "An account with this e-mail address already exists."},
            code="email_taken",
        )
    user = User.objects.create_user(
        email=email, password=password, source=User.Source.SIGNUP
    )
    Profile.objects.create(user=user, name=first_profile_name(email))
    return user


def _lock_account(user: User) -> None:
    """Serialises profile changes of one account (the count and name checks)."""
    User.objects.select_for_update().filter(pk=user.pk).first()


def _check_name_free(*, user: User, name: str, exclude: Profile | None = None) -> None:
    others = Profile.objects.filter(user=user, name__iexact=name)
    if exclude is not None:
        others = others.exclude(pk=exclude.pk)
    if others.exists():
        raise ValidationError(
            {"name": f"You already have a profile called “{name}”."},
            code="name_taken",
        )


@transaction.atomic
def profile_create(
    *,
    user: User,
    name: str,
    avatar_color: str = Profile.AvatarColor.BLUE,
    is_kids: bool = False,
) -> Profile:
    """Adds a profile; refuses a sixth, or a name the account already uses."""
    _lock_account(user)
    if Profile.objects.filter(user=user).count() >= Profile.MAX_PER_USER:
        raise ValidationError(
            f"An account can have at most {Profile.MAX_PER_USER} profiles. "
            "Delete one to make room for another.",
            code="profile_limit",
        )
    name = name.strip()
    _check_name_free(user=user, name=name)
    profile = Profile(user=user, name=name, avatar_color=avatar_color, is_kids=is_kids)
    profile.full_clean()
    profile.save()
    return profile


@transaction.atomic
def profile_update(
    *, profile: Profile, name: str, avatar_color: str, is_kids: bool
) -> Profile:
    """Renames, recolours, or marks a profile as a kids profile (or not)."""
    _lock_account(profile.user)
    name = name.strip()
    _check_name_free(user=profile.user, name=name, exclude=profile)
    profile.name = name
    profile.avatar_color = avatar_color
    profile.is_kids = is_kids
    profile.full_clean()
    profile.save(update_fields=["name", "avatar_color", "is_kids"])
    return profile


@transaction.atomic
def login_lockout_clear(*, user: User) -> None:
    """Forgets the failed log-ins counted against this account's e-mail address.

    Called once the person has proved they own the address (a password reset),
    so they need not wait out the lockout.
    """
    axes_reset(username=lockout_username(user.email))


def profile_touch(*, profile_id: int) -> None:
    """Marks that something the profile's home rows are built from changed
    (an activity row, a setting, an erasure): their cached fragments, keyed
    by ``Profile.activity_changed_at``, are then rebuilt on the next visit."""
    Profile.objects.filter(pk=profile_id).update(activity_changed_at=timezone.now())
