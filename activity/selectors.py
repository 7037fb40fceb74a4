"""Reads of a profile's activity for its pages: title actions, shelves, player.

Every read here is scoped to one profile (the caller's ``request.profile``,
already checked to be the user's), so another profile's rows are simply not
found: a 404, never a 403.
"""

import hashlib
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery

from accounts.models import Profile
from activity.models import Feedback, ListItem, Rating, ViewingEvent
from catalog.models import Episode, Title, TitleQuerySet
from consent.models import PrivacySettings
from consent.policy import (
    hidden_genre_ids,
    may_store_viewing,
    profiling_on,
    settings_for,
)

#: Why a play is not kept (:func:`viewing_not_kept_reason`).
NOT_KEPT_PRIVATE_SESSION = "private_session"
NOT_KEPT_HISTORY_PAUSED = "history_paused"
NOT_KEPT_NON_PROFILING = "non_profiling"


def titles_for(profile: Profile) -> TitleQuerySet:
    """The titles this profile may open and act on: available ones, and on a
    kids profile only those suitable for children (the catalog's rule)."""
    return Title.objects.for_profile(profile)


# --- what is never recommended (the hard filters) ------------------------------


@dataclass(frozen=True)
class HardFilters:
    """What a profile said it never wants recommended: titles marked "not
    interested" and titles of a genre it hid. Every surface that suggests
    titles holds them, with personalization on or off: the home rows of
    every kind through these ids (``recommendations.home.rows``), the
    querysets (More like this, the search suggestions' "For you", Continue
    watching, the API's candidates) through :func:`recommendable_for`.
    Search results and genre pages still find the titles (the viewer asked
    for them by name).

    "Show fewer like this" is not here: it only moves titles down."""

    title_ids: frozenset[int] = frozenset()
    genre_ids: frozenset[int] = frozenset()

    @property
    def key(self) -> str:
        """A short stable text of the filters, for cache keys ("" for none)."""
        if not self.title_ids and not self.genre_ids:
            return ""
        text = ",".join(map(str, sorted(self.genre_ids)))
        text += ";" + ",".join(map(str, sorted(self.title_ids)))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


NO_FILTERS = HardFilters()


@dataclass(frozen=True)
class RowControls:
    """What the viewer said about titles that shapes every list of
    suggestions: the hard filters, and the titles it wants fewer like (soft:
    they only move down)."""

    filters: HardFilters
    show_fewer: frozenset[int]


NO_CONTROLS = RowControls(NO_FILTERS, frozenset())
_CONTROL_KINDS = (Feedback.Kind.NOT_INTERESTED, Feedback.Kind.SHOW_FEWER)


def row_controls(profile: Profile | None) -> RowControls:
    """The profile's :class:`RowControls`: one query for its titles, and one
    for its hidden genres when it saved any settings; none for a visitor."""
    if profile is None:
        return NO_CONTROLS
    marked: dict[str, set[int]] = {kind: set() for kind in _CONTROL_KINDS}
    for title_id, kind in Feedback.objects.filter(
        profile=profile, kind__in=_CONTROL_KINDS
    ).values_list("title_id", "kind"):
        marked[kind].add(title_id)
    return RowControls(
        HardFilters(
            title_ids=frozenset(marked[Feedback.Kind.NOT_INTERESTED]),
            genre_ids=frozenset(hidden_genre_ids(settings_for(profile))),
        ),
        frozenset(marked[Feedback.Kind.SHOW_FEWER]),
    )


def hard_filters(profile: Profile | None) -> HardFilters:
    """The profile's hard filters (see :func:`row_controls`)."""
    return row_controls(profile).filters


def recommendable_for(profile: Profile | None) -> TitleQuerySet:
    """Titles that may be suggested to the profile: those it may see
    (:func:`titles_for`), minus its hard filters, as subqueries (no query of
    its own: a page that lists them costs what it did)."""
    titles = Title.objects.for_profile(profile)
    if profile is None:
        return titles
    not_interested = Feedback.objects.filter(
        profile=profile, title=OuterRef("pk"), kind=Feedback.Kind.NOT_INTERESTED
    )
    hidden_genres = PrivacySettings.hidden_genres.through.objects.filter(
        privacysettings_id=profile.pk
    ).values("genre_id")
    of_hidden_genre = Title.genres.through.objects.filter(
        title_id=OuterRef("pk"), genre_id__in=hidden_genres
    )
    return titles.exclude(Exists(not_interested)).exclude(Exists(of_hidden_genre))


