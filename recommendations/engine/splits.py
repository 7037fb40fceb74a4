"""Held-out splits of an :class:`Interactions`, per profile.

Two protocols, both stratified by profile so that every profile that is
evaluated is also known to the model at training time:

* :func:`split_by_time` is what the training pipeline evaluates on: each
  profile's latest rows are held out, so a model is judged on predicting what
  the viewer did *next* from what they did before, as it will be used. A
  random split would let the model learn from a viewer's future.
* :func:`split_random` is the usual MovieLens protocol (as in Microsoft
  Recommenders' ``python_stratified_split``), kept so that our numbers can be
  compared with published ones.

Both are vectorized: one sort by profile, then a rank within each profile's
block of rows; no Python loop over rows or profiles. Both return
``(train, test)`` with rows in their original order, and every input row in
exactly one of the two.

How many rows a profile with ``n`` rows holds out is
``clip(round_half_up(fraction * n), 1, n - 1)``: at least one, so every
eligible profile is tested, and at most ``n - 1``, so it is never absent from
training. Rounding is half-up (``floor(x + 0.5)``), not numpy's half-to-even,
so that e.g. 2 rows at a quarter hold out 1 and 6 rows at a quarter hold out 2
alike, as a reader would expect.
"""

import numpy as np

from .dataset import Interactions


def split_by_time(
    inter: Interactions, *, test_fraction: float = 0.2, min_rows: int = 5
) -> tuple[Interactions, Interactions]:
    """Each profile's latest ``test_fraction`` of rows to test, the rest to train.

    Rows are ordered within a profile by time, then by item id, so ties in
    time are broken the same way on every run and no profile ever has a row in
    train that is later than one of its rows in test. Profiles with fewer than
    ``min_rows`` rows are too short to judge and stay wholly in train.
    """
    _check_fraction("test_fraction", test_fraction)
    order = np.lexsort((inter.items, inter.times, inter.users))
    in_test = _hold_out_tail(inter.users[order], test_fraction, min_rows)
    return _scatter(inter, order, in_test)


def split_random(
    inter: Interactions, *, test_size: float = 0.25, seed: int = 0, min_rows: int = 2
) -> tuple[Interactions, Interactions]:
    """A random ``test_size`` of each profile's rows to test, the rest to train.

    Each profile's rows are put in a random order drawn from
    ``np.random.default_rng(seed)`` and the last ones held out. The random
    keys are drawn for the rows sorted by (profile, item), so the split
    depends on the seed and the set of rows, not on the order the rows came
    in. Profiles with fewer than ``min_rows`` rows stay wholly in train.
    """
    _check_fraction("test_size", test_size)
    canonical = np.lexsort((inter.items, inter.users))
    keys = np.random.default_rng(seed).random(len(inter))
    shuffled = np.lexsort((keys, inter.users[canonical]))
    order = canonical[shuffled]
    in_test = _hold_out_tail(inter.users[order], test_size, min_rows)
    return _scatter(inter, order, in_test)


def held_out_count(n_rows: np.ndarray, fraction: float, min_rows: int) -> np.ndarray:
    """How many of a profile's ``n_rows`` rows go to test (see module docstring)."""
    n_rows = np.asarray(n_rows, dtype=np.int64)
    wanted = np.floor(fraction * n_rows + 0.5).astype(np.int64)
    n_test = np.minimum(np.maximum(wanted, 1), n_rows - 1)
    return np.where(n_rows >= min_rows, n_test, 0)


def _hold_out_tail(
    sorted_users: np.ndarray, fraction: float, min_rows: int
) -> np.ndarray:
    """A mask over rows sorted by profile: the last few rows of each profile."""
    n = len(sorted_users)
    if n == 0:
        return np.zeros(0, dtype=bool)
    starts = np.flatnonzero(np.r_[True, sorted_users[1:] != sorted_users[:-1]])
    counts = np.diff(np.r_[starts, n])
    n_test = held_out_count(counts, fraction, min_rows)
    group = np.repeat(np.arange(len(starts)), counts)
    rank_from_end = np.repeat(starts + counts, counts) - np.arange(n)
    return rank_from_end <= n_test[group]


def _scatter(
    inter: Interactions, order: np.ndarray, sorted_in_test: np.ndarray
) -> tuple[Interactions, Interactions]:
    in_test = np.empty(len(inter), dtype=bool)
    in_test[order] = sorted_in_test
    return inter.subset(~in_test), inter.subset(in_test)


def _check_fraction(name: str, value: float) -> None:
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must be strictly between 0 and 1, got {value}.")
