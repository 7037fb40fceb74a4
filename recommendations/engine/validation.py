"""Choosing the ranking's settings on a validation split carved out of the
training part: never on the rows a model is judged or gated on.

``choose_settings(train, config)`` splits ``train`` again the same way the
outer split was made (time: each profile's latest 20 % of training rows;
random: a random 25 %), fits on the rest and scores at most
``MAX_PROFILES`` validation profiles by NDCG@10, then walks the settings
one at a time, each keeping the best value found so far for the others:

1. EASE's lambda, alone (no recency, no sequence model), from the
   configured value by factors of 4 while NDCG@10 improves, then a factor of
   2 each side (the best lambda grows with the data);
2. the recency half-life of history rows (:data:`HALF_LIVES`, in items; 0 =
   off);
3. the weight of the "next title" model (:data:`SEQUENCE_WEIGHTS`), then
   lambda once more, one factor of 2 each way, with the two chosen;
4. the popularity correction beta (:data:`POPULARITY_BETAS`): the largest
   whose NDCG@10 stays within ``popularity_tolerance`` (2 %) of beta 0's, so
   less popular titles get room at a bounded, measured cost;
5. the blend of the predicted rating into the order (:data:`BLENDS`), with
   the rating model fitted on the same rows.

Every setting tried is reported with its NDCG@10 and popularity percentile,
so ``evaluate --json`` shows why each value won.
"""

import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from recommendations.engine.dataset import Interactions, index_of
from recommendations.engine.evaluation import (
    popularity_percentiles,
    popularity_scores,
    ranking_metrics,
    top_k_excluding,
)
from recommendations.engine.ranking import EaseFit, engagement_matrix, recency_weights
from recommendations.engine.splits import split_by_time, split_random

if TYPE_CHECKING:  # experiment imports this module
    from recommendations.engine.experiment import TrainingConfig

#: Validation profiles scored per setting (a fixed sample beyond it).
MAX_PROFILES = 1000
HALF_LIVES = (0.0, 2.5, 5.0, 10.0, 20.0, 40.0)
SEQUENCE_WEIGHTS = (0.0, 0.25, 0.5, 1.0)
POPULARITY_BETAS = (0.0, 0.05, 0.1, 0.15, 0.175, 0.2, 0.225, 0.25, 0.3, 0.4)
BLENDS = (0.0, 0.1, 0.25, 0.5)
#: Lambda is searched within these bounds, at most this many fits.
LAMBDA_RANGE = (25.0, 64_000.0)
LAMBDA_FITS = 6