def show_fewer_ids(profile: Profile) -> frozenset[int]:
    """Titles the profile asked to see fewer like (see :func:`row_controls`)."""
    return row_controls(profile).show_fewer


# --- one title, as this profile sees it ---------------------------------------


def _latest_viewing(profile: Profile) -> QuerySet[ViewingEvent]:
    return ViewingEvent.objects.filter(profile=profile, title=OuterRef("pk")).order_by(
        "-started_at", "-id"
    )


def title_with_state(profile: Profile, pk: int) -> Title:
    """One title the profile may act on, with what the profile did to it.

    Annotated with ``my_rating`` (None when unrated), ``thumbs`` ("thumbs_up",
    "thumbs_down" or None), ``not_interested``, ``show_fewer``, ``on_list``, and the latest
    viewing's ``last_progress`` and ``last_completed`` (None when never
    played). One query. Raises ``Title.DoesNotExist``.
    """
    mine = {"profile": profile, "title": OuterRef("pk")}
    thumbs = Feedback.objects.filter(
        **mine, kind__in=[Feedback.Kind.THUMBS_UP, Feedback.Kind.THUMBS_DOWN]
    )
    latest = _latest_viewing(profile)
    return (
        titles_for(profile)
        .annotate(
            my_rating=Subquery(Rating.objects.filter(**mine).values("value")[:1]),
            thumbs=Subquery(thumbs.order_by("-created_at").values("kind")[:1]),
            not_interested=Exists(
                Feedback.objects.filter(**mine, kind=Feedback.Kind.NOT_INTERESTED)
            ),
            show_fewer=Exists(
                Feedback.objects.filter(**mine, kind=Feedback.Kind.SHOW_FEWER)
            ),
            on_list=Exists(ListItem.objects.filter(**mine)),
            last_progress=Subquery(latest.values("progress")[:1]),
            last_completed=Subquery(latest.values("completed")[:1]),
        )
        .get(pk=pk)
    )


def resume_progress(title: Title) -> float:
    """Where "Resume" starts for a title from :func:`title_with_state`: the
    latest viewing's progress, unless it was finished (then from the start)."""
    if title.last_progress is None or title.last_completed:
        return 0.0
    return title.last_progress


# --- series: which episode plays next -------------------------------------------


@dataclass(frozen=True)
class UpNext:
    """What Play plays of a series, and from where (0..1 of the episode)."""

    episode: Episode
    progress: float


def episodes_of(title: Title) -> QuerySet[Episode]:
    """The series' episodes in watching order (none for a film)."""
    return (
        Episode.objects.filter(season__title=title).select_related("season").in_order()
    )


def episode_progress(profile: Profile, episode: Episode) -> float:
    """Where a play of this episode resumes: its latest viewing's progress,
    unless that one was finished (then from the start)."""
    last = (
        ViewingEvent.objects.filter(profile=profile, episode=episode)
        .order_by("-started_at", "-id")
        .values_list("progress", "completed")
        .first()
    )
    if last is None or last[1]:
        return 0.0
    return last[0]


def up_next(profile: Profile, title: Title) -> UpNext | None:
    """The episode Play starts for this profile, or None for a title without
    episodes (a film, or a series imported without them).

    The latest episode played, from where it stopped, while unfinished; once
    finished, the episode after it (the next season's first after a season's
    last); after the very last one, the series starts over. Never played:
    the first episode.
    """
    if title.kind != Title.Kind.SERIES:
        return None
    first = episodes_of(title).first()
    if first is None:
        return None
    last = (
        ViewingEvent.objects.filter(profile=profile, title=title, episode__isnull=False)
        .select_related("episode__season")
        .order_by("-started_at", "-id")
        .first()
    )
    if last is None:
        return UpNext(first, 0.0)
    assert last.episode is not None
    if not last.completed:
        return UpNext(last.episode, last.progress)
    following = Episode.objects.after(last.episode).first()
    return UpNext(following or first, 0.0)


