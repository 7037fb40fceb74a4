"""What a profile did, as the home rows read it, and the taste worked out from it.

:func:`load_signals` reads the profile's signals (six queries);
:func:`taste_vector` turns them into the genre mix the rows use (the rule is
``recommendations.engine.taste``); :func:`taste_of` is that same mix for the
privacy centre, which shows and exports it.
"""

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from django.utils import timezone

from accounts.models import Profile
from activity.models import Feedback, ListItem, Rating, ViewingEvent
from activity.selectors import with_next_episode
from consent.policy import settings_for, taste_levels
from recommendations.engine import taste
from recommendations.engine.dataset import NEGATIVE_SIGNALS, index_of
from recommendations.home.snapshot import CatalogSnapshot, catalog_snapshot
from recommendations.models import RowEngagement, SeedExclusion

SEED_MIN_RATING = 4.0


@dataclass(frozen=True)
class Viewing:
    id: int
    title_id: int
    progress: float
    completed: bool
    dismissed: bool
    started_at: datetime
    updated_at: datetime
    #: Of a series: the episode it resumes at, "S2:E4" (this viewing's while
    #: unfinished, else the next one), and how far into it; "" for a film.
    up_next_code: str = ""
    up_next_progress: float = 0.0

    @property
    def continues(self) -> bool:
        """On Continue watching: unfinished, or a series with an episode next."""
        return not self.dismissed and (not self.completed or bool(self.up_next_code))


@dataclass
class Signals:
    """What a profile did, as the rows need it."""

    ratings: dict[int, tuple[float, datetime]] = field(default_factory=dict)
    viewings: list[Viewing] = field(default_factory=list)  # newest first
    feedback: dict[int, set[str]] = field(default_factory=dict)
    my_list: list[int] = field(default_factory=list)  # newest first
    seed_exclusions: set[int] = field(default_factory=set)
    engagement: dict[str, int] = field(default_factory=dict)
    #: For a made-up history (staff preview): picked titles seed rows too.
    picks_seed: bool = False
    #: The viewer's own weights for genres of its taste (genre id → percent,
    #: ``consent.policy.taste_levels``): what the rows' taste is scaled by.
    taste_levels: dict[int, int] = field(default_factory=dict)

    @property
    def has_signal(self) -> bool:
        return bool(self.ratings or self.viewings or self.feedback)

    def turned_down(self) -> set[int]:
        return {t for t, kinds in self.feedback.items() if kinds & NEGATIVE_SIGNALS}

    def seen(self) -> set[int]:
        """Titles it rated, played or picked in onboarding: not recommended back."""
        picked = {
            t for t, kinds in self.feedback.items() if Feedback.Kind.PICK in kinds
        }
        return set(self.ratings) | {v.title_id for v in self.viewings} | picked

    def liked_history(self) -> dict[int, tuple[float, str]]:
        """Titles the profile liked, weighted, each with the signal that made
        it liked (``engine.taste``)."""
        return taste.liked_history(
            ratings={t: value for t, (value, _) in self.ratings.items()},
            viewings=[(v.title_id, v.progress, v.completed) for v in self.viewings],
            feedback=self.feedback,
        )

    def liked_weights(self) -> dict[int, float]:
        """Titles the profile liked, weighted (``engine.taste``): the history
        whose genre mix is its taste (calibration target, genre rows)."""
        return {t: w for t, (w, _) in self.liked_history().items()}

    def seeds(self) -> list[tuple[int, str]]:
        """(title, why it seeds) for recent well-liked titles, newest first."""
        found: dict[int, tuple[datetime, str]] = {}
        for t, (value, at) in self.ratings.items():
            if value >= SEED_MIN_RATING:
                found[t] = (at, f"rated {value:g}★")
        for v in self.viewings:
            if v.completed and v.title_id not in found:
                found[v.title_id] = (v.updated_at, "watched")
        if self.picks_seed:
            epoch = datetime.min.replace(tzinfo=timezone.get_current_timezone())
            for t, kinds in self.feedback.items():
                if Feedback.Kind.PICK in kinds and t not in found:
                    found[t] = (epoch, "liked")
        ordered = sorted(found.items(), key=lambda p: (p[1][0], p[0]), reverse=True)
        return [(t, how) for t, (_, how) in ordered if t not in self.seed_exclusions]


def load_signals(profile: Profile) -> Signals:
    """The profile's signals, in six queries (its taste adjustments come with
    its settings, which the active profile has loaded)."""
    return Signals(
        taste_levels=taste_levels(settings_for(profile)),
        ratings=_ratings(profile),
        viewings=_viewings(profile),
        feedback=_feedback(profile),
        my_list=list(
            ListItem.objects.filter(profile=profile)
            .order_by("-added_at", "-id")
            .values_list("title_id", flat=True)
        ),
        seed_exclusions=set(
            SeedExclusion.objects.filter(profile=profile).values_list(
                "title_id", flat=True
            )
        ),
        engagement=dict(
            RowEngagement.objects.filter(profile=profile).values_list(
                "row_kind", "count"
            )
        ),
    )


