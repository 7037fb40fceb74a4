"""The home page's rows: the rule book, what a row is, and what every row uses.

``page.home_page`` reads what the page needs (the profile's candidates and
signals, and a cached snapshot of the catalog), builds every row, orders and
de-duplicates them, and reads the titles shown in one query. The re-ranking
maths (diversity, calibration, moods, context, boosts) is
``recommendations.engine.rerank``; this package decides what goes in which
row (``shared``: rows everyone of an audience gets; ``personal``: rows of one
profile).

Rows (``Row.kind``), each with a reason line:

- ``continue``: unfinished viewings not removed from the row, newest first.
- ``short``: "Short on time", only when the profile allows contextual signals
  and it is late (22:00–04:59, server time) or the device is a phone: its
  candidates of at most 100 minutes.
- ``top-picks``: the candidates, re-ranked by maximal marginal relevance with
  the profile's exploration setting, then (calibration on) by Steck's
  calibration towards the genre mix of its history; a match score each. In
  an interleaving test, two arms' rankings merged by team draft
  (``engine.online.team_draft``), each card's title knowing its ``ranker``.
- ``because``: up to three rows, each seeded by a different recent,
  well-liked title (rated 4★ or more, or watched to the end; not one the
  profile asked not to use as a seed): the seed's nearest titles in the
  ranking model, ordered by closeness to the seed (the model's item-item
  weight) times the profile's score (its candidates x1 down to x0.5 by
  rank, other neighbours x0.25).
  Both include titles nobody had watched at training, placed by the content
  model (``engine.content``); their cards say "New" (:data:`NEW_BADGE_ROW_KINDS`).
- ``trending``: time-decayed popularity (``services.trending.trending_refresh``).
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
- ``region``: "Popular in <region>", only for a profile that shares its
  region (off by default): what profiles of that region liked most
  (``services.regions``: at least 20 of them, 3 per title), re-ranked like
  every shared row.

The profile's taste, the genre mix of what it liked (Top picks' calibration,
genre rows, "Outside your usual", collections for fans of a genre), is
``recommendations.engine.taste``'s rule: the one the privacy centre shows.
The viewer may turn each genre of it up, down or off there (its taste
sliders, ``PrivacySettings.taste_adjustments``): the mix the rows aim at is
then the history's times those factors (``taste.adjusted_mix``), and the
candidates are re-ranked first by their normalised score times the mean
factor of each title's genres (``taste.taste_adjust``), so every row built
from them follows. "Off" takes away a genre's personal boost; it filters
nothing (hiding a genre does). "Outside your usual" leaves out a genre the
history or the viewer makes usual.

What never shows: withdrawn titles, titles a kids profile may not see
(``Title.objects.for_profile``'s rule), titles in a genre the profile hid,
titles it marked "not interested" or gave a thumbs down; and, outside its own
shelves (Continue watching, My List), titles it rated or played. The hidden
genres and "not interested" titles are hard filters
(``activity.selectors.hard_filters``): they hold on shared pages too
(personalization off, a new profile, no model). "Show fewer like this" is
soft: titles of similar genres (and the title itself) move down in every
re-ranked row (``engine.rerank.show_fewer_adjust``), none is removed.

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
that stay put; the sort is stable, and Continue watching stays first. A test's
arm may name kinds of rows to put next, in its order (``row_order``; else the
serving defaults' order, ``services.experiments.row_order_for``), before all
the others. Collections are then put at their
pinned index. Finally titles are de-duplicated in that order: a title shows
in one row of suggestions only (Top picks, Because you…, genres, trending,
new, gems, outside…), the first it reaches, and at most once in the first
``FIRST_SCREEN`` rows; the Top 10 and collections may show it once more
further down; the profile's shelves (Continue watching, My List) are kept
whole and hold nothing back; a row left with too few titles is dropped.

Without personalization (turned off, a profile with no signal yet, no model,
or no profile at all) the page has only rows that are the same for everyone
of the audience (trending, top 10, new, collections, popular genres), and
nothing of the profile's history is read.
"""

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

import numpy as np

from catalog.models import Title
from consent.context import Region
from recommendations.engine import rerank, taste
from recommendations.home.signals import (
    Candidates,
    Signals,
    history_taste_vector,
    taste_factors,
    taste_made_of,
    taste_vector,
)
from recommendations.home.snapshot import CatalogSnapshot

