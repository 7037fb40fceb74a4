"""Re-ranking maths, checked against numbers worked out by hand and against
plain loops written straight from the definitions. Pure numpy, no database.
"""

import math

import numpy as np
import pytest

from recommendations.engine.evaluation import ranking_metrics
from recommendations.engine.rerank import (
    MOODS,
    Context,
    boost_adjust,
    calibrate,
    context_adjust,
    context_reason,
    exploration_lambda,
    genre_distribution,
    genre_matrix,
    intra_list_diversity,
    kl_divergence,
    mmr,
    mood_adjust,
    normalise,
)

MOVIELENS_GENRES = {
    "Action",
    "Adventure",
    "Animation",
    "Children",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Film-Noir",
    "Horror",
    "IMAX",
    "Musical",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "War",
    "Western",
}


def two_clusters() -> tuple[np.ndarray, np.ndarray]:
    """Titles 0-4 in genre A, scored 10..6; titles 5-9 in genre B, scored 5..1."""
    features = np.zeros((10, 2))
    features[:5, 0] = 1.0
    features[5:, 1] = 1.0
    return np.arange(10, 0, -1, dtype=float), features


def naive_mmr(scores, features, lam, k):
    rel = (scores - scores.min()) / (scores.max() - scores.min())
    picked: list[int] = []
    while len(picked) < min(k, len(scores)):
        best, best_value = None, -math.inf
        for i in range(len(scores)):
            if i in picked:
                continue
            similarity = 0.0
            for j in picked:
                a, b = features[i], features[j]
                norm = np.linalg.norm(a) * np.linalg.norm(b)
                similarity = max(similarity, float(a @ b / norm) if norm else 0.0)
            value = lam * rel[i] - (1 - lam) * similarity
            if value > best_value:
                best, best_value = i, value
        picked.append(best)
    return picked


def naive_calibrate(scores, features, target, lam, k, alpha=0.01):
    rel = (scores - scores.min()) / (scores.max() - scores.min())
    picked: list[int] = []
    while len(picked) < min(k, len(scores)):
        best, best_value = None, -math.inf
        for i in range(len(scores)):
            if i in picked:
                continue
            chosen = [*picked, i]
            q = genre_distribution(features[chosen])
            value = (1 - lam) * rel[chosen].sum() - lam * kl_divergence(
                target, q, alpha=alpha
            )
            if value > best_value:
                best, best_value = i, value
        picked.append(best)
    return picked


# --- scales and helpers --------------------------------------------------------------


def test_normalise_maps_min_to_zero_and_max_to_one():
    assert normalise(np.array([2.0, 4.0, 6.0, 3.0])).tolist() == [0.0, 0.5, 1.0, 0.25]


def test_normalise_of_a_constant_list_is_all_ones():
    assert normalise(np.array([3.0, 3.0])).tolist() == [1.0, 1.0]
    assert normalise(np.array([-7.0])).tolist() == [1.0]
    assert normalise(np.zeros(0)).tolist() == []


def test_normalise_refuses_non_finite_scores():
    with pytest.raises(ValueError, match="finite"):
        normalise(np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="finite"):
        normalise(np.array([1.0, -np.inf]))


def test_genre_matrix_is_one_hot_in_the_given_column_order():
    matrix = genre_matrix([[30, 10], [], [20, 99]], genre_order=[10, 20, 30])

    assert matrix.tolist() == [[1.0, 0.0, 1.0], [0.0, 0.0, 0.0], [0.0, 1.0, 0.0]]


# --- exploration ---------------------------------------------------------------------


def test_exploration_lambda_runs_linearly_from_one_to_point_three():
    assert exploration_lambda(0) == 1.0
    assert exploration_lambda(100) == pytest.approx(0.3)
    assert exploration_lambda(50) == pytest.approx(0.65)
    assert exploration_lambda(20) == pytest.approx(0.86)


def test_exploration_lambda_clips_values_off_the_slider():
    assert exploration_lambda(-10) == 1.0
    assert exploration_lambda(250) == pytest.approx(0.3)


def test_mmr_at_lambda_one_is_the_top_k_by_score_with_ties_to_the_lower_index():
    scores = np.array([0.5, 0.9, 0.5, 0.1, 0.9, 0.7])
    features = np.eye(6)

    picked = mmr(scores, features, lam=1.0, k=4)

    assert picked.tolist() == [1, 4, 5, 0]
    assert picked.tolist() == np.argsort(-scores, kind="stable")[:4].tolist()


def test_mmr_with_pure_relevance_keeps_clusters_apart():
    scores, features = two_clusters()

    assert mmr(scores, features, lam=1.0, k=6).tolist() == [0, 1, 2, 3, 4, 5]