def _ratings(profile: Profile) -> dict[int, tuple[float, datetime]]:
    return {
        t: (v, at)
        for t, v, at in Rating.objects.filter(profile=profile).values_list(
            "title_id", "value", "updated_at"
        )
    }


def _viewings(profile: Profile) -> list[Viewing]:
    viewings = with_next_episode(ViewingEvent.objects.filter(profile=profile))
    return [
        Viewing(
            v.id,
            v.title_id,
            v.progress,
            v.completed,
            v.dismissed,
            v.started_at,
            v.updated_at,
            up_next_code=v.up_next_code,
            up_next_progress=v.up_next_progress,
        )
        for v in viewings.select_related("episode__season")
        .only(
            "id",
            "title_id",
            "progress",
            "completed",
            "dismissed",
            "started_at",
            "updated_at",
            "episode__number",
            "episode__season__number",
        )
        .order_by("-started_at", "-id")
    ]


def _feedback(profile: Profile) -> dict[int, set[str]]:
    feedback: dict[int, set[str]] = {}
    for title_id, kind in Feedback.objects.filter(profile=profile).values_list(
        "title_id", "kind"
    ):
        feedback.setdefault(title_id, set()).add(kind)
    return feedback


@dataclass(frozen=True)
class Candidates:
    """The profile's stored candidates (``ProfileCandidates``), best first."""

    ids: np.ndarray
    scores: np.ndarray
    predicted: np.ndarray

    @classmethod
    def of(cls, title_ids, scores, predicted) -> "Candidates":
        return cls(
            np.asarray(title_ids, dtype=np.int64),
            np.asarray(scores, dtype=np.float64),
            np.asarray(predicted, dtype=np.float64),
        )


# --- the taste ------------------------------------------------------------------


def history_taste_vector(snap: CatalogSnapshot, signals: Signals | None) -> np.ndarray:
    """The genre mix of the profile's liked history, one share per genre of
    ``snap.genre_order`` (zeros without a history): "what you do"."""
    if signals is None:
        return np.zeros(len(snap.genre_order))
    return taste.genre_mix(signals.liked_weights(), snap.ids, snap.features)


def taste_factors(snap: CatalogSnapshot, signals: Signals | None) -> np.ndarray:
    """The viewer's factor for each genre of ``snap.genre_order`` (1: as its
    history says; 0: off)."""
    levels = signals.taste_levels if signals is not None else {}
    return taste.genre_factors(levels, snap.genre_order)


def taste_vector(snap: CatalogSnapshot, signals: Signals | None) -> np.ndarray:
    """The genre mix the rows use: the history's mix (:func:`history_taste_vector`)
    with the viewer's adjustments (``engine.taste.adjusted_mix``)."""
    return taste.adjusted_mix(
        history_taste_vector(snap, signals), taste_factors(snap, signals)
    )


def taste_made_of(snap: CatalogSnapshot, signals: Signals | None) -> str:
    """What the taste of :func:`taste_vector` is made of, in words ("what you
    rated or picked"): the signals of the liked titles the mix counts."""
    if signals is None:
        return taste.history_words(())
    history = signals.liked_history()
    ids = list(history)
    in_catalog = index_of(snap.ids, ids) >= 0 if ids else []
    return taste.history_words(
        history[t][1] for t, found in zip(ids, in_catalog, strict=True) if found
    )


@dataclass(frozen=True)
class GenreShare:
    name: str
    slug: str
    share: float  # of the liked titles' genre mix, 0..1
    genre_id: int = 0
    level: int = taste.DEFAULT_LEVEL  # the viewer's percent (0 = off)
    used: float = 0.0  # its share of the mix the rows use, after adjustments


@dataclass(frozen=True)
class Taste:
    """A profile's taste as its rows use it, for the privacy centre."""

    genres: tuple[GenreShare, ...]  # every genre with a share, strongest first
    liked_titles: int  # the liked titles the mix is made of
    catalog_genres: int
    made_of: str  # what the liked titles are, in words: "what you rated or picked"


def taste_of(profile: Profile) -> Taste:
    """The genre mix the profile's rows use (:func:`taste_vector`), by genre.

    Reads only the signals the taste is made of (three queries) and the
    cached catalog snapshot. Ties in share are ordered by genre name.
    """
    snap = catalog_snapshot()
    signals = Signals(
        ratings=_ratings(profile),
        viewings=_viewings(profile),
        feedback=_feedback(profile),
        taste_levels=taste_levels(settings_for(profile)),
    )
    shares = history_taste_vector(snap, signals)
    used = taste_vector(snap, signals)
    genres = sorted(
        (
            GenreShare(
                name=snap.genre_names[g],
                slug=snap.genre_slugs[g],
                share=float(shares[j]),
                genre_id=g,
                level=signals.taste_levels.get(g, taste.DEFAULT_LEVEL),
                used=float(used[j]),
            )
            for j, g in enumerate(snap.genre_order)
            if shares[j] > 0 or g in signals.taste_levels
        ),
        key=lambda s: (-s.share, s.name),
    )
    return Taste(
        genres=tuple(genres),
        liked_titles=taste.liked_in_mix(
            signals.liked_weights(), snap.ids, snap.features
        ),
        catalog_genres=len(snap.genre_order),
        made_of=taste_made_of(snap, signals),
    )
