"""Offline metrics, checked against arithmetic written out by hand and against
a plain per-user loop. Pure numpy and scipy, no database.
"""

import math

import numpy as np
import pytest
import scipy.sparse as sp

from recommendations.engine.dataset import Interactions
from recommendations.engine.evaluation import (
    popularity_scores,
    ranking_metrics,
    rating_errors,
    top_k_excluding,
)

# Popularity by item over 8 training users, powers of two so that the
# self-information -log2(p / 8) is a whole number: 0, 1, 2, 3, and 3 again
# for a title nobody saw (popularity clipped to 1).
POPULARITY = np.array([8, 4, 2, 1, 0, 8, 4, 2, 1, 0])


def test_rating_errors_exact():
    errors = rating_errors(
        np.array([3.0, 4.0, 5.0, 2.0]), np.array([3.5, 4.0, 3.0, 2.0])
    )

    # Errors -0.5, 0, 2, 0: squares sum to 4.25, absolutes to 2.5.
    assert errors["rmse"] == pytest.approx(math.sqrt(4.25 / 4))
    assert errors["mae"] == pytest.approx(2.5 / 4)


def test_rating_errors_refuse_mismatched_or_empty_input():
    with pytest.raises(ValueError, match="shape"):
        rating_errors(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="No ratings"):
        rating_errors(np.zeros(0), np.zeros(0))


def test_ranking_metrics_match_hand_computed_values():
    recommended = np.array(
        [
            [1, 2, 3, 4, 5],  # relevant {1, 3, 7, 9}: hits at positions 1 and 3
            [6, 7, 8, -1, -1],  # relevant {8}: a hit at position 3, then padding
            [0, 1, 2, 3, 4],  # nothing relevant: left out of the accuracy means
        ]
    )
    relevant = [np.array([1, 3, 7, 9]), np.array([8]), np.array([], dtype=int)]

    metrics = ranking_metrics(
        recommended,
        relevant,
        k=5,
        n_items=10,
        item_popularity=POPULARITY,
        n_train_users=8,
    )

    assert metrics["users"] == 2
    # precision = hits / k: 2/5 and 1/5.
    assert metrics["precision@5"] == pytest.approx((2 / 5 + 1 / 5) / 2)
    # recall = hits / |relevant|: 2/4 and 1/1.
    assert metrics["recall@5"] == pytest.approx((2 / 4 + 1 / 1) / 2)
    # NDCG. User 0: DCG = 1/log2(2) + 1/log2(4) = 1.5 over the ideal of
    # min(4, 5) = 4 hits. User 1: DCG = 1/log2(4) = 0.5 over 1/log2(2) = 1.
    ideal_0 = 1 / math.log2(2) + 1 / math.log2(3) + 1 / math.log2(4) + 1 / math.log2(5)
    ndcg_0 = (1 / math.log2(2) + 1 / math.log2(4)) / ideal_0
    ndcg_1 = (1 / math.log2(4)) / 1.0
    assert metrics["ndcg@5"] == pytest.approx((ndcg_0 + ndcg_1) / 2)
    # MAP. User 0: (P@1 + P@3) / min(4, 5) = (1/1 + 2/3) / 4 = 5/12.
    # User 1: P@3 / min(1, 5) = 1/3.
    assert metrics["map@5"] == pytest.approx((5 / 12 + 1 / 3) / 2)
    # Coverage: items 0..8 appear in some top-5, 9 does not: 9 / 10.
    assert metrics["coverage"] == pytest.approx(0.9)
    # Novelty over the 13 recommended slots (all users, padding left out):
    # user 0 items 1..5 -> 1+2+3+3+0, user 1 items 6..8 -> 1+2+3,
    # user 2 items 0..4 -> 0+1+2+3+3; 24 bits over 13 slots.
    assert metrics["novelty"] == pytest.approx(24 / 13)
    assert metrics["diversity"] is None


