"""A profile's taste: the titles it liked, how much, and their genre mix.

One rule, used wherever Marquee says what a profile likes: the home rows
(Top picks' calibration target, the genre rows, "Outside your usual", the
collections for fans of a genre) and the privacy centre's "What we work
out" (shown and exported). Plain values in, plain values out.

How much a title is liked (0 is not liked; the first rule that applies wins):

- turned down ("not interested" or thumbs down): 0, whatever else happened;
- rated: ``rating / 5`` from :data:`LIKED_MIN_RATING` up, 0 below it;
- otherwise the strongest of: thumbs up :data:`THUMBS_UP_WEIGHT`, an
  onboarding pick :data:`PICK_WEIGHT`, watched at least half way or to the
  end (``dataset.viewing_signal`` is not "abandoned") :data:`WATCHED_WEIGHT`.

The genre mix is Steck's p(g|u) over the liked titles, each weighed as above
(``rerank.genre_distribution``: a title in two genres gives each half).
"""

from collections.abc import Collection, Iterable, Mapping

import numpy as np

from recommendations.engine.dataset import NEGATIVE_SIGNALS, index_of, viewing_signal
from recommendations.engine.rerank import genre_distribution

#: A rating below this is not liking (3★ and up: weighed by the stars).
LIKED_MIN_RATING = 3.0
THUMBS_UP_WEIGHT = 1.0
PICK_WEIGHT = 0.8
WATCHED_WEIGHT = 0.8


#: What each kind of liking is called when a sentence says what the taste is
#: made of ("Thriller is 33 % of what you rated or picked"), in that order.
SOURCE_WORDS = {
    "rated": "rated",
    "watched": "watched",
    "thumbs_up": "liked",
    "pick": "picked",
}


def liked_history(
    *,
    ratings: Mapping[int, float],
    viewings: Iterable[tuple[int, float, bool]],
    feedback: Mapping[int, Collection[str]],
) -> dict[int, tuple[float, str]]:
    """Liked titles: how much (0..1), by the rule above, and the signal that
    set it ("rated", "watched", "thumbs_up" or "pick").

    ``ratings``: title → stars; ``viewings``: (title, progress 0..1,
    completed), in any order; ``feedback``: title → its kinds
    ("thumbs_up", "pick", "not_interested", "thumbs_down").
    """
    liked: dict[int, tuple[float, str]] = {}

    def stronger(title_id: int, weight: float, source: str) -> None:
        if weight > liked.get(title_id, (0.0, ""))[0]:
            liked[title_id] = (weight, source)

    for title_id, progress, completed in viewings:
        if viewing_signal(progress, completed) != "abandoned":
            stronger(title_id, WATCHED_WEIGHT, "watched")
    for title_id, kinds in feedback.items():
        if "thumbs_up" in kinds:
            stronger(title_id, THUMBS_UP_WEIGHT, "thumbs_up")
        elif "pick" in kinds:
            stronger(title_id, PICK_WEIGHT, "pick")
    for title_id, value in ratings.items():
        liked[title_id] = (value / 5.0 if value >= LIKED_MIN_RATING else 0.0, "rated")
    for title_id, kinds in feedback.items():
        if NEGATIVE_SIGNALS.intersection(kinds):
            liked.pop(title_id, None)
    return {t: (w, source) for t, (w, source) in liked.items() if w > 0}


def liked_weights(
    *,
    ratings: Mapping[int, float],
    viewings: Iterable[tuple[int, float, bool]],
    feedback: Mapping[int, Collection[str]],
) -> dict[int, float]:
    """Liked titles and how much (0..1), by the rule above (see
    :func:`liked_history` for the arguments)."""
    history = liked_history(ratings=ratings, viewings=viewings, feedback=feedback)
    return {t: w for t, (w, _) in history.items()}


