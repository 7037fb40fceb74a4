"""Two training configurations judged offline on one split, profile by profile.

An operator asks "is B better than A?" (the admin's offline comparison). Both
are fitted on the same training part and judged on the same held-out part,
so every profile is scored under both and the difference can be *paired*:

* Accuracy at k (precision, recall, NDCG, MAP; ``evaluation`` defines them)
  is a mean over profiles. Its difference B − A gets a percentile bootstrap
  confidence interval over profiles: profiles are drawn with replacement
  :data:`BOOTSTRAP_RESAMPLES` times from a generator seeded with
  :data:`BOOTSTRAP_SEED` (the same inputs always give the same interval), the
  mean of the per-profile differences is taken on each draw, and the
  interval is the central 95 % of those means. Pairing removes the spread
  between profiles that both configurations share, so a small real
  difference is seen.
* Catalog-level figures (coverage, novelty, diversity, exposure: Gini,
  long-tail share, effective catalog size, popularity percentile) and the
  rating errors (RMSE, MAE) are not means over profiles; they are reported
  with their difference only, no interval.

Validation: a side whose configuration says ``validate`` has its ranking
settings chosen on a validation split inside the training part
(``experiment.choose_settings``), never on the held-out rows, as a
training's own evaluation does; what was chosen is kept in the results.

Exploration (the re-ranker): with ``exploration`` above 0 each profile's
:data:`EXPLORATION_POOL` best candidates are re-ranked with maximal marginal
relevance (``rerank.mmr``, λ from ``rerank.exploration_lambda``) over the
titles' genres before the list is cut to k, as the home page's Top picks
are for a profile whose slider is at that setting.
"""

import json
import math
import typing
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from recommendations.engine.dataset import Interactions, index_of
from recommendations.engine.evaluation import (
    accuracy_per_user,
    popularity_scores,
    ranking_metrics,
    rating_errors,
)
from recommendations.engine.experiment import (
    TrainingConfig,
    choose_settings,
    fit_recommender,
    histories_of,
    predict_pairs,
)
from recommendations.engine.rating import make_algorithm
from recommendations.engine.recommender import Recommender
from recommendations.engine.rerank import exploration_lambda, mmr

BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0
CONFIDENCE = 0.95
#: Candidates re-ranked for exploration: the home page's Top picks pool
#: (``recommendations.home.rows.TOP_PICKS_POOL``).
EXPLORATION_POOL = 120
#: The metric the verdict is given on.
VERDICT_METRIC = "ndcg@10"
#: Cells of the resample matrix held at once, to bound memory on big data.
_BOOTSTRAP_CELLS = 4_000_000

#: Metrics where a lower value is better; every other one is better higher.
LOWER_IS_BETTER_PREFIXES = ("rmse", "mae", "gini", "popularity_percentile")


@dataclass(frozen=True)
class Arm:
    """One side of a comparison: a training configuration and a re-ranker setting."""

    label: str
    config: TrainingConfig
    exploration: int = 0  # 0..100, as the privacy centre's slider

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "training": self.config.as_dict(),
            "exploration": self.exploration,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Arm":
        return cls(
            label=str(data.get("label", "")),
            config=training_config_from(data.get("training", {})),
            exploration=int(data.get("exploration", 0)),
        )


@dataclass(frozen=True)
class Difference:
    """B − A of a mean over profiles, with its bootstrap interval."""

    a: float
    b: float
    difference: float
    low: float
    high: float
    n: int  # profiles paired


def training_config_from(data: dict[str, Any]) -> TrainingConfig:
    """A TrainingConfig from a stored dict: unknown keys are dropped, missing
    ones take the dataclass's defaults (a configuration saved before a field
    was added still loads)."""
    names = {f.name for f in fields(TrainingConfig)}
    return TrainingConfig(**{k: v for k, v in data.items() if k in names})


@dataclass(frozen=True)
class ConfigField:
    """One TrainingConfig field as a form shows it: its plain type
    (``dict[str, Any]`` → dict, ``float | None`` → float, optional)."""

    name: str
    kind: type
    optional: bool
    help: str = ""


def config_fields() -> list[ConfigField]:
    """TrainingConfig's fields, in order, with their plain types."""
    hints = typing.get_type_hints(TrainingConfig)
    out = []
    for f in fields(TrainingConfig):
        hint = hints[f.name]
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        optional = len(args) < len(typing.get_args(hint))
        if optional and len(args) == 1:
            hint = args[0]
        out.append(
            ConfigField(
                name=f.name,
                kind=typing.get_origin(hint) or hint,
                optional=optional,
                help=str(f.metadata.get("help", "")),
            )
        )
    return out


