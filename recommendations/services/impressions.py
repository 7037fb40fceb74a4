"""What a page view showed: its cards kept as impressions.

The home page (surface ``home``, htmx swaps included) and the API's home
(surface ``api``) call :func:`page_view_record` after serving a page, built
or from the cache: a cached page shows its cards again, so it records them
again, under a new page view. The rules of what may be kept are
:func:`activity.services.impressions_record`'s. A page built for a test's
arm also keeps the profile's assignment, the first time it is shown with
impressions kept.
"""

import uuid

from django.contrib.sessions.backends.base import SessionBase

from accounts.models import Profile
from activity.services import impressions_record
from consent.policy import private_session_on
from recommendations.home.cache import CachedRows
from recommendations.home.rows import HomePage
from recommendations.services.experiments import assignment_record


def page_view_record(
    *,
    profile: Profile | None,
    page: HomePage | CachedRows,
    surface: str,
    device: str,
    session: SessionBase | None,
) -> int:
    """Keeps the cards ``page`` showed ``profile`` in one page view; returns
    how many were kept (none for a visitor without a profile).

    One insert, so no transaction of its own: a warm home page costs one
    query more; the assignment (idempotent) is kept in its own.
    """
    if profile is None:
        return 0
    cards = page.cards() if isinstance(page, HomePage) else page.cards
    kept = impressions_record(
        profile=profile,
        cards=cards,
        page_view=uuid.uuid4(),
        surface=surface,
        model_version_id=page.model_version_id,
        experiment_id=page.experiment_id,
        arm=page.arm,
        device_class=device,
        private_session=session is not None and private_session_on(session, profile),
    )
    if kept and page.experiment_id is not None:
        assignment_record(
            profile_id=profile.pk, experiment_id=page.experiment_id, arm=page.arm
        )
    return kept
