"""The rules of the log-in lockout (django-axes), and the answer to a locked client.

- Failures are counted per (e-mail address, client IP address): five wrong
  passwords for one address from one client lock that address for that
  client only (``AXES_FAILURE_LIMIT``, ``AXES_LOCKOUT_PARAMETERS``). A client
  guessing five different addresses locks nobody else out, and neither does
  a neighbour behind the same proxy (``accounts.client_ip``).
- On top of that, ``AXES_ACCOUNT_FAILURE_LIMIT`` failures for one address
  from any number of clients lock that address everywhere: a botnet would
  otherwise get five guesses per address per machine. The price is that
  anybody can lock a known address from many machines; the owner then lifts
  it with a password reset, which clears every count of the address.
- The lock lasts ``AXES_COOLOFF_TIME`` from the failure that set it: attempts
  while locked are refused uncounted, so they do not restart the wait
  (``AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT`` off).
- A locked client gets 429 with ``Retry-After``: the lockout page, or JSON
  under ``/api/`` (``LockoutBasicAuthentication`` for Basic auth).
"""

import math
from datetime import datetime, timedelta

from axes.attempts import get_cool_off_threshold
from axes.conf import settings
from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django.db.models import Max, QuerySet, Sum
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from drf_spectacular.authentication import BasicScheme
from rest_framework.authentication import BasicAuthentication
from rest_framework.exceptions import AuthenticationFailed, Throttled

from config.api_errors import error_body


class LockoutHandler(AxesDatabaseHandler):
    """django-axes' database handler plus the per-address limit (``AXES_HANDLER``)."""

    def get_failures(self, request, credentials: dict | None = None) -> int:
        """Failures of this address from this client; the failure limit itself
        once the address has failed too often from everywhere together, so
        axes' one comparison with ``AXES_FAILURE_LIMIT`` locks it either way."""
        if getattr(request, "axes_ip_address", None):
            failures = super().get_failures(request, credentials)
        else:  # no client (a shell, a test's Client.login): the worst one
            per_client = (
                self._account_attempts(request, credentials)
                .values("ip_address")
                .annotate(total=Sum("failures_since_start"))
            )
            failures = max((row["total"] for row in per_client), default=0)
        limit = get_failure_limit(request, credentials)
        if failures < limit and self._account_locked(request, credentials):
            return limit
        return failures

    def _account_attempts(self, request, credentials: dict | None) -> QuerySet:
        username = get_client_username(request, credentials)
        if not username:
            return AccessAttempt.objects.none()
        return AccessAttempt.objects.filter(
            username=username, attempt_time__gte=get_cool_off_threshold(request)
        )

    def _account_locked(self, request, credentials: dict | None) -> bool:
        counted = self._account_attempts(request, credentials).aggregate(
            total=Sum("failures_since_start")
        )["total"]
        return (counted or 0) >= settings.AXES_ACCOUNT_FAILURE_LIMIT

    def lock_ends_at(self, request, credentials: dict | None = None) -> datetime:
        """When the lock on this request lifts, at the latest: the cool-off
        after the newest failure that counts towards it."""
        counted = list(self.get_user_attempts(request, credentials))
        if self._account_locked(request, credentials):
            counted.append(self._account_attempts(request, credentials))
        latest = [
            moment
            for attempts in counted
            if (moment := attempts.aggregate(latest=Max("attempt_time"))["latest"])
        ]
        start = max(latest, default=timezone.now())
        return start + (get_cool_off(request) or timedelta(0))


def retry_after_seconds(request, credentials: dict | None = None) -> int:
    """Whole seconds until the lock on this request lifts (at least 1)."""
    handler = AxesProxyHandler.get_implementation()
    AxesProxyHandler.update_request(request)
    if not isinstance(handler, LockoutHandler):  # AXES_HANDLER overridden
        return math.ceil((get_cool_off(request) or timedelta(0)).total_seconds())
    remaining = handler.lock_ends_at(request, credentials) - timezone.now()
    return max(1, math.ceil(remaining.total_seconds()))


LOCKED_DETAIL = (
    "Signing in is locked after too many wrong passwords. "
    "Try again later, or reset the password: the e-mailed link lifts the lock."
)


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict | None = None,
) -> HttpResponse:
    """The answer to a locked-out log-in (``AXES_LOCKOUT_CALLABLE``): 429 with
    ``Retry-After``; JSON under ``/api/``, the lockout page otherwise."""
    wait = retry_after_seconds(request, credentials)
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            error_body(429, "locked_out", LOCKED_DETAIL), status=429
        )
    else:
        context = {
            "failure_limit": get_failure_limit(request, credentials),
            "username": get_client_username(request, credentials) or "",
            "cooloff_minutes": round(get_cool_off(request).total_seconds() / 60),
            "retry_after_minutes": math.ceil(wait / 60),
        }
        response = render(request, "accounts/lockout.html", context, status=429)
    response["Retry-After"] = str(wait)
    return response


class LockoutBasicAuthentication(BasicAuthentication):
    """DRF's Basic auth, answering a locked-out address 429 with ``Retry-After``
    (DRF's throttled answer) instead of "invalid username/password" (403).

    django-axes marks the request it was given, here DRF's own ``Request``,
    which its middleware never sees; so the mark is read here.
    """

    def authenticate_credentials(self, userid, password, request=None):
        try:
            return super().authenticate_credentials(userid, password, request)
        except AuthenticationFailed:
            if request is None or not getattr(request, "axes_locked_out", False):
                raise
            credentials = {"email": userid}
            raise Throttled(
                wait=retry_after_seconds(request, credentials),
                detail=LOCKED_DETAIL,
                code="locked_out",
            ) from None


class LockoutBasicScheme(BasicScheme):
    """The OpenAPI schema's name for it: plain HTTP Basic auth."""

    target_class = "accounts.lockout.LockoutBasicAuthentication"
    priority = 0
