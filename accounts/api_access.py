"""Who may do what through the API (``/api/v1/``): tokens and the kids gate.

A request signs in one of three ways:

- a personal access token, ``Authorization: Bearer mqt_…`` (programs);
- the site's session cookie (the site's own pages and htmx), with its CSRF
  token on writes;
- HTTP Basic with the account password: only to make a token
  (``POST /api/v1/tokens/``), so no program sends the password every time.

What it may then do is its *grant*: a level and, maybe, the one profile it
may act for.

==========================  ==========  ==================================
signed in with              level       acts for
==========================  ==========  ==================================
token, scope ``read``       read        its profile, or every profile
token, ``read-write``       write       its profile, or every profile
token, ``account``          account     its profile, or every profile
session, grown-up profile   account     every profile
session, kids profile [*]_  write       that kids profile only
Basic (account password)    account     every profile
==========================  ==========  ==================================

.. [*] until the account password is typed on the site
   (:func:`accounts.access.account_password_needed`), as in the browser.

The checks, in order, each answered the same way on every endpoint:

1. another account's profile or object: **404** (``not_found``), never 403;
2. a profile the grant may not act for, or the whole account's data for a
   grant tied to one profile: **403** ``profile_not_allowed``
   (:func:`require_whole_account`);
3. a level below what the operation needs: **403** ``scope_insufficient``
   (a ``read`` token writing) or ``account_access_required`` (settings,
   exports, erasure, profiles and tokens need the ``account`` level, as the
   browser asks a kids profile for the account password).

A view declares what it needs with :class:`ApiAccess` (``read`` for safe
methods, ``write`` otherwise, or ``access = "account"`` on the view) and
reaches a profile only through :func:`api_profile`. A kids profile's requests
see only what ``Title.objects.for_profile`` allows: that is the views' part.
"""

from dataclasses import dataclass
from datetime import timedelta
from typing import NoReturn

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.access import account_password_needed
from accounts.lockout import LockoutBasicAuthentication
from accounts.models import AccessToken, Profile
from accounts.services import token_digest

READ, WRITE, ACCOUNT = 0, 1, 2
LEVELS = {"read": READ, "write": WRITE, "account": ACCOUNT}
TOKEN_LEVELS = {
    AccessToken.Scope.READ: READ,
    AccessToken.Scope.READ_WRITE: WRITE,
    AccessToken.Scope.ACCOUNT: ACCOUNT,
}
#: How stale ``AccessToken.last_used_at`` may get before a request updates it
#: (one write a minute per token, not one per request).
LAST_USED_RESOLUTION = timedelta(minutes=1)


# --- signing in ---------------------------------------------------------------


class TokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer <token>``; a wrong, revoked or expired token is a
    401 with ``WWW-Authenticate: Bearer``."""

    keyword = "Bearer"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                "Send the token as “Authorization: Bearer <token>”."
            )
        try:
            secret = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        token = (
            AccessToken.objects.select_related("user", "profile")
            .filter(digest=token_digest(secret))
            .first()
        )
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed("Invalid token.")
        if not token.is_active:
            raise exceptions.AuthenticationFailed("This token was revoked or expired.")
        now = timezone.now()
        if (
            token.last_used_at is None
            or now - token.last_used_at > LAST_USED_RESOLUTION
        ):
            AccessToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="api"'


class TokenScheme(OpenApiAuthenticationExtension):
    """The schema's name for it: a bearer token."""

    target_class = "accounts.api_access.TokenAuthentication"
    name = "tokenAuth"
    priority = 1

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal access token (mqt_…), made on the account "
            "page or with POST /api/v1/tokens/.",
        }


# --- what a request may do ----------------------------------------------------


@dataclass(frozen=True)
class Grant:
    level: int
    #: The only profile the request may act for; ``None``: every profile.
    profile: Profile | None


def grant_for(request) -> Grant:
    """What the signed-in request may do (see the table above)."""
    auth = request.auth
    if isinstance(auth, AccessToken):
        level = TOKEN_LEVELS[auth.scope]
        if auth.profile is not None and auth.profile.is_kids:
            # Made before the profile became a kids one: no more than write.
            level = min(level, WRITE)
        return Grant(level, auth.profile)
    if isinstance(request.successful_authenticator, LockoutBasicAuthentication):
        return Grant(ACCOUNT, None)
    if account_password_needed(request._request):
        return Grant(WRITE, request._request.profile)
    return Grant(ACCOUNT, None)


def _refuse_level(need: int) -> None:
    if need == ACCOUNT:
        raise exceptions.PermissionDenied(
            "This needs full account access: a token with the “account” scope, "
            "or, on a kids profile in the browser, the account password.",
            code="account_access_required",
        )
    raise exceptions.PermissionDenied(
        "This token may only read; writing needs the “read-write” scope.",
        code="scope_insufficient",
    )


def require_level(request, need: str) -> None:
    """403 unless the request's grant reaches ``need`` (read, write, account)."""
    level = LEVELS[need]
    if grant_for(request).level < level:
        _refuse_level(level)


def api_profile(request, profile_id: int, *, need: str | None = None) -> Profile:
    """The account's profile ``profile_id`` if this request may act for it.

    404 for another account's profile; 403 ``profile_not_allowed`` when the
    grant is tied to another profile of the account (a kids profile's session
    or a profile's token); ``need`` adds a level check (see
    :func:`require_level`); the view's :class:`ApiAccess` already did the
    method's.
    """
    profile = get_object_or_404(
        Profile.objects.select_related("privacy"), pk=profile_id, user=request.user
    )
    grant = grant_for(request)
    if grant.profile is not None and grant.profile.pk != profile.pk:
        refuse_other_profile(grant.profile)
    if need is not None:
        require_level(request, need)
    return profile


def refuse_other_profile(bound: Profile) -> NoReturn:
    """403 ``profile_not_allowed``: the grant acts for ``bound`` only."""
    raise exceptions.PermissionDenied(
        f"This acts for the profile “{bound.name}” only; another profile, or the "
        "whole account, needs full account access not tied to a profile.",
        code="profile_not_allowed",
    )


def require_whole_account(request) -> None:
    """403 ``profile_not_allowed`` for a grant tied to one profile, on what the
    whole account holds (the inventory, exports, tokens, the consent log):
    that is not one profile's alone. The level is the view's to check."""
    bound = grant_for(request).profile
    if bound is not None:
        refuse_other_profile(bound)


class ApiAccess(BasePermission):
    """Signed in, with the level the operation needs.

    ``read`` for GET/HEAD/OPTIONS, ``write`` for the rest, unless the view
    sets ``access = "account"`` (every method) or ``access = "read"`` (a POST
    that changes nothing).
    """

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        need = getattr(view, "access", None) or (
            "read" if request.method in SAFE_METHODS else "write"
        )
        require_level(request, need)
        return True