def config_problems(config: TrainingConfig) -> dict[str, str]:
    """What is wrong with a configuration, by field name (empty: nothing).

    The algorithm must be known and accept its parameters (the Surprise class
    is built, not fitted); every number must be finite and not negative, and
    a count (an int field) at least 1.
    """
    problems: dict[str, str] = {}
    try:
        make_algorithm(config.algorithm, dict(config.params))
    except (ValueError, TypeError) as exc:
        where = "algorithm" if "algorithm" in str(exc).lower() else "params"
        problems[where] = str(exc)
    for field in config_fields():
        value = getattr(config, field.name)
        if not isinstance(value, int | float) or isinstance(value, bool):
            continue
        if not math.isfinite(value) or value < 0:
            problems[field.name] = "Must be a finite number, 0 or more."
        elif field.kind is int and value < 1:
            problems[field.name] = "Must be at least 1."
    return problems


def paired_bootstrap(
    a: np.ndarray,
    b: np.ndarray,
    *,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
    confidence: float = CONFIDENCE,
) -> Difference:
    """Mean of ``b − a`` over paired units with a percentile bootstrap interval.

    ``a[i]`` and ``b[i]`` are the same profile's values; pairs where either is
    NaN (a profile with nothing to score) are left out. No pairs: everything
    is 0.0 and ``n`` is 0.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError("a and b must be vectors of the same length.")
    if not 0.0 < confidence < 1.0:
        raise ValueError("confidence must be strictly between 0 and 1.")
    if resamples < 1:
        raise ValueError("resamples must be at least 1.")
    keep = ~(np.isnan(a) | np.isnan(b))
    a, b = a[keep], b[keep]
    n = len(a)
    if n == 0:
        return Difference(0.0, 0.0, 0.0, 0.0, 0.0, 0)
    d = b - a
    rng = np.random.default_rng(seed)
    means = np.empty(resamples)
    step = max(1, _BOOTSTRAP_CELLS // n)
    for lo in range(0, resamples, step):
        hi = min(resamples, lo + step)
        means[lo:hi] = d[rng.integers(0, n, size=(hi - lo, n))].mean(axis=1)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return Difference(
        a=float(a.mean()),
        b=float(b.mean()),
        difference=float(d.mean()),
        low=float(low),
        high=float(high),
        n=n,
    )


def top_k_lists(
    model: Recommender,
    train_by: list,
    universe: np.ndarray,
    *,
    k: int,
    exploration: int,
    features: np.ndarray | None,
    batch: int = 2000,
) -> np.ndarray:
    """Each profile's top k as dense indices into ``universe`` (-1 padding),
    re-ranked for ``exploration`` as the module docstring says; ``features``
    holds one genre row per title of ``universe`` (None: no genres)."""
    lists = np.full((len(train_by), k), -1, dtype=np.int64)
    lam = exploration_lambda(exploration)
    pool = k if lam >= 1.0 else max(k, EXPLORATION_POOL)
    if features is None:
        features = np.zeros((len(universe), 0))
    for lo in range(0, len(train_by), batch):
        for n, c in enumerate(model.candidates(train_by[lo : lo + batch], count=pool)):
            at = index_of(universe, c.title_ids)
            if lam < 1.0 and len(at):
                at = at[mmr(c.scores, features[at], lam=lam, k=k)]
            at = at[:k]
            lists[lo + n, : len(at)] = at
    return lists


def lower_is_better(metric: str) -> bool:
    return metric.startswith(LOWER_IS_BETTER_PREFIXES)


def compare(
    train: Interactions,
    test: Interactions,
    arm_a: Arm,
    arm_b: Arm,
    *,
    k: int = 10,
    item_features: dict[int, np.ndarray] | None = None,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
    split: str = "",
    on_stage=lambda stage: None,
) -> dict[str, Any]:
    """Fits both arms on ``train``, judges both on ``test``; JSON-ready results
    (``split`` says in words how ``train`` and ``test`` were made).

    ``metrics`` lists every figure as ``{name, group, a, b, difference, low,
    high, interval, lower_is_better}``; ``low``/``high`` are None where there
    is no interval (``interval`` says "bootstrap" or "difference only").
    """
    universe = np.unique(np.concatenate([train.items, test.items]))
    profiles = np.unique(test.users)
    train_by = histories_of(train, profiles)
    relevant = [index_of(universe, h.items) for h in histories_of(test, profiles)]
    popularity = popularity_scores(train, universe).astype(np.float64)
    features = None
    if item_features:
        width = len(next(iter(item_features.values())))
        features = np.array(
            [item_features.get(int(t), np.zeros(width)) for t in universe]
        )
    common = {
        "k": k,
        "n_items": len(universe),
        "item_popularity": popularity,
        "n_train_users": max(1, len(np.unique(train.users))),
        "item_features": features,
    }
    judged = {}
    # Sides that differ only in the re-ranker share one fitted model.
    fitted: dict[str, tuple] = {}
    for side, arm in (("a", arm_a), ("b", arm_b)):
        key = json.dumps(arm.config.as_dict(), sort_keys=True, default=str)
        if key not in fitted:
            on_stage(f"validate_{side}")
            config, chosen = choose_settings(train, arm.config)
            on_stage(f"fit_{side}")
            fitted[key] = (*fit_recommender(train, config), chosen)
        model, timings, chosen = fitted[key]
        on_stage(f"score_{side}")
        lists = top_k_lists(
            model,
            train_by,
            universe,
            k=k,
            exploration=arm.exploration,
            features=features,
        )
        judged[side] = {
            "per_profile": accuracy_per_user(lists, relevant, k=k),
            "ranking": ranking_metrics(lists, relevant, **common),
            "rating": rating_errors(
                predict_pairs(model, test.users, test.items, train), test.values
            ),
            "timings": {key: round(v, 3) for key, v in timings.items()},
            "validation": chosen,
        }

    metrics: list[dict[str, Any]] = []
    a, b = judged["a"], judged["b"]
    for name in a["per_profile"]:
        diff = paired_bootstrap(
            a["per_profile"][name],
            b["per_profile"][name],
            resamples=resamples,
            seed=seed,
        )
        metrics.append(
            _row(name, "accuracy", diff.a, diff.b, (diff.low, diff.high), "bootstrap")
        )
    for name, value in a["ranking"].items():
        if name in a["per_profile"] or name == "users":
            continue
        metrics.append(_row(name, "catalog", value, b["ranking"][name]))
    for name, value in a["rating"].items():
        metrics.append(_row(name, "rating", value, b["rating"][name]))

    return {
        "k": k,
        "split": split,
        "data": {
            "train_rows": len(train),
            "test_rows": len(test),
            "profiles": len(profiles),
            "profiles_scored": int(a["ranking"]["users"] or 0),
            "titles": len(universe),
        },
        "bootstrap": {
            "resamples": resamples,
            "seed": seed,
            "confidence": CONFIDENCE,
            "unit": "profile",
        },
        "arms": {"a": arm_a.as_dict(), "b": arm_b.as_dict()},
        "metrics": metrics,
        "timings": {"a": a["timings"], "b": b["timings"]},
        "validation": {"a": a["validation"], "b": b["validation"]},
        **verdict(metrics),
    }


def _row(
    name: str,
    group: str,
    a: float | None,
    b: float | None,
    interval: tuple[float, float] | None = None,
    kind: str = "difference only",
) -> dict[str, Any]:
    both = a is not None and b is not None
    return {
        "name": name,
        "group": group,
        "a": a,
        "b": b,
        "difference": (b - a) if both else None,
        "low": interval[0] if interval else None,
        "high": interval[1] if interval else None,
        "interval": kind,
        "lower_is_better": lower_is_better(name),
    }


def verdict(
    metrics: list[dict[str, Any]], metric: str = VERDICT_METRIC
) -> dict[str, Any]:
    """Which arm wins on ``metric`` and a sentence that says so.

    A winner only when the interval of B − A leaves out 0; otherwise the
    sentence says there is no clear difference and ``winner`` is None
    (``leader`` still names the better point estimate, or None on a tie).
    """
    row = next((m for m in metrics if m["name"] == metric), None)
    if row is None or row["difference"] is None:
        return {"winner": None, "leader": None, "verdict": f"No {metric} to compare."}
    d, low, high = row["difference"], row["low"], row["high"]
    shown = f"{d:+.3f} [{low:+.3f}, {high:+.3f}]"
    label = metric.replace("ndcg", "NDCG").replace("recall", "Recall")
    leader = "b" if d > 0 else "a" if d < 0 else None
    if low > 0:
        return {
            "winner": "b",
            "leader": "b",
            "verdict": f"B better on {label}: {shown}",
        }
    if high < 0:
        return {
            "winner": "a",
            "leader": "a",
            "verdict": f"A better on {label}: {shown}",
        }
    return {
        "winner": None,
        "leader": leader,
        "verdict": f"No clear difference on {label}: {shown} (the interval holds 0)",
    }