def test_mmr_with_low_lambda_brings_the_other_clusters_best_forward():
    scores, features = two_clusters()

    picked = mmr(scores, features, lam=exploration_lambda(100), k=6)

    # After title 0, every A title has similarity 1 to the list and B's best 0:
    # 0.3·(4/9) beats 0.3·(8/9) − 0.7. Once both clusters are in, every title
    # has similarity 1 to something, so relevance decides again.
    assert picked.tolist() == [0, 5, 1, 2, 3, 4]


def test_mmr_with_low_lambda_shows_one_of_each_cluster_first():
    features = np.repeat(np.eye(3), 4, axis=0)  # titles 0-3 A, 4-7 B, 8-11 C
    scores = np.arange(12, 0, -1, dtype=float)

    assert mmr(scores, features, lam=1.0, k=6).tolist() == [0, 1, 2, 3, 4, 5]
    assert mmr(scores, features, lam=0.3, k=6).tolist() == [0, 4, 8, 1, 2, 3]


def test_mmr_equals_the_definition_on_random_data():
    rng = np.random.default_rng(5)
    scores = rng.normal(size=40)
    features = (rng.random((40, 6)) < 0.3).astype(float)
    features[3] = 0.0  # a title without genres

    for lam in (0.2, 0.5, 0.9):
        assert mmr(scores, features, lam=lam, k=15).tolist() == naive_mmr(
            scores, features, lam, 15
        )


def test_mmr_returns_everything_when_k_exceeds_the_candidates_and_nothing_for_zero():
    scores, features = two_clusters()

    assert sorted(mmr(scores, features, lam=0.5, k=50).tolist()) == list(range(10))
    assert mmr(scores, features, lam=0.5, k=0).tolist() == []
    assert mmr(np.zeros(0), np.zeros((0, 2)), lam=0.5, k=5).tolist() == []


def test_mmr_treats_titles_without_genres_as_unlike_everything():
    scores = np.array([3.0, 2.0, 1.0, 0.0])
    features = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 0.0], [0.0, 0.0]])

    # After title 0, title 1 (same genre) is penalised by 1, title 2 not at all.
    assert mmr(scores, features, lam=0.5, k=3).tolist() == [0, 2, 3]


def test_mmr_refuses_a_lambda_outside_zero_to_one():
    scores, features = two_clusters()
    with pytest.raises(ValueError, match="lam"):
        mmr(scores, features, lam=1.5, k=3)


# --- diversity -----------------------------------------------------------------------


def test_intra_list_diversity_by_hand():
    features = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])

    # Similarities 0, 1/√2, 1/√2: distances 1, 1 - 1/√2, 1 - 1/√2.
    assert intra_list_diversity(features) == pytest.approx((3 - math.sqrt(2)) / 3)


def test_intra_list_diversity_is_the_offline_metric():
    rng = np.random.default_rng(11)
    features = (rng.random((8, 5)) < 0.4).astype(float)
    metric = ranking_metrics(
        np.arange(8)[None, :],
        [np.array([0])],
        k=8,
        n_items=8,
        item_popularity=np.ones(8),
        n_train_users=1,
        item_features=features,
    )["diversity"]

    assert intra_list_diversity(features) == pytest.approx(metric)


def test_intra_list_diversity_of_fewer_than_two_titles_is_zero():
    assert intra_list_diversity(np.ones((1, 3))) == 0.0
    assert intra_list_diversity(np.zeros((0, 3))) == 0.0


def test_intra_list_diversity_counts_a_title_without_genres_as_distance_one():
    assert intra_list_diversity(np.array([[1.0, 0.0], [0.0, 0.0]])) == 1.0


# --- calibration ---------------------------------------------------------------------


def test_genre_distribution_averages_each_titles_genre_shares():
    features = np.array([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])

    # Shares (½, ½, 0) and (1, 0, 0); the title without genres does not count.
    assert genre_distribution(features).tolist() == [0.75, 0.25, 0.0]


def test_genre_distribution_weights_titles():
    features = np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]])

    distribution = genre_distribution(features, weights=np.array([3.0, 1.0]))

    assert distribution.tolist() == [0.375, 0.375, 0.25]
    assert distribution.sum() == 1.0


def test_genre_distribution_sums_to_one_on_random_data():
    rng = np.random.default_rng(2)
    features = (rng.random((50, 19)) < 0.2).astype(float)

    assert genre_distribution(features, rng.random(50)).sum() == pytest.approx(1.0)


