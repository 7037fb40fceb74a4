"""Signals to engine arrays: what training learns from and each profile's history.

The rule that turns signals into values is the engine's
(``engine.dataset.IMPLICIT_VALUES``); this module only reads the rows. Rows
are streamed from the database with a server-side cursor (``iterator``) a
chunk at a time into numpy arrays, so reading 25 million ratings holds the
arrays (about 30 bytes a row) and one chunk of Python tuples, never a Python
object per row.
"""

from collections.abc import Iterator
from itertools import islice
from pathlib import Path

import numpy as np
from django.db.models import Q, QuerySet

from activity.models import Feedback, Rating, TagApplication, ViewingEvent
from catalog.importers.movielens import (
    detect_layout,
    read_movies,
    read_ratings,
    read_tags,
)
from catalog.models import Title
from consent.policy import training_profiles
from recommendations.engine.content import ContentFeatures, TitleFacts, content_features
from recommendations.engine.dataset import (
    IMPLICIT_VALUES,
    NEGATIVE_SIGNALS,
    Interactions,
    implicit_value,
    viewing_signal,
)
from recommendations.engine.recommender import History

#: Rows fetched per round trip of the server-side cursor (and turned into
#: arrays at a time).
CHUNK_ROWS = 20_000

#: Each implicit signal's bit, so the signals on one (profile, title) combine
#: with a bitwise or; the engine's rule then values each combination.
_SIGNAL_BIT = {name: 1 << n for n, name in enumerate(sorted(IMPLICIT_VALUES))}
_NOT_INTERESTED = _SIGNAL_BIT["not_interested"]


def _combination_tables() -> tuple[np.ndarray, np.ndarray]:
    """Per combination of signal bits: its training value (NaN: none) and
    whether it is an explicit "no"."""
    size = 1 << len(_SIGNAL_BIT)
    values = np.full(size, np.nan)
    negative = np.zeros(size, dtype=bool)
    for bits in range(size):
        names = {name for name, bit in _SIGNAL_BIT.items() if bits & bit}
        value = implicit_value(names)
        if value is not None:
            values[bits] = value
        negative[bits] = bool(names & NEGATIVE_SIGNALS)
    return values, negative


_COMBINATION_VALUE, _COMBINATION_NEGATIVE = _combination_tables()


def _chunks(queryset: QuerySet, *fields: str) -> Iterator[list[tuple]]:
    rows = queryset.values_list(*fields).iterator(chunk_size=CHUNK_ROWS)
    while chunk := list(islice(rows, CHUNK_ROWS)):
        yield chunk


def _timestamps(column) -> np.ndarray:
    """Unix seconds (whole, as ``Interactions`` keeps them)."""
    return np.fromiter(
        (at.timestamp() for at in column), np.float64, len(column)
    ).astype(np.int64)


def _joined(parts: dict[str, list[np.ndarray]], key: str, dtype) -> np.ndarray:
    """One column from its chunks, letting go of the chunks as it goes (so the
    peak is the arrays plus one column, not twice the arrays)."""
    chunks = parts.pop(key)
    return np.concatenate(chunks) if chunks else np.zeros(0, dtype)


