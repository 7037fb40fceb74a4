"""Re-ranking a profile's candidates for the home page: diversity, calibration,
moods, context and curators' boosts.

Rows are built at request time from the few hundred candidates stored per
profile (best first, with their ranking scores). Everything here is a pure
function of numpy arrays, so the row builders in ``recommendations/home/``
stay thin and these rules are tested without a database.

Scales. Candidate scores come from the ranking model on an arbitrary scale.
Every rule below that combines a score with something else first min-max
normalises it to 0..1 (:func:`normalise`; a constant list becomes all 1.0),
so the same setting means the same thing for every profile.

Exploration (diversity). The privacy centre's slider, 0..100, sets the weight
λ of maximal marginal relevance (Carbonell & Goldstein 1998):
``λ = 1 - 0.7 * exploration / 100``, so 0 gives λ = 1.0 (pure relevance, the
model's own order) and 100 gives λ = 0.3. :func:`mmr` then picks, one at a
time, the candidate maximising ``λ·rel − (1−λ)·max cosine similarity of its
genres to those already picked``.

Calibration (Steck, "Calibrated Recommendations", RecSys 2018). A list should
show genres in about the proportions of the profile's history:
:func:`calibrate` greedily maximises ``(1−λ)·Σ rel − λ·KL(p ‖ q̃)`` where p is
the history's genre mix (:func:`genre_distribution`), q the list's and
``q̃ = (1−α)·q + α·p`` (α = 0.01) keeps the divergence finite. The default
λ is 0.7, not 0.5: relevance here is min-max normalised over the
candidates, and at 0.5 the genre mix moved less than a third of the way to
the history's (see ``CALIBRATION_LAMBDA``).

Moods (the "In the mood for…" rows), a fixed table (:data:`MOODS`); genre
names are MovieLens's, tag names lower case:

=================  ==============================  ==================  =========
mood               genres                          avoided genres      runtime
=================  ==============================  ==================  =========
feel-good          Comedy, Animation, Children,    Horror, War, Crime  any
                   Musical, Romance                Thriller
thrilling          Thriller, Action, Crime,        Children, Musical   any
                   Mystery, Horror, Adventure
thought-provoking  Drama, Documentary, Sci-Fi,     Children            any
                   Film-Noir, War, Mystery
light-short        Comedy, Animation, Children     War, Horror         ≤ 100 min
=================  ==============================  ==================  =========

Each mood also names a few tags (feel-good: "feel-good", "heartwarming",
"uplifting", "funny", "cute", "family"; see :data:`MOODS` for the rest).

:func:`mood_adjust` multiplies each normalised score by:

* ``1 + 0.5 × (number of the mood's genres the title has)``, at most ×2.0;
* ×1.25 when any of the title's tags is one of the mood's tags;
* ×0.4 when the title has any avoided genre (once, however many);
* ×0.3 when the mood has a maximum runtime and the title's known runtime is
  over it; an unknown runtime (NaN, or 0 or less) is left alone.

Context (only for profiles that allow contextual signals). It is "late" when
the local hour is 22 or later or before 5, and "mobile" on a phone. A tablet
is *not* treated as a phone: people watch whole films on tablets, in bed or
travelling, and "Because you're on your phone" would be false there. When
late or mobile, :func:`context_adjust` favours short titles: runtime ≤ 100
min ×1.3, over 130 min ×0.6, in between or unknown ×1.0. Otherwise scores are
returned unchanged.

Curators' boosts. Each title carries a boost in 0.5..1.5 (clipped; NaN counts
as 1.0) that :func:`boost_adjust` multiplies into the normalised score.
"""

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from recommendations.engine.evaluation import _diversity

#: MMR relevance weight at exploration 0 and at exploration 100.
LAMBDA_AT_NO_EXPLORATION = 1.0
LAMBDA_AT_FULL_EXPLORATION = 0.3
#: Steck's smoothing of the list's distribution towards the target.
CALIBRATION_ALPHA = 0.01
#: Default calibration weight, chosen by measurement on ml-latest-small (EASE
#: top-300 candidates, top 20 re-ranked, 20 % random hold-out): λ 0.5 cut the
#: mean KL by 29 % for recall@20 0.343 -> 0.339; 0.7 by 49 % for 0.333; 0.9
#: by 76 % for 0.315. 0.7 is where the genre mix is fixed by about half.
CALIBRATION_LAMBDA = 0.7

