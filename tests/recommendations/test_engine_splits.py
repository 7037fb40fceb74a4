"""Held-out splits: no leak from a profile's future, the right fractions.

Pure numpy, no database. The expected counts are written out independently of
``held_out_count``: clip(floor(fraction * n + 0.5), 1, n - 1) for profiles with
at least ``min_rows`` rows, 0 otherwise.
"""

import numpy as np
import pytest

from recommendations.engine.dataset import Interactions
from recommendations.engine.splits import split_by_time, split_random


def random_interactions(n_rows: int, n_users: int, seed: int) -> Interactions:
    """Random rows, one per (profile, title), with many ties in time."""
    rng = np.random.default_rng(seed)
    users = rng.integers(1, n_users + 1, size=n_rows)
    items = rng.integers(1, 2_000, size=n_rows)
    pairs = np.unique(np.stack([users, items], axis=1), axis=0)
    pairs = pairs[rng.permutation(len(pairs))]
    n = len(pairs)
    return Interactions.from_lists(
        users=pairs[:, 0],
        items=pairs[:, 1],
        values=rng.integers(1, 11, size=n) / 2,
        times=rng.integers(1_600_000_000, 1_600_000_050, size=n),
    )


def expected_test_count(n: int, fraction: float, min_rows: int) -> int:
    if n < min_rows:
        return 0
    return min(max(int(np.floor(fraction * n + 0.5)), 1), n - 1)


def rows_of(inter: Interactions) -> set[tuple[int, int, float, int]]:
    return set(
        zip(
            inter.users.tolist(),
            inter.items.tolist(),
            inter.values.tolist(),
            inter.times.tolist(),
            strict=True,
        )
    )


def per_user_counts(inter: Interactions) -> dict[int, int]:
    users, counts = np.unique(inter.users, return_counts=True)
    return dict(zip(users.tolist(), counts.tolist(), strict=True))


def assert_partition(inter: Interactions, train: Interactions, test: Interactions):
    assert len(train) + len(test) == len(inter)
    assert rows_of(train) | rows_of(test) == rows_of(inter)
    assert not rows_of(train) & rows_of(test)


def test_time_split_holds_out_each_profiles_latest_rows():
    inter = Interactions.from_lists(
        users=[7] * 10 + [8] * 4,
        items=[10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 10, 11, 12, 13],
        values=[4.0] * 14,
        times=[5, 1, 9, 3, 7, 2, 8, 4, 6, 10, 1, 2, 3, 4],
    )

    train, test = split_by_time(inter, test_fraction=0.2, min_rows=5)

    # Profile 7: 10 rows, round(0.2 * 10) = 2 latest (times 10 and 9) held out.
    # Profile 8: 4 rows < min_rows, wholly in train.
    held_out = zip(test.users.tolist(), test.items.tolist(), strict=True)
    assert sorted(held_out) == [(7, 12), (7, 19)]
    assert per_user_counts(train) == {7: 8, 8: 4}
    assert_partition(inter, train, test)


def test_time_split_breaks_ties_in_time_by_item_id():
    inter = Interactions.from_lists(
        users=[1] * 6,
        items=[50, 20, 60, 10, 40, 30],
        values=[3.0] * 6,
        times=[100, 100, 100, 100, 100, 90],
    )

    # round(0.5 * 6) = 3 of the five rows at time 100 go to test: the highest ids.
    train, test = split_by_time(inter, test_fraction=0.5, min_rows=2)

    assert sorted(test.items.tolist()) == [40, 50, 60]
    assert sorted(train.items.tolist()) == [10, 20, 30]


def test_time_split_leaks_no_future_row_into_training():
    inter = random_interactions(10_000, n_users=300, seed=1)

    train, test = split_by_time(inter, test_fraction=0.2, min_rows=5)

    assert_partition(inter, train, test)
    for user in np.unique(test.users):
        in_train = train.users == user
        in_test = test.users == user
        assert train.times[in_train].max() <= test.times[in_test].min()
        # With ties at the boundary, every train row precedes every test row
        # in (time, item) order.
        latest_train = max(
            zip(train.times[in_train], train.items[in_train], strict=True)
        )
        earliest_test = min(zip(test.times[in_test], test.items[in_test], strict=True))
        assert latest_train < earliest_test


def test_time_split_fractions_and_small_profiles():
    inter = random_interactions(10_000, n_users=3_000, seed=2)
    totals = per_user_counts(inter)
    assert min(totals.values()) < 5 <= max(totals.values())

    train, test = split_by_time(inter, test_fraction=0.2, min_rows=5)

    held_out = per_user_counts(test)
    for user, n in totals.items():
        assert held_out.get(user, 0) == expected_test_count(n, 0.2, 5)
    small = [u for u, n in totals.items() if n < 5]
    assert not np.isin(test.users, small).any()
    assert np.isin(small, train.users).all()


def test_time_split_does_not_depend_on_row_order():
    inter = random_interactions(5_000, n_users=100, seed=3)
    shuffled = inter.subset(np.random.default_rng(0).permutation(len(inter)))

    _, test = split_by_time(inter)
    _, test_shuffled = split_by_time(shuffled)

    assert rows_of(test) == rows_of(test_shuffled)


def test_time_split_of_nothing_is_nothing():
    train, test = split_by_time(Interactions.from_lists([], [], []))

    assert len(train) == len(test) == 0


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 1.5])
def test_splits_refuse_a_fraction_outside_zero_one(fraction: float):
    inter = random_interactions(100, n_users=5, seed=4)
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        split_by_time(inter, test_fraction=fraction)
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        split_random(inter, test_size=fraction)


def test_random_split_is_stratified_per_profile():
    inter = random_interactions(10_000, n_users=3_000, seed=6)
    totals = per_user_counts(inter)

    train, test = split_random(inter, test_size=0.25, seed=0, min_rows=2)

    assert_partition(inter, train, test)
    held_out = per_user_counts(test)
    for user, n in totals.items():
        assert held_out.get(user, 0) == expected_test_count(n, 0.25, 2)
        if n >= 2:
            assert held_out[user] >= 1
    singles = [u for u, n in totals.items() if n == 1]
    assert singles
    assert np.isin(singles, train.users).all()


def test_random_split_is_deterministic_for_a_seed_and_differs_across_seeds():
    inter = random_interactions(10_000, n_users=300, seed=7)

    _, first = split_random(inter, seed=42)
    _, again = split_random(inter, seed=42)
    _, other = split_random(inter, seed=43)

    assert rows_of(first) == rows_of(again)
    assert rows_of(first) != rows_of(other)
    assert per_user_counts(first) == per_user_counts(other)


def test_random_split_does_not_depend_on_row_order():
    inter = random_interactions(5_000, n_users=100, seed=8)
    shuffled = inter.subset(np.random.default_rng(1).permutation(len(inter)))

    _, test = split_random(inter, seed=3)
    _, test_shuffled = split_random(shuffled, seed=3)

    assert rows_of(test) == rows_of(test_shuffled)


def test_random_split_holds_out_different_rows_within_a_profile():
    """Over many seeds, every row of a profile is held out at some point."""
    inter = Interactions.from_lists(
        users=[1] * 8, items=range(8), values=[3.0] * 8, times=range(8)
    )

    seen: set[int] = set()
    for seed in range(50):
        _, test = split_random(inter, test_size=0.25, seed=seed)
        assert len(test) == 2
        seen |= set(test.items.tolist())

    assert seen == set(range(8))
