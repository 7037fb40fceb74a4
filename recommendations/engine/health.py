"""The recommendation health page's maths: how wide, how popular, how calibrated
and how fresh what profiles are recommended is, and when that is alarming.

Everything works on dense item indices (0..n_items-1, the catalog's titles)
and per-profile lists of them; the exposure definitions themselves (Gini,
long-tail share, effective catalog size, popularity percentile) are
``evaluation``'s, the genre mix and KL ``rerank``'s, so the page and the
offline evaluation mean the same by each word.

* coverage = distinct titles in any list / catalog size.
* popularity amplification = mean over profiles of the mean popularity
  percentile of its list, minus the same of its history (percentile points:
  +10 means recommendations sit 10 points more popular than what profiles
  watched). Niche-taste profiles are the bottom quartile by their history's
  mean percentile (Kowald et al. 2020 found them served worst).
* genre calibration = mean over profiles of KL(history's genre mix ‖ list's
  genre mix) (Steck 2018, ``rerank.kl_divergence``, α = 0.01).
* intra-list diversity = mean over lists of ``rerank.intra_list_diversity``.
* exposure by group (genre, decade) = each group's share of the slots
  against its share of the catalog; a title in several genres shares its
  slot equally among them (``rerank.genre_distribution``).

Guardrails compare two sets of these figures (before and after a retrain):
coverage may fall by at most a fraction, amplification rise by at most some
points; the freshness lag's p95 has a ceiling of its own.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from recommendations.engine.rerank import (
    genre_distribution,
    intra_list_diversity,
    kl_divergence,
)

#: Share of profiles, least popular histories first, counted as niche-taste.
NICHE_QUANTILE = 0.25


def coverage(lists: Sequence[np.ndarray], n_items: int) -> float:
    """Distinct titles in any list / ``n_items`` (0.0 for an empty catalog)."""
    if n_items <= 0:
        return 0.0
    shown = _concat(lists)
    return float(np.unique(shown).size / n_items)


def exposure_counts(lists: Sequence[np.ndarray], n_items: int) -> np.ndarray:
    """How many lists hold each title (one slot each)."""
    return np.bincount(_concat(lists), minlength=n_items)[:n_items]


def _concat(lists: Sequence[np.ndarray]) -> np.ndarray:
    if not lists:
        return np.zeros(0, dtype=np.int64)
    return np.concatenate([np.asarray(x, dtype=np.int64) for x in lists])


def list_means(lists: Sequence[np.ndarray], values: np.ndarray) -> np.ndarray:
    """Each list's mean of ``values`` at its titles; NaN for an empty list."""
    values = np.asarray(values, dtype=np.float64)
    return np.array(
        [values[np.asarray(x, np.int64)].mean() if len(x) else np.nan for x in lists],
        dtype=np.float64,
    )


@dataclass(frozen=True)
class Amplification:
    """Popularity percentiles of recommendations against histories (0..100)."""

    recommended: float | None
    history: float | None
    amplification: float | None
    niche_recommended: float | None
    niche_history: float | None
    niche_amplification: float | None
    niche_profiles: int


def popularity_amplification(
    recommended: Sequence[np.ndarray],
    histories: Sequence[np.ndarray],
    percentiles: np.ndarray,
    *,
    niche_quantile: float = NICHE_QUANTILE,
) -> Amplification:
    """Mean popularity percentile of each profile's list against its history,
    overall and for the niche-taste profiles (see the module docstring).

    ``recommended[u]`` and ``histories[u]`` belong to the same profile; a
    profile with an empty list or history is left out.
    """
    if len(recommended) != len(histories):
        raise ValueError("one history per recommended list.")
    rec = list_means(recommended, percentiles)
    hist = list_means(histories, percentiles)
    both = ~np.isnan(rec) & ~np.isnan(hist)
    rec, hist = rec[both], hist[both]
    if not len(rec):
        return Amplification(None, None, None, None, None, None, 0)
    cut = np.quantile(hist, niche_quantile)
    niche = hist <= cut
    return Amplification(
        recommended=float(rec.mean()),
        history=float(hist.mean()),
        amplification=float((rec - hist).mean()),
        niche_recommended=float(rec[niche].mean()),
        niche_history=float(hist[niche].mean()),
        niche_amplification=float((rec[niche] - hist[niche]).mean()),
        niche_profiles=int(niche.sum()),
    )


