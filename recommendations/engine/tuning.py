"""A small, time-boxed hyper-parameter search with Surprise's RandomizedSearchCV."""

import time
from typing import Any

from surprise import Dataset, Reader
from surprise.dataset import DatasetAutoFolds
from surprise.model_selection import RandomizedSearchCV

from recommendations.engine.dataset import Interactions
from recommendations.engine.rating import ALGORITHMS, RATING_SCALE

#: Search spaces around Surprise's defaults, per algorithm.
SEARCH_SPACES: dict[str, dict[str, list]] = {
    "svd": {
        "n_factors": [20, 50, 100, 150],
        "n_epochs": [20, 30, 40, 50],
        "lr_all": [0.003, 0.005, 0.007, 0.01],
        "reg_all": [0.02, 0.05, 0.08, 0.1],
    },
    "svdpp": {
        "n_factors": [10, 20, 50],
        "n_epochs": [10, 20],
        "lr_all": [0.005, 0.007],
        "reg_all": [0.02, 0.05],
    },
    "nmf": {
        "n_factors": [10, 15, 30],
        "n_epochs": [30, 50],
        "reg_pu": [0.04, 0.06],
        "reg_qi": [0.04, 0.06],
    },
    "knnbaseline": {
        "k": [20, 40, 60],
        "sim_options": [
            {"name": "pearson_baseline", "user_based": False, "shrinkage": s}
            for s in (50, 100, 200)
        ],
        "verbose": [False],
    },
    "baseline": {
        "bsl_options": [
            {"method": "als", "reg_i": r, "reg_u": u}
            for r in (5, 10, 20)
            for u in (10, 15, 25)
        ]
    },
}


class _Rows:
    """Just enough of a DataFrame for Surprise's loader: ``itertuples``."""

    def __init__(self, inter: Interactions) -> None:
        self.rows = list(
            zip(
                inter.users.tolist(),
                inter.items.tolist(),
                inter.values.tolist(),
                strict=True,
            )
        )

    def itertuples(self, index: bool = False):
        return iter(self.rows)


def tune(
    inter: Interactions,
    *,
    algorithm: str = "svd",
    seconds: float = 60.0,
    cv: int = 3,
    seed: int = 0,
) -> dict[str, Any]:
    """Searches ``SEARCH_SPACES[algorithm]`` for the lowest cross-validated RMSE.

    The number of sampled settings is fitted to the time budget from the cost
    of one default fit, so the search ends in about ``seconds``.
    """
    if algorithm not in ALGORITHMS:
        raise ValueError(
            f"Unknown algorithm {algorithm!r}; choose one of {', '.join(ALGORITHMS)}."
        )
    data: Dataset = DatasetAutoFolds(
        reader=Reader(rating_scale=RATING_SCALE), df=_Rows(inter)
    )
    started = time.perf_counter()
    ALGORITHMS[algorithm]().fit(data.build_full_trainset())
    one_fit = max(time.perf_counter() - started, 1e-3)
    n_iter = max(1, int(seconds / (one_fit * cv * 1.5)))
    search = RandomizedSearchCV(
        ALGORITHMS[algorithm],
        SEARCH_SPACES[algorithm],
        n_iter=n_iter,
        measures=["rmse", "mae"],
        cv=cv,
        random_state=seed,
        n_jobs=1,
    )
    search.fit(data)
    return {
        "algorithm": algorithm,
        "best_params": search.best_params["rmse"],
        "best_rmse": float(search.best_score["rmse"]),
        "best_mae": float(search.best_score["mae"]),
        "tried": n_iter,
        "seconds": round(time.perf_counter() - started, 1),
    }
