"""Re-ranking measured on ml-latest-small: what exploration and calibration do to
real candidate lists, and what they cost in accuracy.

EASE is fitted (engine only, no database) on a random 80 % of the ratings;
for 200 profiles drawn with a fixed seed, each profile's top 300 unseen
titles are its candidates, as the site stores them, and the home page shows
the first 20 after re-ranking. The figures are printed (run with ``-s``).
"""

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from recommendations.engine.dataset import Interactions, index_of
from recommendations.engine.ranking import engagement_matrix, fit_ease
from recommendations.engine.rerank import (
    calibrate,
    exploration_lambda,
    genre_distribution,
    intra_list_diversity,
    kl_divergence,
    mmr,
)

PROFILES = 200
CANDIDATES = 300
SHOWN = 20
SEED = 7


@dataclass(frozen=True)
class Profile:
    scores: np.ndarray  # the candidates' ranking scores, best first
    features: np.ndarray  # the candidates' genre rows
    title_ids: np.ndarray
    history_mix: np.ndarray  # genre distribution of the profile's training titles
    held_out: frozenset[int]


def read_movielens(folder: Path) -> tuple[np.ndarray, dict[int, list[str]]]:
    ratings = np.loadtxt(folder / "ratings.csv", delimiter=",", skiprows=1)
    genres: dict[int, list[str]] = {}
    with open(folder / "movies.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            genres[int(row["movieId"])] = [
                g for g in row["genres"].split("|") if g != "(no genres listed)"
            ]
    return ratings, genres


@pytest.fixture(scope="module")
def profiles(ml_latest_small) -> list[Profile]:
    ratings, genres = read_movielens(ml_latest_small)
    rng = np.random.default_rng(SEED)
    test = rng.random(len(ratings)) < 0.2
    train = ratings[~test]
    inter = Interactions.from_lists(
        train[:, 0].astype(np.int64), train[:, 1].astype(np.int64), train[:, 2]
    )
    model = fit_ease(inter, max_items=3000)

    names = sorted({g for gs in genres.values() for g in gs})
    column = {g: n for n, g in enumerate(names)}
    title_features = {
        t: np.bincount([column[g] for g in gs], minlength=len(names)).astype(float)
        for t, gs in genres.items()
    }
    candidate_features = np.array([title_features[int(t)] for t in model.item_ids])

    chosen = np.sort(rng.choice(np.unique(inter.users), PROFILES, replace=False))
    rows = index_of(model.item_ids, inter.items)
    users = index_of(chosen, inter.users)
    mine = (rows >= 0) & (users >= 0)
    X = engagement_matrix(
        users[mine], rows[mine], inter.negative[mine], (PROFILES, len(model.item_ids))
    )
    scores = np.asarray(X.astype(np.float32) @ model.B, dtype=np.float64)
    scores[X.nonzero()] = -np.inf
    top = np.argsort(-scores, axis=1, kind="stable")[:, :CANDIDATES]

    result = []
    for n, profile_id in enumerate(chosen):
        history = inter.items[inter.users == profile_id]
        held_out = ratings[test & (ratings[:, 0] == profile_id), 1].astype(np.int64)
        result.append(
            Profile(
                scores=scores[n, top[n]],
                features=candidate_features[top[n]],
                title_ids=model.item_ids[top[n]],
                history_mix=genre_distribution(
                    np.array([title_features[int(t)] for t in history])
                ),
                held_out=frozenset(held_out.tolist()),
            )
        )
    return result


def recall(profiles: list[Profile], picks: list[np.ndarray]) -> float:
    """Mean recall@20 of held-out titles, over profiles with any held out."""
    values = [
        len(p.held_out & set(p.title_ids[picked].tolist()))
        / min(len(p.held_out), SHOWN)
        for p, picked in zip(profiles, picks, strict=True)
        if p.held_out
    ]
    return float(np.mean(values))


def by_score(p: Profile) -> np.ndarray:
    return np.arange(SHOWN)


def test_maximum_exploration_makes_the_top_20_measurably_more_diverse(profiles):
    lowest = [
        mmr(p.scores, p.features, lam=exploration_lambda(0), k=SHOWN) for p in profiles
    ]
    highest = [
        mmr(p.scores, p.features, lam=exploration_lambda(100), k=SHOWN)
        for p in profiles
    ]
    default = [
        mmr(p.scores, p.features, lam=exploration_lambda(20), k=SHOWN) for p in profiles
    ]

    def diversity(picks):
        return float(
            np.mean(
                [
                    intra_list_diversity(p.features[picked])
                    for p, picked in zip(profiles, picks, strict=True)
                ]
            )
        )

    at_0, at_20, at_100 = diversity(lowest), diversity(default), diversity(highest)
    print(
        f"\nintra-list diversity of the top {SHOWN}: exploration 0 {at_0:.4f}, "
        f"20 {at_20:.4f}, 100 {at_100:.4f}; recall@{SHOWN} "
        f"{recall(profiles, lowest):.4f}, {recall(profiles, default):.4f}, "
        f"{recall(profiles, highest):.4f}"
    )
    assert all(picked.tolist() == list(range(SHOWN)) for picked in lowest), (
        "exploration 0 must keep the model's order"
    )
    assert at_100 - at_0 > 0.05
    assert at_0 < at_20 < at_100


def test_calibration_brings_the_top_20_genre_mix_close_to_the_history(profiles):
    calibrated = [
        calibrate(p.scores, p.features, p.history_mix, k=SHOWN) for p in profiles
    ]

    def mean_kl(picks):
        return float(
            np.mean(
                [
                    kl_divergence(p.history_mix, genre_distribution(p.features[picked]))
                    for p, picked in zip(profiles, picks, strict=True)
                ]
            )
        )

    before = mean_kl([by_score(p) for p in profiles])
    after = mean_kl(calibrated)
    print(
        f"\nmean KL(history || top {SHOWN}): by score {before:.4f}, calibrated "
        f"{after:.4f} ({1 - after / before:.1%} lower)"
    )
    assert after <= 0.7 * before


def test_calibration_and_default_exploration_cost_little_accuracy(profiles):
    plain = recall(profiles, [by_score(p) for p in profiles])
    calibrated = recall(
        profiles,
        [calibrate(p.scores, p.features, p.history_mix, k=SHOWN) for p in profiles],
    )
    explored = recall(
        profiles,
        [
            mmr(p.scores, p.features, lam=exploration_lambda(20), k=SHOWN)
            for p in profiles
        ],
    )
    print(
        f"\nrecall@{SHOWN}: by score {plain:.4f}, calibrated {calibrated:.4f}, "
        f"exploration 20 {explored:.4f}"
    )
    assert calibrated >= 0.93 * plain
    assert explored >= 0.97 * plain
