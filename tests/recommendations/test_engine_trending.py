"""Trending's decay (``engine.trending``), against a plain loop over datetimes."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from recommendations.engine.trending import trending_scores

NOW = datetime(2018, 9, 24, 12, 0, tzinfo=UTC)
WEEK = timedelta(days=7)


def by_hand(now, events, half_life, horizon) -> dict[int, float]:
    """The rule written out: each event weighs 0.5 ** (age / half-life); events
    more than ``horizon`` half-lives old count for nothing."""
    scores: dict[int, float] = {}
    for title_id, at in events:
        age = now - at
        if age > horizon * half_life:
            continue
        scores[title_id] = scores.get(title_id, 0.0) + 0.5 ** (age / half_life)
    return scores


def scores_of(now, events, *, half_life_days=7.0, horizon=8) -> dict[int, float]:
    title_ids, scores = trending_scores(
        now.timestamp(),
        np.array([t for t, _ in events], dtype=np.int64),
        np.array([at.timestamp() for _, at in events]),
        half_life_days=half_life_days,
        horizon=horizon,
    )
    return dict(zip(title_ids.tolist(), scores.tolist(), strict=True))


def test_a_weight_halves_every_half_life():
    events = [
        (1, NOW),
        (2, NOW - WEEK),
        (2, NOW - WEEK),
        (2, NOW - WEEK),
        (3, NOW - 2 * WEEK),
    ]

    assert scores_of(NOW, events) == {1: 1.0, 2: 1.5, 3: 0.25}


def test_events_past_the_horizon_count_for_nothing_and_the_edge_counts():
    events = [(1, NOW - 8 * WEEK), (2, NOW - 8 * WEEK - timedelta(seconds=1))]

    assert scores_of(NOW, events) == {1: 0.5**8}


def test_titles_come_back_in_id_order_with_their_sums():
    events = [(30, NOW), (10, NOW - timedelta(days=3)), (30, NOW - timedelta(days=1))]

    title_ids, scores = trending_scores(
        NOW.timestamp(),
        np.array([t for t, _ in events]),
        np.array([at.timestamp() for _, at in events]),
        half_life_days=7,
        horizon=8,
    )

    np.testing.assert_array_equal(title_ids, [10, 30])
    assert title_ids.dtype == np.int64
    assert scores.tolist() == pytest.approx([0.5 ** (3 / 7), 1 + 0.5 ** (1 / 7)])


def test_no_events_no_scores():
    title_ids, scores = trending_scores(
        NOW.timestamp(), np.zeros(0), np.zeros(0), half_life_days=7, horizon=8
    )

    assert title_ids.tolist() == [] and scores.tolist() == []


@pytest.mark.parametrize(("half_life_days", "horizon"), [(7, 8), (1.5, 3), (30, 2)])
def test_random_events_match_the_loop(half_life_days, horizon):
    rng = np.random.default_rng(3)
    events = [
        (int(t), NOW - timedelta(seconds=int(s)))
        for t, s in zip(
            rng.integers(1, 40, 500), rng.integers(0, 120 * 86_400, 500), strict=True
        )
    ]

    got = scores_of(NOW, events, half_life_days=half_life_days, horizon=horizon)

    expected = by_hand(NOW, events, timedelta(days=half_life_days), horizon)
    assert got.keys() == expected.keys()
    for title_id, score in expected.items():
        assert got[title_id] == pytest.approx(score, rel=1e-12)
