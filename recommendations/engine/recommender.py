"""Serving: from a profile's signals to its ranked candidates.

A :class:`Recommender` pairs the rating model (the match score shown to the
viewer) with the ranking model (the order of rows). The row order is

    z(EASE score) + blend * z(predicted rating)

with both standardised per profile over the rankable titles. ``blend`` is a
setting chosen by measurement (``manage.py evaluate``): on ml-latest-small
any positive weight lowered NDCG@10 a little, so the default is 0 and the
predicted rating serves as the match score shown beside each title.

Titles nobody had engaged with at training (so without an EASE column) are
scored by the content model (``content``): their predicted columns join the
EASE scores before the per-profile standardisation, so they compete on the
same scale.
"""

import functools
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import isotonic_regression

from recommendations.engine.content import ContentModel, nearest_with_cold
from recommendations.engine.dataset import index_of
from recommendations.engine.neighbours import NeighbourModel
from recommendations.engine.ranking import (
    NEGATIVE_WEIGHT,
    RankingModel,
    engagement_matrix,
    recency_weights,
)
from recommendations.engine.rating import RatingModel


@dataclass(frozen=True)
class History:
    """One profile's signals in title ids, with values on the rating scale."""

    profile_id: int
    items: np.ndarray
    values: np.ndarray
    hidden: np.ndarray  # title ids never to recommend (not interested, hidden)
    negative: np.ndarray | None = None  # explicit "no" rows, aligned with items
    use_trained_vector: bool = True  # False when signals changed since training
    #: Unix seconds per row, aligned with items: the newest weigh most when
    #: the model has a recency half-life (None: every row weighs the same).
    times: np.ndarray | None = None


@dataclass(frozen=True)
class Candidates:
    profile_id: int
    title_ids: np.ndarray  # best first
    scores: np.ndarray  # ranking score
    predicted: np.ndarray  # predicted rating, clipped to the scale


def in_order(predicted: np.ndarray) -> np.ndarray:
    """Predicted ratings along a ranked list, made non-increasing.

    The card's match comes from the rating model and the order from the
    ranking model; where they disagree (a 3.7★ title ranked above a 4.4★
    one), the pair shares its mean. This is the least-squares closest
    non-increasing sequence (isotonic regression), so a card never shows a
    higher match than the one before it and the numbers stay the rating
    model's, averaged over the disagreeing stretch.
    """
    if len(predicted) < 2:
        return predicted
    return isotonic_regression(predicted, increasing=False).x


def _standardise(scores: np.ndarray) -> np.ndarray:
    mean = scores.mean(axis=1, keepdims=True)
    std = scores.std(axis=1, keepdims=True)
    return (scores - mean) / np.where(std > 0, std, 1.0)