def test_genre_distribution_of_nothing_with_genres_is_all_zeros():
    assert genre_distribution(np.zeros((2, 3))).tolist() == [0.0, 0.0, 0.0]
    assert genre_distribution(np.zeros((0, 3))).tolist() == [0.0, 0.0, 0.0]


def test_genre_distribution_refuses_negative_weights():
    with pytest.raises(ValueError, match="non-negative"):
        genre_distribution(np.eye(2), np.array([1.0, -1.0]))


def test_kl_divergence_by_hand():
    p = np.array([0.5, 0.5, 0.0])
    q = np.array([0.9, 0.0, 0.1])
    # q̃ = 0.99 q + 0.01 p = (0.896, 0.005, 0.099); the third genre has p = 0.
    expected = 0.5 * math.log(0.5 / 0.896) + 0.5 * math.log(0.5 / 0.005)

    assert kl_divergence(p, q) == pytest.approx(expected)
    assert kl_divergence(p, q, alpha=0.5) == pytest.approx(
        0.5 * math.log(0.5 / 0.7) + 0.5 * math.log(0.5 / 0.25)
    )


def test_kl_divergence_of_a_distribution_with_itself_is_zero():
    p = np.array([0.2, 0.3, 0.5])

    assert kl_divergence(p, p) == pytest.approx(0.0, abs=1e-15)


def test_kl_divergence_without_smoothing_is_infinite_for_a_missing_genre():
    assert kl_divergence(np.array([0.5, 0.5]), np.array([1.0, 0.0]), alpha=0.0) == (
        math.inf
    )


