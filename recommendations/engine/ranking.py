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

from dataclasses import dataclass

import numpy as np
from scipy import sparse

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
    users: np.ndarray, items: np.ndarray, negative: np.ndarray, shape: tuple[int, int]
) -> sparse.csr_matrix:
    """Profiles × titles: 1 for engagement, a negative weight for a clear "no"."""
    weights = np.where(negative, NEGATIVE_WEIGHT, 1.0)
    return sparse.csr_matrix((weights, (users, items)), shape=shape, dtype=np.float64)


def fit_ease(
    inter: Interactions,
    *,
    lam: float = 250.0,
    min_profiles: int = 3,
    max_items: int = 6000,
) -> RankingModel:
    positive = ~inter.negative
    item_ids, counts = np.unique(inter.items[positive], return_counts=True)
    keep = counts >= min_profiles
    if keep.sum() > max_items:
        # The most engaged-with first; ties keep the lower title id.
        kept = np.flatnonzero(keep)
        best = kept[np.argsort(-counts[kept], kind="stable")[:max_items]]
        keep = np.zeros_like(keep)
        keep[best] = True
    item_ids = item_ids[keep]
    if len(item_ids) == 0:
        return RankingModel(item_ids=item_ids, B=np.zeros((0, 0), np.float32))
    rows = index_of(item_ids, inter.items)
    inside = rows >= 0
    user_ids, users = np.unique(inter.users[inside], return_inverse=True)
    X = engagement_matrix(
        users, rows[inside], inter.negative[inside], (len(user_ids), len(item_ids))
    ).astype(np.float32)
    del users, rows, inside
    # In float32 throughout: the counts are exact (below 2**24 profiles), the
    # lambda on the diagonal keeps the inverse well conditioned, and the
    # items × items matrices take half the memory.
    gram = (X.T @ X).toarray()
    del X
    gram[np.diag_indices_from(gram)] += np.float32(lam)
    P = np.linalg.inv(gram)
    del gram
    P /= -np.diag(P)[None, :]
    np.fill_diagonal(P, 0.0)
    return RankingModel(item_ids=item_ids, B=P)
