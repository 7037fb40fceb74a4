"""The home page's rows, built at request time from the stored candidates.

:func:`home_page` reads what the page needs (the profile's candidates and
signals, and a cached snapshot of the catalog), builds every row, orders and
de-duplicates them, and reads the titles shown in one query. The re-ranking
maths (diversity, calibration, moods, context, boosts) is
``recommendations.engine.rerank``; this module decides what goes in which row.

Rows (``Row.kind``), each with a reason line:

- ``continue``: unfinished viewings not removed from the row, newest first.
- ``short``: "Short on time", only when the profile allows contextual signals
  and it is late (22:00–04:59, server time) or the device is a phone: its
  candidates of at most 100 minutes.
- ``top-picks``: the candidates, re-ranked by maximal marginal relevance with
  the profile's exploration setting, then (calibration on) by Steck's
  calibration towards the genre mix of its history; a match score each.
- ``because``: up to three rows, each seeded by a different recent,
  well-liked title (rated 4★ or more, or watched to the end; not one the
  profile asked not to use as a seed): the seed's nearest titles in the
  ranking model, ordered by closeness to the seed (the model's item-item
  weight) times the profile's score (its candidates x1 down to x0.5 by
  rank, other neighbours x0.25).
- ``trending``: time-decayed popularity (``services.trending_refresh``).
- ``top10``: the ten titles with most activity in the day before the newest
  activity (a week, a month, eight weeks when a day has too little), numbered.
- ``new``: most recently added, then most recent years; titles with fewer
  than ``NEW_MIN_RATINGS`` ratings come after the others, so a 1-rating
  oddity never leads.
- ``genre``: the genres the profile watches most ("Sci-Fi you'll like"),
  titles by its scores; without personalization, the most rated genres
  ("Popular in Sci-Fi"), titles by their number of ratings.
- ``gems``: candidates predicted at 3.5★ or more and less rated than half of
  the candidates, best predicted first.
- ``outside``: well-liked titles (Bayesian mean 3.5★ or more) whose every
  genre makes up less than 3 % of the profile's history; 6 titles, plus up to
  14 more as exploration rises to 100, and the row moves up one place for
  every 20 points of exploration (see Row order).
- ``collection``: the curators' active collections for this audience
  (everyone; kids profiles; profiles whose three strongest genres include one
  of the chosen genres), in their order, at their pinned place.
- ``my-list``: My List, latest addition first.

What never shows: withdrawn titles, titles a kids profile may not see
(``Title.objects.for_profile``'s rule), titles in a genre the profile hid,
titles it marked "not interested" or gave a thumbs down; and, outside its own
shelves (Continue watching, My List), titles it rated or played.

Moods re-rank every row but the profile's own shelves and the Top 10 chart;
context (late, phone) re-ranks the same rows and says so in Top picks'
reason. Curators' boosts multiply the score of every personalized row.

Row order. The base order is :data:`PERSONAL_ORDER` (or
:data:`SHARED_ORDER`). Then each row kind the profile engaged with (a play
or a rating of a title opened from a row of that kind, counted in
``RowEngagement``) moves up ``ENGAGEMENT_RISE`` places per doubling of its
count: rise = ``2 × floor(log2(1 + count))`` (1 → 2 places, 3 → 4, 7 → 6),
and "Outside your usual" one more place per 20 points of exploration. A row
that rises sorts at ``base − rise − ½``, so it passes exactly ``rise`` rows
that stay put; the sort is stable, and Continue watching stays first. Collections are then put at their
pinned index. Finally titles are de-duplicated in that order: a title shows
at most once in the first ``FIRST_SCREEN`` rows and at most twice on the
page; a row left with too few titles is dropped.

Without personalization (turned off, a profile with no signal yet, no model,
or no profile at all) the page has only rows that are the same for everyone
of the audience (trending, top 10, new, collections, popular genres), and
nothing of the profile's history is read.
"""

import copy
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from django.core.cache import cache
from django.db.models import Avg, Count
from django.urls import reverse
from django.utils import timezone

from accounts.models import Profile
from activity.models import Feedback, ListItem, Rating, TagApplication, ViewingEvent
from catalog.models import Collection, CollectionItem, Genre, Title
from catalog.selectors import catalog_version
from consent.models import PrivacySettings
from consent.policy import hidden_genre_ids, settings_for
from recommendations import services
from recommendations.engine import rerank
from recommendations.engine.recommender import History
from recommendations.models import (
    ProfileCandidates,
    RowEngagement,
    SeedExclusion,
    TitleTrend,
)

ROW_KINDS = services.ROW_KINDS

ROW_LENGTH = 20
TOP10_LENGTH = 10
#: Rows that make the first screen: a title shows at most once among them...
FIRST_SCREEN = 4
#: ...and at most this many times on the page.
MAX_PER_PAGE = 2
#: A row that de-duplication leaves with fewer titles than this (or than it
#: had) is dropped; the profile's shelves and curated collections keep even
#: one title.
MIN_ROW = 4
BECAUSE_ROWS = 3
#: Recent well-liked titles looked at for "Because you…" seeds.
SEEDS_LOOKED_AT = 10
SEED_MIN_RATING = 4.0
NEIGHBOURS = 60
GENRE_ROWS = 3
POPULAR_GENRE_ROWS = 6
#: A genre needs this share of the history to get its own row.
GENRE_ROW_MIN_SHARE = 0.05
TOP_PICKS_POOL = 120
TOP_PICKS_SHORTLIST = 40
NEW_MIN_RATINGS = 10
#: A gem is in the best third of the candidates by predicted rating, and
#: less rated than half of them.
GEM_TOP_PREDICTED = 1 / 3
OUTSIDE_MAX_SHARE = 0.03
#: Well liked: a Bayesian mean of 3.5★, or in the catalog's best 40 %
#: (of titles with enough ratings) where means run lower.
OUTSIDE_MIN_MEAN = 3.5
OUTSIDE_QUANTILE = 0.6
OUTSIDE_MIN_RATINGS = 5
OUTSIDE_BASE, OUTSIDE_EXTRA = 6, 14
#: Bayesian mean: this many ratings of the catalog's mean are added to each title.
BAYES_PRIOR = 10
SHORT_RUNTIME = rerank.SHORT_RUNTIME
ENGAGEMENT_RISE = 2
TOP10_WINDOWS = (1, 7, 30, 56)  # days; the last is trending's horizon too

SNAPSHOT_KEY = "home:catalog:v1"
SNAPSHOT_SECONDS = 5 * 60
CHARTS_KEY = "home:charts:v1"
CHARTS_SECONDS = 5 * 60

PERSONAL_ORDER = (
    "continue",
    "short",
    "top-picks",
    "because-0",
    "trending",
    "my-list",
    "because-1",
    "top10",
    "genre-0",
    "gems",
    "because-2",
    "genre-1",
    "new",
    "outside",
    "genre-2",
)
SHARED_ORDER = (
    "trending",
    "new",
    "genre-0",
    "genre-1",
    "top10",
    *(f"genre-{n}" for n in range(2, POPULAR_GENRE_ROWS)),
)


@dataclass
class Row:
    key: str
    kind: str
    name: str
    reason: str
    titles: list[Title]  # each with .match (0..100 or None) and .why (short)
    #: The seed title of a "Because you…" row (its "Don't use as a seed" form).
    seed_id: int | None = None
    #: A page with more of the row, when there is one.
    more_url: str = ""


