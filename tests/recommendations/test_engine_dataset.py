"""The implicit-feedback rule and the Interactions arrays. Pure numpy, no database.

Expected values are the product's rule written out by hand (1.0 "not
interested", 1.5 / 4.5 thumbs, 4.0 pick, 4.0 / 3.0 / 2.0 for completed, half
and abandoned viewing), not read back from ``IMPLICIT_VALUES``.
"""

import numpy as np
import pytest

from recommendations.engine.dataset import (
    Interactions,
    implicit_value,
    viewing_signal,
)


@pytest.mark.parametrize(
    ("signals", "expected"),
    [
        ({"not_interested", "thumbs_up"}, 1.0),
        ({"not_interested", "thumbs_down", "pick", "completed"}, 1.0),
        ({"thumbs_up", "completed"}, 4.5),
        ({"thumbs_up", "abandoned"}, 4.5),
        ({"thumbs_down", "completed"}, 1.5),
        ({"thumbs_up", "pick"}, 4.5),
        ({"pick", "abandoned"}, 4.0),
        ({"pick"}, 4.0),
        ({"completed"}, 4.0),
        ({"watched_half"}, 3.0),
        ({"abandoned"}, 2.0),
        ({"abandoned", "watched_half", "completed"}, 4.0),
        ({"abandoned", "watched_half"}, 3.0),
    ],
)
def test_implicit_value_takes_the_strongest_statement(signals, expected):
    assert implicit_value(signals) == expected


def test_implicit_value_of_no_known_signal_is_none():
    assert implicit_value(set()) is None
    assert implicit_value({"searched_for"}) is None


@pytest.mark.parametrize(
    ("progress", "completed", "expected"),
    [
        (1.0, True, "completed"),
        (0.1, True, "completed"),
        (0.99, False, "watched_half"),
        (0.5, False, "watched_half"),
        (0.49, False, "abandoned"),
        (0.0, False, "abandoned"),
    ],
)
def test_viewing_signal_from_progress(progress, completed, expected):
    assert viewing_signal(progress, completed) == expected


def test_viewing_signals_map_to_their_training_values():
    assert implicit_value({viewing_signal(0.95, True)}) == 4.0
    assert implicit_value({viewing_signal(0.6, False)}) == 3.0
    assert implicit_value({viewing_signal(0.2, False)}) == 2.0


def test_from_lists_fills_times_and_negative_with_defaults():
    inter = Interactions.from_lists([1, 2], [10, 20], [4.0, 3.5])

    assert inter.users.dtype == np.int64
    assert inter.items.dtype == np.int64
    assert inter.values.dtype == np.float64
    np.testing.assert_array_equal(inter.times, [0, 0])
    np.testing.assert_array_equal(inter.negative, [False, False])
    assert len(inter) == 2


@pytest.mark.parametrize(
    "arrays",
    [
        {"users": [1, 2], "items": [10], "values": [4.0, 3.0]},
        {"users": [1, 2], "items": [10, 20], "values": [4.0]},
        {"users": [1, 2], "items": [10, 20], "values": [4.0, 3.0], "times": [0]},
        {
            "users": [1, 2],
            "items": [10, 20],
            "values": [4.0, 3.0],
            "negative": [True, False, False],
        },
    ],
)
def test_mismatched_lengths_are_refused(arrays):
    with pytest.raises(ValueError, match="same length"):
        Interactions.from_lists(**arrays)