def with_next_episode(viewings: QuerySet[ViewingEvent]) -> QuerySet[ViewingEvent]:
    """Viewings annotated with the season and number of the episode after
    theirs (``next_season``, ``next_number``; None for the last episode, or
    for a viewing without an episode)."""
    following = Episode.objects.filter(season__title_id=OuterRef("title_id")).filter(
        Q(season__number__gt=OuterRef("episode__season__number"))
        | Q(
            season__number=OuterRef("episode__season__number"),
            number__gt=OuterRef("episode__number"),
        )
    )
    following = following.order_by("season__number", "number")
    return viewings.annotate(
        next_season=Subquery(following.values("season__number")[:1]),
        next_number=Subquery(following.values("number")[:1]),
    )


# --- the profile's shelves ------------------------------------------------------


def my_list(profile: Profile) -> QuerySet[ListItem]:
    """My List, latest addition first."""
    return (
        ListItem.objects.filter(profile=profile, title__in=titles_for(profile))
        .select_related("title")
        .order_by("-added_at", "-id")
    )


def continue_watching(profile: Profile) -> QuerySet[ViewingEvent]:
    """One viewing per title, the latest, when it is unfinished (or, of a
    series, finished with an episode after it) and was not removed from the
    row; most recently started first.

    Each is annotated by :func:`with_next_episode`; ``ViewingEvent.up_next_code``
    then reads "S2:E4" for the episode a series resumes at.
    """
    latest = ViewingEvent.objects.filter(
        profile=profile, title=OuterRef("title")
    ).order_by("-started_at", "-id")
    viewings = with_next_episode(
        ViewingEvent.objects.filter(
            profile=profile,
            dismissed=False,
            # A suggestion to resume: the hard filters hold here too.
            title__in=recommendable_for(profile),
            pk=Subquery(latest.values("pk")[:1]),
        )
    )
    return (
        viewings.filter(Q(completed=False) | Q(next_number__isnull=False))
        .select_related("title", "episode__season")
        .order_by("-started_at", "-id")
    )


def continue_watching_of(profile: Profile, title_id: int) -> ViewingEvent:
    """The title's viewing on the profile's Continue Watching row.

    Raises ``ViewingEvent.DoesNotExist`` when the title is not on the row.
    """
    return continue_watching(profile).get(title_id=title_id)


def feedback(profile: Profile) -> QuerySet[Feedback]:
    """The profile's thumbs, hidden titles and picks, latest first."""
    return (
        Feedback.objects.filter(profile=profile, title__in=titles_for(profile))
        .select_related("title")
        .order_by("-created_at", "-id")
    )


def ratings(profile: Profile) -> QuerySet[Rating]:
    """The profile's ratings, latest first."""
    return (
        Rating.objects.filter(profile=profile, title__in=titles_for(profile))
        .select_related("title")
        .order_by("-updated_at", "-id")
    )


def history(profile: Profile) -> QuerySet[ViewingEvent]:
    """Every viewing, latest first."""
    return (
        ViewingEvent.objects.filter(profile=profile, title__in=titles_for(profile))
        .select_related("title", "episode__season")
        .order_by("-started_at", "-id")
    )


def viewing_of(profile: Profile, viewing_id: int) -> ViewingEvent:
    """The profile's own viewing of a title it may still open, with its title.

    Raises ``ViewingEvent.DoesNotExist`` for anyone else's.
    """
    return (
        ViewingEvent.objects.filter(profile=profile, title__in=titles_for(profile))
        .select_related("title", "episode__season")
        .get(pk=viewing_id)
    )


def viewing_not_kept_reason(profile: Profile, *, private_session: bool) -> str | None:
    """Why a play of the profile would not be stored now, or None if it would:
    :data:`NOT_KEPT_PRIVATE_SESSION`, :data:`NOT_KEPT_NON_PROFILING` (rows
    not based on activity, plays not kept) or :data:`NOT_KEPT_HISTORY_PAUSED`."""
    if may_store_viewing(profile, private_session=private_session):
        return None
    if private_session:
        return NOT_KEPT_PRIVATE_SESSION
    return NOT_KEPT_HISTORY_PAUSED if profiling_on(profile) else NOT_KEPT_NON_PROFILING
