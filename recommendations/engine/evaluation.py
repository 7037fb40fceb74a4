"""Offline metrics for a trained model and the popularity baseline it must beat.

Promotion compares these numbers between model versions, so each definition
is fixed here once and written out:

* Rating errors: RMSE and MAE of predicted against held-out values.
* Top-k accuracy, binary relevance (a held-out title is relevant, whatever
  its value), averaged over the users that have at least one relevant title:

  - precision@k = hits / k (a short, padded list is not excused);
  - recall@k = hits / |relevant|;
  - NDCG@k = DCG / IDCG with DCG = sum over hit positions i (1-based) of
    1 / log2(i + 1), and IDCG the same sum over positions 1..min(|relevant|, k);
  - MAP@k = sum over hit positions i of precision@i, divided by
    min(|relevant|, k) (the common definition, e.g. Microsoft Recommenders'
    and ``ml_metrics.apk``; it reaches 1 when the top-k is all relevant
    even if the user has more than k relevant titles).

* Beyond accuracy, describing every list in ``recommended`` (padding, -1,
  ignored):

  - coverage = distinct titles recommended in any top-k / catalog size;
  - novelty = mean over all recommended slots of the self-information
    -log2(popularity / n_train_users), popularity being the number of
    training profiles that interacted with the title, clipped to >= 1 so an
    unseen title has finite (maximal) novelty;
  - diversity = intra-list diversity: mean over lists with at least two
    titles of the mean over pairs of (1 - cosine similarity) of the titles'
    feature rows. A title whose feature row is all zeros has similarity 0 to
    everything.

All of it works on dense item indices (0..n_items-1) and is vectorized over
users, so thousands of users evaluate in milliseconds.
"""

import numpy as np
import scipy.sparse as sp

from .dataset import Interactions, index_of

#: Lists per block when computing diversity, to bound memory for wide features.
_DIVERSITY_BLOCK = 1024
#: Rows per block when settling ties in ``top_k_excluding``.
_TIE_BLOCK = 1024


def rating_errors(predicted: np.ndarray, actual: np.ndarray) -> dict[str, float]:
    """RMSE and MAE: the rating model's own loss, and its plain-units reading."""
    predicted = np.asarray(predicted, dtype=np.float64)
    actual = np.asarray(actual, dtype=np.float64)
    if predicted.shape != actual.shape:
        raise ValueError(
            f"predicted {predicted.shape} and actual {actual.shape} differ in shape."
        )
    if predicted.size == 0:
        raise ValueError("No ratings to compare.")
    errors = predicted - actual
    return {
        "rmse": float(np.sqrt(np.mean(errors**2))),
        "mae": float(np.mean(np.abs(errors))),
    }


def ranking_metrics(
    recommended: np.ndarray,
    relevant: list[np.ndarray],
    *,
    k: int = 10,
    n_items: int,
    item_popularity: np.ndarray,
    n_train_users: int,
    item_features: np.ndarray | None = None,
) -> dict[str, float | int | None]:
    """Top-k accuracy and beyond-accuracy metrics of recommended lists.

    ``recommended[u]`` holds user u's list of dense item indices, best first,
    -1 for padding; lists should not repeat a title (``top_k_excluding``
    never does). ``relevant[u]`` holds u's held-out titles. Users with no
    relevant title are left out of the accuracy means (they can score
    nothing); ``"users"`` counts those that are in. Accuracy metrics are 0.0
    when no user is; ``novelty`` and ``diversity`` are None when there is
    nothing to measure. See the module docstring for each definition.
    """
    recommended = np.asarray(recommended)
    if recommended.ndim != 2 or recommended.shape[1] < k or k < 1:
        raise ValueError(f"recommended must be (n_users, >= k={k}) and k >= 1.")
    n_users = recommended.shape[0]
    if len(relevant) != n_users:
        raise ValueError(f"{len(relevant)} relevant sets for {n_users} users.")
    item_popularity = np.asarray(item_popularity)
    if item_popularity.shape != (n_items,):
        raise ValueError(f"item_popularity must have shape ({n_items},).")
    if n_train_users < 1:
        raise ValueError("n_train_users must be at least 1.")
    top = recommended[:, :k].astype(np.int64)
    present = top >= 0
    if np.any(top >= n_items):
        raise ValueError("recommended holds an item index >= n_items.")

    metrics: dict[str, float | int | None] = _accuracy(top, present, relevant, k)
    shown = top[present]
    metrics["coverage"] = float(np.unique(shown).size / n_items) if n_items else 0.0
    if shown.size:
        popularity = np.maximum(item_popularity[shown].astype(np.float64), 1.0)
        metrics["novelty"] = float(np.mean(-np.log2(popularity / n_train_users)))
    else:
        metrics["novelty"] = None
    metrics["diversity"] = (
        None if item_features is None else _diversity(top, present, item_features)
    )
    metrics.update(exposure_metrics(shown, item_popularity, k=k))
    return metrics


