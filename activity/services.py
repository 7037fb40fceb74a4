"""Writes of a profile's signals; each one refreshes that profile's candidates.

The refresh is enqueued with ``transaction.on_commit``: the worker sees the
committed signal, and a broker that is away never fails the viewer's request.
Writes that change no training signal (My List, starting a play, removing a
title from Continue Watching) enqueue nothing.
"""

import math

from django.db import transaction
from django.utils import timezone

from accounts.models import Profile
from activity.models import Feedback, ListItem, Rating, SearchEvent, ViewingEvent
from catalog.models import Title


def _refresh_on_commit(profile_id: int) -> None:
    from recommendations import tasks

    transaction.on_commit(lambda: tasks.enqueue(tasks.refresh_profile, profile_id))


@transaction.atomic
def rating_upsert(*, profile: Profile, title: Title, value: float) -> Rating:
    """One rating per profile and title: rating again updates it."""
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
    _refresh_on_commit(profile.pk)
    return rating


@transaction.atomic
def rating_delete(*, profile: Profile, title: Title) -> bool:
    deleted, _ = Rating.objects.filter(profile=profile, title=title).delete()
    if deleted:
        _refresh_on_commit(profile.pk)
    return bool(deleted)


_EXCLUSIVE = {
    Feedback.Kind.THUMBS_UP: Feedback.Kind.THUMBS_DOWN,
    Feedback.Kind.THUMBS_DOWN: Feedback.Kind.THUMBS_UP,
}


@transaction.atomic
def feedback_add(*, profile: Profile, title: Title, kind: str) -> Feedback:
    """Records thumbs, an onboarding pick or "not interested"; thumbs up and down exclude each other."""
    if kind in _EXCLUSIVE:
        Feedback.objects.filter(
            profile=profile, title=title, kind=_EXCLUSIVE[kind]
        ).delete()
    feedback, _ = Feedback.objects.get_or_create(
        profile=profile, title=title, kind=kind
    )
    _refresh_on_commit(profile.pk)
    return feedback


@transaction.atomic
def feedback_remove(*, profile: Profile, title: Title, kind: str) -> bool:
    deleted, _ = Feedback.objects.filter(
        profile=profile, title=title, kind=kind
    ).delete()
    if deleted:
        _refresh_on_commit(profile.pk)
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
        _refresh_on_commit(profile.pk)
    return None


# --- My List (not a training signal) --------------------------------------------


@transaction.atomic
def list_add(*, profile: Profile, title: Title) -> ListItem:
    """Puts a title on My List; adding it again keeps its place."""
    item, _ = ListItem.objects.get_or_create(profile=profile, title=title)
    return item


@transaction.atomic
def list_remove(*, profile: Profile, title: Title) -> bool:
    deleted, _ = ListItem.objects.filter(profile=profile, title=title).delete()
    return bool(deleted)


# --- viewings -------------------------------------------------------------------


@transaction.atomic
def viewing_start(
    *, profile: Profile, title: Title, device_class: str = "", resume: bool = True
) -> ViewingEvent:
    """A new viewing (one per play), from where the latest one stopped.

    With ``resume`` it starts at the latest viewing's progress, unless that
    one was finished; otherwise from the beginning. ``device_class`` is one of
    ``ViewingEvent.Device`` or "" (unknown, or context not to be kept).
    """
    progress = 0.0
    if resume:
        last = (
            ViewingEvent.objects.filter(profile=profile, title=title)
            .order_by("-started_at", "-id")
            .first()
        )
        if last is not None and not last.completed:
            progress = last.progress
    now = timezone.now()
    return ViewingEvent.objects.create(
        profile=profile,
        title=title,
        started_at=now,
        updated_at=now,
        progress=progress,
        device_class=device_class,
    )


@transaction.atomic
def viewing_heartbeat(
    *, viewing: ViewingEvent, progress: float, seconds_watched: int | None = None
) -> ViewingEvent:
    """Records how far a viewing got; it never goes backwards.

    ``progress`` (0..1) and ``seconds_watched`` only ever grow: a late or
    repeated heartbeat changes nothing. Without ``seconds_watched`` (the
    "Mark as watched" button) the progress gained counts as watched. Past
    ``ViewingEvent.COMPLETED_AT`` the viewing is completed, once, and the
    profile's candidates are refreshed.
    """
    if not (math.isfinite(progress) and 0.0 <= progress <= 1.0):
        raise ValueError(f"Progress must be between 0 and 1, not {progress!r}")
    if seconds_watched is not None and seconds_watched < 0:
        raise ValueError(f"Seconds watched cannot be negative: {seconds_watched!r}")
    current = (
        ViewingEvent.objects.select_for_update()
        .select_related("title")
        .get(pk=viewing.pk)
    )
    new_progress = max(current.progress, progress)
    if seconds_watched is None:
        gained = (new_progress - current.progress) * ViewingEvent.runtime_seconds(
            current.title
        )
        seconds_watched = current.seconds_watched + round(gained)
    just_completed = not current.completed and new_progress >= ViewingEvent.COMPLETED_AT
    current.progress = new_progress
    current.seconds_watched = max(current.seconds_watched, seconds_watched)
    current.completed = current.completed or just_completed
    current.updated_at = timezone.now()
    current.save(
        update_fields=["progress", "seconds_watched", "completed", "updated_at"]
    )
    if just_completed:
        _refresh_on_commit(current.profile_id)
    return current


@transaction.atomic
def viewing_dismiss(*, viewing: ViewingEvent) -> None:
    """Takes the viewing's title off Continue Watching (until it is played again)."""
    ViewingEvent.objects.filter(pk=viewing.pk).update(dismissed=True)
    viewing.dismissed = True


@transaction.atomic
def viewing_delete(*, viewing: ViewingEvent) -> bool:
    """Deletes one viewing from the history; the profile is refreshed without it."""
    deleted, _ = ViewingEvent.objects.filter(pk=viewing.pk).delete()
    if deleted:
        _refresh_on_commit(viewing.profile_id)
    return bool(deleted)


# --- searches -------------------------------------------------------------------


@transaction.atomic
def search_record(*, profile: Profile, query: str) -> SearchEvent | None:
    """Keeps one search of a profile (what it searched, and when).

    The text is stored as searched, spaces collapsed and cut to the column's
    length; a blank query is not a search and stores nothing.
    """
    text = " ".join(query.replace("\x00", " ").split())
    text = text[: SearchEvent.MAX_QUERY_LENGTH].rstrip()
    if not text:
        return None
    return SearchEvent.objects.create(profile=profile, query=text)
