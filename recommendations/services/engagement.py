"""The home page's writes: seeds turned down, and engagement per kind of row.

A card opens its title with ``?row=<kind>``; the title page remembers that in
the session (:func:`row_origin_remember`), and a play or a rating of that
title then counts once for that kind of row (:func:`row_engagement_note`).
Rows the profile engages with rise on its home page. A stored play or a new
rating also marks the title's latest impression as taken, preferring a row
of the kind it was opened from (the take rate).

A program signed in with a token keeps no cookie, so its token stands for the
session: :func:`row_origins` gives the place a request keeps its origins in
(the browser's session, or the token's entry in the cache), and the API's
title, rating and play endpoints pass it where the pages pass the session.
"""

from collections.abc import MutableMapping
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import AccessToken, Profile
from accounts.services import profile_touch
from activity.services import impression_take
from catalog.models import Title
from consent.policy import may_record_engagement, private_session_on
from recommendations.models import RowEngagement, SeedExclusion

#: The kinds of home rows (``Row.kind``); engagement is counted per kind.
ROW_KINDS = (
    "continue",
    "top-picks",
    "because",
    "trending",
    "new",
    "top10",
    "genre",
    "gems",
    "outside",
    "collection",
    "my-list",
    "short",
)
#: Where the session keeps the rows titles were opened from, the latest last.
ROW_ORIGIN_SESSION_KEY = "recommendations:row_origin"
ROW_ORIGIN_MAX = 30

#: A browser's session, or what stands for it (:func:`row_origins`).
Session = SessionBase | MutableMapping[str, Any]


@transaction.atomic
def seed_exclude(*, profile: Profile, title: Title) -> tuple[SeedExclusion, bool]:
    """Stops ``title`` seeding "Because you watched…" rows; its history stays.

    Returns the exclusion and whether it is new (excluding twice is one).
    """
    exclusion, created = SeedExclusion.objects.get_or_create(
        profile=profile, title=title
    )
    if created:
        profile_touch(profile_id=profile.pk)
    return exclusion, created


@transaction.atomic
def seed_restore(*, profile: Profile, title: Title) -> bool:
    """Lets ``title`` seed rows again."""
    deleted, _ = SeedExclusion.objects.filter(profile=profile, title=title).delete()
    if deleted:
        profile_touch(profile_id=profile.pk)
    return bool(deleted)


@transaction.atomic
def row_engagement_record(*, profile: Profile, row_kind: str) -> RowEngagement:
    """Counts one play or rating of a title reached from a row of this kind.

    Rows the profile engages with rise on its home page.
    Raises ``ValueError`` for a kind that is not a row kind.
    """
    if row_kind not in ROW_KINDS:
        raise ValueError(f"Not a row kind: {row_kind!r}")
    now = timezone.now()
    engagement, created = RowEngagement.objects.select_for_update().get_or_create(
        profile=profile, row_kind=row_kind, defaults={"count": 1, "updated_at": now}
    )
    if not created:
        RowEngagement.objects.filter(pk=engagement.pk).update(
            count=F("count") + 1, updated_at=now
        )
        engagement.refresh_from_db()
    profile_touch(profile_id=profile.pk)
    return engagement


class TokenOrigins(dict):
    """A program's stand-in for the browser session, holding only the row
    origins: kept in the cache under its token for as long as a browser
    session lives, written through on each change. Lost with the cache,
    which costs a count, never a play or a rating. A program has no private
    session (that is a browser's)."""

    def __init__(self, token_id: int) -> None:
        self.key = f"recommendations:row_origin:token:{token_id}"
        super().__init__({ROW_ORIGIN_SESSION_KEY: cache.get(self.key) or {}})

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        if key == ROW_ORIGIN_SESSION_KEY:
            cache.set(self.key, value, timeout=settings.SESSION_COOKIE_AGE)


def row_origins(*, session: SessionBase, token: AccessToken | None) -> Session:
    """Where a request keeps the rows its titles were opened from: the
    browser's session, or, signed in with a token, the token's own place."""
    return session if token is None else TokenOrigins(token.pk)


def row_origin_remember(
    *, session: Session, profile: Profile | None, title_id: int, row_kind: str
) -> None:
    """Notes (in the session) that the profile opened ``title_id`` from a row;
    not in a private session or the non-profiling mode."""
    if row_kind not in ROW_KINDS or not may_record_engagement(session, profile):
        return
    origins = dict(session.get(ROW_ORIGIN_SESSION_KEY, {}))
    key = f"{profile.pk}:{title_id}"
    origins.pop(key, None)
    origins[key] = row_kind
    session[ROW_ORIGIN_SESSION_KEY] = dict(list(origins.items())[-ROW_ORIGIN_MAX:])


def row_engagement_note(
    *, session: Session, profile: Profile | None, title_id: int, take: str = ""
) -> None:
    """A play or a rating of ``title_id``: counts once for the row it came from.

    With ``take`` (``Impression.Take``: a stored play, or a new rating) it
    also marks the latest impression of the title as taken
    (:func:`activity.services.impression_take`), in a row of the kind it was
    opened from if there is one, else wherever it was last shown.
    """
    if profile is None:
        return
    row_kind = None
    origins = session.get(ROW_ORIGIN_SESSION_KEY)
    # A private session or the non-profiling mode teaches nothing.
    if origins and may_record_engagement(session, profile):
        origins = dict(origins)
        row_kind = origins.pop(f"{profile.pk}:{title_id}", None)
        if row_kind is not None:
            session[ROW_ORIGIN_SESSION_KEY] = origins
        if row_kind in ROW_KINDS:
            row_engagement_record(profile=profile, row_kind=row_kind)
    if take:
        impression_take(
            profile=profile,
            title_id=title_id,
            take=take,
            private_session=private_session_on(session, profile),
            row_kind=row_kind if row_kind in ROW_KINDS else "",
        )
