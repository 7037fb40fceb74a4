"""Writes of a profile's signals; each one refreshes that profile's candidates.

The refresh is enqueued with ``transaction.on_commit``: the worker sees the
committed signal, and a broker that is away never fails the viewer's request.
"""

from django.db import transaction
from django.utils import timezone

from accounts.models import Profile
from activity.models import Feedback, Rating, SearchEvent
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
