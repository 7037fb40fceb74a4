"""Writes of a profile's signals; each one refreshes that profile's candidates.

The refresh is recorded in the outbox in the same transaction and sent once
it commits (``outbox.services``, coalesced per profile): the worker sees the
committed signal, and a broker that is away never fails the viewer's request.
Writes that change no training signal (My List, starting a play, removing a
title from Continue Watching, searches) enqueue nothing. Every write also
touches the profile (:func:`accounts.services.profile_touch`, in the same
transaction), so its cached home rows are rebuilt on the next visit.

The privacy rules of collection live here, so every caller (pages, API)
keeps them: while viewing or search history is paused, or the browser
session is private (``private_session=True``, told by the caller from
:func:`consent.policy.private_session_on`), no ViewingEvent or
SearchEvent is stored; without contextual signals no device class is kept.
Explicit actions (ratings, thumbs, not interested, My List) are kept in a
private session too: the viewer asked for them. In the non-profiling mode
(personalized rows off, :mod:`consent.policy`) no search or device class is
kept, plays only while the viewer keeps them for Continue watching, and no
write refreshes the profile's candidates.

Impressions (the cards a profile was shown, :func:`impressions_record`) and
their takes (:func:`impression_take`) follow one rule,
:func:`consent.policy.may_record_impressions`: nothing while viewing history
is paused, in a private session, or in the non-profiling mode. They measure
the rows (take rates, tests) and never choose titles, so they touch nothing.
"""

import math
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Case, IntegerField, Subquery, Value, When
from django.utils import timezone

from accounts.models import Profile
from accounts.services import profile_touch
from activity import selectors
from activity.models import (
    Feedback,
    Impression,
    ListItem,
    Rating,
    SearchEvent,
    ViewingEvent,
)
from catalog.models import Episode, Title
from consent.policy import (
    may_learn,
    may_record_impressions,
    may_store_device,
    may_store_search,
    may_store_viewing,
)
from outbox.services import outbox_add

#: The recommendations app folds a changed profile in (activity sits below it,
#: so it names the task rather than importing it).
REFRESH_PROFILE_TASK = "recommendations.tasks.refresh_profile"


def _refresh_on_commit(profile_id: int) -> None:
    outbox_add(task=REFRESH_PROFILE_TASK, args=[profile_id], coalesce=True)


def _changed(profile: Profile | int, *, refresh: bool) -> None:
    """The profile's rows must be rebuilt; with ``refresh`` its candidates
    too, unless nothing may learn from it (the non-profiling mode)."""
    profile_id = profile if isinstance(profile, int) else profile.pk
    profile_touch(profile_id=profile_id)
    if not refresh:
        return
    if isinstance(profile, int):
        profile = Profile.objects.select_related("privacy").get(pk=profile)
    if may_learn(profile):
        _refresh_on_commit(profile_id)


@transaction.atomic
def rating_upsert(
    *, profile: Profile, title: Title, value: float
) -> tuple[Rating, bool]:
    """One rating per profile and title: rating again updates it.

    Returns the rating and whether it is new (as ``get_or_create`` does).
    """
    now = timezone.now()
    rating, created = Rating.objects.get_or_create(
        profile=profile,
        title=title,
        defaults={"value": value, "created_at": now, "updated_at": now},
    )
    if not created and rating.value != value:
        rating.value = value
        rating.updated_at = now
        rating.save(update_fields=["value", "updated_at"])
    _changed(profile, refresh=True)
    return rating, created


@transaction.atomic
def rating_delete(*, profile: Profile, title: Title) -> bool:
    deleted, _ = Rating.objects.filter(profile=profile, title=title).delete()
    if deleted:
        _changed(profile, refresh=True)
    return bool(deleted)


_EXCLUSIVE = {
    Feedback.Kind.THUMBS_UP: Feedback.Kind.THUMBS_DOWN,
    Feedback.Kind.THUMBS_DOWN: Feedback.Kind.THUMBS_UP,
}


@transaction.atomic
def feedback_add(*, profile: Profile, title: Title, kind: str) -> tuple[Feedback, bool]:
    """Records thumbs, an onboarding pick or "not interested"; thumbs up and
    down exclude each other. Returns the row and whether it is new."""
    if kind in _EXCLUSIVE:
        Feedback.objects.filter(
            profile=profile, title=title, kind=_EXCLUSIVE[kind]
        ).delete()
    feedback, created = Feedback.objects.get_or_create(
        profile=profile, title=title, kind=kind
    )
    _changed(profile, refresh=True)
    return feedback, created


@transaction.atomic
def feedback_remove(*, profile: Profile, title: Title, kind: str) -> bool:
    deleted, _ = Feedback.objects.filter(
        profile=profile, title=title, kind=kind
    ).delete()
    if deleted:
        _changed(profile, refresh=True)
    return bool(deleted)


