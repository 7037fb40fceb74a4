"""The engine's "show fewer like this": a soft push down, never a removal."""

import numpy as np

from recommendations.engine import rerank


def test_nothing_similar_leaves_the_scores_as_they_were():
    scores = np.array([3.0, -1.0, 2.0])
    assert rerank.show_fewer_adjust(scores, np.zeros(3)) is scores


def test_the_title_and_its_genre_twin_move_down_and_none_is_removed():
    # Genres: [drama, comedy]. The viewer wants fewer like title 0 (drama).
    features = np.array([[1, 0], [1, 0], [0, 1], [1, 1]], dtype=float)
    similarity = rerank.show_fewer_similarity(features, features[[0]])
    assert np.allclose(similarity, [1.0, 1.0, 0.0, np.sqrt(0.5)])

    scores = np.array([4.0, 3.0, 2.0, 1.0])  # best first
    adjusted = rerank.show_fewer_adjust(scores, similarity)

    assert np.all(np.isfinite(adjusted))
    # normalised to 1..2, times 1 - 0.6 × similarity
    w = rerank.SHOW_FEWER_WEIGHT
    expected = (np.array([1.0, 2 / 3, 1 / 3, 0.0]) + 1) * (1 - w * similarity)
    assert np.allclose(adjusted, expected)
    assert np.argsort(-adjusted, kind="stable").tolist() == [2, 0, 1, 3]


def test_a_title_without_genres_is_like_nothing():
    features = np.array([[0, 0], [1, 0]], dtype=float)
    assert rerank.show_fewer_similarity(features, features[[1]]).tolist() == [0, 1]
    assert rerank.show_fewer_similarity(features, np.zeros((0, 2))).tolist() == [0, 0]