@dataclass
class HomePage:
    rows: list[Row]
    personalized: bool
    note: str  # why the rows are not personalized; "" when they are
    #: (genre, share of what is shown, share of the catalog), most shown first.
    bubble: list[tuple[str, float, float]]
    #: Titles the profile asked not to use as seeds (to offer them back).
    excluded_seeds: list[Title] = field(default_factory=list)

    @property
    def title_ids(self) -> list[int]:
        return sorted({t.pk for row in self.rows for t in row.titles})


class UnknownMood(ValueError):
    pass


# --- the catalog, as the rows see it (shared, cached) -----------------------------


@dataclass(frozen=True)
class CatalogSnapshot:
    """Every available title's row facts as arrays, sorted by title id."""

    ids: np.ndarray
    genre_order: tuple[int, ...]
    genre_names: dict[int, str]
    genre_slugs: dict[int, str]
    features: np.ndarray  # (n, G) one-hot genres, columns in genre_order
    genre_sets: tuple[frozenset[str], ...]  # genre names per title (moods)
    tag_sets: tuple[frozenset[str], ...]  # lower-case tag names per title
    boost: np.ndarray
    runtime: np.ndarray  # minutes, NaN when unknown
    year: np.ndarray  # 0 when unknown
    added_day: np.ndarray  # days since the epoch
    rating_count: np.ndarray
    rating_mean: np.ndarray  # NaN when unrated
    bayes_mean: np.ndarray
    kids_ok: np.ndarray

    def index(self, title_ids: Iterable[int]) -> np.ndarray:
        """Positions of the titles; -1 for a title not (or no longer) available."""
        wanted = np.asarray(list(title_ids), dtype=np.int64)
        if len(self.ids) == 0 or len(wanted) == 0:
            return np.full(len(wanted), -1, dtype=np.int64)
        pos = np.clip(np.searchsorted(self.ids, wanted), 0, len(self.ids) - 1)
        return np.where(self.ids[pos] == wanted, pos, -1)

    def genre_column(self, genre_id: int) -> int:
        return self.genre_order.index(genre_id)


def catalog_snapshot() -> CatalogSnapshot:
    """The snapshot, from the cache (five minutes, or until a curator's change
    bumps the catalog's version) or built in a few queries."""
    key = f"{SNAPSHOT_KEY}:{catalog_version()}"
    return cache.get_or_set(key, _build_snapshot, SNAPSHOT_SECONDS)