@transaction.atomic
def thumbs_set(*, profile: Profile, title: Title, kind: str | None) -> str | None:
    """Thumbs up, thumbs down, or neither (``kind=None``); returns what is now set."""
    if kind is not None:
        if kind not in _EXCLUSIVE:
            raise ValueError(f"Not a thumb: {kind!r}")
        feedback_add(profile=profile, title=title, kind=kind)
        return kind
    deleted, _ = Feedback.objects.filter(
        profile=profile, title=title, kind__in=list(_EXCLUSIVE)
    ).delete()
    if deleted:
        _changed(profile, refresh=True)
    return None


# --- My List (not a training signal) --------------------------------------------


@transaction.atomic
def list_add(*, profile: Profile, title: Title) -> tuple[ListItem, bool]:
    """Puts a title on My List; adding it again keeps its place. Returns the
    item and whether it is new."""
    item, created = ListItem.objects.get_or_create(profile=profile, title=title)
    if created:
        _changed(profile, refresh=False)
    return item, created


@transaction.atomic
def list_remove(*, profile: Profile, title: Title) -> bool:
    deleted, _ = ListItem.objects.filter(profile=profile, title=title).delete()
    if deleted:
        _changed(profile, refresh=False)
    return bool(deleted)


# --- viewings -------------------------------------------------------------------


@transaction.atomic
def viewing_start(
    *,
    profile: Profile,
    title: Title,
    episode: Episode | None = None,
    device_class: str = "",
    resume: bool = True,
    private_session: bool = False,
) -> ViewingEvent:
    """A new viewing (one per play), from where the latest one stopped.

    With ``resume`` it starts at the latest viewing's progress, unless that
    one was finished; otherwise from the beginning. ``device_class`` is one of
    ``ViewingEvent.Device`` or "" (unknown); it is kept only while the profile
    allows contextual signals.

    A series with episodes is played one episode at a time: ``episode`` (one
    of the title's), or without it the one :func:`activity.selectors.up_next`
    names; resuming then means resuming that episode.

    While viewing history is paused or the session is private, nothing is
    stored: the viewing returned is unsaved (``pk`` is None), so the title
    still plays, from the same place, and is forgotten.
    """
    if episode is not None and episode.season.title_id != title.pk:
        raise ValueError(f"Episode {episode.pk} is not one of {title}'s.")
    if episode is None:
        following = selectors.up_next(profile, title)
        episode = following.episode if following is not None else None
    progress = 0.0
    if resume:
        last = (
            ViewingEvent.objects.filter(profile=profile, title=title, episode=episode)
            .order_by("-started_at", "-id")
            .first()
        )
        if last is not None and not last.completed:
            progress = last.progress
    now = timezone.now()
    viewing = ViewingEvent(
        profile=profile,
        title=title,
        episode=episode,
        started_at=now,
        updated_at=now,
        progress=progress,
        device_class=device_class if may_store_device(profile) else "",
    )
    if may_store_viewing(profile, private_session=private_session):
        viewing.save()
        _changed(profile, refresh=False)
    return viewing


def viewing_kept(viewing: ViewingEvent, *, private_session: bool = False) -> bool:
    """Whether heartbeats of this viewing are stored: it was stored when it
    started, and viewing history is not paused (nor the session private) now."""
    return viewing.pk is not None and may_store_viewing(
        viewing.profile, private_session=private_session
    )


@transaction.atomic
def viewing_heartbeat(
    *,
    viewing: ViewingEvent,
    progress: float,
    seconds_watched: int | None = None,
    private_session: bool = False,
) -> ViewingEvent:
    """Records how far a viewing got; it never goes backwards.

    ``progress`` (0..1) and ``seconds_watched`` only ever grow: a late or
    repeated heartbeat changes nothing. Without ``seconds_watched`` (the
    "Mark as watched" button) the progress gained counts as watched. Past
    ``ViewingEvent.COMPLETED_AT`` the viewing is completed, once, and the
    profile's candidates are refreshed.

    A viewing that is not kept (:func:`viewing_kept`: never stored, or
    history paused since) is updated in memory only: nothing is stored.
    """
    if not (math.isfinite(progress) and 0.0 <= progress <= 1.0):
        raise ValueError(f"Progress must be between 0 and 1, not {progress!r}")
    if seconds_watched is not None and seconds_watched < 0:
        raise ValueError(f"Seconds watched cannot be negative: {seconds_watched!r}")
    kept = viewing_kept(viewing, private_session=private_session)
    current = (
        ViewingEvent.objects.select_for_update(of=("self",))
        .select_related("title", "episode")
        .get(pk=viewing.pk)
        if kept
        else viewing
    )
    new_progress = max(current.progress, progress)
    if seconds_watched is None:
        gained = (new_progress - current.progress) * current.play_seconds
        seconds_watched = current.seconds_watched + round(gained)
    just_completed = not current.completed and new_progress >= ViewingEvent.COMPLETED_AT
    current.progress = new_progress
    current.seconds_watched = max(current.seconds_watched, seconds_watched)
    current.completed = current.completed or just_completed
    current.updated_at = timezone.now()
    if not kept:
        return current
    current.save(
        update_fields=["progress", "seconds_watched", "completed", "updated_at"]
    )
    _changed(viewing.profile, refresh=just_completed)
    return current


