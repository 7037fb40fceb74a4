"""Failed log-in limiting (django-axes), fitted to e-mail log-in."""

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.http import HttpRequest


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' check that refuses a locked-out account, first in the chain.

    Axes insists on a ``request`` so it can count failures per client address.
    ``authenticate()`` without one (Django's test ``Client.login``, a shell)
    is refused for an e-mail address locked for any client
    (``accounts.lockout.LockoutHandler``); only the counting needs a real
    request, and every web log-in passes one.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs,
    ):
        return super().authenticate(
            request if request is not None else HttpRequest(),
            username=username,
            password=password,
            **kwargs,
        )


def attempted_email(
    request: HttpRequest, credentials: dict | None = None
) -> str | None:
    """The e-mail address a log-in attempt is counted against, in lower case.

    Lower case so ``Viewer@example.com`` and ``viewer@example.com`` share one
    count, as they share one account.
    """
    source = credentials or getattr(request, "data", None) or request.POST
    return lockout_username(
        source.get(settings.AXES_USERNAME_FORM_FIELD) or source.get("email")
    )


def lockout_username(email: object) -> str | None:
    """An e-mail address as django-axes records it (trimmed, lower case)."""
    if not isinstance(email, str):
        return None
    return email.strip().lower()[:254]
