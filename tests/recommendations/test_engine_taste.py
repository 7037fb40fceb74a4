"""The taste rule (recommendations/engine/taste.py): which titles a profile
liked, how much, and their genre mix. No database."""

import numpy as np
import pytest

from recommendations.engine import taste
from recommendations.engine.taste import (
    genre_mix,
    history_words,
    liked_history,
    liked_in_mix,
    liked_weights,
)


def test_ratings_from_three_stars_weigh_their_stars_and_lower_ones_nothing():
    weights = liked_weights(
        ratings={1: 3.0, 2: 4.5, 3: 5.0, 4: 2.5, 5: 0.5},
        viewings=[],
        feedback={},
    )

    assert weights == {1: 0.6, 2: 0.9, 3: 1.0}


def test_watching_half_way_or_to_the_end_weighs_point_eight():
    weights = liked_weights(
        ratings={},
        viewings=[(1, 0.5, False), (2, 1.0, True), (3, 0.49, False), (4, 0.2, True)],
        feedback={},
    )

    # A viewing marked completed counts whatever its progress says.
    assert weights == {1: 0.8, 2: 0.8, 4: 0.8}


def test_thumbs_up_weighs_one_and_a_pick_point_eight_the_strongest_wins():
    weights = liked_weights(
        ratings={},
        viewings=[(1, 1.0, True), (3, 0.9, False)],
        feedback={1: {"thumbs_up"}, 2: {"pick"}, 3: {"pick"}, 4: {"pick", "thumbs_up"}},
    )

    assert weights == {1: 1.0, 2: 0.8, 3: 0.8, 4: 1.0}


def test_a_rating_overrides_every_implicit_signal_up_or_down():
    weights = liked_weights(
        ratings={1: 3.0, 2: 2.0},
        viewings=[(1, 1.0, True), (2, 1.0, True)],
        feedback={1: {"thumbs_up"}, 2: {"thumbs_up"}},
    )

    assert weights == {1: 0.6}


def test_a_title_turned_down_is_never_liked():
    weights = liked_weights(
        ratings={1: 5.0, 2: 4.0},
        viewings=[(3, 1.0, True)],
        feedback={1: {"not_interested"}, 2: {"thumbs_down"}, 3: {"thumbs_down"}},
    )

    assert weights == {}


# --- the genre mix ----------------------------------------------------------------

IDS = np.array([10, 20, 30, 40])
#: Columns: Comedy, Drama, Sci-Fi. 40 has no genre.
FEATURES = np.array(
    [
        [1.0, 0.0, 0.0],
        [1.0, 1.0, 0.0],
        [0.0, 0.0, 1.0],
        [0.0, 0.0, 0.0],
    ]
)


def test_genre_mix_weighs_each_title_and_splits_it_among_its_genres():
    mix = genre_mix({10: 0.6, 20: 1.0, 30: 0.9}, IDS, FEATURES)

    # Comedy 0.6 + 0.5, Drama 0.5, Sci-Fi 0.9, out of 2.5.
    assert mix == pytest.approx([1.1 / 2.5, 0.5 / 2.5, 0.9 / 2.5])


def test_genre_mix_leaves_out_titles_not_in_the_catalog_or_without_a_genre():
    mix = genre_mix({20: 1.0, 40: 1.0, 99: 1.0}, IDS, FEATURES)

    assert mix == pytest.approx([0.5, 0.5, 0.0])
    assert liked_in_mix({20: 1.0, 40: 1.0, 99: 1.0}, IDS, FEATURES) == 1


def test_no_liked_title_in_the_catalog_is_no_mix():
    assert genre_mix({99: 1.0}, IDS, FEATURES).tolist() == [0.0, 0.0, 0.0]
    assert genre_mix({}, IDS, FEATURES).tolist() == [0.0, 0.0, 0.0]
    assert genre_mix({}, IDS[:0], FEATURES[:0]).tolist() == [0.0, 0.0, 0.0]
    assert liked_in_mix({}, IDS, FEATURES) == 0


def test_the_taste_says_which_signals_it_is_made_of():
    history = liked_history(
        ratings={1: 4.0, 2: 2.0},
        viewings=[(3, 0.1, False), (4, 0.9, True)],
        feedback={5: {"pick"}, 4: {"thumbs_down"}, 6: {"thumbs_up", "pick"}},
    )

    # 2 is rated too low, 3 abandoned, 4 turned down: none is liked.
    assert history == {1: (0.8, "rated"), 5: (0.8, "pick"), 6: (1.0, "thumbs_up")}
    assert history_words(s for _, s in history.values()) == (
        "what you rated, liked or picked"
    )
    assert history_words(["pick", "rated"]) == "what you rated or picked"
    assert history_words(["watched"]) == "what you watched"
    assert history_words([]) == "what you like"


# --- the viewer's adjustments (the privacy centre's taste sliders) ------------------


def test_adjusted_mix_scales_each_share_by_its_factor_and_sums_to_one():
    mix = np.array([0.5, 0.3, 0.2])

    adjusted = taste.adjusted_mix(
        mix, taste.genre_factors({11: 200, 12: 0}, [10, 11, 12])
    )

    # 0.5·1, 0.3·2, 0.2·0 = 0.5, 0.6, 0 → over 1.1
    np.testing.assert_allclose(adjusted, [0.5 / 1.1, 0.6 / 1.1, 0.0])


def test_every_liked_genre_off_leaves_no_mix_to_aim_at():
    adjusted = taste.adjusted_mix(np.array([0.7, 0.3]), np.zeros(2))

    np.testing.assert_array_equal(adjusted, [0.0, 0.0])


def test_a_title_takes_the_mean_factor_of_its_genres():
    features = np.array([[1, 0], [1, 1], [0, 0]], dtype=float)

    factors = taste.title_factors(features, np.array([0.0, 1.5]))

    np.testing.assert_allclose(factors, [0.0, 0.75, 1.0])


def test_taste_adjust_normalises_then_multiplies_so_off_is_the_bottom_not_gone():
    scores = np.array([-2.0, 0.0, 2.0])
    features = np.array([[0, 1], [0, 1], [1, 0]], dtype=float)

    adjusted = taste.taste_adjust(scores, features, np.array([0.0, 2.0]))

    # normalised 0, 0.5, 1; the last title's only genre is off
    np.testing.assert_allclose(adjusted, [0.0, 1.0, 0.0])
    assert adjusted.shape == scores.shape
