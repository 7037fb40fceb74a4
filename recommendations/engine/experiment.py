"""Fitting a whole recommender and judging it on held-out data.

``evaluate`` is the yardstick for every change to the engine: it trains on
one part of the data, then measures the rating model (RMSE, MAE) and the
ranking that feeds "Top picks" (precision, recall, NDCG and MAP at k, catalog
coverage, novelty, intra-list diversity) beside a popularity baseline on the
same split.
"""

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from recommendations.engine import validation
from recommendations.engine.content import ContentFeatures, fit_content
from recommendations.engine.dataset import Interactions, index_of
from recommendations.engine.evaluation import (
    popularity_percentiles,
    popularity_scores,
    ranking_metrics,
    rating_errors,
    top_k_excluding,
)
from recommendations.engine.neighbours import NeighbourModel, predict_rows
from recommendations.engine.ranking import fit_ease
from recommendations.engine.rating import fit_rating_model
from recommendations.engine.recommender import History, Recommender

#: Profiles measured per cold-start size (each is folded in afresh).
COLD_VIEWERS_SAMPLE = 1000


@dataclass(frozen=True)
class TrainingConfig:
    algorithm: str = "svd"
    params: dict[str, Any] = field(default_factory=dict)
    ease_lambda: float = 250.0
    min_profiles: int = 3
    max_items: int = 6000
    blend: float = 0.1
    fold_in_reg: float = 1.0
    #: History rows' half-life in items when ranking (None: no recency).
    recency_half_life: float | None = None
    #: Weight of the "next title" model beside EASE (0: off).
    sequence_weight: float = 0.0
    #: How many following rows count as "next" for the sequence model.
    sequence_window: int = 20
    #: Popularity correction: ranking columns scaled by popularity ** -beta.
    popularity_beta: float = 0.0
    #: Choose lambda, half-life, sequence weight, beta and blend on a
    #: validation split inside the training rows (``engine.validation``).
    validate: bool = False
    #: How much NDCG@10 the popularity correction may cost on validation.
    popularity_tolerance: float = 0.02

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_settings(
        cls,
        conf: dict[str, Any],
        algorithm: str | None = None,
        params: dict | None = None,
    ) -> "TrainingConfig":
        """The site's configuration from ``settings.RECOMMENDER``; another
        ``algorithm`` than the configured one starts from its own defaults."""
        algorithm = algorithm or conf["ALGORITHM"]
        if params is None:
            params = conf["PARAMS"] if algorithm == conf["ALGORITHM"] else {}
        return cls(
            algorithm=algorithm,
            params=dict(params),
            ease_lambda=conf["EASE_LAMBDA"],
            min_profiles=conf["MIN_PROFILES"],
            max_items=conf["MAX_ITEMS"],
            blend=conf["BLEND"],
            fold_in_reg=conf["FOLD_IN_REG"],
            recency_half_life=conf["RECENCY_HALF_LIFE"] or None,
            sequence_weight=conf["SEQUENCE_WEIGHT"],
            sequence_window=conf["SEQUENCE_WINDOW"],
            popularity_beta=conf["POPULARITY_BETA"],
            validate=conf["VALIDATE"],
            popularity_tolerance=conf["POPULARITY_TOLERANCE"],
        )


def fit_recommender(
    inter: Interactions,
    config: TrainingConfig,
    *,
    on_stage: Callable[[str], None] = lambda stage: None,
    content_features: ContentFeatures | None = None,
) -> tuple[Recommender, dict]:
    """Fits the rating model, then the ranking model; ``on_stage`` hears
    "fit_rating" and "fit_ranking" as each begins. With ``content_features``
    the content model scores the titles without an EASE column."""
    started = time.perf_counter()
    on_stage("fit_rating")
    rating, _ = fit_rating_model(
        inter,
        algorithm=config.algorithm,
        params=config.params,
        fold_in_reg=config.fold_in_reg,
    )
    fitted_rating = time.perf_counter()
    on_stage("fit_ranking")
    ranking = fit_ease(
        inter,
        lam=config.ease_lambda,
        min_profiles=config.min_profiles,
        max_items=config.max_items,
        sequence_weight=config.sequence_weight,
        sequence_window=config.sequence_window,
        popularity_beta=config.popularity_beta,
        recency_half_life=config.recency_half_life,
    )
    done = time.perf_counter()
    timings = {
        "fit_rating_s": fitted_rating - started,
        "fit_ranking_s": done - fitted_rating,
    }
    content = None
    if content_features is not None:
        content = fit_content(
            ranking.item_ids,
            ranking.B,
            content_features,
            interacted=np.unique(inter.items),
        )
        timings["fit_content_s"] = time.perf_counter() - done
    return (
        Recommender(
            rating,
            ranking,
            config.blend,
            content=content,
            recency_half_life=config.recency_half_life,
        ),
        timings,
    )


