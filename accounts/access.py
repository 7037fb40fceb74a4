"""Who may see what: the one door to a profile, and the gates in front of pages.

- :func:`access_profile`: a profile of the logged-in user, or 404 (never 403:
  another person's profile is answered as if it did not exist).
- :func:`profile_required`: the view needs a chosen profile
  (``request.profile``, set by :class:`accounts.middleware.ActiveProfileMiddleware`).
- :func:`account_password_required`: an account page (password, profiles,
  the privacy centre). While a kids profile is active it asks for the account
  password first, then lets the session through for
  :data:`ACCOUNT_PASSWORD_WINDOW`. The privacy centre's views use it like this::

      from accounts.access import account_password_required

      @account_password_required  # implies log-in; no login_required needed
      def privacy_centre(request): ...

  (for a class-based view, ``method_decorator(account_password_required,
  name="dispatch")``). Wrong passwords typed on its page count towards the
  log-in lockout. Choosing a grown-up profile in the picker while a kids
  profile is active asks for the password the same way. A view that wants the
  password from every profile, not only kids ones (say, erasing the whole
  account), can check :func:`account_password_confirmed` itself and redirect
  to ``accounts:confirm_password?next=...``.

The session keys below belong to this module; read them through these
functions.
"""

import time
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from urllib.parse import urlencode

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from accounts.models import Profile, User

ACTIVE_PROFILE_SESSION_KEY = "accounts:profile_id"
PASSWORD_CONFIRMED_SESSION_KEY = "accounts:password_confirmed_at"
ACCOUNT_PASSWORD_WINDOW = timedelta(minutes=10)

View = Callable[..., HttpResponse]


def access_profile(user: User, profile_id: int) -> Profile:
    """The user's own profile, or 404 (never 403) for anyone else's."""
    return get_object_or_404(Profile, pk=profile_id, user=user)


# --- the active profile (kept in the session) ---------------------------------


def profile_activate(request: HttpRequest, profile: Profile) -> None:
    """Makes ``profile`` (already checked to be the user's) the one watching.

    A password confirmed for another profile does not carry over.
    """
    request.session[ACTIVE_PROFILE_SESSION_KEY] = profile.pk
    request.session.pop(PASSWORD_CONFIRMED_SESSION_KEY, None)
    request.profile = profile


def profile_deactivate(request: HttpRequest) -> None:
    request.session.pop(ACTIVE_PROFILE_SESSION_KEY, None)
    request.session.pop(PASSWORD_CONFIRMED_SESSION_KEY, None)
    request.profile = None


# --- the account password, re-entered on a kids profile ----------------------


def account_password_confirm(request: HttpRequest) -> None:
    """Records that the account password was just typed in this session."""
    request.session[PASSWORD_CONFIRMED_SESSION_KEY] = time.time()


def account_password_confirmed(request: HttpRequest) -> bool:
    """Whether the account password was typed within the window."""
    confirmed_at = request.session.get(PASSWORD_CONFIRMED_SESSION_KEY)
    if not isinstance(confirmed_at, int | float):
        return False
    age = time.time() - confirmed_at
    return 0 <= age < ACCOUNT_PASSWORD_WINDOW.total_seconds()


def account_password_needed(request: HttpRequest) -> bool:
    """A kids profile is active and the password has not been typed lately."""
    profile = getattr(request, "profile", None)
    return (
        profile is not None
        and profile.is_kids
        and not account_password_confirmed(request)
    )


# --- decorators ----------------------------------------------------------------


def _redirect(request: HttpRequest, url: str) -> HttpResponse:
    """A redirect that htmx follows as a whole page, not swapped into a fragment."""
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(url)
    return HttpResponseRedirect(url)


def _with_next(url: str, request: HttpRequest) -> str:
    return f"{url}?{urlencode({'next': request.get_full_path()})}"


def profile_required(view: View) -> View:
    """Log-in and a chosen profile; otherwise off to log in, or to the picker.

    Either way the viewer comes back to this page afterwards.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if getattr(request, "profile", None) is None:
            return _redirect(
                request, _with_next(reverse("accounts:profile_picker"), request)
            )
        return view(request, *args, **kwargs)

    return wrapper


def account_password_required(view: View) -> View:
    """Log-in, and on a kids profile the account password typed lately.

    Without a chosen profile, or on a grown-up one, the log-in is enough.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if account_password_needed(request):
            return _redirect(
                request, _with_next(reverse("accounts:confirm_password"), request)
            )
        return view(request, *args, **kwargs)

    return wrapper