def popularity_percentiles(item_popularity: np.ndarray) -> np.ndarray:
    """Each title's popularity percentile, 0..100, 100 = the most interacted."""
    popularity = np.asarray(item_popularity, dtype=np.float64)
    n = len(popularity)
    if n < 2:
        return np.full(n, 100.0)
    order = np.argsort(popularity, kind="stable")
    ranks = np.empty(n, dtype=np.float64)
    ranks[order] = np.arange(n, dtype=np.float64)
    # Ties share their average rank.
    _, first, inverse = np.unique(
        popularity[order], return_index=True, return_inverse=True
    )
    counts = np.diff(np.r_[first, n])
    average = first + (counts - 1) / 2.0
    ranks[order] = average[inverse]
    return 100.0 * ranks / (n - 1)


def short_head(item_popularity: np.ndarray, share: float = 0.2) -> np.ndarray:
    """Mask of the most popular titles that together make up ``share`` of all
    interactions (the title that crosses the line is in the head)."""
    popularity = np.asarray(item_popularity, dtype=np.float64)
    head = np.zeros(len(popularity), dtype=bool)
    total = popularity.sum()
    if total <= 0:
        return head
    order = np.argsort(-popularity, kind="stable")
    cumulative = np.cumsum(popularity[order])
    n_head = int(np.searchsorted(cumulative, share * total, side="left")) + 1
    head[order[:n_head]] = True
    return head


def gini(counts: np.ndarray) -> float:
    """Gini coefficient of non-negative counts (0 = equal; 0.0 for no counts)."""
    x = np.sort(np.asarray(counts, dtype=np.float64))
    n, total = len(x), x.sum()
    if n == 0 or total <= 0:
        return 0.0
    index = np.arange(1, n + 1)
    return float(np.sum((2 * index - n - 1) * x) / (n * total))


def effective_catalog_size(counts: np.ndarray) -> float:
    """Gomez-Uribe & Hunt's effective catalog size of exposure counts."""
    x = np.sort(np.asarray(counts, dtype=np.float64))[::-1]
    total = x.sum()
    if total <= 0:
        return 0.0
    p = x / total
    return float(2.0 * np.sum(p * np.arange(1, len(p) + 1)) - 1.0)


def exposure_metrics(
    shown: np.ndarray, item_popularity: np.ndarray, *, k: int
) -> dict[str, float | None]:
    """Popularity bias and concentration of the titles in ``shown`` (one dense
    item index per slot); see the module docstring."""
    shown = np.asarray(shown, dtype=np.int64)
    names = (
        f"popularity_percentile@{k}",
        f"gini@{k}",
        f"long_tail_share@{k}",
        f"effective_catalog_size@{k}",
    )
    if shown.size == 0:
        return dict.fromkeys(names)
    counts = np.bincount(shown, minlength=len(item_popularity))
    values = (
        float(popularity_percentiles(item_popularity)[shown].mean()),
        gini(counts),
        float(1.0 - short_head(item_popularity)[shown].mean()),
        effective_catalog_size(counts),
    )
    return dict(zip(names, values, strict=True))


def accuracy_per_user(
    recommended: np.ndarray, relevant: list[np.ndarray], *, k: int = 10
) -> dict[str, np.ndarray]:
    """Precision, recall, NDCG and MAP at k of each user's list, NaN for a user
    with no relevant title (see the module docstring for each definition).

    The paired comparison of two configurations (``engine.comparison``)
    bootstraps these; :func:`ranking_metrics` reports their means.
    """
    recommended = np.asarray(recommended)
    if recommended.ndim != 2 or recommended.shape[1] < k or k < 1:
        raise ValueError(f"recommended must be (n_users, >= k={k}) and k >= 1.")
    if len(relevant) != recommended.shape[0]:
        raise ValueError(
            f"{len(relevant)} relevant sets for {recommended.shape[0]} users."
        )
    top = recommended[:, :k].astype(np.int64)
    return _accuracy_rows(top, top >= 0, relevant, k)