def calibration_kl(
    histories: Sequence[np.ndarray],
    recommended: Sequence[np.ndarray],
    features: np.ndarray,
) -> float | None:
    """Mean KL(history's genre mix ‖ list's genre mix) over profiles whose
    history and list both have a genre; None when none has."""
    features = np.asarray(features, dtype=np.float64)
    values = []
    for h, r in zip(histories, recommended, strict=True):
        p = genre_distribution(features[np.asarray(h, np.int64)])
        q = genre_distribution(features[np.asarray(r, np.int64)])
        if p.sum() > 0 and q.sum() > 0:
            values.append(kl_divergence(p, q))
    return float(np.mean(values)) if values else None


def mean_intra_list_diversity(
    recommended: Sequence[np.ndarray], features: np.ndarray
) -> float | None:
    """Mean intra-list diversity over lists of two titles or more."""
    features = np.asarray(features, dtype=np.float64)
    values = [
        intra_list_diversity(features[np.asarray(r, np.int64)])
        for r in recommended
        if len(r) >= 2
    ]
    return float(np.mean(values)) if values else None


def genre_exposure(
    counts: np.ndarray, features: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each genre's share of the slots and of the catalog (each sums to 1, or
    is all zeros when nothing has a genre)."""
    features = np.asarray(features, dtype=np.float64)
    shown = genre_distribution(features, np.asarray(counts, dtype=np.float64))
    catalog = genre_distribution(features)
    return shown, catalog


def decade_of(years: np.ndarray) -> np.ndarray:
    """1994 -> 1990; an unknown year (0 or less) -> 0."""
    years = np.asarray(years, dtype=np.int64)
    return np.where(years > 0, years // 10 * 10, 0)


def group_exposure(
    counts: np.ndarray, groups: np.ndarray
) -> list[tuple[int, float, float, int]]:
    """(group, share of the slots, share of the catalog, titles never shown)
    per group label, in label order; ``groups[i]`` is title i's label."""
    counts = np.asarray(counts, dtype=np.float64)
    groups = np.asarray(groups)
    total_slots, total_titles = counts.sum(), len(groups)
    out = []
    for label in np.unique(groups):
        members = groups == label
        out.append(
            (
                int(label),
                float(counts[members].sum() / total_slots) if total_slots else 0.0,
                float(members.sum() / total_titles),
                int((counts[members] == 0).sum()),
            )
        )
    return out


def percentiles(values: np.ndarray, qs: Sequence[float]) -> list[float | None]:
    """``np.percentile`` (linear) of each q, or None for no values."""
    values = np.asarray(values, dtype=np.float64)
    if not len(values):
        return [None for _ in qs]
    return [float(v) for v in np.percentile(values, list(qs))]


# --- guardrails --------------------------------------------------------------------


@dataclass(frozen=True)
class Guardrails:
    """How far a retrain may narrow or skew recommendations, and how stale they
    may grow.

    ``coverage_drop``: the largest fall of coverage allowed, as a fraction of
    the earlier value (0.1: from 0.40 to no lower than 0.36).
    ``amplification_rise``: the largest rise of popularity amplification
    allowed, in percentile points. ``max_lag_s``: the ceiling of the p95 lag
    from a signal to refreshed candidates, in seconds.
    """

    coverage_drop: float
    amplification_rise: float
    max_lag_s: float


#: Figures that must not fall, and those that must not rise, with their names.
COVERAGE_FIGURES = {
    "coverage_top_picks": "Coverage of Top picks",
    "coverage_page": "Coverage of the whole page",
}
AMPLIFICATION_FIGURES = {
    "amplification": "Popularity amplification",
    "amplification_niche": "Popularity amplification for niche-taste profiles",
    "popularity_percentile": "Popularity percentile of what is recommended",
}