@transaction.atomic
def viewing_dismiss(*, viewing: ViewingEvent) -> None:
    """Takes the viewing's title off Continue Watching (until it is played again)."""
    if ViewingEvent.objects.filter(pk=viewing.pk).update(dismissed=True):
        _changed(viewing.profile_id, refresh=False)
    viewing.dismissed = True


# --- searches -------------------------------------------------------------------


@transaction.atomic
def search_record(
    *, profile: Profile, query: str, private_session: bool = False
) -> SearchEvent | None:
    """Keeps one search of a profile (what it searched, and when).

    The text is stored as searched, spaces collapsed and cut to the column's
    length; a blank query is not a search and stores nothing. Nor is anything
    stored while search history is paused or the session is private.
    Searches are kept for the viewer's own history only: recommendations do
    not use them, so no refresh is enqueued.
    """
    text = " ".join(query.replace("\x00", " ").split())
    text = text[: SearchEvent.MAX_QUERY_LENGTH].rstrip()
    if not text or not may_store_search(profile, private_session=private_session):
        return None
    search = SearchEvent.objects.create(profile=profile, query=text)
    _changed(profile, refresh=False)
    return search


# --- impressions ------------------------------------------------------------------

#: One card as shown: (row_kind, row_position, title_id, position, ranker), as
#: ``recommendations.home.rows.Card`` (a plain tuple, so a cached page keeps it).
CardTuple = tuple[str, int, int, int, str]


def impressions_record(
    *,
    profile: Profile,
    cards: Iterable[CardTuple],
    page_view: uuid.UUID,
    surface: str,
    model_version_id: int | None,
    experiment_id: int | None,
    arm: str,
    device_class: str,
    private_session: bool,
) -> int:
    """Keeps the cards of one page view, in one insert; returns how many.

    Nothing is kept while :func:`consent.policy.may_record_impressions` says
    no; the device class only with contextual signals on (as a play's).
    """
    if not may_record_impressions(profile, private_session=private_session):
        return 0
    now = timezone.now()
    device = device_class if may_store_device(profile) else ""
    rows = [
        Impression(
            profile=profile,
            page_view=page_view,
            shown_at=now,
            surface=surface,
            row_kind=row_kind,
            row_position=row_position,
            title_id=title_id,
            position=position,
            model_version_id=model_version_id,
            experiment_id=experiment_id,
            arm=arm or "",
            ranker=ranker or "",
            device_class=device,
        )
        for row_kind, row_position, title_id, position, ranker in cards
    ]
    if rows:
        Impression.objects.bulk_create(rows)
    return len(rows)


def impression_take(
    *,
    profile: Profile,
    title_id: int,
    take: str,
    private_session: bool = False,
    row_kind: str = "",
) -> bool:
    """Marks the profile's latest impression of the title, shown in the last
    ``IMPRESSION_ATTRIBUTION_HOURS``, as taken (one UPDATE), unless it is
    taken already: a play and then a rating of what one card showed are one
    take, not two. With ``row_kind`` (the row the title was opened from), the
    latest one in a row of that kind first. Returns whether one was marked.

    ``take`` is ``Impression.Take``: a play that was stored, or a new rating.
    Nothing is marked where nothing may be recorded
    (:func:`consent.policy.may_record_impressions`).
    """
    if take not in Impression.Take.values:
        raise ValueError(f"Not a take: {take!r}")
    if not may_record_impressions(profile, private_session=private_session):
        return False
    now = timezone.now()
    window = timedelta(hours=settings.IMPRESSION_ATTRIBUTION_HOURS)
    candidates = Impression.objects.filter(
        profile=profile,
        title_id=title_id,
        shown_at__gte=now - window,
        shown_at__lte=now,
    )
    order: list = ["-shown_at", "-id"]
    if row_kind:
        in_row = When(row_kind=row_kind, then=Value(0))
        order.insert(0, Case(in_row, default=Value(1), output_field=IntegerField()))
    latest = candidates.order_by(*order).values("pk")[:1]
    marked = Impression.objects.filter(
        pk=Subquery(latest), taken_at__isnull=True
    ).update(taken_at=now, take=take)
    return bool(marked)


#: Impressions deleted per statement by :func:`impressions_prune`.
PRUNE_BATCH = 5000


def impressions_prune(*, now: datetime | None = None, batch: int = PRUNE_BATCH) -> int:
    """Deletes everyone's impressions older than ``IMPRESSION_RETENTION_DAYS``,
    ``batch`` at a time (each batch its own short transaction, so a large
    backlog never holds long locks); returns how many."""
    cutoff = (now or timezone.now()) - timedelta(
        days=settings.IMPRESSION_RETENTION_DAYS
    )
    total = 0
    while True:
        ids = list(
            Impression.objects.filter(shown_at__lt=cutoff)
            .order_by()
            .values_list("pk", flat=True)[:batch]
        )
        if not ids:
            return total
        with transaction.atomic():
            total += Impression.objects.filter(pk__in=ids).delete()[0]