def _accuracy_rows(
    top: np.ndarray, present: np.ndarray, relevant: list[np.ndarray], k: int
) -> dict[str, np.ndarray]:
    """Per-user precision, recall, NDCG and MAP at k from one boolean hit matrix."""
    n_users = top.shape[0]
    lengths = np.fromiter((len(r) for r in relevant), dtype=np.int64, count=n_users)
    rel_items = (
        np.concatenate([np.asarray(r, dtype=np.int64) for r in relevant])
        if lengths.sum()
        else np.zeros(0, dtype=np.int64)
    )
    if rel_items.size and rel_items.min() < 0:
        raise ValueError("relevant holds a negative item index.")
    # One key per (user, item) pair; n_keys keeps keys of different users apart.
    n_keys = int(max(top.max(initial=-1), rel_items.max(initial=-1))) + 1
    rel_keys = np.unique(np.repeat(np.arange(n_users), lengths) * n_keys + rel_items)
    n_relevant = np.bincount(rel_keys // max(n_keys, 1), minlength=n_users)

    row_keys = np.arange(n_users)[:, None] * n_keys + top
    hits = (present & np.isin(row_keys, rel_keys)).astype(np.float64)

    scored = n_relevant > 0
    safe_relevant = np.maximum(n_relevant, 1)
    n_hits = hits.sum(axis=1)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    ideal = np.cumsum(discounts)[np.minimum(safe_relevant, k) - 1]
    precision_at_i = np.cumsum(hits, axis=1) / np.arange(1, k + 1)
    values = (
        n_hits / k,
        n_hits / safe_relevant,
        (hits @ discounts) / ideal,
        (precision_at_i * hits).sum(axis=1) / np.minimum(safe_relevant, k),
    )
    names = (f"precision@{k}", f"recall@{k}", f"ndcg@{k}", f"map@{k}")
    return {
        name: np.where(scored, value, np.nan)
        for name, value in zip(names, values, strict=True)
    }


def _accuracy(
    top: np.ndarray, present: np.ndarray, relevant: list[np.ndarray], k: int
) -> dict[str, float | int | None]:
    """Precision, recall, NDCG and MAP at k, averaged over the users that have
    a relevant title."""
    per_user = _accuracy_rows(top, present, relevant, k)
    scored = ~np.isnan(per_user[f"ndcg@{k}"])
    if not scored.any():
        return dict.fromkeys(per_user, 0.0) | {"users": 0}
    return {name: float(np.mean(value[scored])) for name, value in per_user.items()} | {
        "users": int(scored.sum())
    }


def _diversity(
    top: np.ndarray, present: np.ndarray, item_features: np.ndarray
) -> float | None:
    """Mean over lists of the mean pairwise cosine distance within the list."""
    features = np.asarray(item_features, dtype=np.float64)
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    unit = np.divide(features, norms, out=np.zeros_like(features), where=norms > 0)
    k = top.shape[1]
    off_diagonal = ~np.eye(k, dtype=bool)
    per_list: list[np.ndarray] = []
    for start in range(0, top.shape[0], _DIVERSITY_BLOCK):
        block = top[start : start + _DIVERSITY_BLOCK]
        mask = present[start : start + _DIVERSITY_BLOCK]
        vectors = unit[np.where(mask, block, 0)] * mask[:, :, None]
        similarity = np.einsum("ukd,ujd->ukj", vectors, vectors)
        pairs = mask[:, :, None] & mask[:, None, :] & off_diagonal
        n_pairs = pairs.sum(axis=(1, 2))
        distance = np.where(pairs, 1.0 - similarity, 0.0).sum(axis=(1, 2))
        keep = n_pairs > 0
        per_list.append(distance[keep] / n_pairs[keep])
    scores = np.concatenate(per_list) if per_list else np.zeros(0)
    return float(np.mean(scores)) if scores.size else None


def popularity_scores(train: Interactions, item_ids: np.ndarray) -> np.ndarray:
    """How many distinct profiles interacted with each of ``item_ids``.

    This is both the popularity baseline's score (rank every title by it) and
    the popularity that novelty is measured against. A profile counts once
    per title however many rows it has for it; titles absent from ``train``
    score 0.
    """
    item_ids = np.asarray(item_ids, dtype=np.int64)
    if len(train) == 0:
        return np.zeros(len(item_ids), dtype=np.int64)
    order = np.lexsort((train.users, train.items))
    items = train.items[order]
    users = train.users[order]
    first = np.r_[True, (items[1:] != items[:-1]) | (users[1:] != users[:-1])]
    distinct_items, counts = np.unique(items[first], return_counts=True)
    at = index_of(distinct_items, item_ids)
    return np.where(at >= 0, counts[at], 0).astype(np.int64)


def top_k_excluding(
    scores: np.ndarray, exclude: sp.csr_matrix | list[np.ndarray], k: int
) -> np.ndarray:
    """The k best item indices per row, best first, never an excluded one.

    A viewer should not be recommended what they already rated or watched, so
    excluded items (a CSR matrix whose stored entries mark them, or one array
    of item indices per row) are set to -inf on a copy of ``scores``; NaN
    scores count as -inf too. Items at -inf are never returned: a row with
    fewer than k others is padded with -1. Ties in score go to the lower item
    index, also at the k-th place, so the same scores always give the same
    lists (the popularity baseline ties a lot). ``argpartition`` keeps this
    O(n_items) per row; callers with a very large matrix pass it in row blocks.
    """
    if k < 1:
        raise ValueError("k must be at least 1.")
    scores = np.asarray(scores)
    if scores.ndim != 2:
        raise ValueError("scores must be a (n_users, n_items) matrix.")
    n_users, n_items = scores.shape
    working = np.array(
        scores, dtype=np.result_type(scores.dtype, np.float32), copy=True
    )
    working[np.isnan(working)] = -np.inf
    rows, cols = _excluded_cells(exclude, n_users)
    working[rows, cols] = -np.inf

    result = np.full((n_users, k), -1, dtype=np.int64)
    take = min(k, n_items)
    if take == 0 or n_users == 0:
        return result
    if take < n_items:
        cut = n_items - take
        candidates = np.argpartition(working, cut, axis=1)[:, cut:]
        _settle_ties_at_the_cut(working, candidates)
    else:
        candidates = np.broadcast_to(np.arange(n_items), (n_users, n_items))
    values = np.take_along_axis(working, candidates, axis=1)
    order = np.lexsort((candidates, -values), axis=1)
    best = np.take_along_axis(candidates, order, axis=1)
    best_values = np.take_along_axis(values, order, axis=1)
    result[:, :take] = np.where(np.isneginf(best_values), -1, best)
    return result


def _settle_ties_at_the_cut(working: np.ndarray, candidates: np.ndarray) -> None:
    """Where more items tie for the last places than fit, keep the lowest indices.

    ``argpartition`` lets any of the tied items in. Only rows with such a tie
    are redone (few for real-valued scores), in blocks, in place.
    """
    take = candidates.shape[1]
    values = np.take_along_axis(working, candidates, axis=1)
    threshold = values.min(axis=1)
    tied_inside = (values == threshold[:, None]).sum(axis=1)
    tied_overall = (working == threshold[:, None]).sum(axis=1)
    ambiguous = np.flatnonzero(tied_overall > tied_inside)
    for start in range(0, len(ambiguous), _TIE_BLOCK):
        rows = ambiguous[start : start + _TIE_BLOCK]
        block = working[rows]
        cut = threshold[rows, None]
        chosen = block > cut
        room = take - chosen.sum(axis=1)
        tied_row, tied_col = np.nonzero(block == cut)
        first_of_row = np.searchsorted(tied_row, np.arange(len(rows)))
        rank_in_row = np.arange(len(tied_row)) - first_of_row[tied_row]
        keep = rank_in_row < room[tied_row]
        chosen[tied_row[keep], tied_col[keep]] = True
        candidates[rows] = np.nonzero(chosen)[1].reshape(len(rows), take)


def _excluded_cells(
    exclude: sp.csr_matrix | list[np.ndarray], n_users: int
) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) index arrays of the excluded cells."""
    if sp.issparse(exclude):
        csr = sp.csr_matrix(exclude)
        if csr.shape[0] != n_users:
            raise ValueError(f"exclude has {csr.shape[0]} rows for {n_users} users.")
        lengths = np.diff(csr.indptr)
        return np.repeat(np.arange(n_users), lengths), csr.indices.astype(np.int64)
    if len(exclude) != n_users:
        raise ValueError(f"exclude has {len(exclude)} rows for {n_users} users.")
    lengths = np.fromiter((len(e) for e in exclude), dtype=np.int64, count=n_users)
    if not lengths.sum():
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    cols = np.concatenate([np.asarray(e, dtype=np.int64) for e in exclude])
    return np.repeat(np.arange(n_users), lengths), cols