@dataclass(frozen=True)
class Recommender:
    rating: RatingModel | NeighbourModel
    ranking: RankingModel
    blend: float = 0.1
    #: Scores the titles without an EASE column from their content (None: no
    #: content features at training, or a model file from before them).
    content: ContentModel | None = None
    #: History rows' half-life in items for the ranking (None: no recency).
    recency_half_life: float | None = None

    @property
    def title_ids(self) -> np.ndarray:
        """Every title it can rank: the EASE titles, then the cold titles."""
        if self.content is None:
            return self.ranking.item_ids
        return np.concatenate([self.ranking.item_ids, self.content.cold_ids])

    def columns(self, title_ids: np.ndarray) -> np.ndarray:
        """Positions of ``title_ids`` in :attr:`title_ids`; -1 where absent."""
        cols = index_of(self.ranking.item_ids, title_ids)
        if self.content is not None:
            cold = index_of(self.content.cold_ids, title_ids)
            cols = np.where(cold >= 0, cold + len(self.ranking.item_ids), cols)
        return cols

    def is_new(self, title_ids: np.ndarray) -> np.ndarray:
        """Which titles had no interaction at all when it was trained (the
        content model scores them; cards say "New")."""
        if self.content is None:
            return np.zeros(len(title_ids), bool)
        return np.isin(title_ids, self.content.new_title_ids())

    def nearest(self, title_id: int, count: int) -> tuple[np.ndarray, np.ndarray]:
        """``RankingModel.nearest`` with the cold titles a title's presence
        lifts (their predicted weights); for a cold title, the EASE titles its
        predicted column leans on most. Most first: (title ids, weights)."""
        if self.content is None:
            return self.ranking.nearest(title_id, count)
        return nearest_with_cold(self.ranking, self.content, title_id, count)

    def _recency(self, h: History) -> np.ndarray:
        """Each history row's weight: 1, or by its place from the newest row."""
        if not self.recency_half_life or h.times is None:
            return np.ones(len(h.items))
        return recency_weights(
            np.zeros(len(h.items), np.int64), h.times, h.items, self.recency_half_life
        )

    # -- what a score is made of ("Why this?", "Because you…") --

    def engagement(self, h: History) -> tuple[np.ndarray, np.ndarray]:
        """The history as the ranking reads it, one entry per history row:
        its row in the ranking model (-1: not in it, so it counts for
        nothing) and its weight ``x_j`` (1 for engagement, ``NEGATIVE_WEIGHT``
        for a clear "no", times its recency weight), as in :meth:`candidates`."""
        rows = index_of(self.ranking.item_ids, h.items)
        no = np.zeros(len(h.items), bool) if h.negative is None else h.negative
        x = np.where(no, NEGATIVE_WEIGHT, 1.0) * self._recency(h)
        return rows, np.where(rows >= 0, x, 0.0)

    def lifts(self, title_id: int) -> np.ndarray:
        """Per title of the ranking model, what one unit of engagement with it
        adds to ``title_id``'s ranking score (before the per-profile
        standardisation): ``B[:, i]``; for a cold title, its content column
        shrunk towards the mean EASE score as :meth:`candidates` scores it,
        ``(1 - w)·mean_i B[:, i] + w·B̂[:, c]``. Zeros for a title it cannot
        rank."""
        n = len(self.ranking.item_ids)
        col = int(self.columns(np.array([title_id]))[0])
        if col < 0:
            return np.zeros(n)
        if col < n:
            return self.ranking.B[:, col].astype(np.float64)
        w = self.content.weight
        return (1.0 - w) * self._mean_lift + w * self.content.weights_to(col - n)

    def lifted_by(self, source_id: int, title_ids: np.ndarray) -> np.ndarray:
        """What one unit of engagement with ``source_id`` adds to each of
        ``title_ids``' ranking scores (:meth:`lifts` read along the source's
        row); zeros where either is outside the model."""
        n = len(self.ranking.item_ids)
        row = int(index_of(self.ranking.item_ids, [source_id])[0])
        cols = self.columns(np.asarray(title_ids, dtype=np.int64))
        out = np.zeros(len(cols))
        if row < 0:
            return out
        warm = (cols >= 0) & (cols < n)
        out[warm] = self.ranking.B[row, cols[warm]]
        cold = cols >= n
        if cold.any():
            w = self.content.weight
            out[cold] = (1.0 - w) * self._mean_lift[row] + w * (
                self.content.weights_from(row)[cols[cold] - n]
            )
        return out

    @functools.cached_property
    def _mean_lift(self) -> np.ndarray:
        """Per title, its mean lift over the EASE titles: a cold title's score
        is shrunk towards the profile's mean EASE score, which it moves."""
        return self.ranking.B.astype(np.float64).mean(axis=1)

    def _parts(self, h: History, title_id: int) -> np.ndarray:
        """Per history row, ``x_j · B_ji``."""
        rows, x = self.engagement(h)
        lifts = self.lifts(title_id)
        return np.where(rows >= 0, x * lifts[np.maximum(rows, 0)], 0.0)

    def ranking_score(self, h: History, title_id: int) -> float:
        """``title_id``'s ranking score for the history: Σ_j x_j · B_ji."""
        return float(self._parts(h, title_id).sum())

    def contributions(
        self, h: History, title_id: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each history title's part ``x_j · B_ji`` of ``title_id``'s ranking
        score (the parts add up to :meth:`ranking_score`) and how much the
        score falls if the title is taken out of the history, largest part
        first, ties by title id: (title ids, parts, falls).

        Without recency the fall is the part. With it, taking a title out
        makes every older title one place newer, its weight times
        ``2 ** (1 / half-life)``, so the fall is the part less that gain on
        the older titles' parts. Titles outside the model are left out.
        """
        parts = self._parts(h, title_id)
        falls = parts.copy()
        if self.recency_half_life and h.times is not None and len(parts):
            oldest_first = np.lexsort((h.items, h.times))
            older = np.empty(len(parts))
            older[oldest_first] = np.cumsum(parts[oldest_first]) - parts[oldest_first]
            falls -= (2.0 ** (1.0 / self.recency_half_life) - 1.0) * older
        inside = index_of(self.ranking.item_ids, h.items) >= 0
        ids = h.items[inside].astype(np.int64)
        parts, falls = parts[inside], falls[inside]
        order = np.lexsort((ids, -parts))
        return ids[order], parts[order], falls[order]

    def explain(
        self, h: History, title_id: int, among: Iterable[int], count: int = 2
    ) -> list[int]:
        """The titles of ``among`` (those the viewer can be told about, such
        as liked titles) that raised ``title_id``'s score most, at most
        ``count``, largest part first: only titles whose part is positive and
        without which the score would fall. Each one named is a signal that
        actually contributed."""
        allowed = set(among)
        ids, parts, falls = self.contributions(h, title_id)
        return [
            int(t)
            for t, part, fall in zip(ids, parts, falls, strict=True)
            if part > 0 and fall > 0 and t in allowed
        ][:count]

    @property
    def _rating_rows(self) -> np.ndarray:
        """For each rankable title, its row in the rating model (-1 if unknown)."""
        return index_of(self.rating.item_ids, self.title_ids)

    def predicted_ratings(self, histories: list[History]) -> np.ndarray:
        """Profiles × rankable titles: trained vectors where valid, else fold-in."""
        rows = self._rating_rows
        known = rows >= 0
        out = np.full((len(histories), len(rows)), self.rating.global_mean)
        user_rows = self.rating.user_index(np.array([h.profile_id for h in histories]))
        if isinstance(self.rating, NeighbourModel):
            return self._neighbour_predictions(histories, user_rows, rows, out)
        trained = [
            n
            for n, h in enumerate(histories)
            if h.use_trained_vector and user_rows[n] >= 0
        ]
        if trained:
            out[np.ix_(trained, np.flatnonzero(known))] = self.rating.scores(
                user_rows[trained], rows[known]
            )
        trained_set = set(trained)
        for n, h in enumerate(histories):
            if n in trained_set:
                continue
            item_rows = self.rating.item_index(h.items)
            seen = item_rows >= 0
            bu, p = self.rating.fold_in(item_rows[seen], h.values[seen])
            out[n, known] = self.rating.scores_for_vector(bu, p, rows[known])
        return out

    def _neighbour_predictions(self, histories, user_rows, rows, out) -> np.ndarray:
        model: NeighbourModel = self.rating  # type: ignore[assignment]
        known = rows >= 0
        for n, h in enumerate(histories):
            item_rows = model.item_index(h.items)
            seen = item_rows >= 0
            if h.use_trained_vector and user_rows[n] >= 0:
                bu = float(model.bu[user_rows[n]])
            else:
                bu = model.bias_for(item_rows[seen], h.values[seen])
            out[n] = model.global_mean + bu
            out[n, known] = model.predict(
                bu, item_rows[seen], h.values[seen], rows[known]
            )
        return out

    def candidates(
        self, histories: list[History], count: int = 300
    ) -> list[Candidates]:
        if not histories:
            return []
        n_items = len(self.ranking.item_ids)
        title_ids = self.title_ids
        users, items, negative, seen, weights = [], [], [], [], []
        for n, h in enumerate(histories):
            cols = index_of(self.ranking.item_ids, h.items)
            ok = cols >= 0
            weights.append(self._recency(h)[ok])
            seen_cols = self.columns(h.items)
            seen.append(seen_cols[seen_cols >= 0])
            users.append(np.full(ok.sum(), n))
            items.append(cols[ok])
            no = np.zeros(len(h.items), bool) if h.negative is None else h.negative
            negative.append(no[ok])
        X = engagement_matrix(
            np.concatenate(users),
            np.concatenate(items),
            np.concatenate(negative),
            (len(histories), n_items),
            np.concatenate(weights),
        )
        # In B's own dtype: a float64 X would make scipy copy all of B per call.
        rank_scores = np.asarray(
            X.astype(self.ranking.B.dtype) @ self.ranking.B, dtype=np.float64
        )
        if self.content is not None:
            centre = rank_scores.mean(axis=1, keepdims=True)
            rank_scores = np.hstack([rank_scores, self.content.scores(X, centre)])
        predicted = self.predicted_ratings(histories)
        final = _standardise(rank_scores)
        del rank_scores
        if self.blend:
            final += self.blend * _standardise(predicted)
        for n, h in enumerate(histories):
            final[n, seen[n]] = -np.inf
            if len(h.hidden):
                hidden = self.columns(h.hidden)
                final[n, hidden[hidden >= 0]] = -np.inf
        k = min(count, len(title_ids))
        results = []
        top = (
            np.argpartition(-final, k - 1, axis=1)[:, :k]
            if k
            else np.zeros((len(histories), 0), int)
        )
        for n, h in enumerate(histories):
            cols = top[n][np.argsort(-final[n, top[n]], kind="stable")]
            cols = cols[np.isfinite(final[n, cols])]
            results.append(
                Candidates(
                    profile_id=h.profile_id,
                    title_ids=title_ids[cols],
                    scores=final[n, cols],
                    predicted=in_order(np.clip(predicted[n, cols], 0.5, 5.0)),
                )
            )
        return results

    def to_arrays(self) -> dict[str, np.ndarray]:
        r = self.rating
        neighbour_rows, neighbour_weights = self.ranking.neighbours()
        if isinstance(r, NeighbourModel):
            kind_specific = {
                "similar_data": r.similar.data,
                "similar_indices": r.similar.indices,
                "similar_indptr": r.similar.indptr,
                "k": np.array(r.k),
                "min_k": np.array(r.min_k),
            }
        else:
            kind_specific = {"P": r.P, "Q": r.Q}
        return {
            **kind_specific,
            "algorithm": np.array(r.algorithm),
            "global_mean": np.array(r.global_mean),
            "biased": np.array(r.biased),
            "fold_in_reg": np.array(r.fold_in_reg),
            "user_ids": r.user_ids,
            "item_ids": r.item_ids,
            "bu": r.bu,
            "bi": r.bi,
            "rank_item_ids": self.ranking.item_ids,
            "B": self.ranking.B,
            "blend": np.array(self.blend),
            "recency_half_life": np.array(self.recency_half_life or 0.0),
            "neighbours": self.ranking.item_ids[neighbour_rows]
            if neighbour_rows.size
            else neighbour_rows,
            "neighbour_weights": neighbour_weights,
            **(self.content.to_arrays() if self.content is not None else {}),
        }

    @classmethod
    def from_arrays(cls, a: dict[str, np.ndarray]) -> "Recommender":
        common = {
            "algorithm": str(a["algorithm"]),
            "global_mean": float(a["global_mean"]),
            "user_ids": a["user_ids"],
            "item_ids": a["item_ids"],
            "bu": a["bu"],
            "bi": a["bi"],
            "fold_in_reg": float(a["fold_in_reg"]),
        }
        rating: RatingModel | NeighbourModel
        if "similar_data" in a:
            n = len(a["item_ids"])
            similar = sparse.csr_matrix(
                (a["similar_data"], a["similar_indices"], a["similar_indptr"]),
                shape=(n, n),
            )
            rating = NeighbourModel(
                **common, similar=similar, k=int(a["k"]), min_k=int(a["min_k"])
            )
        else:
            rating = RatingModel(**common, P=a["P"], Q=a["Q"], biased=bool(a["biased"]))
        ranking = RankingModel(a["rank_item_ids"], a["B"])
        return cls(
            rating,
            ranking,
            float(a["blend"]),
            ContentModel.from_arrays(a),
            # Files from before recency weighting have none.
            (float(a["recency_half_life"]) or None)
            if "recency_half_life" in a
            else None,
        )