def _build_snapshot() -> CatalogSnapshot:
    rows = list(
        Title.objects.available()
        .order_by("id")
        .values_list("id", "boost", "runtime_minutes", "year", "added_at")
    )
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    genres = list(Genre.objects.order_by("id").values_list("id", "name", "slug"))
    genre_order = tuple(g for g, _, _ in genres)
    names = {g: n for g, n, _ in genres}
    column = {g: j for j, g in enumerate(genre_order)}
    features = np.zeros((len(ids), len(genre_order)))
    genre_sets: list[set[str]] = [set() for _ in ids]
    through = Title.genres.through.objects.filter(title__is_available=True)
    snap_pos = {int(t): n for n, t in enumerate(ids)}
    for title_id, genre_id in through.values_list("title_id", "genre_id"):
        n = snap_pos.get(title_id)
        if n is not None:
            features[n, column[genre_id]] = 1.0
            genre_sets[n].add(names[genre_id])
    tag_sets: list[set[str]] = [set() for _ in ids]
    editorial = Title.tags.through.objects.values_list("title_id", "tag__name")
    viewers = TagApplication.objects.values_list("title_id", "tag__name").distinct()
    for title_id, tag in [*editorial, *viewers]:
        n = snap_pos.get(title_id)
        if n is not None:
            tag_sets[n].add(tag.lower())
    count = np.zeros(len(ids))
    mean = np.full(len(ids), np.nan)
    stats = (
        Rating.objects.order_by()
        .values("title_id")
        .annotate(n=Count("id"), mean=Avg("value"))
        .values_list("title_id", "n", "mean")
    )
    for title_id, n_ratings, avg in stats:
        n = snap_pos.get(title_id)
        if n is not None:
            count[n], mean[n] = n_ratings, avg
    rated = count > 0
    overall = (
        float((mean[rated] * count[rated]).sum() / count[rated].sum())
        if rated.any()
        else 3.0
    )
    bayes = (np.nan_to_num(mean) * count + BAYES_PRIOR * overall) / (
        count + BAYES_PRIOR
    )
    kids = set(
        Title.objects.available().suitable_for_kids().values_list("id", flat=True)
    )
    return CatalogSnapshot(
        ids=ids,
        genre_order=genre_order,
        genre_names=names,
        genre_slugs={g: s for g, _, s in genres},
        features=features,
        genre_sets=tuple(frozenset(s) for s in genre_sets),
        tag_sets=tuple(frozenset(s) for s in tag_sets),
        boost=np.array([r[1] for r in rows], dtype=np.float64),
        runtime=np.array([r[2] if r[2] else np.nan for r in rows], dtype=np.float64),
        year=np.array([r[3] or 0 for r in rows], dtype=np.int64),
        added_day=np.array(
            [int(r[4].timestamp() // 86400) for r in rows], dtype=np.int64
        ),
        rating_count=count,
        rating_mean=mean,
        bayes_mean=bayes,
        kids_ok=np.array([int(t) in kids for t in ids], dtype=bool),
    )


@dataclass(frozen=True)
class Charts:
    """Rows the same for everyone: trending (with scores) and the Top 10."""

    trending: tuple[tuple[int, float], ...]
    top10: tuple[int, ...]  # more than ten: some may not be shown to a profile


def charts() -> Charts:
    """Trending and the Top 10, from the cache (five minutes) or built."""
    return cache.get_or_set(CHARTS_KEY, _build_charts, CHARTS_SECONDS)


def _build_charts() -> Charts:
    newest = services.newest_activity()
    events = []
    if newest is not None:
        events = services.activity_events(newest - timedelta(days=TOP10_WINDOWS[-1]))
    trending = list(
        TitleTrend.objects.order_by("-score", "title_id").values_list(
            "title_id", "score"
        )[:300]
    )
    if not trending:
        # The periodic task has not run yet: computed here, not stored.
        scores = services.trending_scores(newest, events)
        trending = sorted(scores.items(), key=lambda p: (-p[1], p[0]))[:300]
    top10: list[int] = []
    for days in TOP10_WINDOWS if newest is not None else ():
        since = newest - timedelta(days=days)
        counts = Counter(t for t, at in events if at >= since)
        top10 = [t for t, _ in sorted(counts.items(), key=lambda p: (-p[1], p[0]))]
        if len(top10) >= TOP10_LENGTH:
            break
    return Charts(trending=tuple(trending), top10=tuple(top10[: 4 * TOP10_LENGTH]))


# --- the profile's signals ---------------------------------------------------------


@dataclass(frozen=True)
class Viewing:
    id: int
    title_id: int
    progress: float
    completed: bool
    dismissed: bool
    started_at: datetime
    updated_at: datetime


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

    @property
    def has_signal(self) -> bool:
        return bool(self.ratings or self.viewings or self.feedback)

    def turned_down(self) -> set[int]:
        no = {Feedback.Kind.NOT_INTERESTED, Feedback.Kind.THUMBS_DOWN}
        return {t for t, kinds in self.feedback.items() if kinds & no}

    def seen(self) -> set[int]:
        """Titles it rated, played or picked in onboarding: not recommended back."""
        picked = {
            t for t, kinds in self.feedback.items() if Feedback.Kind.PICK in kinds
        }
        return set(self.ratings) | {v.title_id for v in self.viewings} | picked

    def liked_weights(self) -> dict[int, float]:
        """Titles the profile engaged with positively, weighted: the history
        whose genre mix is its taste (calibration target, genre rows)."""
        weights: dict[int, float] = {}
        for v in self.viewings:
            if v.completed or v.progress >= 0.5:
                weights[v.title_id] = max(weights.get(v.title_id, 0), 0.8)
        for t, kinds in self.feedback.items():
            if Feedback.Kind.THUMBS_UP in kinds:
                weights[t] = max(weights.get(t, 0), 1.0)
            elif Feedback.Kind.PICK in kinds:
                weights[t] = max(weights.get(t, 0), 0.8)
        for t, (value, _) in self.ratings.items():
            weights[t] = value / 5.0 if value >= 3.0 else 0.0
        for t in self.turned_down():
            weights[t] = 0.0
        return {t: w for t, w in weights.items() if w > 0}

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
    """The profile's signals, in six queries."""
    viewings = [
        Viewing(*row)
        for row in ViewingEvent.objects.filter(profile=profile)
        .order_by("-started_at", "-id")
        .values_list(
            "id",
            "title_id",
            "progress",
            "completed",
            "dismissed",
            "started_at",
            "updated_at",
        )
    ]
    feedback: dict[int, set[str]] = {}
    for title_id, kind in Feedback.objects.filter(profile=profile).values_list(
        "title_id", "kind"
    ):
        feedback.setdefault(title_id, set()).add(kind)
    return Signals(
        ratings={
            t: (v, at)
            for t, v, at in Rating.objects.filter(profile=profile).values_list(
                "title_id", "value", "updated_at"
            )
        },
        viewings=viewings,
        feedback=feedback,
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


# --- the page ----------------------------------------------------------------------


@dataclass(frozen=True)
class Candidates:
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


def mood_for(key: str | None) -> rerank.Mood | None:
    """The mood of a chip's key; None for none; :class:`UnknownMood` otherwise."""
    if not key:
        return None
    try:
        return rerank.MOODS[key]
    except KeyError:
        raise UnknownMood(key) from None


def context_for(
    profile: Profile | None, *, now: datetime | None, device: str
) -> rerank.Context | None:
    """Time of day and device, only for a profile that allows contextual signals."""
    if profile is None or not settings_for(profile).contextual_signals:
        return None
    hour = timezone.localtime(now or timezone.now()).hour
    return rerank.Context(hour=hour, device=device if device in rerank.DEVICES else "")


def context_bucket(ctx: rerank.Context | None) -> str:
    """What of the context changes the rows (for cache keys)."""
    if ctx is None:
        return ""
    return f"{'late' if ctx.is_late else ''}{'mobile' if ctx.is_mobile else ''}"


def home_page(
    *,
    profile: Profile | None,
    mood: str | None = None,
    now: datetime | None = None,
    device: str = "",
) -> HomePage:
    """The home page of ``profile`` (or of a visitor without one).

    Raises :class:`UnknownMood` for a mood that is not in ``rerank.MOODS``.
    """
    builder, note = page_builder(profile=profile, mood=mood, now=now, device=device)
    page = builder.page(profile)
    page.note = note
    return page


def page_builder(
    *,
    profile: Profile | None,
    mood: str | None = None,
    now: datetime | None = None,
    device: str = "",
) -> tuple["RowBuilder", str]:
    """What builds the profile's rows, and the note when they are not personal."""
    mood_obj = mood_for(mood)
    now = now or timezone.now()
    if profile is None:
        return _shared_builder(kids=False, hidden=set(), mood=mood_obj, now=now), ""
    kids = profile.is_kids
    settings = settings_for(profile)
    hidden = hidden_genre_ids(settings)
    shared = _shared_builder(kids=kids, hidden=hidden, mood=mood_obj, now=now)
    if not settings.personalization:
        return shared, personalization_off_note(profile)
    stored = (
        ProfileCandidates.objects.filter(profile=profile)
        .values_list("model_version_id", "title_ids", "scores", "predicted")
        .first()
    )
    version = services.active_version()
    if version is None:
        return shared, no_model_note()
    if stored is None or stored[0] is None:
        return shared, new_profile_note(profile)
    signals = load_signals(profile)
    if not signals.has_signal:
        return shared, new_profile_note(profile)
    builder = RowBuilder(
        snap=shared.snap,
        kids=kids,
        hidden=hidden,
        mood=mood_obj,
        now=now,
        signals=signals,
        candidates=Candidates.of(*stored[1:]),
        model=services.recommender_for(version),
        exploration=settings.exploration,
        calibration=settings.calibration,
        context=context_for(profile, now=now, device=device),
        profile_name=profile.name,
    )
    return builder, ""


def home_for_tastes(
    *, genre_ids: list[int], title_ids: list[int], kids: bool = False
) -> HomePage:
    """The rows a new profile with these picks would get (staff preview).

    A made-up history (the picked titles, and the five most rated titles of
    each picked genre, as onboarding picks) is folded into the active model;
    nothing is written and no real profile is read.
    """
    now = timezone.now()
    version = services.active_version()
    snap = catalog_snapshot()
    if version is None:
        return _shared_page(
            kids=kids, hidden=set(), mood=None, now=now, note=no_model_note()
        )
    visible = snap.kids_ok if kids else np.ones(len(snap.ids), dtype=bool)
    picks: list[int] = []
    for t, pos in zip(title_ids, snap.index(title_ids), strict=True):
        if pos >= 0 and visible[pos] and t not in picks:
            picks.append(int(t))
    for genre_id in genre_ids:
        if genre_id not in snap.genre_order:
            continue
        col = snap.genre_column(genre_id)
        members = np.flatnonzero((snap.features[:, col] > 0) & visible)
        best = members[np.argsort(-snap.rating_count[members], kind="stable")][:5]
        picks += [int(snap.ids[i]) for i in best if int(snap.ids[i]) not in picks]
    if not picks:
        return _shared_page(
            kids=kids,
            hidden=set(),
            mood=None,
            now=now,
            note=("Pick some titles or genres to see the rows they would lead to."),
        )
    model = services.recommender_for(version)
    history = History(
        profile_id=-1,
        items=np.array(picks, dtype=np.int64),
        values=np.full(len(picks), 4.0),
        hidden=np.zeros(0, dtype=np.int64),
        use_trained_vector=False,
    )
    (found,) = model.candidates([history], count=300)
    signals = Signals(
        feedback={t: {Feedback.Kind.PICK} for t in picks}, picks_seed=True
    )
    builder = RowBuilder(
        snap=snap,
        kids=kids,
        hidden=set(),
        mood=None,
        now=now,
        signals=signals,
        candidates=Candidates.of(found.title_ids, found.scores, found.predicted),
        model=model,
        exploration=PrivacySettings._meta.get_field("exploration").default,
        calibration=PrivacySettings._meta.get_field("calibration").default,
        context=None,
        profile_name="this taste",
    )
    return builder.page(None)


def personalization_off_note(profile: Profile) -> str:
    return (
        f"Personalized rows are off for {profile.name}: these rows are the same "
        "for everyone, and nothing you watch or rate is used to choose them."
    )


def new_profile_note(profile: Profile) -> str:
    return (
        f"Marquee doesn’t know what {profile.name} likes yet, so these rows are "
        "the same for everyone. Rate a few titles or pick some favourites and "
        "they become yours."
    )


def no_model_note() -> str:
    return (
        "Personal recommendations aren’t ready yet: these rows are the same for "
        "everyone until the first model is trained."
    )


def _shared_page(
    *,
    kids: bool,
    hidden: set[int],
    mood: rerank.Mood | None,
    now: datetime,
    note: str,
) -> HomePage:
    page = _shared_builder(kids=kids, hidden=hidden, mood=mood, now=now).page(None)
    page.note = note
    return page


def _shared_builder(
    *, kids: bool, hidden: set[int], mood: rerank.Mood | None, now: datetime
) -> "RowBuilder":
    return RowBuilder(
        snap=catalog_snapshot(),
        kids=kids,
        hidden=hidden,
        mood=mood,
        now=now,
        signals=None,
        candidates=None,
        model=None,
        exploration=0,
        calibration=False,
        context=None,
        profile_name="",
    )


# --- building ----------------------------------------------------------------------


@dataclass
class RowDraft:
    """A row before de-duplication: title ids best first, more than it shows."""

    slot: str  # its place in the base order
    key: str
    kind: str
    name: str
    reason: str
    ids: list[int]
    why: dict[int, str]
    min_len: int = MIN_ROW
    max_len: int = ROW_LENGTH
    seed_id: int | None = None
    more_url: str = ""
    pinned: int | None = None  # a collection's pinned index
    #: A chart's numbers (Top 10), kept when de-duplication drops a title.
    ranks: dict[int, int] = field(default_factory=dict)


class RowBuilder:
    """Builds every row of one page; each row's method returns a
    :class:`RowDraft` (or None), :meth:`page` orders, de-duplicates and reads
    the titles."""

    def __init__(
        self,
        *,
        snap: CatalogSnapshot,
        kids: bool,
        hidden: set[int],
        mood: rerank.Mood | None,
        now: datetime,
        signals: Signals | None,
        candidates: Candidates | None,
        model,
        exploration: int,
        calibration: bool,
        context: rerank.Context | None,
        profile_name: str,
    ) -> None:
        self.snap = snap
        self.kids = kids
        self.mood = mood
        self.now = now
        self.signals = signals
        self.model = model
        self.exploration = exploration
        self.calibration = calibration
        self.context = context
        self.late_or_mobile = (
            context is not None and rerank.context_reason(context) is not None
        )
        self.profile_name = profile_name
        self.personal = signals is not None and candidates is not None
        n = len(snap.ids)
        visible = snap.kids_ok.copy() if kids else np.ones(n, dtype=bool)
        hidden_cols = [snap.genre_column(g) for g in hidden if g in snap.genre_order]
        if hidden_cols:
            visible &= ~(snap.features[:, hidden_cols] > 0).any(axis=1)
        #: Titles the profile may be shown in any row.
        self.visible = visible
        if signals is not None:
            self.visible = visible & ~np.isin(snap.ids, list(signals.turned_down()))
        #: ...and in rows of recommendations (not rated nor played).
        self.recommendable = self.visible.copy()
        if signals is not None:
            self.recommendable &= ~np.isin(snap.ids, list(signals.seen()))
        if candidates is not None:
            pos = snap.index(candidates.ids)
            keep = (pos >= 0) & self.recommendable[np.maximum(pos, 0)]
            self.cand_pos = pos[keep]
            self.cand_scores = candidates.scores[keep]
            self.cand_predicted = candidates.predicted[keep]
            self.cand_rank = {int(p): n for n, p in enumerate(self.cand_pos)}
        self.taste = self._taste()

    # -- shared helpers -------------------------------------------------------------

    def _taste(self) -> np.ndarray:
        """The genre mix of the profile's liked history (zeros without one)."""
        G = len(self.snap.genre_order)
        if self.signals is None:
            return np.zeros(G)
        weights = self.signals.liked_weights()
        pos = self.snap.index(weights)
        w = np.array(list(weights.values()), dtype=np.float64)
        ok = pos >= 0
        if not ok.any():
            return np.zeros(G)
        return rerank.genre_distribution(self.snap.features[pos[ok]], w[ok])

    def top_genres(self, count: int = 3) -> list[int]:
        order = np.argsort(-self.taste, kind="stable")
        return [self.snap.genre_order[j] for j in order[:count] if self.taste[j] > 0]

    def adjust(self, pos: np.ndarray, scores: np.ndarray, *, boost: bool) -> np.ndarray:
        """Scores after boosts (personal rows), context and mood."""
        scores = np.asarray(scores, dtype=np.float64)
        if len(pos) == 0:
            return scores
        if boost:
            scores = rerank.boost_adjust(scores, self.snap.boost[pos])
        if self.late_or_mobile:
            scores = rerank.context_adjust(scores, self.snap.runtime[pos], self.context)
        if self.mood is not None:
            scores = rerank.mood_adjust(
                scores,
                [self.snap.genre_sets[p] for p in pos],
                [self.snap.tag_sets[p] for p in pos],
                self.snap.runtime[pos],
                self.mood,
            )
        return scores

    def ranked(self, pos: np.ndarray, scores: np.ndarray, *, boost: bool) -> np.ndarray:
        """``pos`` re-ordered by adjusted score (stable)."""
        pos = np.asarray(pos, dtype=np.int64)
        adjusted = self.adjust(pos, scores, boost=boost)
        return pos[np.argsort(-adjusted, kind="stable")]

    def by_rank(self, pos: np.ndarray, *, boost: bool = False) -> np.ndarray:
        """``pos`` (in its own order) re-ranked by mood and context."""
        pos = np.asarray(pos, dtype=np.int64)
        return self.ranked(
            pos, np.arange(len(pos), 0, -1, dtype=np.float64), boost=boost
        )

    def ids(self, pos: Iterable[int]) -> list[int]:
        return [int(self.snap.ids[p]) for p in pos]

    def match(self, title_id: int) -> int | None:
        pos = self.snap.index([title_id])[0]
        n = self.cand_rank.get(int(pos)) if self.personal else None
        if n is None:
            return None
        return _match(self.cand_predicted[n])

    def main_genre(self, pos: int, prefer: Iterable[int] = ()) -> str:
        have = [
            g for j, g in enumerate(self.snap.genre_order) if self.snap.features[pos, j]
        ]
        for g in prefer:
            if g in have:
                return self.snap.genre_names[g]
        return self.snap.genre_names[have[0]] if have else ""

    # -- the page -------------------------------------------------------------------

    def page(self, profile: Profile | None) -> HomePage:
        drafts = self.personal_drafts() if self.personal else self.shared_drafts()
        drafts += self.collection_drafts()
        kept = _dedupe(self.order(drafts))
        excluded = sorted(self.signals.seed_exclusions) if self.signals else []
        wanted = {t for d in kept for t in d.ids}
        wanted |= {d.seed_id for d in kept if d.seed_id} | set(excluded)
        titles = self.fetch(profile, wanted)
        viewing_state = getattr(self, "viewing_state", {})
        rows = []
        for d in kept:
            seed = titles.get(d.seed_id) if d.seed_id else None
            if d.seed_id and seed is None:
                continue
            row_titles = []
            for rank, t in enumerate(d.ids, start=1):
                if t not in titles:
                    continue
                title = copy.copy(titles[t])
                title.match = None if d.kind == "continue" else self.match(t)
                title.why = d.why.get(t, "")
                if seed is not None:
                    title.why = title.why.replace("{seed}", seed.title)
                title.rank = d.ranks.get(t, rank)
                title.viewing_id, title.progress = viewing_state.get(t, (None, None))
                row_titles.append(title)
            if row_titles:
                rows.append(
                    Row(
                        key=d.key,
                        kind=d.kind,
                        name=d.name.replace("{seed}", seed.title) if seed else d.name,
                        reason=d.reason,
                        titles=row_titles,
                        seed_id=d.seed_id,
                        more_url=d.more_url,
                    )
                )
        return HomePage(
            rows=rows,
            personalized=self.personal,
            note="",
            bubble=self.bubble(rows),
            excluded_seeds=[titles[t] for t in excluded if t in titles],
        )

    def fetch(self, profile: Profile | None, ids: set[int]) -> dict[int, Title]:
        """The titles, in one query, with the snapshot's rating count and mean.

        Each row gets its own copy of a title (with its own ``why``).
        """
        if not ids:
            return {}
        found = Title.objects.for_profile(profile).in_bulk(sorted(ids))
        pos = self.snap.index(found)
        out = {}
        for (t, title), p in zip(found.items(), pos, strict=True):
            if p < 0 or (self.kids and not self.snap.kids_ok[p]):
                continue
            title.rating_count = int(self.snap.rating_count[p])
            mean = self.snap.rating_mean[p]
            title.rating_mean = None if np.isnan(mean) else float(mean)
            out[t] = title
        return out

    def bubble(self, rows: list[Row]) -> list[tuple[str, float, float]]:
        shown = self.snap.index({t.pk for row in rows for t in row.titles})
        shown = shown[shown >= 0]
        if len(shown) == 0 or not self.snap.genre_order:
            return []
        page_mix = rerank.genre_distribution(self.snap.features[shown])
        catalog_mix = rerank.genre_distribution(self.snap.features[self.visible])
        out = [
            (self.snap.genre_names[g], float(page_mix[j]), float(catalog_mix[j]))
            for j, g in enumerate(self.snap.genre_order)
            if page_mix[j] > 0 or catalog_mix[j] > 0
        ]
        return sorted(out, key=lambda b: (-b[1], -b[2], b[0]))

    def order(self, drafts: list[RowDraft]) -> list[RowDraft]:
        base = PERSONAL_ORDER if self.personal else SHARED_ORDER
        engagement = self.signals.engagement if self.personal else {}

        def place(d: RowDraft) -> tuple[float, int]:
            index = base.index(d.slot)
            if d.kind == "continue":
                return (-math.inf, index)
            rise = ENGAGEMENT_RISE * math.floor(
                math.log2(1 + engagement.get(d.kind, 0))
            )
            if d.kind == "outside":
                rise += self.exploration // 20
            return (index - rise - 0.5 if rise else index, index)

        rows = sorted((d for d in drafts if d.pinned is None), key=place)
        for d in sorted(
            (d for d in drafts if d.pinned is not None), key=lambda d: d.pinned
        ):
            rows.insert(min(d.pinned, len(rows)), d)
        return rows

    # -- rows everyone of an audience gets --------------------------------------------

    def shared_drafts(self) -> list[RowDraft]:
        drafts = [self.trending(), self.top10(), self.new()]
        drafts += self.popular_genres()
        return [d for d in drafts if d is not None]

    def trending(self) -> RowDraft | None:
        found = charts().trending
        pos = self.snap.index([t for t, _ in found])
        scores = np.array([s for _, s in found], dtype=np.float64)
        ok = pos >= 0
        pos, scores = pos[ok], scores[ok]
        keep = self.recommendable[pos]
        pos, scores = pos[keep], scores[keep]
        pos = self.ranked(pos, scores, boost=self.personal)
        top = self.top_genres()
        why = {}
        for p in pos[: 3 * ROW_LENGTH]:
            genre = self.main_genre(p, top)
            why[int(self.snap.ids[p])] = f"Trending in {genre}" if genre else "Trending"
        return RowDraft(
            slot="trending",
            key="trending",
            kind="trending",
            name="Trending now",
            reason="What viewers are watching and rating most this week.",
            ids=self.ids(pos[: 3 * ROW_LENGTH]),
            why=why,
        )

    def top10(self) -> RowDraft | None:
        pos = self.snap.index(charts().top10)
        pos = pos[pos >= 0]
        pos = pos[self.recommendable[pos]][:TOP10_LENGTH]
        ids = self.ids(pos)
        return RowDraft(
            slot="top10",
            key="top10",
            kind="top10",
            name="Top 10 today",
            reason="The most watched and rated titles of the day.",
            ids=ids,
            why={t: f"#{n} today" for n, t in enumerate(ids, start=1)},
            ranks={t: n for n, t in enumerate(ids, start=1)},
            max_len=TOP10_LENGTH,
            min_len=3,
        )

    def new(self) -> RowDraft | None:
        snap = self.snap
        pos = np.flatnonzero(self.recommendable)
        if len(pos) == 0:
            return None
        # lexsort: the last key sorts first.
        order = np.lexsort(
            (
                snap.ids[pos],
                -snap.rating_count[pos],
                -snap.year[pos],
                -snap.added_day[pos],
                snap.rating_count[pos] < NEW_MIN_RATINGS,
            )
        )
        pos = self.by_rank(pos[order][: 3 * ROW_LENGTH], boost=self.personal)
        why = {
            int(snap.ids[p]): f"New · {snap.year[p]}" if snap.year[p] else "New"
            for p in pos
        }
        return RowDraft(
            slot="new",
            key="new",
            kind="new",
            name="New on Marquee",
            reason="Just added, and the most recent releases.",
            ids=self.ids(pos),
            why=why,
            more_url=reverse("catalog:genres"),
        )

    def popular_genres(self) -> list[RowDraft]:
        snap = self.snap
        if not snap.genre_order:
            return []
        members = snap.features[self.recommendable]
        counts = snap.rating_count[self.recommendable]
        popularity = counts @ members  # ratings per genre
        sizes = members.sum(axis=0)
        order = sorted(
            (j for j in range(len(snap.genre_order)) if sizes[j] > 0),
            key=lambda j: (
                -popularity[j],
                -sizes[j],
                snap.genre_names[snap.genre_order[j]],
            ),
        )
        drafts = []
        for n, j in enumerate(order[:POPULAR_GENRE_ROWS]):
            g = snap.genre_order[j]
            pos = np.flatnonzero(self.recommendable & (snap.features[:, j] > 0))
            pos = pos[np.lexsort((snap.ids[pos], -snap.rating_count[pos]))]
            pos = self.by_rank(pos[: 3 * ROW_LENGTH])
            name = snap.genre_names[g]
            drafts.append(
                RowDraft(
                    slot=f"genre-{n}",
                    key=f"genre-{snap.genre_slugs[g]}",
                    kind="genre",
                    name=f"Popular in {name}",
                    reason=f"The most rated {name} titles on Marquee.",
                    ids=self.ids(pos),
                    why={int(snap.ids[p]): _ratings_label(snap, p) for p in pos},
                    more_url=reverse("catalog:genre", args=[snap.genre_slugs[g]]),
                )
            )
        return drafts

    def collection_drafts(self) -> list[RowDraft]:
        audience_ok = [Collection.Audience.EVERYONE]
        if self.kids:
            audience_ok.append(Collection.Audience.KIDS)
        if self.personal:
            audience_ok.append(Collection.Audience.GENRES)
        collections = list(
            Collection.objects.active(self.now)
            .filter(audience__in=audience_ok)
            .prefetch_related("audience_genres")
        )
        if not collections:
            return []
        top = set(self.top_genres())
        items: dict[int, list[int]] = {}
        for collection_id, title_id in (
            CollectionItem.objects.filter(collection__in=collections)
            .order_by("position", "id")
            .values_list("collection_id", "title_id")
        ):
            items.setdefault(collection_id, []).append(title_id)
        drafts = []
        for c in collections:
            if c.audience == Collection.Audience.GENRES:
                wanted = {g.pk for g in c.audience_genres.all()}
                if not wanted & top:
                    continue
            pos = self.snap.index(items.get(c.pk, []))
            pos = pos[pos >= 0]
            pos = pos[self.recommendable[pos]]
            pos = self.by_rank(pos, boost=self.personal)
            drafts.append(
                RowDraft(
                    slot="collection",
                    key=f"collection-{c.slug}",
                    kind="collection",
                    name=c.name,
                    reason=c.description or "Picked by our editors.",
                    ids=self.ids(pos),
                    why={int(self.snap.ids[p]): "Picked by our editors" for p in pos},
                    min_len=1,
                    pinned=c.position,
                )
            )
        return drafts

    # -- rows of one profile -------------------------------------------------------------

    def personal_drafts(self) -> list[RowDraft]:
        drafts = [
            self.continue_watching(),
            self.short_on_time(),
            self.top_picks(),
            *self.because(),
            self.trending(),
            self.my_list(),
            self.top10(),
            *self.genre_rows(),
            self.gems(),
            self.new(),
            self.outside(),
        ]
        return [d for d in drafts if d is not None]

    def candidate_pool(self) -> tuple[np.ndarray, np.ndarray]:
        return self.cand_pos, self.cand_scores

    def continue_watching(self) -> RowDraft | None:
        latest: dict[int, Viewing] = {}
        for v in self.signals.viewings:
            latest.setdefault(v.title_id, v)
        unfinished = [v for v in latest.values() if not v.completed and not v.dismissed]
        pos = self.snap.index([v.title_id for v in unfinished])
        keep = [
            v
            for v, p in zip(unfinished, pos, strict=True)
            if p >= 0 and self.visible[p]
        ]
        if not keep:
            return None
        self.viewing_state = {v.title_id: (v.id, round(v.progress * 100)) for v in keep}
        return RowDraft(
            slot="continue",
            key="continue",
            kind="continue",
            name="Continue watching",
            reason="Pick up where you left off.",
            ids=[v.title_id for v in keep],
            why={v.title_id: f"{round(v.progress * 100)}% watched" for v in keep},
            min_len=1,
            more_url=reverse("activity:continue_watching"),
        )

    def my_list(self) -> RowDraft | None:
        pos = self.snap.index(self.signals.my_list)
        pos = pos[pos >= 0]
        pos = pos[self.visible[pos]]
        if len(pos) == 0:
            return None
        return RowDraft(
            slot="my-list",
            key="my-list",
            kind="my-list",
            name="My List",
            reason="Titles you saved for later.",
            ids=self.ids(pos),
            why={int(self.snap.ids[p]): "On My List" for p in pos},
            min_len=1,
            more_url=reverse("activity:my_list"),
        )

    def top_picks(self) -> RowDraft | None:
        pos, scores = self.candidate_pool()
        if len(pos) == 0:
            return None
        pos, scores = pos[:TOP_PICKS_POOL], scores[:TOP_PICKS_POOL]
        adjusted = self.adjust(pos, scores, boost=True)
        features = self.snap.features[pos]
        lam = rerank.exploration_lambda(self.exploration)
        picked = rerank.mmr(adjusted, features, lam=lam, k=TOP_PICKS_SHORTLIST)
        if self.calibration and self.taste.sum() > 0:
            chosen = rerank.calibrate(
                adjusted[picked], features[picked], self.taste, k=2 * ROW_LENGTH
            )
            picked = picked[chosen]
        pos = pos[picked]
        reason = "Ranked for you from your ratings, plays and picks"
        notes = []
        if self.exploration >= 50:
            notes.append("with plenty of variety")
        if self.calibration and self.taste.sum() > 0:
            notes.append("in the genre mix of your history")
        if notes:
            reason += ", " + " and ".join(notes)
        reason += "."
        if self.late_or_mobile:
            reason += f" {rerank.context_reason(self.context)}: shorter titles first."
        if self.mood is not None:
            reason += f" Mood: {self.mood.label}."
        why = {}
        for p in pos:
            m = _match(self.cand_predicted[self.cand_rank[int(p)]])
            why[int(self.snap.ids[p])] = f"{m}% match"
        return RowDraft(
            slot="top-picks",
            key="top-picks",
            kind="top-picks",
            name=f"Top picks for {self.profile_name}",
            reason=reason,
            ids=self.ids(pos),
            why=why,
        )

    def neighbours(
        self, title_id: int, limit: int = NEIGHBOURS
    ) -> list[tuple[int, float]]:
        """The seed's nearest titles in the ranking model, with their weights."""
        return neighbours(self.model, title_id, limit)

    def because(self) -> list[RowDraft]:
        drafts: list[RowDraft] = []
        seeds = self.signals.seeds()[:SEEDS_LOOKED_AT]
        seed_pos = self.snap.index([t for t, _ in seeds])
        for (seed, how), sp in zip(seeds, seed_pos, strict=True):
            if len(drafts) == BECAUSE_ROWS:
                break
            if sp < 0 or not self.visible[sp]:
                continue
            found = self.neighbours(seed)
            pos = self.snap.index([t for t, _ in found])
            weights = np.array([w for _, w in found], dtype=np.float64)
            keep = pos >= 0
            keep[keep] = self.recommendable[pos[keep]]
            pos, weights = pos[keep], weights[keep]
            if len(pos) < MIN_ROW:
                continue
            # How close to the seed, times how much the profile would like it:
            # its candidates by their rank (x1 for the first down to x0.5), the
            # other neighbours at x0.25, so a weak neighbour the profile's
            # main taste favours does not lead a row about another taste.
            ranks = np.array([self.cand_rank.get(int(p), -1) for p in pos])
            liking = np.where(
                ranks >= 0, 1.0 - 0.5 * ranks / max(len(self.cand_pos), 1), 0.25
            )
            score = (0.1 + rerank.normalise(weights)) * liking
            pos = self.ranked(pos, score, boost=True)
            ids = self.ids(pos)
            verb = how.split(" ")[0]
            drafts.append(
                RowDraft(
                    slot=f"because-{len(drafts)}",
                    key=f"because-{seed}",
                    kind="because",
                    name=f"Because you {verb} {{seed}}",
                    reason=_because_reason(how),
                    ids=ids,
                    why={t: "Because you liked {seed}" for t in ids},
                    seed_id=seed,
                )
            )
        return drafts

    def genre_rows(self) -> list[RowDraft]:
        snap = self.snap
        drafts = []
        pos_all, scores_all = self.candidate_pool()
        n = 0
        for j in np.argsort(-self.taste, kind="stable"):
            if n == GENRE_ROWS or self.taste[j] < GENRE_ROW_MIN_SHARE:
                break
            g = snap.genre_order[j]
            member = snap.features[pos_all, j] > 0
            pos = self.ranked(pos_all[member], scores_all[member], boost=True)
            if len(pos) < MIN_ROW:
                continue
            name = snap.genre_names[g]
            drafts.append(
                RowDraft(
                    slot=f"genre-{n}",
                    key=f"genre-{snap.genre_slugs[g]}",
                    kind="genre",
                    name=f"{name} you’ll like",
                    reason=f"{name} is {round(self.taste[j] * 100)}% of what you watch; "
                    "these are ranked for you.",
                    ids=self.ids(pos[: 3 * ROW_LENGTH]),
                    why={int(snap.ids[p]): name for p in pos[: 3 * ROW_LENGTH]},
                    more_url=reverse("catalog:genre", args=[snap.genre_slugs[g]]),
                )
            )
            n += 1
        return drafts

    def gem_positions(self) -> np.ndarray:
        """Candidates in the best third by predicted rating and less rated than
        half of the candidates, in candidate order."""
        pos = self.cand_pos
        if len(pos) < MIN_ROW:
            return pos[:0]
        predicted = self.cand_predicted
        popularity = self.snap.rating_count[pos]
        gem = (predicted >= np.quantile(predicted, 1 - GEM_TOP_PREDICTED)) & (
            popularity < np.median(popularity)
        )
        return pos[gem]

    def gems(self) -> RowDraft | None:
        pos = self.gem_positions()
        predicted = self.cand_predicted[[self.cand_rank[int(p)] for p in pos]]
        pos = self.ranked(pos, predicted, boost=True)
        return RowDraft(
            slot="gems",
            key="gems",
            kind="gems",
            name="Hidden gems for you",
            reason="Less known titles we predict you’ll rate highly.",
            ids=self.ids(pos),
            why={
                int(self.snap.ids[p]): _ratings_label(self.snap, p, "Hidden gem")
                for p in pos
            },
        )

    def outside(self) -> RowDraft | None:
        snap = self.snap
        if self.taste.sum() <= 0 or not snap.genre_order:
            return None
        rare = self.taste < OUTSIDE_MAX_SHARE
        has_genre = snap.features.sum(axis=1) > 0
        usual = (snap.features[:, ~rare] > 0).any(axis=1)
        rated = self.visible & (snap.rating_count >= OUTSIDE_MIN_RATINGS)
        if not rated.any():
            return None
        well_liked = min(
            OUTSIDE_MIN_MEAN, np.quantile(snap.bayes_mean[rated], OUTSIDE_QUANTILE)
        )
        ok = (
            self.recommendable
            & rated
            & has_genre
            & ~usual
            & (snap.bayes_mean >= well_liked)
        )
        pos = np.flatnonzero(ok)
        if len(pos) == 0:
            return None
        pos = pos[np.lexsort((snap.ids[pos], -snap.bayes_mean[pos]))][: 3 * ROW_LENGTH]
        pos = self.ranked(pos, snap.bayes_mean[pos], boost=True)
        length = OUTSIDE_BASE + round(OUTSIDE_EXTRA * self.exploration / 100)
        return RowDraft(
            slot="outside",
            key="outside",
            kind="outside",
            name="Outside your usual",
            reason="Well-liked titles from genres you rarely watch. "
            "Raise exploration to see more of them.",
            ids=self.ids(pos),
            why={int(snap.ids[p]): self.main_genre(p) for p in pos},
            max_len=length,
        )

    def short_on_time(self) -> RowDraft | None:
        if not self.late_or_mobile:
            return None
        pos, scores = self.candidate_pool()
        runtime = self.snap.runtime[pos]
        short = np.isfinite(runtime) & (runtime <= SHORT_RUNTIME)
        pos = self.ranked(pos[short], scores[short], boost=True)
        return RowDraft(
            slot="short",
            key="short",
            kind="short",
            name="Short on time",
            reason=f"{rerank.context_reason(self.context)}: titles of "
            f"{SHORT_RUNTIME} minutes or less, ranked for you.",
            ids=self.ids(pos),
            why={
                int(self.snap.ids[p]): f"{int(self.snap.runtime[p])} min" for p in pos
            },
        )


def _seed_phrase(how: str, name: str) -> str:
    """ "rated Heat 5★", "watched Heat", "picked Heat"."""
    verb, _, detail = how.partition(" ")
    if verb == "liked":
        verb = "picked"
    return f"{verb} {name} {detail}".strip()


def _because_reason(how: str) -> str:
    if how.startswith("rated"):
        return f"You rated it {how.partition(' ')[2]}; viewers who liked it also loved these."
    if how == "watched":
        return "You watched it to the end; viewers who liked it also loved these."
    return "Viewers who liked it also loved these."


def _match(predicted: float) -> int:
    """A predicted rating (0.5–5★) as a match percentage."""
    return round(min(max((predicted - 0.5) / 4.5, 0.0), 1.0) * 100)


def _ratings_label(snap: CatalogSnapshot, pos: int, prefix: str = "") -> str:
    count = int(snap.rating_count[pos])
    if not count:
        return prefix
    text = f"{snap.rating_mean[pos]:.1f}★ · {count} rating{'s' if count != 1 else ''}"
    return f"{prefix} · {text}" if prefix else text


def neighbours(model, title_id: int, limit: int) -> list[tuple[int, float]]:
    """The titles ``title_id``'s presence lifts most in the ranking model (EASE
    ``B`` row, positive weights), most first; [] when it is not in the model."""
    ranking = model.ranking
    item_ids = ranking.item_ids
    row = int(np.searchsorted(item_ids, title_id))
    if row >= len(item_ids) or item_ids[row] != title_id:
        return []
    weights = ranking.B[row].astype(np.float64)
    weights[row] = -np.inf
    count = min(limit, len(item_ids) - 1)
    if count <= 0:
        return []
    top = np.argpartition(-weights, count - 1)[:count]
    top = top[np.argsort(-weights[top], kind="stable")]
    top = top[weights[top] > 0]
    return [(int(item_ids[i]), float(weights[i])) for i in top]


def _dedupe(drafts: list[RowDraft]) -> list[RowDraft]:
    """Keeps each row's best titles such that a title shows at most once in the
    first screen and at most twice on the page; drops rows left too short."""
    shown: Counter[int] = Counter()
    first_screen: set[int] = set()
    kept: list[RowDraft] = []
    for d in drafts:
        on_first = len(kept) < FIRST_SCREEN
        picks: list[int] = []
        for t in d.ids:
            if len(picks) == d.max_len:
                break
            if (
                t in picks
                or shown[t] >= MAX_PER_PAGE
                or (on_first and t in first_screen)
            ):
                continue
            picks.append(t)
        # A row that de-duplication left too short goes; a short row by
        # nature (a small catalog, one title in progress) stays.
        if not picks or len(picks) < min(d.min_len, len(set(d.ids))):
            continue
        d.ids = picks
        kept.append(d)
        shown.update(picks)
        if on_first:
            first_screen.update(picks)
    return kept


# --- caching the page (for the view) ---------------------------------------------


@dataclass(frozen=True)
class PageKey:
    """Where a home page is cached, and its note when known without building it."""

    key: str
    shared: bool
    note: str | None = None


def page_key(
    *,
    profile: Profile | None,
    mood: str | None,
    now: datetime | None = None,
    device: str = "",
) -> PageKey:
    """The cache key of the home page as :func:`home_page` would build it now.

    Rows the same for everyone are keyed by audience (kids or not), hidden
    genres and mood. A profile's own rows are keyed by everything they are
    built from that can change in another process: the model version and
    time of its candidates (one query), ``Profile.activity_changed_at``
    (every write of its signals touches it), its settings' ``updated_at``,
    the mood and the context bucket. Every key holds the catalog's version,
    which curators' changes (boosts, collections, availability) bump.
    """
    mood = mood or ""
    if profile is None:
        return PageKey(
            f"home:v1:{catalog_version()}:shared:all::{mood}", shared=True, note=""
        )
    settings = settings_for(profile)
    if not settings.personalization:
        return PageKey(
            _shared_key(profile, settings, mood),
            shared=True,
            note=personalization_off_note(profile),
        )
    stored = (
        ProfileCandidates.objects.filter(profile=profile)
        .values_list("model_version_id", "updated_at")
        .first()
    )
    if stored is None or stored[0] is None:
        # Not scored (yet): the rows everyone of its audience gets.
        note = (
            new_profile_note(profile) if services.active_version() else no_model_note()
        )
        return PageKey(_shared_key(profile, settings, mood), shared=True, note=note)
    version, updated = stored
    privacy_stamp = settings.updated_at.timestamp() if settings.updated_at else 0
    ctx = context_bucket(context_for(profile, now=now, device=device))
    return PageKey(
        f"home:v1:{catalog_version()}:p:{profile.pk}:{version}:"
        f"{updated.timestamp()}:"
        f"{profile.activity_changed_at.timestamp()}:{privacy_stamp}:{mood}:{ctx}",
        shared=False,
    )


#: How many of a profile's cached page keys are remembered, so that an erasure
#: can delete them (older ones have expired by the time this many are made).
REMEMBERED_PAGES = 50


def _pages_key(profile_id: int) -> str:
    return f"home:pages:{profile_id}"


def page_remember(*, profile_id: int, key: str) -> None:
    """Notes a cached personal page's key, for :func:`pages_forget`."""
    keys = cache.get(_pages_key(profile_id)) or []
    keys = [*keys[-(REMEMBERED_PAGES - 1) :], key]
    cache.set(_pages_key(profile_id), keys, None)


def pages_forget(*, profile_ids: Iterable[int]) -> None:
    """Deletes the profiles' cached home pages (an erasure: rows built from
    erased data must not linger in the cache until they expire)."""
    for profile_id in profile_ids:
        cache.delete_many(
            [*(cache.get(_pages_key(profile_id)) or []), _pages_key(profile_id)]
        )


def _shared_key(profile: Profile, settings: PrivacySettings, mood: str) -> str:
    hidden = ",".join(str(g) for g in sorted(hidden_genre_ids(settings)))
    audience = "kids" if profile.is_kids else "all"
    return f"home:v1:{catalog_version()}:shared:{audience}:{hidden}:{mood}"


def withdrawn(title_ids: list[int]) -> bool:
    """Whether any of these titles was withdrawn since (one query)."""
    if not title_ids:
        return False
    return Title.objects.filter(pk__in=title_ids, is_available=False).exists()


# --- "Why this?" ---------------------------------------------------------------------


def why_this(*, profile: Profile, title: Title) -> list[str]:
    """Why ``title`` may be on the profile's home, from data it still has.

    Reads the profile's signals afresh: once a rating is erased, the
    sentences it supported are gone.
    """
    settings = settings_for(profile)
    snap = catalog_snapshot()
    pos = int(snap.index([title.pk])[0])
    if not settings.personalization:
        return [
            *why_everyone(title),
            "Your personalized rows are off, so nothing you did chose it.",
        ]
    signals = load_signals(profile)
    version = services.active_version()
    stored = (
        ProfileCandidates.objects.filter(profile=profile)
        .values_list("title_ids", "scores", "predicted")
        .first()
    )
    model = services.recommender_for(version) if version is not None else None
    builder = RowBuilder(
        snap=snap,
        kids=profile.is_kids,
        hidden=hidden_genre_ids(settings),
        mood=None,
        now=timezone.now(),
        signals=signals,
        candidates=Candidates.of(*stored) if stored and model else None,
        model=model,
        exploration=settings.exploration,
        calibration=settings.calibration,
        context=None,
        profile_name=profile.name,
    )
    reasons: list[str] = []
    if title.pk in signals.ratings:
        reasons.append(f"You rated it {signals.ratings[title.pk][0]:g}★.")
    if title.pk in signals.my_list:
        reasons.append("It’s on your My List.")
    if any(v.title_id == title.pk and not v.completed for v in signals.viewings):
        reasons.append("You started watching it.")
    if model is not None:
        reasons += _why_seeds(model, signals, title)
    if builder.personal and pos >= 0 and pos in builder.cand_rank:
        predicted = builder.cand_predicted[builder.cand_rank[pos]]
        reasons.append(
            f"We predict you’d rate it {predicted:.1f}★ ({_match(predicted)}% match)."
        )
        if pos in set(builder.gem_positions().tolist()):
            reasons.append("Few viewers know it, but it’s close to your taste.")
    top = builder.top_genres()
    if pos >= 0:
        yours = [
            snap.genre_names[g]
            for g in top
            if snap.features[pos, snap.genre_column(g)] > 0
        ]
        trending = _trending_rank(title.pk)
        if yours and trending is not None:
            reasons.append(f"Trending in {yours[0]}, a genre you watch often.")
        elif yours:
            reasons.append(f"{yours[0]} is a genre you watch often.")
        elif trending is not None:
            reasons.append("Trending on Marquee right now.")
        if builder.taste.sum() > 0 and snap.features[pos].any():
            usual = snap.features[pos] * (builder.taste >= OUTSIDE_MAX_SHARE)
            if not usual.any():
                reasons.append("It’s outside the genres you usually watch.")
    reasons += _why_collections(title)
    if not reasons:
        reasons = why_everyone(title)
    return reasons


def why_everyone(title: Title) -> list[str]:
    """Why a title is on the rows everyone gets (no personal data)."""
    snap = catalog_snapshot()
    pos = int(snap.index([title.pk])[0])
    reasons = []
    if _trending_rank(title.pk) is not None:
        reasons.append("Trending on Marquee right now.")
    reasons += _why_collections(title)
    if pos >= 0 and snap.rating_count[pos]:
        reasons.append(f"Viewers rate it {_ratings_label(snap, pos)}.")
    return reasons or ["It’s new on Marquee."]


def _trending_rank(title_id: int) -> int | None:
    for n, (t, _) in enumerate(charts().trending[: 3 * ROW_LENGTH], start=1):
        if t == title_id:
            return n
    return None


def _why_seeds(model, signals: Signals, title: Title) -> list[str]:
    lines = []
    seeds = signals.seeds()
    names = dict(
        Title.objects.filter(pk__in=[t for t, _ in seeds]).values_list("pk", "title")
    )
    for seed, how in seeds:
        if seed not in names:
            continue
        if title.pk in dict(neighbours(model, seed, NEIGHBOURS)):
            name = names[seed]
            lines.append(
                f"You {_seed_phrase(how, name)}; viewers who liked {name} loved this."
            )
            if len(lines) == 2:
                break
    return lines


def _why_collections(title: Title) -> list[str]:
    names = (
        Collection.objects.active()
        .filter(items__title=title)
        .order_by("position", "name")
        .values_list("name", flat=True)
    )
    return [f"Picked by our editors for “{name}”." for name in names]
