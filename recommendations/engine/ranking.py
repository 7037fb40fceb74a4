"""The ranking model: EASE (Steck, "Embarrassingly Shallow Autoencoders", 2019).

A rating model predicts *how much* a profile will like a title but ranks
badly: on ml-latest-small (stratified 25 % split) Surprise SVD's own ranking
scores NDCG@10 of about 0.07, popularity 0.20, EASE 0.38. So rows are ranked by
EASE, an item-item model learnt in closed form from who engaged with what,
lightly blended with the predicted rating (see ``recommender``).

EASE needs the inverse of an items × items Gram matrix; titles seen by fewer
than ``min_profiles`` profiles are left out (they carry little signal and the
cost grows with the cube of the item count), and at most ``max_items`` of the
most engaged-with titles are kept.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse
from scipy.linalg import lapack

from recommendations.engine.dataset import Interactions, index_of

#: Weight of an explicit "no" (not interested, thumbs down) in the engagement
#: matrix: it pushes similar titles down. Any rating, even a low one, counts as
#: engagement (+1): on ml-latest-small treating 0.5–1.5★ ratings as negative
#: lowered NDCG@10 from 0.389 to 0.383.
NEGATIVE_WEIGHT = -0.5


@dataclass(frozen=True)
class RankingModel:
    item_ids: np.ndarray  # sorted title ids the model can rank
    B: np.ndarray  # (n, n) float32 item-item weights, zero diagonal

    def nearest(self, title_id: int, count: int) -> tuple[np.ndarray, np.ndarray]:
        """The titles whose score ``title_id``'s presence lifts most (its row of
        ``B``, positive weights only), most first: (title ids, weights).

        Computed for this one row, not for the whole catalogue; empty when the
        title is not in the model. The one definition of "nearest titles"
        (More like this, "Because you…" rows).
        """
        row = int(index_of(self.item_ids, [title_id])[0])
        count = min(count, len(self.item_ids) - 1)
        if row < 0 or count <= 0:
            return np.zeros(0, np.int64), np.zeros(0)
        weights = self.B[row].astype(np.float64)
        weights[row] = -np.inf
        top = np.argpartition(-weights, count - 1)[:count]
        top = top[np.argsort(-weights[top], kind="stable")]
        top = top[weights[top] > 0]
        return self.item_ids[top].astype(np.int64), weights[top]

    def neighbours(self, count: int = 20) -> tuple[np.ndarray, np.ndarray]:
        """Per title, the titles its presence lifts most, best first."""
        count = min(count, max(len(self.item_ids) - 1, 0))
        if count == 0:
            return np.zeros((len(self.item_ids), 0), np.int32), np.zeros(
                (len(self.item_ids), 0)
            )
        others = self.B.astype(np.float64)
        np.fill_diagonal(others, -np.inf)
        top = np.argpartition(-others, count - 1, axis=1)[:, :count]
        weights = np.take_along_axis(others, top, axis=1)
        order = np.argsort(-weights, axis=1)
        return (
            np.take_along_axis(top, order, axis=1).astype(np.int32),
            np.take_along_axis(weights, order, axis=1),
        )


def engagement_matrix(
    users: np.ndarray,
    items: np.ndarray,
    negative: np.ndarray,
    shape: tuple[int, int],
    weights: np.ndarray | None = None,
) -> sparse.csr_matrix:
    """Profiles × titles: 1 for engagement, a negative weight for a clear "no",
    each times its recency weight when ``weights`` are given."""
    values = np.where(negative, NEGATIVE_WEIGHT, 1.0)
    if weights is not None:
        values = values * weights
    return sparse.csr_matrix((values, (users, items)), shape=shape, dtype=np.float64)


def recency_weights(
    users: np.ndarray, times: np.ndarray, items: np.ndarray, half_life: float | None
) -> np.ndarray:
    """Per row, ``0.5 ** (age / half_life)`` with age the row's place from its
    profile's newest row (0 = newest), rows ordered by time then title id.

    Counted in history items, not days: people rate in bursts, and on
    ml-latest-small a half-life in items beat one in days on validation. No
    half-life (None or 0): every row weighs 1.
    """
    n = len(users)
    if not half_life or n == 0:
        return np.ones(n)
    order = np.lexsort((items, times, users))
    sorted_users = users[order]
    starts = np.flatnonzero(np.r_[True, sorted_users[1:] != sorted_users[:-1]])
    counts = np.diff(np.r_[starts, n])
    ends = np.repeat(starts + counts, counts)
    age = np.empty(n)
    age[order] = ends - 1 - np.arange(n)
    return 0.5 ** (age / half_life)


def transition_matrix(
    users: np.ndarray,
    rows: np.ndarray,
    times: np.ndarray,
    n_items: int,
    window: int,
) -> sparse.csr_matrix:
    """Items × items: how often title j is followed by title i within a
    profile's next ``window`` rows (by time, then title id), the lag-l pairs
    weighted ``0.5 ** ((l - 1) / window)``."""
    order = np.lexsort((rows, times, users))
    u, it = users[order], rows[order]
    pairs_from, pairs_to, weights = [], [], []
    for lag in range(1, window + 1):
        same = u[lag:] == u[:-lag]
        pairs_from.append(it[:-lag][same])
        pairs_to.append(it[lag:][same])
        weights.append(np.full(int(same.sum()), 0.5 ** ((lag - 1) / window)))
    return sparse.csr_matrix(
        (
            np.concatenate(weights) if weights else np.zeros(0),
            (
                np.concatenate(pairs_from) if pairs_from else np.zeros(0, int),
                np.concatenate(pairs_to) if pairs_to else np.zeros(0, int),
            ),
        ),
        shape=(n_items, n_items),
        dtype=np.float32,
    )


def spd_inverse(matrix: np.ndarray) -> np.ndarray:
    """Inverse of a symmetric positive definite matrix (a Gram matrix plus
    lambda on its diagonal) by Cholesky: about half the work of a general
    inverse. Falls back to the general inverse if Cholesky fails."""
    factor = lapack.get_lapack_funcs("potrf", (matrix,))
    invert = lapack.get_lapack_funcs("potri", (matrix,))
    upper, info = factor(matrix, lower=False, overwrite_a=False, clean=True)
    if info == 0:
        inverse, info = invert(upper, lower=False, overwrite_c=True)
    if info != 0:
        return np.linalg.inv(matrix)
    inverse = np.triu(inverse)
    inverse += np.triu(inverse, 1).T
    return inverse


#: Profiles sampled to put the sequence model on the EASE scores' scale.
_SCALE_SAMPLE = 1000


class EaseFit:
    """What every variant of one EASE fit shares: the kept titles, the
    engagement matrix and its Gram matrix, and the inverse per lambda.

    Training fits one variant (:func:`fit_ease`); validation
    (``engine.validation``) tries several lambdas and, for each, several
    sequence weights and popularity corrections without inverting again.
    """

    def __init__(
        self, inter: Interactions, *, min_profiles: int = 3, max_items: int = 6000
    ) -> None:
        positive = ~inter.negative
        item_ids, counts = np.unique(inter.items[positive], return_counts=True)
        keep = counts >= min_profiles
        if keep.sum() > max_items:
            # The most engaged-with first; ties keep the lower title id.
            kept = np.flatnonzero(keep)
            best = kept[np.argsort(-counts[kept], kind="stable")[:max_items]]
            keep = np.zeros_like(keep)
            keep[best] = True
        self.item_ids = item_ids[keep]
        #: Engaged profiles per kept title: the popularity correction's base.
        self.popularity = counts[keep].astype(np.float64)
        rows = index_of(self.item_ids, inter.items)
        inside = rows >= 0
        self._users = inter.users[inside]
        self._rows = rows[inside]
        self._times = inter.times[inside]
        self._negative = inter.negative[inside]
        self.user_ids, users = np.unique(self._users, return_inverse=True)
        self._user_rows = users
        X = self.engagement().astype(np.float32)
        # In float32 throughout: the counts are exact (below 2**24 profiles), the
        # lambda on the diagonal keeps the inverse well conditioned, and the
        # items × items matrices take half the memory.
        self._gram = (X.T @ X).toarray()
        self._inverses: dict[float, np.ndarray] = {}
        self._transitions: dict[int, sparse.csr_matrix] = {}
        #: Results for the last lambda asked: validation varies the rest.
        self._derived: dict[tuple, Any] = {}

    def __len__(self) -> int:
        return len(self.item_ids)

    def engagement(self, half_life: float | None = None) -> sparse.csr_matrix:
        """Training profiles × kept titles, recency-weighted if asked."""
        return engagement_matrix(
            self._user_rows,
            self._rows,
            self._negative,
            (len(self.user_ids), len(self.item_ids)),
            recency_weights(self._users, self._times, self._rows, half_life),
        )

    def inverse(self, lam: float) -> np.ndarray:
        """``(G + lam I)^-1``, kept for the last lambda asked."""
        if lam not in self._inverses:
            self._inverses.clear()
            self._derived.clear()
            gram = self._gram.copy()
            gram[np.diag_indices_from(gram)] += np.float32(lam)
            self._inverses[lam] = spd_inverse(gram)
        return self._inverses[lam]

    def ease(self, lam: float) -> np.ndarray:
        """Steck's closed form: B = I - P diag(1 / diag P), zero diagonal."""
        P = self.inverse(lam)
        B = P / -np.diag(P)[None, :]
        np.fill_diagonal(B, 0.0)
        return B

    def sequence(self, lam: float, window: int) -> np.ndarray:
        """A "next title" regression sharing EASE's inverse: ``P T`` with T
        the :func:`transition_matrix`, so history title j predicts the titles
        that follow j, beyond those that merely co-occur with it."""
        if window not in self._transitions:
            self._transitions[window] = transition_matrix(
                self._users, self._rows, self._times, len(self), window
            )
        T = self._transitions[window]
        P = self.inverse(lam)
        if T.nnz > 0.02 * T.shape[0] * T.shape[1]:
            # Dense enough that BLAS beats scipy's single-threaded product.
            S = P @ T.toarray()
        else:
            S = np.asarray((T.T @ P.T).T, dtype=np.float32)
        np.fill_diagonal(S, 0.0)
        return S

    def sequence_scale(
        self, B: np.ndarray, S: np.ndarray, half_life: float | None
    ) -> float:
        """Ratio of the EASE scores' spread to the sequence scores' spread
        (mean per-profile standard deviation over a fixed sample of training
        profiles), so a sequence weight means the same at every data size."""
        X = self.engagement(half_life)
        sample = np.random.default_rng(0).permutation(X.shape[0])[:_SCALE_SAMPLE]
        Xs = X[np.sort(sample)].astype(np.float32)
        spread_b = np.asarray(Xs @ B).std(axis=1).mean()
        spread_s = np.asarray(Xs @ S).std(axis=1).mean()
        return float(spread_b / spread_s) if spread_s > 0 else 0.0

    def combine(
        self,
        B: np.ndarray,
        S: np.ndarray | None,
        *,
        sequence_weight: float,
        scale: float,
        popularity_beta: float,
    ) -> np.ndarray:
        """``(B + w·scale·S) · diag(popularity ** -beta)`` in one matrix."""
        out = B.copy()
        if S is not None and sequence_weight:
            out += np.float32(sequence_weight * scale) * S
        if popularity_beta:
            out *= (np.maximum(self.popularity, 1.0) ** -popularity_beta).astype(
                np.float32
            )[None, :]
        return out

    def _cached(self, key: tuple, compute: Callable[[], Any]) -> Any:
        if key not in self._derived:
            self._derived[key] = compute()
        return self._derived[key]

    def model(
        self,
        *,
        lam: float,
        sequence_weight: float = 0.0,
        sequence_window: int = 20,
        popularity_beta: float = 0.0,
        recency_half_life: float | None = None,
    ) -> RankingModel:
        if len(self) == 0:
            return RankingModel(item_ids=self.item_ids, B=np.zeros((0, 0), np.float32))
        self.inverse(lam)  # a new lambda forgets the last one's results
        B = self._cached(("ease", lam), lambda: self.ease(lam))
        S, scale = None, 0.0
        if sequence_weight:
            S = self._cached(
                ("sequence", lam, sequence_window),
                lambda: self.sequence(lam, sequence_window),
            )
            scale = self._cached(
                ("scale", lam, sequence_window, recency_half_life),
                lambda: self.sequence_scale(B, S, recency_half_life),
            )
        return RankingModel(
            item_ids=self.item_ids,
            B=self.combine(
                B,
                S,
                sequence_weight=sequence_weight,
                scale=scale,
                popularity_beta=popularity_beta,
            ),
        )


def fit_ease(
    inter: Interactions,
    *,
    lam: float = 500.0,
    min_profiles: int = 3,
    max_items: int = 6000,
    sequence_weight: float = 0.0,
    sequence_window: int = 20,
    popularity_beta: float = 0.0,
    recency_half_life: float | None = None,
) -> RankingModel:
    """The ranking model: EASE, plus the "next title" model weighted
    ``sequence_weight``, its columns scaled by popularity ** -beta (see the
    module docstring)."""
    return EaseFit(inter, min_profiles=min_profiles, max_items=max_items).model(
        lam=lam,
        sequence_weight=sequence_weight,
        sequence_window=sequence_window,
        popularity_beta=popularity_beta,
        recency_half_life=recency_half_life,
    )