class _Validation:
    """The validation profiles, their fit-part rows and held-out titles."""

    def __init__(self, fit: Interactions, valid: Interactions, ease: EaseFit, k: int):
        profiles = np.unique(valid.users)
        if len(profiles) > MAX_PROFILES:
            rng = np.random.default_rng(0)
            profiles = np.sort(rng.choice(profiles, MAX_PROFILES, replace=False))
        self.k = k
        self.ease = ease
        self.universe = np.unique(np.concatenate([fit.items, valid.items]))
        self.to_universe = index_of(self.universe, ease.item_ids)
        mine = np.isin(fit.users, profiles)
        self.users = index_of(profiles, fit.users[mine])
        self.items = fit.items[mine]
        self.values = fit.values[mine]
        self.times = fit.times[mine]
        self.negative = fit.negative[mine]
        self.cols = index_of(ease.item_ids, self.items)
        self.profiles = profiles
        self.n_train_users = len(np.unique(fit.users))
        seen = [[] for _ in profiles]
        for u, c in zip(self.users, self.cols, strict=True):
            if c >= 0:
                seen[u].append(c)
        self.seen = [np.array(s, dtype=np.int64) for s in seen]
        held = np.isin(valid.users, profiles)
        owner = index_of(profiles, valid.users[held])
        titles = index_of(self.universe, valid.items[held])
        self.relevant = [titles[owner == n] for n in range(len(profiles))]
        self.popularity = popularity_scores(fit, self.universe).astype(np.float64)
        self.percentile = popularity_percentiles(self.popularity)

    def history(self, half_life: float) -> Any:
        ok = self.cols >= 0
        weights = recency_weights(
            self.users[ok], self.times[ok], self.items[ok], half_life
        )
        return engagement_matrix(
            self.users[ok],
            self.cols[ok],
            self.negative[ok],
            (len(self.profiles), len(self.ease)),
            weights,
        ).astype(np.float32)

    def measure(self, scores: np.ndarray) -> dict[str, float]:
        """NDCG@k and popularity percentile of the top k of ``scores``
        (validation profiles × the EASE titles)."""
        top = top_k_excluding(scores, self.seen, self.k)
        return self.measure_lists(
            np.where(top >= 0, self.to_universe[np.maximum(top, 0)], -1)
        )

    def measure_lists(self, recommended: np.ndarray) -> dict[str, float]:
        """The same for lists already in universe indices (-1: padding)."""
        m = ranking_metrics(
            recommended,
            self.relevant,
            k=self.k,
            n_items=len(self.universe),
            item_popularity=self.popularity,
            n_train_users=self.n_train_users,
        )
        return {
            f"ndcg@{self.k}": round(m[f"ndcg@{self.k}"], 5),
            f"popularity_percentile@{self.k}": round(
                m[f"popularity_percentile@{self.k}"] or 0.0, 2
            ),
        }