def test_ranking_metrics_use_only_the_first_k_columns():
    recommended = np.array([[5, 1, 2, 3]])
    relevant = [np.array([3])]

    metrics = ranking_metrics(
        recommended,
        relevant,
        k=2,
        n_items=10,
        item_popularity=POPULARITY,
        n_train_users=8,
    )

    assert metrics["precision@2"] == 0.0
    assert metrics["recall@2"] == 0.0
    assert metrics["coverage"] == pytest.approx(2 / 10)
    assert set(metrics) == {
        "precision@2",
        "recall@2",
        "ndcg@2",
        "map@2",
        "coverage",
        "novelty",
        "diversity",
        "users",
        "popularity_percentile@2",
        "gini@2",
        "long_tail_share@2",
        "effective_catalog_size@2",
    }


def test_map_divides_by_k_when_there_are_more_relevant_titles_than_k():
    metrics = ranking_metrics(
        np.array([[0, 9, 1]]),
        [np.arange(8)],
        k=3,
        n_items=10,
        item_popularity=POPULARITY,
        n_train_users=8,
    )

    # Hits at 1 and 3: (1/1 + 2/3) / min(8, 3).
    assert metrics["map@3"] == pytest.approx((1 + 2 / 3) / 3)
    # Ideal DCG has min(8, 3) = 3 hits.
    ideal = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert metrics["ndcg@3"] == pytest.approx((1 + 1 / math.log2(4)) / ideal)
    assert metrics["recall@3"] == pytest.approx(2 / 8)


def test_intra_list_diversity_on_a_toy():
    features = np.array(
        [
            [1.0, 0.0],  # 0
            [0.0, 1.0],  # 1, orthogonal to 0
            [1.0, 1.0],  # 2, at 45 degrees to both
            [0.0, 0.0],  # 3, no features: similarity 0 to everything
        ]
    )
    recommended = np.array(
        [
            [0, 1, 2],  # pairs: 1 - 0, 1 - 1/sqrt2, 1 - 1/sqrt2
            [0, 2, -1],  # one pair: 1 - 1/sqrt2
            [3, -1, -1],  # one title, no pair: not counted
            [0, 3, -1],  # one pair: 1 - 0
        ]
    )
    relevant = [np.array([0])] * 4

    metrics = ranking_metrics(
        recommended,
        relevant,
        k=3,
        n_items=4,
        item_popularity=np.array([1, 1, 1, 1]),
        n_train_users=1,
        item_features=features,
    )

    half_root = 1 - 1 / math.sqrt(2)
    expected = ((1 + 2 * half_root) / 3 + half_root + 1) / 3
    assert metrics["diversity"] == pytest.approx(expected)
    # Everything was seen by the one training user: nothing is novel.
    assert metrics["novelty"] == pytest.approx(0.0)
    assert metrics["coverage"] == pytest.approx(1.0)


def test_ranking_metrics_with_no_relevant_titles_at_all():
    metrics = ranking_metrics(
        np.array([[-1, -1]]),
        [np.array([], dtype=int)],
        k=2,
        n_items=10,
        item_popularity=POPULARITY,
        n_train_users=8,
        item_features=np.eye(10),
    )

    assert metrics == {
        "precision@2": 0.0,
        "recall@2": 0.0,
        "ndcg@2": 0.0,
        "map@2": 0.0,
        "users": 0,
        "coverage": 0.0,
        "novelty": None,
        "diversity": None,
        "popularity_percentile@2": None,
        "gini@2": None,
        "long_tail_share@2": None,
        "effective_catalog_size@2": None,
    }


def reference_metrics(recommended, relevant, k, item_popularity, n_train_users):
    """The definitions, one user at a time, in plain Python."""
    rows = []
    for recs, rel in zip(recommended, relevant, strict=True):
        rel = set(rel.tolist())
        if not rel:
            continue
        top = [int(i) for i in recs[:k]]
        hit = [i >= 0 and i in rel for i in top]
        dcg = sum(1 / math.log2(p + 2) for p, h in enumerate(hit) if h)
        idcg = sum(1 / math.log2(p + 2) for p in range(min(len(rel), k)))
        ap = sum(sum(hit[: p + 1]) / (p + 1) for p, h in enumerate(hit) if h)
        rows.append(
            (sum(hit) / k, sum(hit) / len(rel), dcg / idcg, ap / min(len(rel), k))
        )
    bits = [
        -math.log2(max(item_popularity[i], 1) / n_train_users)
        for recs in recommended
        for i in recs[:k]
        if i >= 0
    ]
    return [sum(col) / len(rows) for col in zip(*rows, strict=True)], sum(bits) / len(
        bits
    )


