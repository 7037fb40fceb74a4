"""The offline comparison's maths (``recommendations.engine.comparison``), no Django."""

import numpy as np
import pytest

from recommendations.engine.comparison import (
    Arm,
    compare,
    config_problems,
    paired_bootstrap,
    training_config_from,
    verdict,
)
from recommendations.engine.dataset import Interactions
from recommendations.engine.evaluation import accuracy_per_user, ranking_metrics
from recommendations.engine.experiment import TrainingConfig, evaluate
from recommendations.engine.splits import split_by_time

SMALL = {"n_factors": 4, "n_epochs": 5, "random_state": 0}


def test_the_interval_covers_a_known_difference_and_leaves_out_zero():
    rng = np.random.default_rng(1)
    a = rng.uniform(0.0, 1.0, 400)
    b = a + 0.05 + rng.normal(0.0, 0.05, 400)

    diff = paired_bootstrap(a, b)

    assert diff.difference == pytest.approx(np.mean(b - a))
    assert diff.a == pytest.approx(a.mean()) and diff.b == pytest.approx(b.mean())
    assert diff.low < 0.05 < diff.high
    assert diff.low > 0
    assert diff.n == 400


def test_the_95_percent_interval_covers_the_true_difference_about_95_times_in_100():
    rng = np.random.default_rng(2)
    covered = 0
    for trial in range(200):
        a = rng.uniform(0.0, 1.0, 80)
        b = a + 0.02 + rng.normal(0.0, 0.1, 80)
        diff = paired_bootstrap(a, b, resamples=1000, seed=trial)
        covered += diff.low <= 0.02 <= diff.high
    # Binomial(200, 0.95) lies in 180..198 with probability > 0.999; the
    # percentile bootstrap runs a little narrow on 80 units.
    assert 175 <= covered <= 199


def test_identical_inputs_differ_by_exactly_zero():
    a = np.array([0.1, 0.5, 0.0, 1.0, 0.25])

    diff = paired_bootstrap(a, a.copy())

    assert (diff.difference, diff.low, diff.high) == (0.0, 0.0, 0.0)


def test_the_same_inputs_and_seed_give_the_same_interval():
    rng = np.random.default_rng(3)
    a, b = rng.uniform(size=200), rng.uniform(size=200)

    first = paired_bootstrap(a, b, seed=7)
    again = paired_bootstrap(a, b, seed=7)
    other = paired_bootstrap(a, b, seed=8)

    assert first == again
    assert (other.low, other.high) != (first.low, first.high)
    assert other.difference == first.difference


def test_profiles_with_nothing_to_score_are_left_out_of_the_pairs():
    a = np.array([0.2, np.nan, 0.4, 0.6])
    b = np.array([0.3, 0.9, np.nan, 0.8])

    diff = paired_bootstrap(a, b)

    assert diff.n == 2
    assert diff.difference == pytest.approx(((0.3 - 0.2) + (0.8 - 0.6)) / 2)
    assert paired_bootstrap(np.array([np.nan]), np.array([1.0])).n == 0


def test_the_verdict_names_the_winner_only_when_the_interval_leaves_out_zero():
    row = {"name": "ndcg@10", "difference": 0.012, "low": 0.004, "high": 0.020}

    assert verdict([row]) == {
        "winner": "b",
        "leader": "b",
        "verdict": "B better on NDCG@10: +0.012 [+0.004, +0.020]",
    }
    a_wins = {**row, "difference": -0.012, "low": -0.020, "high": -0.004}
    assert (
        verdict([a_wins])["verdict"] == "A better on NDCG@10: -0.012 [-0.020, -0.004]"
    )
    unclear = {**row, "low": -0.002}
    assert verdict([unclear]) == {
        "winner": None,
        "leader": "b",
        "verdict": "No clear difference on NDCG@10: +0.012 [-0.002, +0.020] "
        "(the interval holds 0)",
    }


def test_per_profile_accuracy_is_what_the_means_are_made_of():
    recommended = np.array([[0, 1, 2], [3, 4, -1], [5, 6, 7]])
    relevant = [np.array([1, 9]), np.array([], dtype=np.int64), np.array([7])]

    per_profile = accuracy_per_user(recommended, relevant, k=3)

    # Profile 0: a hit at place 2 of 2 relevant; profile 2: a hit at place 3.
    assert per_profile["recall@3"][[0, 2]].tolist() == [0.5, 1.0]
    assert per_profile["ndcg@3"][0] == pytest.approx(
        (1 / np.log2(3)) / (1 + 1 / np.log2(3))
    )
    assert per_profile["ndcg@3"][2] == pytest.approx(0.5)
    assert all(np.isnan(values[1]) for values in per_profile.values())
    means = ranking_metrics(
        recommended,
        relevant,
        k=3,
        n_items=10,
        item_popularity=np.ones(10),
        n_train_users=3,
    )
    for name, values in per_profile.items():
        assert means[name] == pytest.approx(np.nanmean(values))