def guardrail_breaches(
    before: Mapping[str, float | None],
    after: Mapping[str, float | None],
    rails: Guardrails,
) -> list[str]:
    """What got worse beyond the guardrails from ``before`` to ``after``, one
    sentence each; figures missing on either side are not compared."""
    breaches = []
    for key, name in COVERAGE_FIGURES.items():
        old, new = before.get(key), after.get(key)
        if old is None or new is None:
            continue
        if new < old * (1.0 - rails.coverage_drop):
            breaches.append(
                f"{name} fell from {old:.1%} to {new:.1%} "
                f"(tolerance {rails.coverage_drop:.0%} of it)."
            )
    for key, name in AMPLIFICATION_FIGURES.items():
        old, new = before.get(key), after.get(key)
        if old is None or new is None:
            continue
        if new > old + rails.amplification_rise:
            breaches.append(
                f"{name} rose from {old:.1f} to {new:.1f} percentile points "
                f"(tolerance {rails.amplification_rise:g} points)."
            )
    return breaches


def lag_breach(lag_p95_s: float | None, rails: Guardrails) -> str | None:
    """A sentence when the p95 freshness lag is over its ceiling, else None."""
    if lag_p95_s is None or lag_p95_s <= rails.max_lag_s:
        return None
    return (
        f"Freshness lag p95 is {_duration(lag_p95_s)}, over the "
        f"{_duration(rails.max_lag_s)} threshold."
    )


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


# --- sparklines --------------------------------------------------------------------


def sparkline_points(
    values: Sequence[float | None], *, width: float, height: float, pad: float = 2.0
) -> str:
    """An SVG ``points`` attribute drawing ``values`` left to right (oldest
    first) inside width × height; missing values are skipped, a flat series
    is drawn mid-height, a single value as a short flat line."""
    known = [(n, float(v)) for n, v in enumerate(values) if v is not None]
    if not known:
        return ""
    ys = [v for _, v in known]
    low, high = min(ys), max(ys)
    span_x = max(len(values) - 1, 1)
    inner_w, inner_h = width - 2 * pad, height - 2 * pad

    def y_of(v: float) -> float:
        if high <= low:
            return height / 2
        return pad + inner_h * (1.0 - (v - low) / (high - low))

    if len(known) == 1:
        y = y_of(known[0][1])
        return f"{pad:.1f},{y:.1f} {width - pad:.1f},{y:.1f}"
    return " ".join(f"{pad + inner_w * n / span_x:.1f},{y_of(v):.1f}" for n, v in known)


# --- freshness ---------------------------------------------------------------------


def refresh_lags(
    signal_at: np.ndarray,
    refreshed_at: np.ndarray,
    model_activated_at: np.ndarray,
    now: float,
) -> tuple[np.ndarray, int]:
    """Seconds from each profile's latest signal to its candidates being
    refreshed, and how many still wait; times in Unix seconds, NaN unknown.

    A profile refreshed at or after its signal counts ``refreshed - signal``,
    unless its candidates' model was activated after the signal (the refresh
    may have been that promotion's, not the signal's: left out). One not
    refreshed since (or without candidates, NaN) still waits: it counts
    ``now - signal`` so far.
    """
    signal_at = np.asarray(signal_at, dtype=np.float64)
    refreshed_at = np.asarray(refreshed_at, dtype=np.float64)
    activated = np.asarray(model_activated_at, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        refreshed = refreshed_at >= signal_at
        by_promotion = refreshed & (signal_at < activated)
    done = refreshed & ~by_promotion
    waiting = ~refreshed
    lags = np.concatenate(
        [refreshed_at[done] - signal_at[done], now - signal_at[waiting]]
    )
    return lags, int(waiting.sum())


def genre_never_shown(counts: np.ndarray, features: np.ndarray) -> np.ndarray:
    """Per genre column, how many of its titles have no exposure."""
    features = np.asarray(features, dtype=np.float64)
    never = np.asarray(counts) == 0
    return (features[never] > 0).sum(axis=0).astype(np.int64)
