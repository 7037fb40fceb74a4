""" "Trending now": time-decayed popularity, from event times alone.

Each event (a rating, a viewing, a My List addition) weighs
``0.5 ** (age / half_life)``, its age counted back from ``now``; a title's
score is the sum of its events' weights. Events more than ``horizon``
half-lives old (weight under ``0.5 ** horizon``) are left out, so the caller
need only read that window. What counts as an event, and which "now" (the
newest activity rather than the clock, so that an imported catalog still
trends), is the services' business.
"""

import numpy as np

SECONDS_PER_DAY = 86_400.0


def trending_scores(
    now: float,
    title_ids: np.ndarray,
    times: np.ndarray,
    *,
    half_life_days: float,
    horizon: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Each title's time-decayed popularity: (title ids ascending, scores).

    ``now`` and ``times`` are in unix seconds, ``times`` aligned with
    ``title_ids`` (one entry per event). Titles with no event inside the
    horizon are absent.
    """
    title_ids = np.asarray(title_ids, dtype=np.int64)
    ages = now - np.asarray(times, dtype=np.float64)
    half_life = half_life_days * SECONDS_PER_DAY
    inside = ages <= horizon * half_life
    ids, column = np.unique(title_ids[inside], return_inverse=True)
    weights = 0.5 ** (ages[inside] / half_life)
    return ids, np.bincount(column, weights=weights, minlength=len(ids))