ROW_LENGTH = 20
#: The profile's own shelves: the lists they name (what is in progress, what
#: is in My List), kept whole by de-duplication and keeping no title out of
#: the other rows (a title in My List may still be a Top pick).
SHELVES = frozenset({"continue", "my-list"})
#: Rows of facts rather than of suggestions (a chart, a curator's pick): past
#: the first screen they may show a title a row above already showed...
REPEATABLE = frozenset({"top10", "collection"})
#: ...in the first ``FIRST_SCREEN`` rows no title shows twice...
FIRST_SCREEN = 4
#: ...and on the whole page a title shows at most this often (in one row of
#: suggestions only).
MAX_PER_PAGE = 2
#: A row that de-duplication leaves with fewer titles than this (or than it
#: had) is dropped; the profile's shelves and curated collections keep even
#: one title.
MIN_ROW = 4
BECAUSE_ROWS = 3
#: Recent well-liked titles looked at for "Because you…" seeds.
SEEDS_LOOKED_AT = 10
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
SHORT_RUNTIME = rerank.SHORT_RUNTIME
ENGAGEMENT_RISE = 2

PERSONAL_ORDER = (
    "continue",
    "short",
    "top-picks",
    "because-0",
    "trending",
    "region",
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
    "region",  # only when the profile shares its region: the one row it asked for
    "trending",
    "new",
    "genre-0",
    "genre-1",
    "top10",
    *(f"genre-{n}" for n in range(2, POPULAR_GENRE_ROWS)),
)

#: Rows ranked for the profile from its candidates: each of their cards says
#: its match ("84% match"). Every other row (Continue watching, My List,
#: Trending, the Top 10, New, collections) says why the title is in that row
#: ("Trending in Drama"), on every card: one kind of line per row, never both.
MATCH_ROW_KINDS = frozenset(
    {"top-picks", "because", "genre", "gems", "outside", "short"}
)
#: Rows whose cards say "New" on a title new to the catalog: one the model
#: had no interaction with when trained (the content model placed it), or
#: one added in the last ``NEW_BADGE_DAYS`` days that nobody has rated yet.
NEW_BADGE_ROW_KINDS = frozenset({"top-picks", "because"})
NEW_BADGE_DAYS = 30


@dataclass
class Row:
    key: str
    kind: str
    name: str
    reason: str
    #: Each with .match (0..100, on every card of a row of MATCH_ROW_KINDS, or
    #: None on every card) and .why (short).
    titles: list[Title]
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
    #: The model version whose candidates the rows come from (None: no
    #: personal candidates), and the experiment and arm the page was built
    #: for (None and "": none). Kept with each impression.
    model_version_id: int | None = None
    experiment_id: int | None = None
    arm: str = ""

    @property
    def title_ids(self) -> list[int]:
        return sorted({t.pk for row in self.rows for t in row.titles})

    def cards(self) -> list["Card"]:
        """Every card of the page, in order: what its impressions record.
        A card of an interleaved row says which arm's ranker contributed it
        (its title's ``ranker``)."""
        return [
            Card(row.kind, r, t.pk, p, getattr(t, "ranker", ""))
            for r, row in enumerate(self.rows)
            for p, t in enumerate(row.titles)
        ]


class Card(NamedTuple):
    """One card of a page as shown: its row's kind and place, its title and
    place in the row, and the ranker that contributed it ("" but in an
    interleaved row)."""

    row_kind: str
    row_position: int
    title_id: int
    position: int
    ranker: str = ""


@dataclass(frozen=True)
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
    #: Titles in progress (Continue watching): (viewing id, percent watched),
    #: shown on the title's card in every row.
    progress: dict[int, tuple[int, int]] = field(default_factory=dict)
    #: An interleaved row: the arm whose ranker contributed each title ("AB",
    #: both arms' keys, when both rankings would have placed it there).
    rankers: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Interleave:
    """An interleaving test's Top picks: two arms' rankings (each with its
    own exploration and calibration) merged by ``engine.online.team_draft``
    with a seed fixed for the profile and its candidates."""

    seed: int
    a: tuple[str, int, bool]  # (arm key, exploration, calibration)
    b: tuple[str, int, bool]


@dataclass(frozen=True)
class Origin:
    """What a page was built from, kept on it and with its impressions: the
    candidates' model version, and the test and arm ("interleaved")."""

    model_version_id: int | None = None
    experiment_id: int | None = None
    arm: str = ""


# --- who may see what ------------------------------------------------------------


