"""The rating model: Surprise learns "how much will this profile like it".

Surprise is the only library that trains; once fitted, the model is reduced
to plain arrays (global mean, biases, factors) so that scoring every title for
every profile is one matrix product, ``mu + bu + bi + P @ Q.T``, and so that a
profile's vector can be refreshed from its latest signals by a small
regularised least-squares solve (fold-in) without retraining.
"""

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
from surprise import NMF, SVD, BaselineOnly, KNNBaseline, SVDpp, Trainset

from recommendations.engine.dataset import Interactions, index_of
from recommendations.engine.neighbours import (
    DEFAULT_SIM_OPTIONS,
    NeighbourModel,
    neighbour_model,
)

RATING_SCALE = (0.5, 5.0)

#: Selectable algorithms: the factor models reduce to biases and factors,
#: KNNBaseline to biases and an item-item neighbourhood (``neighbours``).
ALGORITHMS = {
    "svd": SVD,
    "svdpp": SVDpp,
    "nmf": NMF,
    "baseline": BaselineOnly,
    "knnbaseline": KNNBaseline,
}


@dataclass(frozen=True)
class RatingModel:
    algorithm: str
    global_mean: float
    user_ids: np.ndarray  # profile ids, aligned with bu and P
    item_ids: np.ndarray  # title ids, aligned with bi and Q
    bu: np.ndarray
    bi: np.ndarray
    P: np.ndarray  # (n_users, factors); zero columns for baseline
    Q: np.ndarray  # (n_items, factors)
    biased: bool = True
    fold_in_reg: float = 1.0

    def item_index(self, title_ids: np.ndarray) -> np.ndarray:
        """Dense indices of ``title_ids`` in this model, -1 where unknown."""
        return index_of(self.item_ids, title_ids)

    def user_index(self, profile_ids: np.ndarray) -> np.ndarray:
        return index_of(self.user_ids, profile_ids)

    def scores(
        self, user_rows: np.ndarray, item_rows: np.ndarray | None = None
    ) -> np.ndarray:
        """Predicted ratings of users × items (dense model indices), unclipped."""
        Q = self.Q if item_rows is None else self.Q[item_rows]
        bi = self.bi if item_rows is None else self.bi[item_rows]
        out = self.P[user_rows] @ Q.T
        if self.biased:
            out += self.global_mean + self.bu[user_rows][:, None] + bi[None, :]
        return out

    def fold_in(
        self, item_rows: np.ndarray, values: np.ndarray
    ) -> tuple[float, np.ndarray]:
        """A profile's bias and vector from its signals, holding item factors fixed.

        Minimises sum (r - mu - bi - bu - q_i . p)^2 + reg (bu^2 + |p|^2): the
        same model the profile would get from training, without a retrain.
        """
        factors = self.Q.shape[1]
        if len(item_rows) == 0:
            return 0.0, np.zeros(factors)
        target = np.asarray(values, dtype=np.float64)
        design = self.Q[item_rows]
        if self.biased:
            target = target - self.global_mean - self.bi[item_rows]
            design = np.hstack([np.ones((len(item_rows), 1)), design])
        gram = design.T @ design + self.fold_in_reg * np.eye(design.shape[1])
        solution = np.linalg.solve(gram, design.T @ target)
        if self.biased:
            return float(solution[0]), solution[1:]
        return 0.0, solution

    def scores_for_vector(
        self, bu: float, p: np.ndarray, item_rows: np.ndarray | None = None
    ):
        Q = self.Q if item_rows is None else self.Q[item_rows]
        out = Q @ p
        if self.biased:
            bi = self.bi if item_rows is None else self.bi[item_rows]
            out = out + self.global_mean + bu + bi
        return out