def choose_settings(
    train: Interactions,
    config: "TrainingConfig",
    *,
    split: str = "time",
    k: int = 10,
    popularity_tolerance: float = 0.02,
    fit_rating: Callable[[Interactions, "TrainingConfig"], Any] | None = None,
) -> tuple["TrainingConfig", dict[str, Any]]:
    """The config with lambda, recency half-life, sequence weight, popularity
    beta and blend chosen on validation; and the report of what was tried.

    ``fit_rating(rows, config)`` returns a fitted Recommender for the blend
    step (the experiment module passes its own ``fit_recommender``); without
    it, or with too little data to validate, those settings stay as given.
    """
    started = time.perf_counter()
    if split == "time":
        fit, valid = split_by_time(train, test_fraction=0.2)
    else:
        fit, valid = split_random(train, test_size=0.25, seed=1)
    ease = EaseFit(fit, min_profiles=config.min_profiles, max_items=config.max_items)
    if len(valid) == 0 or len(ease) < k + 1:
        return config, {"skipped": "too little data to validate on"}
    v = _Validation(fit, valid, ease, k)
    ndcg = f"ndcg@{k}"
    tried: list[dict[str, Any]] = []
    cache: dict[tuple, dict[str, float]] = {}

    def score(lam, half_life, weight, beta) -> dict[str, float]:
        key = (lam, half_life, weight, beta)
        if key not in cache:
            model = ease.model(
                lam=lam,
                sequence_weight=weight,
                sequence_window=config.sequence_window,
                popularity_beta=beta,
                recency_half_life=half_life,
            )
            scores = np.asarray(v.history(half_life) @ model.B, dtype=np.float64)
            cache[key] = v.measure(scores)
            tried.append(
                {
                    "ease_lambda": lam,
                    "recency_half_life": half_life,
                    "sequence_weight": weight,
                    "popularity_beta": beta,
                    **cache[key],
                }
            )
        return cache[key]

    lam = float(config.ease_lambda)

    def best_lambda(lam: float, half_life: float, weight: float, fits: int) -> float:
        """From ``lam``, by ``factor`` each way while NDCG@10 improves, then
        (from a coarse factor of 4) once by 2 each side of the best."""
        best = score(lam, half_life, weight, 0.0)[ndcg]

        def walk(lam: float, best: float, factor: float, fits: int):
            for direction in (factor, 1 / factor):
                step, moved = lam, False
                while fits > 0:
                    step *= direction
                    if not LAMBDA_RANGE[0] <= step <= LAMBDA_RANGE[1]:
                        break
                    fits -= 1
                    value = score(step, half_life, weight, 0.0)[ndcg]
                    if value <= best:
                        break
                    lam, best, moved = step, value, True
                if moved:
                    break  # it moved one way: no need to look the other
            return lam, best, fits

        lam, best, fits = walk(lam, best, 4.0 if fits > 2 else 2.0, fits)
        if fits >= 2:
            for step in (lam * 2, lam / 2):
                if LAMBDA_RANGE[0] <= step <= LAMBDA_RANGE[1]:
                    value = score(step, half_life, weight, 0.0)[ndcg]
                    if value > best:
                        lam, best = step, value
        return lam

    # 1. lambda for EASE alone; 2. and 3. recency half-life, then the
    # sequence weight; then lambda once more around its value with them.
    lam = best_lambda(lam, 0.0, 0.0, LAMBDA_FITS)
    half_life = max(HALF_LIVES, key=lambda h: score(lam, h, 0.0, 0.0)[ndcg])
    weight = max(SEQUENCE_WEIGHTS, key=lambda w: score(lam, half_life, w, 0.0)[ndcg])
    lam = best_lambda(lam, half_life, weight, 2)
    # 4. popularity: the largest beta within the tolerance of beta 0.
    floor = score(lam, half_life, weight, 0.0)[ndcg] * (1.0 - popularity_tolerance)
    beta = max(
        b for b in POPULARITY_BETAS if score(lam, half_life, weight, b)[ndcg] >= floor
    )
    chosen = replace(
        config,
        ease_lambda=lam,
        recency_half_life=half_life or None,
        sequence_weight=weight,
        popularity_beta=beta,
    )
    # 5. blend, through the serving code with the rating model fitted here.
    blends: dict[float, float] = {}
    if fit_rating is not None:
        chosen, blends = _choose_blend(fit, v, chosen, fit_rating)
    return chosen, {
        "split": f"{split}, inside the training part",
        "profiles": len(v.profiles),
        "chosen": {
            "ease_lambda": chosen.ease_lambda,
            "recency_half_life": chosen.recency_half_life,
            "sequence_weight": chosen.sequence_weight,
            "popularity_beta": chosen.popularity_beta,
            "blend": chosen.blend,
        },
        "popularity_tolerance": popularity_tolerance,
        "tried": tried,
        "blends": blends,
        "seconds": round(time.perf_counter() - started, 2),
    }


def _choose_blend(
    fit: Interactions,
    v: _Validation,
    config: "TrainingConfig",
    fit_rating: Callable[[Interactions, "TrainingConfig"], Any],
) -> tuple["TrainingConfig", dict[float, float]]:
    from recommendations.engine.recommender import History  # no import cycle

    model = fit_rating(fit, replace(config, blend=0.0))
    order = np.argsort(v.users, kind="stable")
    bounds = np.searchsorted(v.users[order], np.arange(len(v.profiles) + 1))
    histories = [
        History(
            profile_id=int(p),
            items=v.items[order[a:b]],
            values=v.values[order[a:b]],
            hidden=np.zeros(0, np.int64),
            negative=v.negative[order[a:b]],
            times=v.times[order[a:b]],
        )
        for p, a, b in zip(v.profiles, bounds[:-1], bounds[1:], strict=True)
    ]
    results: dict[float, float] = {}
    for blend in BLENDS:
        recommender = replace(model, blend=blend)
        recommended = np.full((len(histories), v.k), -1, dtype=np.int64)
        for n, c in enumerate(recommender.candidates(histories, count=v.k)):
            cols = index_of(v.universe, c.title_ids)
            recommended[n, : len(cols)] = cols
        results[blend] = v.measure_lists(recommended)[f"ndcg@{v.k}"]
    best = max(BLENDS, key=lambda b: results[b])
    return replace(config, blend=best), results