def visible_titles(
    snap: CatalogSnapshot,
    *,
    kids: bool,
    hidden: Collection[int],
    signals: Signals | None,
    hidden_titles: Collection[int] = (),
) -> np.ndarray:
    """Titles the profile may be shown in any row: for its audience, not in a
    genre it hid, not marked "not interested" (``hidden_titles``, the hard
    filters of ``activity.selectors.hard_filters``: kept on shared pages
    too), not turned down."""
    n = len(snap.ids)
    visible = snap.kids_ok.copy() if kids else np.ones(n, dtype=bool)
    hidden_cols = [snap.genre_column(g) for g in hidden if g in snap.genre_order]
    if hidden_cols:
        visible &= ~(snap.features[:, hidden_cols] > 0).any(axis=1)
    if hidden_titles:
        visible &= ~np.isin(snap.ids, list(hidden_titles))
    if signals is not None:
        visible &= ~np.isin(snap.ids, list(signals.turned_down()))
    return visible


def show_fewer_similarity(snap: CatalogSnapshot, fewer: Collection[int]) -> np.ndarray:
    """Each title's closeness (0..1) to the titles the profile asked to see
    fewer like: genre cosine, and 1 for those titles themselves."""
    pos = snap.index(list(fewer)) if fewer else np.zeros(0, np.int64)
    pos = pos[pos >= 0]
    if len(pos) == 0:
        return np.zeros(len(snap.ids))
    similarity = rerank.show_fewer_similarity(snap.features, snap.features[pos])
    similarity[pos] = 1.0
    return similarity


def recommendable_titles(
    snap: CatalogSnapshot, visible: np.ndarray, signals: Signals | None
) -> np.ndarray:
    """...and in rows of recommendations: not rated, played or picked."""
    if signals is None:
        return visible.copy()
    return visible & ~np.isin(snap.ids, list(signals.seen()))


@dataclass(frozen=True)
class RankedCandidates:
    """The stored candidates the profile may be recommended, as positions in
    the snapshot, best first."""

    pos: np.ndarray
    scores: np.ndarray
    predicted: np.ndarray
    rank: dict[int, int]  # snapshot position → rank among them

    @classmethod
    def of(
        cls,
        snap: CatalogSnapshot,
        candidates: Candidates | None,
        recommendable: np.ndarray,
        taste_factors: np.ndarray | None = None,
    ) -> "RankedCandidates":
        """``taste_factors`` (one per genre; the viewer's adjustments of its
        taste) re-rank the candidates by ``engine.taste.taste_adjust``."""
        if candidates is None:
            return cls(np.zeros(0, np.int64), np.zeros(0), np.zeros(0), {})
        pos = snap.index(candidates.ids)
        keep = (pos >= 0) & recommendable[np.maximum(pos, 0)]
        pos = pos[keep]
        scores, predicted = candidates.scores[keep], candidates.predicted[keep]
        if taste_factors is not None and len(pos) and np.any(taste_factors != 1):
            scores = taste.taste_adjust(scores, snap.features[pos], taste_factors)
            order = np.argsort(-scores, kind="stable")
            pos, scores, predicted = pos[order], scores[order], predicted[order]
        return cls(
            pos=pos,
            scores=scores,
            predicted=predicted,
            rank={int(p): n for n, p in enumerate(pos)},
        )

    def predicted_at(self, pos: int) -> float | None:
        n = self.rank.get(int(pos))
        return None if n is None else float(self.predicted[n])

    def gem_positions(self, snap: CatalogSnapshot) -> np.ndarray:
        """Candidates in the best third by predicted rating and less rated than
        half of the candidates, in candidate order."""
        if len(self.pos) < MIN_ROW:
            return self.pos[:0]
        popularity = snap.rating_count[self.pos]
        gem = (self.predicted >= np.quantile(self.predicted, 1 - GEM_TOP_PREDICTED)) & (
            popularity < np.median(popularity)
        )
        return self.pos[gem]


def top_genres(snap: CatalogSnapshot, taste: np.ndarray, count: int = 3) -> list[int]:
    """The profile's strongest genres (ids), strongest first."""
    order = np.argsort(-taste, kind="stable")
    return [snap.genre_order[j] for j in order[:count] if taste[j] > 0]


# --- what every row uses -------------------------------------------------------------


