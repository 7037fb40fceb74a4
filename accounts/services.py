"""Writes to accounts and profiles, and the mail about them.

Every function here is keyword-only and runs in one transaction. Rule
breaches (a sixth profile, a name already used, the last profile) raise
``ValidationError`` with a message meant for the person, which views add to
their form.

Mail is never sent inside a request: the request records one outbox row,
whatever the address, and a worker looks the address up and sends (or not).
So a request for a known address and for an unknown one do the same work and
take the same time, and tell nobody whether the address has an account.
"""

import hashlib
import secrets

from axes.utils import reset as axes_reset
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.backends import lockout_username
from accounts.models import AccessToken, Profile, User
from outbox.services import outbox_add

PASSWORD_RESET_MAIL_TASK = "accounts.tasks.password_reset_mail"
SIGNUP_MAIL_TASK = "accounts.tasks.signup_mail"


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


@transaction.atomic
def user_signup(
    *, email: str, password: str, profile_name: str, domain: str, use_https: bool
) -> User | None:
    """A new account with one profile called ``profile_name`` (the name the
    person gave; never a piece of the address); ``None`` when the address has
    an account already.

    Both cases cost the same: the password is hashed, and one outbox row asks
    the worker for a mail (a welcome; or, to the owner of the address, a
    notice that someone tried to sign up with it). ``domain`` and
    ``use_https`` build the mail's links. The password is expected to have
    passed the validators already (the form runs them, with the e-mail
    address at hand for the similarity check).
    """
    email = User.objects.normalize_email(email.strip())
    user = None
    if User.objects.filter(email__iexact=email).exists():
        make_password(password)  # the hashing a new account costs: no timing tell
    else:
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    email=email, password=password, source=User.Source.SIGNUP
                )
                Profile.objects.create(user=user, name=profile_name.strip())
        except IntegrityError:  # the same address signed up a moment ago
            user = None
    outbox_add(task=SIGNUP_MAIL_TASK, args=[email, user is not None, domain, use_https])
    return user


def signup_mail_send(
    *, email: str, created: bool, domain: str, use_https: bool
) -> bool:
    """The worker's half of :func:`user_signup`: a welcome to a new account, or
    the owner's notice; nothing when the address has no account (any more).
    Returns whether a mail went out."""
    user = User.objects.filter(email__iexact=email, is_active=True).first()
    if user is None:
        return False
    protocol = "https" if use_https else "http"
    context = {
        "email": user.email,
        "login_url": f"{protocol}://{domain}{reverse('accounts:login')}",
        "reset_url": f"{protocol}://{domain}{reverse('accounts:password_reset')}",
    }
    name = "accounts/signup_welcome" if created else "accounts/signup_notice"
    _send(
        subject_template=f"{name}_subject.txt",
        body_template=f"{name}_email.txt",
        context=context,
        to=user.email,
    )
    return True


@transaction.atomic
def password_reset_request(*, email: str, domain: str, use_https: bool) -> None:
    """Asks the worker for a password-reset link to ``email``, if an account
    has that address: one outbox row, whatever the address."""
    outbox_add(task=PASSWORD_RESET_MAIL_TASK, args=[email, domain, use_https])


class _PasswordResetMail(PasswordResetForm):
    """Django's reset mail (one-use link, token), sent by the worker. A mail
    that fails raises, so the task is retried (Django's form logs and goes on)."""

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ) -> None:
        _send(
            subject_template=subject_template_name,
            body_template=email_template_name,
            context=context,
            to=to_email,
        )


def password_reset_mail_send(*, email: str, domain: str, use_https: bool) -> None:
    """The worker's half of :func:`password_reset_request`: Django's reset mail
    to each active account with this address and a usable password."""
    form = _PasswordResetMail({"email": email})
    if not form.is_valid():
        return
    form.save(
        domain_override=domain,
        use_https=use_https,
        subject_template_name="accounts/password_reset_subject.txt",
        email_template_name="accounts/password_reset_email.txt",
    )


def _send(*, subject_template: str, body_template: str, context: dict, to: str) -> None:
    """One plain-text mail; an error (SMTP away) raises, for the task to retry."""
    subject = " ".join(render_to_string(subject_template, context).split())
    body = render_to_string(body_template, context)
    EmailMultiAlternatives(subject, body, None, [to]).send()


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


# --- personal access tokens ---------------------------------------------------

TOKENS_PER_USER = 20


def token_digest(secret: str) -> str:
    """What is stored of a token's secret (SHA-256, hex)."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


@transaction.atomic
def token_create(
    *,
    user: User,
    name: str,
    scope: str = AccessToken.Scope.READ_WRITE,
    profile: Profile | None = None,
    expires_at=None,
) -> tuple[AccessToken, str]:
    """Makes a token for ``user``; returns it and its secret (shown only now).

    Refuses (``ValidationError``, with a code for programs) a name of blanks, a
    profile that is not the user's, an ``account`` scope on a kids profile's
    token, an expiry in the past, and more than :data:`TOKENS_PER_USER`
    tokens that still work (revoked and expired ones do not count).
    """
    name = name.strip()
    if not name:
        raise ValidationError(
            {"name": ValidationError("Give the token a name.", code="blank")}
        )
    if profile is not None and profile.user_id != user.pk:
        raise ValidationError(
            {"profile": ValidationError("No such profile.", code="does_not_exist")}
        )
    if scope == AccessToken.Scope.ACCOUNT and profile is not None and profile.is_kids:
        raise ValidationError(
            {
                "scope": ValidationError(
                    "A kids profile's token cannot have full account access.",
                    code="kids_profile_account_scope",
                )
            }
        )
    now = timezone.now()
    if expires_at is not None and expires_at <= now:
        raise ValidationError(
            {"expires_at": ValidationError("Choose a time in the future.", code="past")}
        )
    _lock_account(user)
    working = AccessToken.objects.filter(user=user, revoked_at__isnull=True).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    )
    if working.count() >= TOKENS_PER_USER:
        raise ValidationError(
            f"At most {TOKENS_PER_USER} tokens; revoke one you no longer use.",
            code="token_limit",
        )
    secret = AccessToken.PREFIX + secrets.token_urlsafe(32)
    token = AccessToken.objects.create(
        user=user,
        profile=profile,
        name=name,
        scope=scope,
        prefix=secret[: len(AccessToken.PREFIX) + 8],
        digest=token_digest(secret),
        expires_at=expires_at,
    )
    return token, secret


@transaction.atomic
def token_revoke(*, token: AccessToken) -> None:
    """Stops the token working at once (kept, revoked, for the account's list)."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
