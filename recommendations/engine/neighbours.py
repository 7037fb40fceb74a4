"""KNNBaseline as a rating model: Surprise's item-based neighbourhood method.

Unlike the factor models it has no profile vector: a prediction is the
baseline plus a similarity-weighted mean of the profile's own residuals on
the k most similar titles it rated (Koren 2010, eq. 3), so a refresh from new
signals needs no fold-in beyond the profile's bias. Item-based only: a
user-based model could not serve a profile it was not trained on.

The artifact keeps each title's ``keep`` most similar titles (positive
similarities only; non-positive ones never contribute). Predictions equal
Surprise's ``estimate`` whenever a profile's k nearest rated titles are among
those kept, which the tests check with ``keep`` at the catalogue size.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse

from recommendations.engine.dataset import Interactions, index_of

DEFAULT_SIM_OPTIONS = {"name": "pearson_baseline", "user_based": False}


@dataclass(frozen=True)
class NeighbourModel:
    algorithm: str
    global_mean: float
    user_ids: np.ndarray
    item_ids: np.ndarray
    bu: np.ndarray
    bi: np.ndarray
    similar: sparse.csr_matrix  # items × items, positive similarities kept
    k: int = 40
    min_k: int = 1
    fold_in_reg: float = 1.0
    biased: bool = True

    def item_index(self, title_ids: np.ndarray) -> np.ndarray:
        return index_of(self.item_ids, title_ids)

    def user_index(self, profile_ids: np.ndarray) -> np.ndarray:
        return index_of(self.user_ids, profile_ids)

    def bias_for(self, item_rows: np.ndarray, values: np.ndarray) -> float:
        """A profile's bias from its ratings with item biases fixed (ridge mean)."""
        residual = np.asarray(values) - self.global_mean - self.bi[item_rows]
        return float(residual.sum() / (len(residual) + self.fold_in_reg))

    def predict(
        self, bu: float, item_rows: np.ndarray, values: np.ndarray, targets: np.ndarray
    ) -> np.ndarray:
        """Predicted ratings on ``targets`` for a profile with bias ``bu`` and these ratings."""
        estimate = self.global_mean + bu + self.bi[targets]
        if len(item_rows) == 0 or len(targets) == 0:
            return estimate
        residual = np.asarray(values) - (self.global_mean + bu + self.bi[item_rows])
        sims = self.similar[targets][:, item_rows].toarray()
        if sims.shape[1] > self.k:
            top = np.argpartition(-sims, self.k - 1, axis=1)[:, : self.k]
            sims = np.take_along_axis(sims, top, axis=1)
            residual = residual[top]
        positive = sims > 0
        weight = np.where(positive, sims, 0.0)
        total = weight.sum(axis=1)
        ok = (positive.sum(axis=1) >= self.min_k) & (total > 0)
        estimate[ok] += (weight * residual).sum(axis=1)[ok] / total[ok]
        return estimate


def _prune(sim: np.ndarray, keep: int) -> sparse.csr_matrix:
    sim = np.array(sim, dtype=np.float64)
    np.fill_diagonal(sim, 0.0)
    sim[sim < 0] = 0.0
    if keep < sim.shape[1]:
        cut = np.argpartition(-sim, keep - 1, axis=1)[:, keep:]
        np.put_along_axis(sim, cut, 0.0, axis=1)
    return sparse.csr_matrix(sim)


def neighbour_model(
    algo: Any,
    user_ids: np.ndarray,
    item_ids: np.ndarray,
    mu: float,
    *,
    keep: int,
    fold_in_reg: float,
) -> NeighbourModel:
    return NeighbourModel(
        algorithm="knnbaseline",
        global_mean=mu,
        user_ids=user_ids,
        item_ids=item_ids,
        bu=np.asarray(algo.bu, dtype=np.float64),
        bi=np.asarray(algo.bi, dtype=np.float64),
        similar=_prune(algo.sim, keep),
        k=int(algo.k),
        min_k=int(algo.min_k),
        fold_in_reg=fold_in_reg,
    )


def predict_rows(
    model: NeighbourModel, train: Interactions, users: np.ndarray, items: np.ndarray
):
    """Predictions for (profile, title) pairs, each profile from its rows in ``train``."""
    out = np.empty(len(users))
    user_rows, item_rows = model.user_index(users), model.item_index(items)
    order = np.argsort(train.users, kind="stable")
    sorted_users = train.users[order]
    for pid in np.unique(users):
        mine = np.flatnonzero(users == pid)
        lo, hi = np.searchsorted(sorted_users, [pid, pid + 1])
        rated = model.item_index(train.items[order[lo:hi]])
        values = train.values[order[lo:hi]][rated >= 0]
        rated = rated[rated >= 0]
        row = user_rows[mine[0]]
        bu = model.bu[row] if row >= 0 else model.bias_for(rated, values)
        known = item_rows[mine] >= 0
        out[mine] = model.global_mean + bu
        out[mine[known]] = model.predict(bu, rated, values, item_rows[mine][known])
    return out