class RowInputs:
    """What one page's rows are built from, worked out once: who may see
    what, the profile's candidates and taste, and the helpers every row uses
    to rank and label its titles. The rows themselves are in ``shared`` and
    ``personal``; ``page.RowBuilder`` puts them together."""

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
        region: Region | None = None,
        hidden_titles: Collection[int] = (),
        show_fewer: Collection[int] = (),
        row_order: tuple[str, ...] = (),
        interleave: Interleave | None = None,
        origin: Origin = Origin(),
    ) -> None:
        self.snap = snap
        #: Kinds of rows put first, after Continue watching (a test's arm,
        #: or the serving defaults).
        self.row_order = row_order
        #: An interleaving test's Top picks (None: the one ranking).
        self.interleave = interleave
        self.origin = origin
        #: The region the profile declared and shares ("Popular in …").
        self.region = region
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
        #: Titles the profile may be shown in any row...
        self.visible = visible_titles(
            snap,
            kids=kids,
            hidden=hidden,
            signals=signals,
            hidden_titles=hidden_titles,
        )
        #: How close each title is to one the profile wants fewer like.
        self.fewer_similarity = show_fewer_similarity(snap, show_fewer)
        #: ...and in rows of recommendations (not rated nor played).
        self.recommendable = recommendable_titles(snap, self.visible, signals)
        #: The viewer's factor per genre (its taste sliders; 1 = as it watches)...
        self.taste_factors = taste_factors(snap, signals)
        self.candidates = RankedCandidates.of(
            snap, candidates, self.recommendable, self.taste_factors
        )
        #: ...the genre mix of its liked history, as it is (zeros without one)...
        self.history_taste = history_taste_vector(snap, signals)
        #: ...and with those factors: the mix the rows aim at.
        self.taste = taste_vector(snap, signals)
        #: ...and what that history is, in words ("what you rated or picked").
        self.taste_made_of = taste_made_of(snap, signals)

    def top_genres(self, count: int = 3) -> list[int]:
        return top_genres(self.snap, self.taste, count)

    def adjust(self, pos: np.ndarray, scores: np.ndarray, *, boost: bool) -> np.ndarray:
        """Scores after boosts (personal rows), context and mood."""
        scores = np.asarray(scores, dtype=np.float64)
        if len(pos) == 0:
            return scores
        if boost:
            scores = rerank.boost_adjust(scores, self.snap.boost[pos])
        if self.late_or_mobile:
            scores = rerank.context_adjust(scores, self.snap.runtime[pos], self.context)
        if self.fewer_similarity.any():
            scores = rerank.show_fewer_adjust(scores, self.fewer_similarity[pos])
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

    def new_titles(self, title_ids: Iterable[int]) -> set[int]:
        """Which of the titles are new to the catalog (see
        :data:`NEW_BADGE_ROW_KINDS`)."""
        ids = np.array(sorted(set(title_ids)), dtype=np.int64)
        if len(ids) == 0:
            return set()
        new = np.zeros(len(ids), bool)
        if self.model is not None:
            new |= self.model.is_new(ids)
        pos = self.snap.index(ids)
        known = pos >= 0
        today = int(self.now.timestamp() // 86400)
        recent = (today - self.snap.added_day[pos[known]] <= NEW_BADGE_DAYS) & (
            self.snap.rating_count[pos[known]] == 0
        )
        new[known] |= recent
        return {int(t) for t in ids[new]}

    def matches(self, title_ids: Iterable[int]) -> dict[int, int | None]:
        """Each title's match percentage (None when not personal or not a
        candidate), looked up in one go."""
        title_ids = list(title_ids)
        if not self.personal:
            return dict.fromkeys(title_ids)
        out = {}
        for t, p in zip(title_ids, self.snap.index(title_ids), strict=True):
            predicted = self.candidates.predicted_at(p) if p >= 0 else None
            out[t] = None if predicted is None else match_percent(predicted)
        return out

    def main_genre(self, pos: int, prefer: Iterable[int] = ()) -> str:
        have = [
            g for j, g in enumerate(self.snap.genre_order) if self.snap.features[pos, j]
        ]
        for g in prefer:
            if g in have:
                return self.snap.genre_names[g]
        return self.snap.genre_names[have[0]] if have else ""


# --- labels ----------------------------------------------------------------------------


def match_percent(predicted: float) -> int:
    """A predicted rating (0.5–5★) as a match percentage."""
    return round(min(max((predicted - 0.5) / 4.5, 0.0), 1.0) * 100)


def ratings_label(snap: CatalogSnapshot, pos: int, prefix: str = "") -> str:
    count = int(snap.rating_count[pos])
    if not count:
        return prefix
    text = f"{snap.rating_mean[pos]:.1f}★ · {count} rating{'s' if count != 1 else ''}"
    return f"{prefix} · {text}" if prefix else text
