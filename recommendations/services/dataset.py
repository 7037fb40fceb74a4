"""Signals to engine arrays: what training learns from and each profile's history.

The rule that turns signals into values is the engine's
(``engine.dataset.IMPLICIT_VALUES``); this module only reads the rows.
"""

from pathlib import Path

import numpy as np
from django.db.models import Q

from activity.models import Feedback, Rating, ViewingEvent
from catalog.importers.movielens import detect_layout, read_movies, read_ratings
from catalog.models import Title
from recommendations.engine.dataset import (
    NEGATIVE_SIGNALS,
    Interactions,
    implicit_value,
    viewing_signal,
)
from recommendations.engine.recommender import History


def _signal_rows(profiles: Q) -> tuple[dict, dict]:
    """Ratings and implicit signals of the matching profiles on available titles.

    Returns ``{(profile, title): (value, time)}`` for ratings and
    ``{(profile, title): (set of signal names, time)}`` for the rest.
    """
    available = Q(title__is_available=True)
    ratings = {
        (p, t): (v, at.timestamp())
        for p, t, v, at in Rating.objects.filter(profiles, available).values_list(
            "profile_id", "title_id", "value", "updated_at"
        )
    }
    implicit: dict[tuple[int, int], tuple[set[str], float]] = {}

    def add(key, name, at) -> None:
        names, latest = implicit.setdefault(key, (set(), 0.0))
        names.add(name)
        implicit[key] = (names, max(latest, at.timestamp()))

    for p, t, progress, completed, at in ViewingEvent.objects.filter(
        profiles, available
    ).values_list("profile_id", "title_id", "progress", "completed", "updated_at"):
        add((p, t), viewing_signal(progress, completed), at)
    for p, t, kind, at in Feedback.objects.filter(profiles, available).values_list(
        "profile_id", "title_id", "kind", "created_at"
    ):
        add((p, t), kind, at)
    return ratings, implicit


def _to_interactions(ratings: dict, implicit: dict) -> Interactions:
    users, items, values, times, negative = [], [], [], [], []
    for (p, t), (value, at) in ratings.items():
        users.append(p), items.append(t), values.append(value), times.append(at)
        negative.append(False)
    for (p, t), (names, at) in implicit.items():
        value = implicit_value(names)
        if (p, t) in ratings or value is None:
            continue
        users.append(p), items.append(t), values.append(value), times.append(at)
        negative.append(bool(names & NEGATIVE_SIGNALS))
    return Interactions.from_lists(users, items, values, times, negative)


def training_dataset() -> Interactions:
    """Everything training may learn from: opted-out profiles and unavailable titles left out."""
    return _to_interactions(*_signal_rows(Q(profile__allow_training=True)))


def profile_histories(profile_ids: list[int]) -> list[History]:
    """Each profile's own signals (training opt-out does not matter here)."""
    ratings, implicit = _signal_rows(Q(profile_id__in=profile_ids))
    inter = _to_interactions(ratings, implicit)
    hidden_by: dict[int, list[int]] = {}
    for (p, t), (names, _) in implicit.items():
        if "not_interested" in names:
            hidden_by.setdefault(p, []).append(t)
    unavailable = list(
        Title.objects.filter(is_available=False).values_list("id", flat=True)
    )
    out = []
    for pid in profile_ids:
        mine = inter.users == pid
        out.append(
            History(
                profile_id=pid,
                items=inter.items[mine],
                values=inter.values[mine],
                negative=inter.negative[mine],
                hidden=np.array(hidden_by.get(pid, []) + unavailable, dtype=np.int64),
            )
        )
    return out


def genre_features() -> dict[int, np.ndarray]:
    """Title id -> one-hot genres, for intra-list diversity."""
    through = Title.genres.through.objects.values_list("title_id", "genre_id")
    pairs = list(through)
    genre_ids = sorted({g for _, g in pairs})
    column = {g: n for n, g in enumerate(genre_ids)}
    out: dict[int, np.ndarray] = {}
    for t, g in pairs:
        out.setdefault(t, np.zeros(len(genre_ids)))[column[g]] = 1.0
    return out


def movielens_interactions(folder: Path) -> tuple[Interactions, dict[int, np.ndarray]]:
    """Ratings and genre features straight from MovieLens files, for offline evaluation."""
    layout = detect_layout(folder)
    users, items, values, times = [], [], [], []
    for row in read_ratings(layout):
        users.append(row.user_id), items.append(row.movie_id)
        values.append(row.value), times.append(int(row.at.timestamp()))
    movies = list(read_movies(layout))
    genres = sorted({g for m in movies for g in m.genres})
    column = {g: n for n, g in enumerate(genres)}
    features = {}
    for m in movies:
        vector = np.zeros(len(genres))
        vector[[column[g] for g in m.genres]] = 1.0
        features[m.movie_id] = vector
    return Interactions.from_lists(users, items, values, times), features