def seventy_thirty() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Titles 0-9 in genre A scored 1.00..0.91, titles 10-19 in genre B scored
    0.90..0.81, and a last genre-A title scored 0 (so relevance differences at
    the top stay small)."""
    features = np.zeros((21, 2))
    features[:10, 0] = 1.0
    features[10:20, 1] = 1.0
    features[20, 0] = 1.0
    scores = np.r_[1 - 0.01 * np.arange(10), 0.9 - 0.01 * np.arange(10), 0.0]
    return scores, features, np.array([0.7, 0.3])


def test_calibrate_picks_the_genre_mix_of_the_target():
    scores, features, target = seventy_thirty()

    picked = calibrate(scores, features, target, k=10)

    assert np.argsort(-scores, kind="stable")[:10].tolist() == list(range(10))
    assert picked.tolist() == [0, 10, 1, 2, 3, 11, 4, 5, 6, 12]
    assert genre_distribution(features[picked]).tolist() == pytest.approx([0.7, 0.3])


def test_calibrate_equals_the_definition_on_random_data():
    rng = np.random.default_rng(8)
    scores = rng.normal(size=30)
    features = (rng.random((30, 5)) < 0.35).astype(float)
    features[4] = 0.0
    target = genre_distribution((rng.random((12, 5)) < 0.5).astype(float))

    for lam in (0.3, 0.7, 0.95):
        assert calibrate(scores, features, target, k=10, lam=lam).tolist() == (
            naive_calibrate(scores, features, target, lam, 10)
        )


def test_calibrate_without_a_target_keeps_the_order_by_score():
    scores, features, _ = seventy_thirty()

    picked = calibrate(scores, features, np.zeros(2), k=5)

    assert picked.tolist() == [0, 1, 2, 3, 4]


def test_calibrate_at_lambda_zero_keeps_the_order_by_score():
    scores, features, target = seventy_thirty()

    assert calibrate(scores, features, target, k=5, lam=0.0).tolist() == [
        0,
        1,
        2,
        3,
        4,
    ]


def test_calibrate_scales_the_target_to_sum_one():
    scores, features, target = seventy_thirty()

    assert (
        calibrate(scores, features, target * 10, k=10).tolist()
        == calibrate(scores, features, target, k=10).tolist()
    )


def test_calibrate_refuses_a_target_of_the_wrong_width():
    scores, features, _ = seventy_thirty()
    with pytest.raises(ValueError, match="target"):
        calibrate(scores, features, np.array([1.0, 0.0, 0.0]), k=3)


# --- moods ----------------------------------------------------------------------------


def test_there_are_exactly_four_moods_keyed_by_their_url_keys():
    assert list(MOODS) == ["feel-good", "thrilling", "thought-provoking", "light-short"]
    for key, mood in MOODS.items():
        assert mood.key == key
        assert mood.genres <= MOVIELENS_GENRES
        assert mood.avoid_genres <= MOVIELENS_GENRES
        assert not mood.genres & mood.avoid_genres
        assert all(tag == tag.lower() for tag in mood.tags)
    assert MOODS["light-short"].max_runtime == 100
    assert MOODS["feel-good"].max_runtime is None


def test_mood_adjust_follows_the_table():
    scores = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 4.0])
    original = scores.copy()
    genres = [
        frozenset({"Comedy"}),
        frozenset({"Drama"}),  # no match: ×1
        frozenset({"Comedy", "Romance"}),  # two matches: ×2
        frozenset({"Comedy", "Animation", "Children"}),  # three, capped: ×2
        frozenset({"Comedy", "Horror"}),  # match ×1.5, avoided ×0.4
        frozenset({"Western"}),
    ]
    tags = [
        frozenset(),
        frozenset({"heartwarming"}),  # ×1.25
        frozenset({"boring"}),
        frozenset(),
        frozenset(),
        frozenset({"funny", "cute"}),  # ×1.25 once
    ]

    adjusted = mood_adjust(scores, genres, tags, np.full(6, 90.0), MOODS["feel-good"])

    assert adjusted.tolist() == pytest.approx(
        [0.0, 0.25 * 1.25, 0.5 * 2, 0.75 * 2, 1.0 * 1.5 * 0.4, 1.0 * 1.25]
    )
    assert scores.tolist() == original.tolist()


def test_mood_adjust_penalises_known_runtimes_over_the_moods_maximum():
    scores = np.array([4.0, 4.0, 4.0, 4.0, 0.0])
    genres = [frozenset({"Comedy"})] * 5
    tags = [frozenset()] * 5
    runtimes = np.array([100.0, 101.0, np.nan, 0.0, 200.0])

    short = mood_adjust(scores, genres, tags, runtimes, MOODS["light-short"])
    any_length = mood_adjust(scores, genres, tags, runtimes, MOODS["feel-good"])

    assert short.tolist() == pytest.approx([1.5, 1.5 * 0.3, 1.5, 1.5, 0.0])
    assert any_length.tolist() == pytest.approx([1.5, 1.5, 1.5, 1.5, 0.0])


# --- context --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hour", "device", "reason"),
    [
        (22, "desktop", "Because it's late"),
        (4, "tv", "Because it's late"),
        (23, "mobile", "Because it's late"),
        (5, "mobile", "Because you're on your phone"),
        (21, "mobile", "Because you're on your phone"),
        (21, "tablet", None),
        (12, "tv", None),
        (5, "", None),
    ],
)
def test_context_reason(hour, device, reason):
    assert context_reason(Context(hour=hour, device=device)) == reason


def test_context_refuses_an_impossible_hour_or_device():
    with pytest.raises(ValueError, match="hour"):
        Context(hour=24, device="tv")
    with pytest.raises(ValueError, match="device"):
        Context(hour=10, device="watch")


def test_context_adjust_late_favours_short_titles():
    scores = np.array([0.0, 2.0, 4.0, 4.0, 4.0, 4.0, 4.0])
    original = scores.copy()
    runtimes = np.array([90.0, 100.0, 101.0, 130.0, 131.0, np.nan, 0.0])

    adjusted = context_adjust(scores, runtimes, Context(hour=23, device="tv"))

    assert adjusted.tolist() == pytest.approx([0.0, 0.65, 1.0, 1.0, 0.6, 1.0, 1.0])
    assert scores.tolist() == original.tolist()


def test_context_adjust_on_a_phone_equals_late():
    scores = np.array([1.0, 5.0, 3.0])
    runtimes = np.array([80.0, 150.0, 115.0])

    on_phone = context_adjust(scores, runtimes, Context(hour=14, device="mobile"))

    assert on_phone.tolist() == pytest.approx([0.0, 0.6, 0.5])


def test_context_adjust_leaves_scores_alone_in_an_ordinary_context():
    scores = np.array([1.0, 5.0, 3.0])

    adjusted = context_adjust(
        scores, np.array([80.0, 150.0, 115.0]), Context(hour=14, device="tablet")
    )

    assert adjusted.tolist() == [1.0, 5.0, 3.0]
    assert adjusted is not scores


# --- curators' boosts ------------------------------------------------------------------


def test_boost_adjust_multiplies_normalised_scores_by_the_clipped_boost():
    scores = np.array([2.0, 4.0, 6.0, 6.0, 6.0, 6.0])
    boosts = np.array([1.5, 1.5, 0.5, 3.0, 0.1, np.nan])

    adjusted = boost_adjust(scores, boosts)

    assert adjusted.tolist() == pytest.approx([0.0, 0.75, 0.5, 1.5, 0.5, 1.0])
    assert scores.tolist() == [2.0, 4.0, 6.0, 6.0, 6.0, 6.0]


def test_boost_adjust_refuses_boosts_of_the_wrong_length():
    with pytest.raises(ValueError, match="boosts"):
        boost_adjust(np.ones(3), np.ones(2))
