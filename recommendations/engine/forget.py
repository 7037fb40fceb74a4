"""Forgetting profiles: a model's arrays without some profiles' own rows.

A trained model holds one row per training profile (its id, its bias and,
for the factor models, its vector); everything else is per title. Erasing a
profile's data takes its row out of the serving arrays, so the profile is
served by fold-in from what it still has, and no file of the model names it.
The per-title weights keep what they learnt from everybody until the next
training, which no longer sees the erased data.
"""

import numpy as np

#: Arrays aligned with ``user_ids`` (one entry per training profile).
PER_PROFILE_ARRAYS = ("user_ids", "bu", "P")


def holds_profiles(user_ids: np.ndarray, profile_ids: np.ndarray) -> np.ndarray:
    """The ``profile_ids`` that have a row in a model with these ``user_ids``."""
    wanted = np.asarray(profile_ids, dtype=np.int64)
    return wanted[np.isin(wanted, user_ids)]


def without_profiles(
    arrays: dict[str, np.ndarray], profile_ids: np.ndarray
) -> tuple[dict[str, np.ndarray], int]:
    """``arrays`` (as ``Recommender.to_arrays`` makes them) minus the profiles' rows.

    Returns the new arrays and how many profile rows were dropped; with none
    dropped the same dict comes back. ``user_ids`` stays sorted, as
    ``index_of`` needs.
    """
    user_ids = arrays["user_ids"]
    drop = np.isin(user_ids, np.asarray(profile_ids, dtype=np.int64))
    dropped = int(drop.sum())
    if not dropped:
        return arrays, 0
    keep = ~drop
    out = dict(arrays)
    for name in PER_PROFILE_ARRAYS:
        if name in out and len(out[name]) == len(user_ids):
            out[name] = out[name][keep]
    return out, dropped