def random_top_lists(n_users: int, n_items: int, k: int, seed: int):
    rng = np.random.default_rng(seed)
    recommended = np.stack(
        [rng.choice(n_items, size=k, replace=False) for _ in range(n_users)]
    )
    recommended[rng.random(recommended.shape) < 0.05] = -1
    relevant = [
        rng.choice(n_items, size=rng.integers(0, 30), replace=False)
        for _ in range(n_users)
    ]
    popularity = rng.integers(0, 500, size=n_items)
    return recommended, relevant, popularity


def test_ranking_metrics_agree_with_a_per_user_loop():
    recommended, relevant, popularity = random_top_lists(500, 200, 10, seed=0)

    metrics = ranking_metrics(
        recommended,
        relevant,
        k=10,
        n_items=200,
        item_popularity=popularity,
        n_train_users=500,
    )

    (precision, recall, ndcg, ap), novelty = reference_metrics(
        recommended, relevant, 10, popularity, 500
    )
    assert metrics["precision@10"] == pytest.approx(precision)
    assert metrics["recall@10"] == pytest.approx(recall)
    assert metrics["ndcg@10"] == pytest.approx(ndcg)
    assert metrics["map@10"] == pytest.approx(ap)
    assert metrics["novelty"] == pytest.approx(novelty)
    assert metrics["users"] == sum(len(r) > 0 for r in relevant)


def test_popularity_counts_distinct_profiles_per_title():
    train = Interactions.from_lists(
        users=[1, 1, 2, 3, 3], items=[10, 10, 10, 20, 10], values=[4.0] * 5
    )

    scores = popularity_scores(train, np.array([20, 10, 30]))

    # Title 10: profiles 1 (twice), 2 and 3; title 20: profile 3; 30: nobody.
    assert scores.tolist() == [1, 3, 0]
    empty = Interactions.from_lists([], [], [])
    assert popularity_scores(empty, np.array([10])).tolist() == [0]


def test_top_k_excluding_skips_seen_items_and_pads():
    scores = np.array(
        [
            [0.1, 0.9, 0.5, 0.7, 0.3],
            [5.0, 4.0, 3.0, 2.0, 1.0],
            [1.0, 1.0, 1.0, np.nan, 2.0],
        ]
    )
    seen = [np.array([1]), np.array([0, 1, 2, 3]), np.array([], dtype=int)]

    top = top_k_excluding(scores, seen, k=3)

    assert top.tolist() == [
        [3, 2, 4],  # 0.9 excluded; 0.7, 0.5, 0.3
        [4, -1, -1],  # only item 4 left
        [4, 0, 1],  # NaN never recommended; ties go to the lower index
    ]
    as_csr = sp.csr_matrix(
        (np.ones(5), ([0, 1, 1, 1, 1], [1, 0, 1, 2, 3])), shape=(3, 5)
    )
    assert top_k_excluding(scores, as_csr, k=3).tolist() == top.tolist()
    assert scores[0, 1] == 0.9  # the caller's matrix is left alone


def test_top_k_excluding_pads_when_k_exceeds_the_catalog():
    top = top_k_excluding(np.array([[0.2, 0.8]]), [np.array([], dtype=int)], k=4)

    assert top.tolist() == [[1, 0, -1, -1]]


@pytest.mark.parametrize("ties", [False, True], ids=["real-scores", "many-ties"])
def test_top_k_excluding_never_returns_an_excluded_item(ties: bool):
    """Equal to a full stable sort, ties to the lower index, even at the cut."""
    rng = np.random.default_rng(3)
    scores = rng.integers(0, 4, size=(300, 120)) if ties else rng.random((300, 120))
    seen = sp.random(300, 120, density=0.3, format="csr", random_state=4)

    top = top_k_excluding(scores, seen, k=10)

    dense_seen = seen.toarray() != 0
    rows = np.arange(300)[:, None]
    assert not dense_seen[rows, np.maximum(top, 0)][top >= 0].any()
    masked = np.where(dense_seen, -np.inf, scores)
    expected = np.argsort(-masked, axis=1, kind="stable")[:, :10]
    expected = np.where(
        np.take_along_axis(masked, expected, 1) == -np.inf, -1, expected
    )
    assert np.array_equal(top, expected)
