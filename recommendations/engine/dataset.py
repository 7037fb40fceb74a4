"""Training data as flat numpy arrays, and the rule that turns signals into values.

An :class:`Interactions` holds one (profile, title, value, time) per row. The
ids are the database ids of profiles and titles; models map them to dense
indices themselves. No Django here: services build these arrays from the ORM.
"""

from dataclasses import dataclass

import numpy as np

#: The one rule for implicit feedback, on the 0.5–5.0 rating scale. An explicit
#: rating always wins over any implicit signal for the same profile and title;
#: among implicit signals the strongest statement wins, in this order:
#: "not interested" (a clear no), thumbs, an onboarding pick, then viewing.
IMPLICIT_VALUES = {
    "not_interested": 1.0,
    "thumbs_down": 1.5,
    "thumbs_up": 4.5,
    "pick": 4.0,
    "completed": 4.0,  # watched past the completion mark, never rated
    "watched_half": 3.0,  # stopped between half way and the completion mark
    "abandoned": 2.0,  # stopped before half way
}
_IMPLICIT_PRECEDENCE = ("not_interested", "thumbs_down", "thumbs_up", "pick")
#: Signals that say "no" outright; they push similar titles down in ranking.
NEGATIVE_SIGNALS = frozenset({"not_interested", "thumbs_down"})


def viewing_signal(progress: float, completed: bool) -> str:
    if completed:
        return "completed"
    return "watched_half" if progress >= 0.5 else "abandoned"


def implicit_value(signals: set[str]) -> float | None:
    """The training value of a set of implicit signals on one title, or None."""
    for name in _IMPLICIT_PRECEDENCE:
        if name in signals:
            return IMPLICIT_VALUES[name]
    viewing = [IMPLICIT_VALUES[s] for s in signals if s in IMPLICIT_VALUES]
    return max(viewing) if viewing else None


@dataclass(frozen=True)
class Interactions:
    """Parallel arrays, one row per (profile, title) pair."""

    users: np.ndarray  # int64 profile ids
    items: np.ndarray  # int64 title ids
    values: np.ndarray  # float64, 0.5..5.0
    times: np.ndarray  # int64 unix seconds
    #: True where the row is an explicit "no" (not interested, thumbs down),
    #: as opposed to a low rating, which still says the title was watched.
    negative: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.users)
        if not (len(self.items) == len(self.values) == len(self.times) == n):
            raise ValueError("Interactions arrays must have the same length.")
        if self.negative is None:
            object.__setattr__(self, "negative", np.zeros(n, dtype=bool))
        elif len(self.negative) != n:
            raise ValueError("Interactions arrays must have the same length.")

    def __len__(self) -> int:
        return len(self.users)

    @classmethod
    def from_lists(
        cls, users, items, values, times=None, negative=None
    ) -> "Interactions":
        users = np.asarray(users, dtype=np.int64)
        return cls(
            users=users,
            items=np.asarray(items, dtype=np.int64),
            values=np.asarray(values, dtype=np.float64),
            times=(
                np.zeros(len(users), dtype=np.int64)
                if times is None
                else np.asarray(times, dtype=np.int64)
            ),
            negative=None if negative is None else np.asarray(negative, dtype=bool),
        )

    def subset(self, mask: np.ndarray) -> "Interactions":
        return Interactions(
            self.users[mask],
            self.items[mask],
            self.values[mask],
            self.times[mask],
            self.negative[mask],
        )


def index_of(ids: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Positions of ``wanted`` in the sorted, unique ``ids``; -1 where absent."""
    wanted = np.asarray(wanted, dtype=np.int64)
    if len(ids) == 0:
        return np.full(len(wanted), -1, dtype=np.int64)
    pos = np.clip(np.searchsorted(ids, wanted), 0, len(ids) - 1)
    return np.where(ids[pos] == wanted, pos, -1)
