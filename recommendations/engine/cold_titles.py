"""How well the content model places titles nobody has seen yet.

:func:`evaluate_cold_titles` holds out a fraction of the titles entirely
(seeded; every interaction with them), trains EASE and the content model on
the rest, then, for each profile with interactions on held-out titles, ranks
*only the held-out titles* by the content model's scores from its training
history and measures NDCG@10 (``evaluation``'s definition: binary relevance,
a held-out interaction is relevant) beside three yardsticks:

- random: the exact expected NDCG@10 of a random order of the held-out titles;
- popularity (content): what a system could know of a new title's
  popularity, a ridge from its content features to log(1 + interactions)
  fitted on the training titles, the same order for every profile;
- oracle popularity: the held-out titles' true interaction counts (not
  knowable for a new title; a reference).

The ridge penalty α of the content model is chosen on validation inside the
training part (:func:`choose_alpha`): a further share of the training titles
is held out, EASE refitted without them, and the α whose scores rank them
best is kept; the test titles play no part in it.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np

from recommendations.engine.content import (
    ContentFeatures,
    fit_content,
    popularity_from_content,
)
from recommendations.engine.dataset import Interactions, index_of
from recommendations.engine.evaluation import accuracy_per_user
from recommendations.engine.ranking import engagement_matrix, fit_ease

#: α values tried on validation.
ALPHAS = (1.0, 3.0, 10.0, 30.0, 100.0, 300.0)


@dataclass(frozen=True)
class TitleSplit:
    train: Interactions
    test: Interactions
    held_out: np.ndarray  # sorted title ids


def split_titles(inter: Interactions, fraction: float, seed: int) -> TitleSplit:
    """Holds out ``fraction`` of the interacted titles with all their rows."""
    if not 0 < fraction < 1:
        raise ValueError("The held-out fraction of titles must be between 0 and 1.")
    titles = np.unique(inter.items)
    count = max(1, round(fraction * len(titles)))
    held = np.sort(np.random.default_rng(seed).choice(titles, count, replace=False))
    out = np.isin(inter.items, held)
    return TitleSplit(inter.subset(~out), inter.subset(out), held)


def _expected_random_ndcg(n_relevant: np.ndarray, n_titles: int, k: int) -> float:
    """Mean over profiles of E[NDCG@k] when the ``n_titles`` are in random order:
    each of the first min(k, n) places holds a relevant title with
    probability r / n."""
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    shown = discounts[: min(k, n_titles)].sum()
    ideal = np.cumsum(discounts)[np.minimum(n_relevant, k) - 1]
    return float(np.mean(n_relevant / n_titles * shown / ideal))


def _ndcg_of_scores(scores: np.ndarray, relevant: list[np.ndarray], k: int) -> float:
    k = min(k, scores.shape[1])
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return float(np.nanmean(accuracy_per_user(top, relevant, k=k)[f"ndcg@{k}"]))


def _profile_rows(
    train: Interactions, item_ids: np.ndarray, profiles: np.ndarray
) -> np.ndarray:
    """Engagement rows (profiles × EASE titles) of the profiles' training history."""
    cols = index_of(item_ids, train.items)
    rows = index_of(profiles, train.users)
    ok = (cols >= 0) & (rows >= 0)
    X = engagement_matrix(
        rows[ok], cols[ok], train.negative[ok], (len(profiles), len(item_ids))
    )
    return X.astype(np.float32)


def without_tags(features: ContentFeatures, title_ids: np.ndarray) -> ContentFeatures:
    """``features`` with the tag columns of ``title_ids`` emptied: tags viewers
    applied are interactions, and a held-out title has none."""
    tags = np.char.startswith(features.names.astype(str), "tag:")
    rows = np.flatnonzero(np.isin(features.title_ids, title_ids))
    matrix = features.matrix.copy()
    matrix[np.ix_(rows, np.flatnonzero(tags))] = 0.0
    return ContentFeatures(features.title_ids, matrix, features.names)