def history_words(sources: Iterable[str]) -> str:
    """What a taste is made of, in words: "what you rated or picked" for a
    profile whose liked titles were only rated and picked (never "what you
    watch" when nothing was watched). Unknown sources are left out."""
    found = set(sources)
    words = [word for source, word in SOURCE_WORDS.items() if source in found]
    if not words:
        return "what you like"
    if len(words) == 1:
        return f"what you {words[0]}"
    return f"what you {', '.join(words[:-1])} or {words[-1]}"


def genre_mix(
    weights: Mapping[int, float], ids: np.ndarray, features: np.ndarray
) -> np.ndarray:
    """The liked titles' genre shares: one per column of ``features``,
    summing to 1, or all zeros when no liked title is in the catalog.

    ``ids``: the catalog's sorted title ids; ``features``: its (n, G) genre
    matrix (one-hot). Liked titles not in the catalog do not count.
    """
    pos = index_of(ids, list(weights))
    found = pos >= 0
    if not found.any():
        return np.zeros(features.shape[1])
    w = np.array(list(weights.values()), dtype=np.float64)
    return genre_distribution(features[pos[found]], w[found])


def liked_in_mix(
    weights: Mapping[int, float], ids: np.ndarray, features: np.ndarray
) -> int:
    """How many liked titles make up :func:`genre_mix` (in the catalog, with
    a genre)."""
    pos = index_of(ids, list(weights))
    return int(np.count_nonzero(features[pos[pos >= 0]].any(axis=1)))


# --- the viewer's own adjustments ("your taste, as you set it") ---------------------

#: How much of a genre the viewer asks for, in percent of what its history
#: says (the privacy centre's sliders); 100 is "as you watch", the default.
LEVELS = {0: "Off", 50: "Less", 100: "As you watch", 150: "More", 200: "Much more"}
DEFAULT_LEVEL = 100


def genre_factors(levels: Mapping[int, int], genre_order: Iterable[int]) -> np.ndarray:
    """One factor per genre of ``genre_order``: its level / 100 (1 where the
    viewer set none). ``levels``: genre id → one of :data:`LEVELS`."""
    return np.array(
        [levels.get(g, DEFAULT_LEVEL) / 100 for g in genre_order], dtype=np.float64
    )


def adjusted_mix(mix: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """The genre mix the rows use: each genre's share of the history times
    its factor, scaled to sum 1 again (all zeros when nothing is left: every
    liked genre turned off, or no history). A genre at 0 ("off") gets no
    share, so calibration no longer aims at it and it has no genre row."""
    mix = np.asarray(mix, dtype=np.float64)
    factors = np.asarray(factors, dtype=np.float64)
    if mix.shape != factors.shape:
        raise ValueError("factors must have one value per genre.")
    weighted = mix * factors
    total = weighted.sum()
    return weighted / total if total > 0 else np.zeros_like(mix)


def title_factors(features: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """Each title's factor: the mean of its genres' factors (1 for a title
    without a genre), so a Drama-Romance title with Drama off keeps half its
    personal score, and one in Drama alone none of it."""
    features = np.asarray(features, dtype=np.float64)
    counts = features.sum(axis=1)
    summed = features @ np.asarray(factors, dtype=np.float64)
    return np.divide(summed, counts, out=np.ones(len(features)), where=counts > 0)


def taste_adjust(
    scores: np.ndarray, features: np.ndarray, factors: np.ndarray
) -> np.ndarray:
    """Personal scores with the viewer's adjustments: min-max normalised (a
    score may be negative) times each title's :func:`title_factors`. A title
    whose every genre is off scores 0, the least any personal score can be:
    it loses its personal boost but is not removed (hiding a genre is the
    hard filter)."""
    scores = np.asarray(scores, dtype=np.float64)
    if scores.size == 0:
        return scores.copy()
    low, high = scores.min(), scores.max()
    rel = (scores - low) / (high - low) if high > low else np.ones_like(scores)
    return rel * title_factors(features, factors)