#: Mood rule factors (see the module docstring).
MOOD_GENRE_STEP = 0.5
MOOD_GENRE_CAP = 2.0
MOOD_TAG_FACTOR = 1.25
MOOD_AVOID_FACTOR = 0.4
MOOD_TOO_LONG_FACTOR = 0.3

#: Context rule: the hours counted as late (22:00 to 04:59) and runtimes.
LATE_FROM_HOUR = 22
LATE_UNTIL_HOUR = 5
SHORT_RUNTIME = 100
LONG_RUNTIME = 130
SHORT_FACTOR = 1.3
LONG_FACTOR = 0.6

BOOST_MIN = 0.5
BOOST_MAX = 1.5


def normalise(scores: np.ndarray) -> np.ndarray:
    """Min-max to 0..1 as float64; a constant (or one-item) list becomes all 1.0.

    Scores must be finite: a NaN or infinity would make every rule below
    meaningless, so it is refused with ValueError.
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 1:
        raise ValueError("scores must be a vector.")
    if scores.size == 0:
        return scores.copy()
    if not np.all(np.isfinite(scores)):
        raise ValueError("scores must be finite.")
    low, high = scores.min(), scores.max()
    if high <= low:
        return np.ones_like(scores)
    return (scores - low) / (high - low)


def genre_matrix(
    genre_ids_per_item: list[Iterable[int]], genre_order: list[int]
) -> np.ndarray:
    """(n, G) one-hot genre rows; column j is ``genre_order[j]``.

    Genre ids not in ``genre_order`` are ignored (their row may stay zero).
    """
    column = {int(g): j for j, g in enumerate(genre_order)}
    matrix = np.zeros((len(genre_ids_per_item), len(genre_order)), dtype=np.float64)
    for row, ids in enumerate(genre_ids_per_item):
        cols = [column[int(g)] for g in ids if int(g) in column]
        matrix[row, cols] = 1.0
    return matrix


def _as_features(features: np.ndarray, n: int) -> np.ndarray:
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or features.shape[0] != n:
        raise ValueError(f"features must be a ({n}, G) matrix.")
    return features


def _unit_rows(features: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    return np.divide(features, norms, out=np.zeros_like(features), where=norms > 0)


def _share_rows(features: np.ndarray) -> np.ndarray:
    """Each row scaled to sum 1 (Steck's p(g|i)); all-zero rows stay zero."""
    sums = features.sum(axis=1, keepdims=True)
    return np.divide(features, sums, out=np.zeros_like(features), where=sums > 0)


# --- Exploration: maximal marginal relevance ----------------------------------


def exploration_lambda(exploration: int) -> float:
    """The MMR relevance weight for the exploration slider (0..100, clipped).

    Linear from 1.0 at 0 (the model's own order) to 0.3 at 100: below 0.3 the
    rows fill with titles chosen for being different rather than liked.
    """
    share = min(max(float(exploration), 0.0), 100.0) / 100.0
    return LAMBDA_AT_NO_EXPLORATION + share * (
        LAMBDA_AT_FULL_EXPLORATION - LAMBDA_AT_NO_EXPLORATION
    )


def mmr(scores: np.ndarray, features: np.ndarray, *, lam: float, k: int) -> np.ndarray:
    """Maximal marginal relevance: indices of the k picked, in pick order.

    At each step the candidate with the largest
    ``lam·rel − (1−lam)·max cosine similarity to the picked`` is taken, rel
    being the min-max normalised score; ties go to the lower index. With
    ``lam = 1`` this is exactly the top k by score (ties: lower index first).
    """
    rel = normalise(scores)
    n = rel.size
    take = max(0, min(int(k), n))
    if not 0.0 <= lam <= 1.0:
        raise ValueError("lam must be between 0 and 1.")
    if take == 0:
        return np.zeros(0, dtype=np.int64)
    if lam >= 1.0:
        return np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")[:take]
    unit = _unit_rows(_as_features(features, n))
    max_similarity = np.zeros(n)
    available = np.ones(n, dtype=bool)
    picked = np.empty(take, dtype=np.int64)
    for step in range(take):
        value = np.where(available, lam * rel - (1.0 - lam) * max_similarity, -np.inf)
        best = int(np.argmax(value))
        picked[step] = best
        available[best] = False
        np.maximum(max_similarity, unit @ unit[best], out=max_similarity)
    return picked


def intra_list_diversity(features: np.ndarray) -> float:
    """Mean pairwise cosine distance of the rows; 0.0 for fewer than two.

    The definition of the offline metric (``evaluation`` module): an all-zero
    row has similarity 0, so distance 1, to everything.
    """
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2:
        raise ValueError("features must be a (n, G) matrix.")
    n = features.shape[0]
    if n < 2:
        return 0.0
    top = np.arange(n)[None, :]
    value = _diversity(top, np.ones_like(top, dtype=bool), features)
    return 0.0 if value is None else value


# --- Calibration -----------------------------------------------------------------


def genre_distribution(
    features: np.ndarray, weights: np.ndarray | None = None
) -> np.ndarray:
    """Steck's p(g|u): the weighted mean of the items' genre shares.

    Each item's genre row is scaled to sum 1 (a title in two genres gives each
    half); items without genres contribute nothing, nor count in the mean.
    The result sums to 1, or is all zeros when nothing has a genre.
    Weights must be non-negative (None: every item weighs 1).
    """
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2:
        raise ValueError("features must be a (n, G) matrix.")
    if weights is None:
        weights = np.ones(features.shape[0])
    weights = np.asarray(weights, dtype=np.float64)
    if weights.shape != (features.shape[0],):
        raise ValueError("weights must have one value per item.")
    if np.any(weights < 0) or not np.all(np.isfinite(weights)):
        raise ValueError("weights must be finite and non-negative.")
    total = weights @ _share_rows(features)
    mass = total.sum()
    return total / mass if mass > 0 else np.zeros(features.shape[1])


def kl_divergence(p: np.ndarray, q: np.ndarray, *, alpha: float = 0.01) -> float:
    """KL(p ‖ q̃) in nats, q̃ = (1−alpha)·q + alpha·p, with 0·log 0 = 0.

    The smoothing keeps the divergence finite when the list misses a genre of
    the history (Steck 2018, eq. 5).
    """
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    if p.shape != q.shape or p.ndim != 1:
        raise ValueError("p and q must be vectors of the same length.")
    return float(_kl_rows(p, q[None, :], alpha)[0])


def _kl_rows(p: np.ndarray, q_rows: np.ndarray, alpha: float) -> np.ndarray:
    """KL(p ‖ q̃) for each row of q_rows at once."""
    present = p > 0
    pp = p[present]
    smoothed = (1.0 - alpha) * q_rows[:, present] + alpha * pp
    with np.errstate(divide="ignore"):
        return (pp * (np.log(pp) - np.log(smoothed))).sum(axis=1)


def calibrate(
    scores: np.ndarray,
    features: np.ndarray,
    target: np.ndarray,
    *,
    k: int,
    lam: float = CALIBRATION_LAMBDA,
    alpha: float = CALIBRATION_ALPHA,
) -> np.ndarray:
    """Steck's greedy calibrated re-ranking: indices of the k picked, in order.

    Each step adds the candidate maximising ``(1−lam)·Σ rel − lam·KL(target ‖
    q̃(picked + candidate))``, with rel the min-max normalised score and q the
    unweighted :func:`genre_distribution` of the list; the KL of every
    remaining candidate is computed at once. ``target`` is scaled to sum 1;
    an all-zero target (no history) leaves the order by score. Ties go to
    the lower index.
    """
    rel = normalise(scores)
    n = rel.size
    take = max(0, min(int(k), n))
    if not 0.0 <= lam <= 1.0:
        raise ValueError("lam must be between 0 and 1.")
    shares = _share_rows(_as_features(features, n))
    target = np.asarray(target, dtype=np.float64)
    if target.shape != (shares.shape[1],) or np.any(target < 0):
        raise ValueError(
            "target must be a non-negative vector with one value per genre."
        )
    mass = target.sum()
    if take == 0:
        return np.zeros(0, dtype=np.int64)
    if mass <= 0 or lam == 0.0:
        return np.argsort(-rel, kind="stable")[:take]
    target = target / mass
    has_genre = (shares.sum(axis=1) > 0).astype(np.float64)
    picked_shares = np.zeros(shares.shape[1])
    picked_with_genre = 0.0
    picked_rel = 0.0
    available = np.ones(n, dtype=bool)
    picked = np.empty(take, dtype=np.int64)
    for step in range(take):
        rest = np.flatnonzero(available)
        counts = picked_with_genre + has_genre[rest]
        q = np.divide(
            picked_shares + shares[rest],
            counts[:, None],
            out=np.zeros((rest.size, shares.shape[1])),
            where=counts[:, None] > 0,
        )
        value = (1.0 - lam) * (picked_rel + rel[rest]) - lam * _kl_rows(
            target, q, alpha
        )
        best = int(rest[np.argmax(value)])
        picked[step] = best
        available[best] = False
        picked_shares += shares[best]
        picked_with_genre += has_genre[best]
        picked_rel += rel[best]
    return picked


# --- Moods -------------------------------------------------------------------------


@dataclass(frozen=True)
class Mood:
    key: str  # url-safe
    label: str
    genres: frozenset[str]  # MovieLens genre names
    avoid_genres: frozenset[str]
    tags: frozenset[str]  # lower-case tag names
    max_runtime: int | None  # minutes; None = any


MOODS: dict[str, Mood] = {
    mood.key: mood
    for mood in (
        Mood(
            key="feel-good",
            label="Feel-good",
            genres=frozenset({"Comedy", "Animation", "Children", "Musical", "Romance"}),
            avoid_genres=frozenset({"Horror", "War", "Crime", "Thriller"}),
            tags=frozenset(
                {"feel-good", "heartwarming", "uplifting", "funny", "cute", "family"}
            ),
            max_runtime=None,
        ),
        Mood(
            key="thrilling",
            label="Thrilling",
            genres=frozenset(
                {"Thriller", "Action", "Crime", "Mystery", "Horror", "Adventure"}
            ),
            avoid_genres=frozenset({"Children", "Musical"}),
            tags=frozenset(
                {"suspense", "tense", "twist ending", "heist", "action", "thriller"}
            ),
            max_runtime=None,
        ),
        Mood(
            key="thought-provoking",
            label="Thought-provoking",
            genres=frozenset(
                {"Drama", "Documentary", "Sci-Fi", "Film-Noir", "War", "Mystery"}
            ),
            avoid_genres=frozenset({"Children"}),
            tags=frozenset(
                {
                    "thought-provoking",
                    "philosophy",
                    "philosophical",
                    "psychology",
                    "social commentary",
                    "dystopia",
                    "nonlinear",
                }
            ),
            max_runtime=None,
        ),
        Mood(
            key="light-short",
            label="Light & short",
            genres=frozenset({"Comedy", "Animation", "Children"}),
            avoid_genres=frozenset({"War", "Horror"}),
            tags=frozenset({"funny", "cute", "short", "light"}),
            max_runtime=SHORT_RUNTIME,
        ),
    )
}


def _known_runtimes(runtimes: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    runtimes = np.asarray(runtimes, dtype=np.float64)
    if runtimes.shape != (n,):
        raise ValueError("runtimes must have one value per item.")
    known = np.isfinite(runtimes) & (runtimes > 0)
    return runtimes, known


def mood_adjust(
    scores: np.ndarray,
    genre_names: list[frozenset[str]],
    tag_names: list[frozenset[str]],
    runtimes: np.ndarray,
    mood: Mood,
) -> np.ndarray:
    """New scores: the normalised scores times the mood's factors (module docstring)."""
    adjusted = normalise(scores)
    n = adjusted.size
    if len(genre_names) != n or len(tag_names) != n:
        raise ValueError("genre_names and tag_names need one entry per item.")
    runtimes, known = _known_runtimes(runtimes, n)
    for i, (genres, tags) in enumerate(zip(genre_names, tag_names, strict=True)):
        factor = min(1.0 + MOOD_GENRE_STEP * len(mood.genres & genres), MOOD_GENRE_CAP)
        if mood.tags & tags:
            factor *= MOOD_TAG_FACTOR
        if mood.avoid_genres & genres:
            factor *= MOOD_AVOID_FACTOR
        adjusted[i] *= factor
    if mood.max_runtime is not None:
        adjusted[known & (runtimes > mood.max_runtime)] *= MOOD_TOO_LONG_FACTOR
    return adjusted


# --- Context -----------------------------------------------------------------------

DEVICES = frozenset({"tv", "desktop", "mobile", "tablet", ""})


@dataclass(frozen=True)
class Context:
    hour: int  # 0..23, local time
    device: str  # "tv" | "desktop" | "mobile" | "tablet" | "" (unknown)

    def __post_init__(self) -> None:
        if not 0 <= self.hour <= 23:
            raise ValueError("hour must be between 0 and 23.")
        if self.device not in DEVICES:
            raise ValueError(f"device must be one of {sorted(DEVICES)}.")

    @property
    def is_late(self) -> bool:
        return self.hour >= LATE_FROM_HOUR or self.hour < LATE_UNTIL_HOUR

    @property
    def is_mobile(self) -> bool:
        return self.device == "mobile"


def context_reason(ctx: Context) -> str | None:
    """Why the context row exists; lateness is named before the phone."""
    if ctx.is_late:
        return "Because it's late"
    if ctx.is_mobile:
        return "Because you're on your phone"
    return None


def context_adjust(
    scores: np.ndarray, runtimes: np.ndarray, ctx: Context
) -> np.ndarray:
    """Late or on a phone: normalised scores with short titles favoured.

    Runtime ≤ 100 ×1.3, > 130 ×0.6, otherwise or unknown ×1.0. In any other
    context a float copy of the scores, unchanged.
    """
    if context_reason(ctx) is None:
        return np.array(scores, dtype=np.float64, copy=True)
    adjusted = normalise(scores)
    runtimes, known = _known_runtimes(runtimes, adjusted.size)
    adjusted[known & (runtimes <= SHORT_RUNTIME)] *= SHORT_FACTOR
    adjusted[known & (runtimes > LONG_RUNTIME)] *= LONG_FACTOR
    return adjusted


# --- Curators' boosts ----------------------------------------------------------------


def boost_adjust(scores: np.ndarray, boosts: np.ndarray) -> np.ndarray:
    """Normalised scores times each title's boost, clipped to 0.5..1.5 (NaN: 1.0)."""
    adjusted = normalise(scores)
    boosts = np.asarray(boosts, dtype=np.float64)
    if boosts.shape != adjusted.shape:
        raise ValueError("boosts must have one value per item.")
    factors = np.clip(np.where(np.isnan(boosts), 1.0, boosts), BOOST_MIN, BOOST_MAX)
    return adjusted * factors


# --- "Show fewer like this" ------------------------------------------------------------

#: How far "show fewer like this" moves a title down: its normalised score
#: (shifted to 1..2, so no title sits at zero) is multiplied by
#: ``1 − SHOW_FEWER_WEIGHT × s``, where ``s`` is its closest genre similarity
#: (cosine) to a title the viewer asked to see fewer like; the title itself
#: (s = 1) falls below every title of no shared genre. Nothing is removed.
SHOW_FEWER_WEIGHT = 0.6


def show_fewer_similarity(features: np.ndarray, fewer: np.ndarray) -> np.ndarray:
    """Each row of ``features``' highest cosine similarity to a row of
    ``fewer`` (0 for a title without genres, or when ``fewer`` is empty)."""
    features = np.asarray(features, dtype=np.float64)
    fewer = np.asarray(fewer, dtype=np.float64)
    if features.ndim != 2 or len(features) == 0 or len(fewer) == 0:
        return np.zeros(len(features))
    return np.clip((_unit_rows(features) @ _unit_rows(fewer).T).max(axis=1), 0, 1)


def show_fewer_adjust(scores: np.ndarray, similarity: np.ndarray) -> np.ndarray:
    """Scores with titles like the "show fewer" ones moved down (see
    :data:`SHOW_FEWER_WEIGHT`); unchanged when nothing is similar."""
    scores = np.asarray(scores, dtype=np.float64)
    similarity = np.asarray(similarity, dtype=np.float64)
    if similarity.shape != scores.shape:
        raise ValueError("similarity must have one value per item.")
    if not similarity.any():
        return scores
    return (normalise(scores) + 1.0) * (1.0 - SHOW_FEWER_WEIGHT * similarity)