def _content_ndcg(
    train: Interactions,
    test: Interactions,
    held: np.ndarray,
    features: ContentFeatures,
    *,
    alphas: tuple[float, ...],
    k: int,
    ease: dict[str, Any],
) -> tuple[dict[float, float], list[np.ndarray], np.ndarray, np.ndarray]:
    """NDCG@k of the content model for each α, ranking only ``held``; also
    the relevant sets, the profiles and their (profiles × held) index."""
    ranking = fit_ease(train, **ease)
    features = without_tags(features, held)
    positive = ~test.negative
    profiles = np.intersect1d(np.unique(test.users[positive]), train.users)
    X = _profile_rows(train, ranking.item_ids, profiles)
    relevant = []
    order = np.argsort(test.users, kind="stable")
    users = test.users[order]
    for p in profiles:
        lo, hi = np.searchsorted(users, p), np.searchsorted(users, p, side="right")
        rows = order[lo:hi]
        relevant.append(index_of(held, test.items[rows[positive[rows]]]))
    out = {}
    for alpha in alphas:
        model = fit_content(
            ranking.item_ids,
            ranking.B,
            features,
            interacted=np.unique(train.items),
            alpha=alpha,
            cold_ids=held,
        )
        if model is None:
            out[alpha] = 0.0
            continue
        out[alpha] = _ndcg_of_scores(model.scores(X), relevant, k)
    return out, relevant, profiles, X


def choose_alpha(
    train: Interactions,
    features: ContentFeatures,
    *,
    fraction: float,
    seed: int,
    k: int = 10,
    ease: dict[str, Any],
    alphas: tuple[float, ...] = ALPHAS,
) -> tuple[float, dict[float, float]]:
    """The α whose content model ranks titles held out of ``train`` best."""
    split = split_titles(train, fraction, seed + 1)
    scores, *_ = _content_ndcg(
        split.train, split.test, split.held_out, features, alphas=alphas, k=k, ease=ease
    )
    best = max(alphas, key=lambda a: (scores[a], -a))
    return best, scores


def evaluate_cold_titles(
    inter: Interactions,
    features: ContentFeatures,
    *,
    fraction: float = 0.1,
    seed: int = 0,
    k: int = 10,
    ease_lambda: float = 250.0,
    min_profiles: int = 3,
    max_items: int = 6000,
    alphas: tuple[float, ...] = ALPHAS,
) -> dict[str, Any]:
    """See the module docstring; one JSON-ready dict."""
    ease = {"lam": ease_lambda, "min_profiles": min_profiles, "max_items": max_items}
    split = split_titles(inter, fraction, seed)
    alpha, validation = choose_alpha(
        split.train, features, fraction=fraction, seed=seed, k=k, ease=ease
    )
    held = split.held_out
    scores, relevant, profiles, _ = _content_ndcg(
        split.train, split.test, held, features, alphas=(alpha,), k=k, ease=ease
    )
    train_titles, train_counts = np.unique(split.train.items, return_counts=True)
    guessed = popularity_from_content(
        without_tags(features, held), train_titles, train_counts, held
    )
    held_counts = np.bincount(
        index_of(held, split.test.items), minlength=len(held)
    ).astype(np.float64)
    n_relevant = np.array([len(np.unique(r)) for r in relevant])
    tiled = np.ones((len(profiles), 1))
    content = scores[alpha]
    popularity = _ndcg_of_scores(tiled * guessed[None, :], relevant, k)
    return {
        "held_out_titles": len(held),
        "described_held_out_titles": int(np.isin(held, features.title_ids).sum()),
        "fraction": fraction,
        "seed": seed,
        "profiles": len(profiles),
        "train_rows": len(split.train),
        "test_rows": len(split.test),
        "features": len(features.names),
        "alpha": alpha,
        "validation_ndcg_by_alpha": {
            str(a): round(v, 4) for a, v in validation.items()
        },
        f"ndcg@{k}": content,
        "random": _expected_random_ndcg(n_relevant, len(held), k),
        "popularity": popularity,
        "oracle_popularity": _ndcg_of_scores(tiled * held_counts[None, :], relevant, k),
        "vs_popularity": round(content / max(popularity, 1e-12), 3),
    }
