"""Fitting a whole recommender and judging it on held-out data.

``evaluate`` is the yardstick for every change to the engine: it trains on
one part of the data, then measures the rating model (RMSE, MAE) and the
ranking that feeds "Top picks" (precision, recall, NDCG and MAP at k, catalog
coverage, novelty, intra-list diversity) beside a popularity baseline on the
same split.
"""

import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from recommendations.engine.dataset import Interactions, index_of
from recommendations.engine.evaluation import (
    popularity_scores,
    ranking_metrics,
    rating_errors,
    top_k_excluding,
)
from recommendations.engine.neighbours import NeighbourModel, predict_rows
from recommendations.engine.ranking import fit_ease
from recommendations.engine.rating import fit_rating_model
from recommendations.engine.recommender import History, Recommender


@dataclass(frozen=True)
class TrainingConfig:
    algorithm: str = "svd"
    params: dict[str, Any] = field(default_factory=dict)
    ease_lambda: float = 250.0
    min_profiles: int = 3
    max_items: int = 6000
    blend: float = 0.1
    fold_in_reg: float = 1.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def fit_recommender(
    inter: Interactions, config: TrainingConfig
) -> tuple[Recommender, dict]:
    started = time.perf_counter()
    rating, _ = fit_rating_model(
        inter,
        algorithm=config.algorithm,
        params=config.params,
        fold_in_reg=config.fold_in_reg,
    )
    fitted_rating = time.perf_counter()
    ranking = fit_ease(
        inter,
        lam=config.ease_lambda,
        min_profiles=config.min_profiles,
        max_items=config.max_items,
    )
    done = time.perf_counter()
    timings = {
        "fit_rating_s": fitted_rating - started,
        "fit_ranking_s": done - fitted_rating,
    }
    return Recommender(rating, ranking, config.blend), timings


def histories_of(inter: Interactions, profile_ids: np.ndarray) -> list[History]:
    """Each profile's rows of ``inter`` as a History (no hidden titles)."""
    order = np.argsort(inter.users, kind="stable")
    users = inter.users[order]
    starts = np.searchsorted(users, profile_ids, side="left")
    ends = np.searchsorted(users, profile_ids, side="right")
    empty = np.zeros(0, dtype=np.int64)
    return [
        History(
            profile_id=int(p),
            items=inter.items[order[s:e]],
            values=inter.values[order[s:e]],
            hidden=empty,
            negative=inter.negative[order[s:e]],
        )
        for p, s, e in zip(profile_ids, starts, ends, strict=True)
    ]


def predict_pairs(
    model: Recommender,
    users: np.ndarray,
    items: np.ndarray,
    train: Interactions | None = None,
) -> np.ndarray:
    """Surprise-style predictions (unknown user or item falls back to the biases), clipped.

    A neighbourhood model predicts from each profile's rows in ``train``.
    """
    r = model.rating
    if isinstance(r, NeighbourModel):
        if train is None:
            raise ValueError("A neighbourhood model predicts from the training rows.")
        return np.clip(predict_rows(r, train, users, items), 0.5, 5.0)
    u = r.user_index(users)
    i = r.item_index(items)
    ku, ki = u >= 0, i >= 0
    est = np.full(len(users), r.global_mean)
    if r.biased:
        est[ku] += r.bu[u[ku]]
        est[ki] += r.bi[i[ki]]
    both = ku & ki
    est[both] += np.einsum("ij,ij->i", r.P[u[both]], r.Q[i[both]])
    return np.clip(est, 0.5, 5.0)


def evaluate(
    train: Interactions,
    test: Interactions,
    config: TrainingConfig,
    *,
    k: int = 10,
    item_features: dict[int, np.ndarray] | None = None,
    batch: int = 2000,
) -> dict[str, Any]:
    model, timings = fit_recommender(train, config)
    universe = np.unique(np.concatenate([train.items, test.items]))
    profiles = np.unique(test.users)
    relevant_by = histories_of(test, profiles)
    train_by = histories_of(train, profiles)
    relevant = [index_of(universe, h.items) for h in relevant_by]
    features = None
    if item_features:
        width = len(next(iter(item_features.values())))
        features = np.array(
            [item_features.get(int(t), np.zeros(width)) for t in universe]
        )

    started = time.perf_counter()
    recommended = np.full((len(profiles), k), -1, dtype=np.int64)
    for lo in range(0, len(profiles), batch):
        for n, c in enumerate(model.candidates(train_by[lo : lo + batch], count=k)):
            recommended[lo + n, : len(c.title_ids)] = index_of(universe, c.title_ids)
    timings["score_s"] = time.perf_counter() - started

    popularity = popularity_scores(train, universe).astype(np.float64)
    seen = [index_of(universe, h.items) for h in train_by]
    baseline = top_k_excluding(np.tile(popularity, (len(profiles), 1)), seen, k)
    n_train_users = len(np.unique(train.users))
    common = {
        "k": k,
        "n_items": len(universe),
        "item_popularity": popularity,
        "n_train_users": n_train_users,
        "item_features": features,
    }
    return {
        "config": config.as_dict(),
        "data": {
            "train_rows": len(train),
            "test_rows": len(test),
            "profiles": n_train_users,
            "titles": len(universe),
            "rankable_titles": len(model.ranking.item_ids),
        },
        "rating": rating_errors(
            predict_pairs(model, test.users, test.items, train), test.values
        ),
        "ranking": ranking_metrics(recommended, relevant, **common),
        "popularity": ranking_metrics(baseline, relevant, **common),
        "timings": {key: round(v, 3) for key, v in timings.items()},
    }