def _planted(n_users: int = 60, n_items: int = 40, seed: int = 0) -> Interactions:
    """Two taste groups: even profiles like even titles, odd ones odd titles."""
    rng = np.random.default_rng(seed)
    users, items, values, times = [], [], [], []
    for u in range(n_users):
        liked = np.arange(u % 2, n_items, 2)
        chosen = rng.choice(liked, size=12, replace=False)
        for t, i in enumerate(chosen):
            users.append(u + 1)
            items.append(int(i) + 100)
            values.append(float(rng.choice([3.5, 4.0, 4.5, 5.0])))
            times.append(1_000 + 10 * t + u)
    return Interactions.from_lists(users, items, values, times)


def _features() -> dict[int, np.ndarray]:
    """Three genres spread over the titles."""
    return {100 + i: np.eye(3)[i % 3] for i in range(40)}


def test_the_same_configuration_twice_differs_by_zero_on_every_metric():
    train, test = split_by_time(_planted())
    config = TrainingConfig(params=SMALL, ease_lambda=50.0, min_profiles=1)

    result = compare(
        train, test, Arm("A", config), Arm("B", config), item_features=_features()
    )

    assert {m["difference"] for m in result["metrics"]} == {0.0}
    assert result["winner"] is None
    assert result["verdict"].startswith("No clear difference on NDCG@10: +0.000")
    assert result["data"]["profiles_scored"] == 60


def test_each_side_scores_what_evaluate_reports_for_its_configuration():
    train, test = split_by_time(_planted())
    a = TrainingConfig(params=SMALL, ease_lambda=50.0, min_profiles=1)
    b = TrainingConfig(params=SMALL, ease_lambda=5000.0, min_profiles=1, blend=0.5)

    result = compare(train, test, Arm("A", a), Arm("B", b), item_features=_features())

    rows = {m["name"]: m for m in result["metrics"]}
    for side, config in (("a", a), ("b", b)):
        expected = evaluate(train, test, config, item_features=_features())
        for name in ("ndcg@10", "recall@10", "coverage", "diversity"):
            assert rows[name][side] == pytest.approx(expected["ranking"][name])
        assert rows["rmse"][side] == pytest.approx(expected["rating"]["rmse"])
    assert rows["ndcg@10"]["interval"] == "bootstrap"
    assert rows["ndcg@10"]["low"] <= rows["ndcg@10"]["difference"]
    assert rows["ndcg@10"]["difference"] <= rows["ndcg@10"]["high"]
    assert rows["coverage"]["interval"] == "difference only"
    assert rows["coverage"]["low"] is None
    assert rows["rmse"]["lower_is_better"] and not rows["ndcg@10"]["lower_is_better"]


def test_exploration_re_ranks_towards_more_varied_lists():
    train, test = split_by_time(_planted())
    config = TrainingConfig(params=SMALL, ease_lambda=50.0, min_profiles=1)
    # Each taste group's titles share one genre: its plain lists are all alike.
    one_genre_per_taste = {100 + i: np.eye(2)[i % 2] for i in range(40)}

    result = compare(
        train,
        test,
        Arm("A", config),
        Arm("B", config, exploration=100),
        item_features=one_genre_per_taste,
    )

    diversity = next(m for m in result["metrics"] if m["name"] == "diversity")
    assert diversity["b"] > diversity["a"]
    assert result["arms"]["b"]["exploration"] == 100


def test_a_stored_configuration_loads_with_unknown_keys_dropped_and_defaults_kept():
    config = training_config_from({"algorithm": "baseline", "retired_knob": 3})

    assert config == TrainingConfig(algorithm="baseline")


def test_configuration_problems_are_named_by_field():
    assert config_problems(TrainingConfig(params=SMALL)) == {}
    assert set(config_problems(TrainingConfig(algorithm="magic"))) == {"algorithm"}
    assert set(config_problems(TrainingConfig(params={"n_factorz": 3}))) == {"params"}
    assert config_problems(TrainingConfig(ease_lambda=-1.0, max_items=0)) == {
        "ease_lambda": "Must be a finite number, 0 or more.",
        "max_items": "Must be at least 1.",
    }
    assert set(config_problems(TrainingConfig(blend=float("nan")))) == {"blend"}
