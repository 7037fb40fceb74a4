"""Puts the profile chosen in the picker on ``request.profile``."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from accounts.access import ACTIVE_PROFILE_SESSION_KEY, profile_deactivate
from accounts.models import Profile


class ActiveProfileMiddleware:
    """Sets ``request.profile``: the active profile, or ``None``.

    ``None`` when nobody is logged in or no profile has been chosen. The id
    kept in the session is checked against ``request.user`` on every request,
    so a profile deleted meanwhile, or one that is not this user's, is
    forgotten rather than used. Goes after ``AuthenticationMiddleware``.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.profile = None
        profile_id = request.session.get(ACTIVE_PROFILE_SESSION_KEY)
        if profile_id is not None:
            profile = None
            if isinstance(profile_id, int) and request.user.is_authenticated:
                profile = (
                    Profile.objects.select_related("privacy")
                    .filter(pk=profile_id, user_id=request.user.pk)
                    .first()
                )
            if profile is None:
                profile_deactivate(request)
            request.profile = profile
        return self.get_response(request)