class _Signals:
    """Ratings and combined implicit signals of some profiles, as arrays.

    ``ratings``: one row per rating. ``implicit_*``: one row per (profile,
    title) with implicit signals, the signals as bits and the latest time.
    """

    def __init__(self, profiles: Q) -> None:
        available = Q(title__is_available=True)
        parts: dict[str, list[np.ndarray]] = {k: [] for k in ("p", "t", "v", "at")}
        for chunk in _chunks(
            Rating.objects.filter(profiles, available),
            "profile_id",
            "title_id",
            "value",
            "updated_at",
        ):
            p, t, v, at = zip(*chunk, strict=True)
            parts["p"].append(np.array(p, np.int64))
            parts["t"].append(np.array(t, np.int64))
            parts["v"].append(np.array(v, np.float64))
            parts["at"].append(_timestamps(at))
        self.ratings = Interactions(
            users=_joined(parts, "p", np.int64),
            items=_joined(parts, "t", np.int64),
            values=_joined(parts, "v", np.float64),
            times=_joined(parts, "at", np.int64),
        )

        signals: dict[str, list[np.ndarray]] = {k: [] for k in ("p", "t", "b", "at")}

        def add(p, t, bits, at) -> None:
            signals["p"].append(np.array(p, np.int64))
            signals["t"].append(np.array(t, np.int64))
            signals["b"].append(np.array(bits, np.int64))
            signals["at"].append(_timestamps(at))

        for chunk in _chunks(
            ViewingEvent.objects.filter(profiles, available),
            "profile_id",
            "title_id",
            "progress",
            "completed",
            "updated_at",
        ):
            p, t, progress, completed, at = zip(*chunk, strict=True)
            bits = [
                _SIGNAL_BIT[viewing_signal(g, c)]
                for g, c in zip(progress, completed, strict=True)
            ]
            add(p, t, bits, at)
        for chunk in _chunks(
            # "Show fewer like this" re-ranks rows only: not a training signal.
            Feedback.objects.filter(profiles, available, kind__in=list(_SIGNAL_BIT)),
            "profile_id",
            "title_id",
            "kind",
            "created_at",
        ):
            p, t, kind, at = zip(*chunk, strict=True)
            add(p, t, [_SIGNAL_BIT[k] for k in kind], at)
        p, t = _joined(signals, "p", np.int64), _joined(signals, "t", np.int64)
        bits, at = _joined(signals, "b", np.int64), _joined(signals, "at", np.int64)
        order = np.lexsort((t, p))
        p, t, bits, at = p[order], t[order], bits[order], at[order]
        starts = (
            np.flatnonzero(np.r_[True, (p[1:] != p[:-1]) | (t[1:] != t[:-1])])
            if len(p)
            else np.zeros(0, np.int64)
        )
        self.implicit_users = p[starts]
        self.implicit_items = t[starts]
        self.implicit_bits = np.bitwise_or.reduceat(bits, starts) if len(p) else bits
        self.implicit_times = np.maximum.reduceat(at, starts) if len(p) else at

    def interactions(self) -> Interactions:
        """Ratings, then implicit values where a pair has no rating; an
        explicit rating always wins."""
        value = _COMBINATION_VALUE[self.implicit_bits]
        keep = ~np.isnan(value)
        if len(self.ratings) and keep.any():
            width = int(max(self.ratings.items.max(), self.implicit_items.max())) + 1
            keep &= ~np.isin(
                self.implicit_users * width + self.implicit_items,
                self.ratings.users * width + self.ratings.items,
            )
        r = self.ratings
        if not keep.any():
            return r
        return Interactions(
            users=np.concatenate([r.users, self.implicit_users[keep]]),
            items=np.concatenate([r.items, self.implicit_items[keep]]),
            values=np.concatenate([r.values, value[keep]]),
            times=np.concatenate([r.times, self.implicit_times[keep]]),
            negative=np.concatenate(
                [r.negative, _COMBINATION_NEGATIVE[self.implicit_bits[keep]]]
            ),
        )


def training_dataset() -> Interactions:
    """Everything training may learn from: opted-out profiles, profiles in the
    non-profiling mode and unavailable titles left out."""
    return _Signals(training_profiles()).interactions()


def profile_histories(profile_ids: list[int]) -> list[History]:
    """Each profile's own signals (training opt-out does not matter here)."""
    signals = _Signals(Q(profile_id__in=profile_ids))
    inter = signals.interactions()
    not_interested = (signals.implicit_bits & _NOT_INTERESTED) != 0
    hidden_users = signals.implicit_users[not_interested]
    hidden_items = signals.implicit_items[not_interested]
    unavailable = np.array(
        Title.objects.filter(is_available=False).values_list("id", flat=True),
        dtype=np.int64,
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
                times=inter.times[mine],
                hidden=np.concatenate([hidden_items[hidden_users == pid], unavailable]),
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


def title_content_features() -> ContentFeatures:
    """Content features of every available title (``engine.content``): its
    genres, editorial tags and the tags viewers who allow training applied,
    year, runtime and kind. For the cold-start titles' content model."""
    genres: dict[int, list[str]] = {}
    for t, name in Title.genres.through.objects.filter(
        title__is_available=True
    ).values_list("title_id", "genre__name"):
        genres.setdefault(t, []).append(name)
    tags: dict[int, list[str]] = {}
    for t, name in Title.tags.through.objects.filter(
        title__is_available=True
    ).values_list("title_id", "tag__name"):
        tags.setdefault(t, []).append(name)
    for t, name in TagApplication.objects.filter(
        training_profiles(), title__is_available=True
    ).values_list("title_id", "tag__name"):
        tags.setdefault(t, []).append(name)
    titles = Title.objects.available().values_list(
        "id", "year", "runtime_minutes", "kind"
    )
    return content_features(
        TitleFacts(
            title_id=t,
            genres=genres.get(t, ()),
            tags=tags.get(t, ()),
            year=year,
            runtime_minutes=runtime,
            kind=kind,
        )
        for t, year, runtime, kind in titles.iterator(chunk_size=CHUNK_ROWS)
    )


def movielens_content_features(folder: Path) -> ContentFeatures:
    """The same features straight from MovieLens files: genres, the year in
    the title, tags.csv (no runtimes; every title a movie)."""
    layout = detect_layout(folder)
    tags: dict[int, list[str]] = {}
    for row in read_tags(layout):
        tags.setdefault(row.movie_id, []).append(row.tag)
    return content_features(
        TitleFacts(
            title_id=m.movie_id,
            genres=[g for g in m.genres if g != "(no genres listed)"],
            tags=tags.get(m.movie_id, ()),
            year=m.clean.year,
        )
        for m in read_movies(layout)
    )