class ArrayTrainset(Trainset):
    """A Surprise Trainset kept as three flat arrays instead of Python tuples.

    Surprise's own Trainset holds every rating twice as ``(id, rating)``
    tuples in per-user and per-item lists (about 200 bytes a rating). SVD and
    NMF only read ``all_ratings()``, ``global_mean`` and the counts, so those
    are served from arrays, a chunk of tuples at a time; ``ur`` and ``ir`` are
    built on first use for the algorithms that read them (SVD++, KNN, ALS
    baselines). Rows are kept in the order Surprise's ``ur`` would yield them
    (profiles by first appearance, then input order), so SVD learns exactly
    the model the tuple Trainset gives (the others agree to within 1e-12:
    some sum per-title lists in another order).
    """

    CHUNK = 1 << 16

    def __init__(
        self,
        users: np.ndarray,
        items: np.ndarray,
        values: np.ndarray,
        n_users: int,
        n_items: int,
        raw2inner_id_users: dict,
        raw2inner_id_items: dict,
    ):
        _, first = np.unique(users, return_index=True)
        order = np.argsort(first[users], kind="stable")
        self._users = users[order].astype(np.int32)
        self._items = items[order].astype(np.int32)
        self._values = np.ascontiguousarray(values[order], dtype=np.float64)
        del order
        self.n_users = n_users
        self.n_items = n_items
        self.n_ratings = len(self._values)
        self.rating_scale = RATING_SCALE
        self._raw2inner_id_users = raw2inner_id_users
        self._raw2inner_id_items = raw2inner_id_items
        self._global_mean = float(np.mean(self._values)) if len(self._values) else None
        self._inner2raw_id_users = None
        self._inner2raw_id_items = None
        self._ur: dict[int, list] | None = None
        self._ir: dict[int, list] | None = None

    def all_ratings(self):
        for lo in range(0, self.n_ratings, self.CHUNK):
            hi = lo + self.CHUNK
            yield from zip(
                self._users[lo:hi].tolist(),
                self._items[lo:hi].tolist(),
                self._values[lo:hi].tolist(),
                strict=True,
            )

    def _lists(self) -> tuple[dict[int, list], dict[int, list]]:
        ur: dict[int, list] = defaultdict(list)
        ir: dict[int, list] = defaultdict(list)
        for u, i, r in self.all_ratings():
            ur[u].append((i, r))
            ir[i].append((u, r))
        return ur, ir

    @property
    def ur(self) -> dict[int, list]:
        if self._ur is None:
            self._ur, self._ir = self._lists()
        return self._ur

    @property
    def ir(self) -> dict[int, list]:
        if self._ir is None:
            self._ur, self._ir = self._lists()
        return self._ir

    def knows_user(self, uid) -> bool:
        # Every dense index has at least one rating; unknown ids arrive as
        # Surprise's "UKN__..." strings.
        return isinstance(uid, int | np.integer) and 0 <= uid < self.n_users

    def knows_item(self, iid) -> bool:
        return isinstance(iid, int | np.integer) and 0 <= iid < self.n_items


def build_trainset(inter: Interactions) -> tuple[Trainset, np.ndarray, np.ndarray]:
    """A Surprise Trainset straight from arrays (inner ids are dense indices)."""
    user_ids, users = np.unique(inter.users, return_inverse=True)
    item_ids, items = np.unique(inter.items, return_inverse=True)
    trainset = ArrayTrainset(
        users,
        items,
        inter.values,
        len(user_ids),
        len(item_ids),
        {int(raw): inner for inner, raw in enumerate(user_ids.tolist())},
        {int(raw): inner for inner, raw in enumerate(item_ids.tolist())},
    )
    return trainset, user_ids, item_ids


def make_algorithm(algorithm: str, params: dict[str, Any]):
    try:
        cls = ALGORITHMS[algorithm]
    except KeyError:
        raise ValueError(
            f"Unknown algorithm {algorithm!r}; choose one of {', '.join(ALGORITHMS)}."
        ) from None
    if cls is KNNBaseline:
        params.setdefault("sim_options", dict(DEFAULT_SIM_OPTIONS))
        if params["sim_options"].get("user_based", True):
            raise ValueError(
                "knnbaseline is served item-based: set sim_options user_based to false."
            )
        params.setdefault("verbose", False)
    if cls is BaselineOnly:
        params.setdefault("verbose", False)
    return cls(**params)


def fit_rating_model(
    inter: Interactions,
    *,
    algorithm: str = "svd",
    params: dict[str, Any] | None = None,
    fold_in_reg: float = 1.0,
    keep_neighbours: int = 200,
) -> tuple["RatingModel | NeighbourModel", Any]:
    """Trains with Surprise; returns the array model and the fitted Surprise algorithm."""
    if len(inter) == 0:
        raise ValueError("No training data: nothing to learn from.")
    algo = make_algorithm(algorithm, dict(params or {}))
    trainset, user_ids, item_ids = build_trainset(inter)
    algo.fit(trainset)
    mu = float(trainset.global_mean)
    if algorithm == "knnbaseline":
        model = neighbour_model(
            algo, user_ids, item_ids, mu, keep=keep_neighbours, fold_in_reg=fold_in_reg
        )
        return model, algo
    if algorithm == "baseline":
        bu, bi = algo.bu, algo.bi
        P = np.zeros((len(user_ids), 0))
        Q = np.zeros((len(item_ids), 0))
        biased = True
    else:
        biased = bool(getattr(algo, "biased", True))
        bu = algo.bu if biased else np.zeros(len(user_ids))
        bi = algo.bi if biased else np.zeros(len(item_ids))
        P, Q = np.array(algo.pu, dtype=np.float64), np.array(algo.qi, dtype=np.float64)
        if algorithm == "svdpp":
            P = P + _svdpp_implicit(trainset, algo.yj)
    model = RatingModel(
        algorithm=algorithm,
        global_mean=mu if biased else 0.0,
        user_ids=user_ids,
        item_ids=item_ids,
        bu=np.asarray(bu, dtype=np.float64),
        bi=np.asarray(bi, dtype=np.float64),
        P=P,
        Q=Q,
        biased=biased,
        fold_in_reg=fold_in_reg,
    )
    return model, algo


def _svdpp_implicit(trainset: Trainset, yj: np.ndarray) -> np.ndarray:
    """SVD++'s |I_u|^-1/2 sum y_j per user, folded into the user vector."""
    out = np.zeros((trainset.n_users, yj.shape[1]))
    for u, rated in trainset.ur.items():
        items = [j for j, _ in rated]
        out[u] = yj[items].sum(axis=0) / np.sqrt(len(items))
    return out