def choose_settings(
    train: Interactions, config: TrainingConfig, *, split: str = "time"
) -> tuple[TrainingConfig, dict[str, Any]]:
    """``config`` with its ranking settings chosen on a validation split inside
    ``train`` (see ``engine.validation``); unchanged if it does not validate."""
    if not config.validate:
        return config, {"skipped": "validation off; the configured values serve"}
    return validation.choose_settings(
        train,
        config,
        split=split,
        popularity_tolerance=config.popularity_tolerance,
        fit_rating=lambda rows, c: fit_recommender(rows, c)[0],
    )


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
            times=inter.times[order[s:e]],
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
    split: str = "time",
    cold_viewers: tuple[int, ...] = (3, 5, 10),
) -> dict[str, Any]:
    """Trains on ``train`` (settings chosen on validation inside it when
    ``config.validate``) and measures on ``test``; ``cold_viewers`` also
    measures profiles cut down to their first 3, 5, 10 training rows."""
    started = time.perf_counter()
    config, chosen = choose_settings(train, config, split=split)
    validated = time.perf_counter() - started
    model, timings = fit_recommender(train, config)
    timings["validation_s"] = validated
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
    recommended = _recommended(model, train_by, universe, k, batch)
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
            "history_popularity_percentile": float(
                popularity_percentiles(popularity)[
                    index_of(universe, train.items)
                ].mean()
            ),
        },
        "rating": rating_errors(
            predict_pairs(model, test.users, test.items, train), test.values
        ),
        "ranking": ranking_metrics(recommended, relevant, **common),
        "popularity": ranking_metrics(baseline, relevant, **common),
        "validation": chosen,
        "cold_viewers": {
            str(n): _cold_viewers(model, train_by, relevant, n, universe, common)
            for n in cold_viewers
        },
        "timings": {key: round(v, 3) for key, v in timings.items()},
    }


def _recommended(
    model: Recommender,
    histories: list[History],
    universe: np.ndarray,
    k: int,
    batch: int = 2000,
) -> np.ndarray:
    """Each history's top k as indices into ``universe``, -1 for padding."""
    recommended = np.full((len(histories), k), -1, dtype=np.int64)
    for lo in range(0, len(histories), batch):
        for n, c in enumerate(model.candidates(histories[lo : lo + batch], count=k)):
            recommended[lo + n, : len(c.title_ids)] = index_of(universe, c.title_ids)
    return recommended


def _cold_viewers(
    model: Recommender,
    histories: list[History],
    relevant: list[np.ndarray],
    n_rows: int,
    universe: np.ndarray,
    common: dict[str, Any],
) -> dict[str, Any]:
    """NDCG@k of profiles that had more than ``n_rows`` training rows (a
    fixed sample of at most ``COLD_VIEWERS_SAMPLE``), cut down to their first
    ``n_rows`` (by time) and folded in afresh, beside the popularity baseline
    for the same profiles."""
    cut, kept = [], []
    eligible = [n for n, h in enumerate(histories) if len(h.items) > n_rows]
    if len(eligible) > COLD_VIEWERS_SAMPLE:
        rng = np.random.default_rng(n_rows)
        eligible = sorted(rng.choice(eligible, COLD_VIEWERS_SAMPLE, replace=False))
    for n in eligible:
        h, rel = histories[n], relevant[n]
        first = np.lexsort((h.items, h.times))[:n_rows]
        cut.append(
            History(
                profile_id=h.profile_id,
                items=h.items[first],
                values=h.values[first],
                hidden=h.hidden,
                negative=None if h.negative is None else h.negative[first],
                times=h.times[first],
                use_trained_vector=False,
            )
        )
        kept.append(rel)
    k = common["k"]
    if not cut:
        return {"profiles": 0, f"ndcg@{k}": None, f"popularity_ndcg@{k}": None}
    model_lists = _recommended(model, cut, universe, k)
    seen = [index_of(universe, h.items) for h in cut]
    baseline = top_k_excluding(
        np.tile(common["item_popularity"], (len(cut), 1)), seen, k
    )
    return {
        "profiles": len(cut),
        f"ndcg@{k}": ranking_metrics(model_lists, kept, **common)[f"ndcg@{k}"],
        f"popularity_ndcg@{k}": ranking_metrics(baseline, kept, **common)[f"ndcg@{k}"],
    }
