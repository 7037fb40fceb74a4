"""Writes to accounts and profiles."""

import secrets

from django.db import transaction

from accounts.models import User


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
