"""Request throttles, counted in the shared cache so every web process agrees.

A scope (``"profile-writes"``, ``"signup-ip"``...) has a rate in
``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` (DRF's notation: ``"60/min"``,
``"5/hour"``); the same table serves the API and the HTML forms. A request
is counted under its scope and a key (the profile, the client's address, the
e-mail address typed), in a window that starts with the first request and
lasts the rate's period; past the count, the answer is 429 with
``Retry-After``: the friendly ``429.html`` page, or JSON under ``/api/``.

- :func:`throttle` is the view decorator of the HTML forms;
  :class:`ProfileWriteThrottle` the DRF throttle of the API's writes. Both
  count rating and feedback writes in one bucket per (account, profile).
- A cache that is away (``config.cache``) lets requests through: throttles
  protect the site, and must not take it down with Redis.
"""

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from rest_framework.permissions import SAFE_METHODS
from rest_framework.throttling import BaseThrottle

from accounts.backends import lockout_username
from accounts.client_ip import client_ip
from config.api_errors import error_body

PROFILE_WRITES = "profile-writes"
#: Making access tokens (API and account page): per account, per client address.
TOKEN_CREATE, TOKEN_CREATE_IP = "token-create", "token-create-ip"

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int


def rate_for(scope: str) -> Rate:
    """The scope's rate from settings, read on every call (tests change it)."""
    rates = settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES") or {}
    try:
        count, period = rates[scope].split("/")
        return Rate(int(count), _PERIODS[period.strip()[0].lower()])
    except (KeyError, ValueError, IndexError):
        raise ImproperlyConfigured(
            f'REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] needs a rate such as '
            f'"60/min" for {scope!r}'
        ) from None


def throttle_hit(*, scope: str, key: str) -> int | None:
    """Counts one request of ``key`` under ``scope``: ``None`` when it is
    allowed, else the whole seconds until its window ends."""
    rate = rate_for(scope)
    # Hashed: e-mail and IP addresses stay out of the cache's key space.
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    base = f"throttle:{scope}:{digest}"
    now = time.time()
    cache.add(f"{base}:start", now, timeout=rate.seconds)
    start = cache.get(f"{base}:start") or now
    counter = f"{base}:{start!r}"
    cache.add(counter, 0, timeout=rate.seconds)
    try:
        hits = cache.incr(counter)
    except ValueError:  # the cache is away
        return None
    if hits <= rate.count:
        return None
    return max(1, math.ceil(start + rate.seconds - now))


def throttled_response(request: HttpRequest, wait: int) -> HttpResponse:
    """429 with ``Retry-After``: JSON under ``/api/``, a friendly page otherwise."""
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            error_body(
                429, "throttled", f"Too many requests. Try again in {wait} seconds."
            ),
            status=429,
        )
    else:
        context = {"wait_seconds": wait, "wait_minutes": math.ceil(wait / 60)}
        response = render(request, "429.html", context, status=429)
    response["Retry-After"] = str(wait)
    return response


# --- what a request is counted by ---------------------------------------------------


def by_ip(request: HttpRequest) -> str:
    return client_ip(request)


def by_account(request: HttpRequest) -> str | None:
    user = getattr(request, "user", None)
    return str(user.pk) if user is not None and user.is_authenticated else None


def by_posted_email(request: HttpRequest) -> str | None:
    """The e-mail address typed in the form, as the lockout spells it."""
    return lockout_username(request.POST.get("email")) or None


def by_profile(request: HttpRequest) -> str | None:
    profile = getattr(request, "profile", None)
    return f"{request.user.pk}:{profile.pk}" if profile is not None else None


def throttle(
    scope: str,
    *,
    key: Callable[[HttpRequest], str | None],
    methods: tuple[str, ...] = ("POST",),
):
    """Refuses a view's ``methods`` past the scope's rate for ``key(request)``
    (a request without a key is not counted)."""

    def decorator(view):
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method in methods and (ident := key(request)) is not None:
                wait = throttle_hit(scope=scope, key=ident)
                if wait is not None:
                    return throttled_response(request, wait)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


class ProfileWriteThrottle(BaseThrottle):
    """DRF throttle of a profile's writes (``/api/v1/profiles/<id>/...``).

    Keyed by account and profile id, before the view checks the profile: a
    caller naming somebody else's profile spends only their own budget.
    Reads are not counted.
    """

    scope = PROFILE_WRITES

    def allow_request(self, request, view) -> bool:
        self._wait = None
        if request.method in SAFE_METHODS:
            return True
        key = f"{request.user.pk}:{view.kwargs.get('profile_id')}"
        self._wait = throttle_hit(scope=self.scope, key=key)
        return self._wait is None

    def wait(self) -> int | None:
        return self._wait
