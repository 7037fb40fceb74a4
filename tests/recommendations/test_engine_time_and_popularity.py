"""Time-aware ranking, the popularity correction, exposure metrics and the
validation that chooses their settings (no Django: runs in `make test-engine`)."""

import numpy as np
import pytest

from recommendations.engine.dataset import Interactions
from recommendations.engine.evaluation import (
    effective_catalog_size,
    exposure_metrics,
    gini,
    popularity_percentiles,
    short_head,
)
from recommendations.engine.experiment import TrainingConfig, evaluate
from recommendations.engine.ranking import (
    EaseFit,
    fit_ease,
    recency_weights,
    transition_matrix,
)
from recommendations.engine.recommender import History
from recommendations.engine.splits import split_by_time
from recommendations.engine.validation import choose_settings


def test_exposure_metrics_by_hand():
    assert gini(np.array([0, 0, 0, 10])) == pytest.approx(0.75)
    assert gini(np.array([3, 3, 3])) == 0.0
    assert effective_catalog_size(np.array([2, 2, 2, 2])) == pytest.approx(4.0)
    assert effective_catalog_size(np.array([0, 7, 0])) == pytest.approx(1.0)
    np.testing.assert_allclose(
        popularity_percentiles(np.array([5, 1, 3, 3])), [100.0, 0.0, 50.0, 50.0]
    )
    # 20 % of 20 interactions is 4: the most popular title alone passes it.
    np.testing.assert_array_equal(
        short_head(np.array([10, 5, 3, 2])), [True, False, False, False]
    )
    metrics = exposure_metrics(np.array([0, 0, 1, 3]), np.array([10, 5, 3, 2]), k=2)
    assert metrics["popularity_percentile@2"] == pytest.approx(
        (100 + 100 + 200 / 3 + 0) / 4
    )
    assert metrics["long_tail_share@2"] == pytest.approx(0.5)
    assert metrics["gini@2"] == pytest.approx(gini(np.array([2, 1, 0, 1])))


def test_recency_weights_halve_every_half_life_from_the_newest_row():
    users = np.array([1, 1, 1, 2, 2])
    times = np.array([30, 10, 20, 5, 5])
    items = np.array([7, 8, 9, 1, 2])

    weights = recency_weights(users, times, items, half_life=1.0)

    # Profile 1: newest (t=30) weighs 1, then 1/2 (t=20), 1/4 (t=10). Profile
    # 2's rows share a time: the higher title id counts as the newer.
    np.testing.assert_allclose(weights, [1.0, 0.25, 0.5, 0.5, 1.0])
    np.testing.assert_array_equal(recency_weights(users, times, items, None), 1.0)


def test_transition_matrix_counts_what_follows_within_the_window():
    # One profile watched 0, 1, 2 in that order (times), another 2 then 0.
    T = transition_matrix(
        np.array([1, 1, 1, 2, 2]),
        np.array([2, 0, 1, 2, 0]),
        np.array([3, 1, 2, 1, 2]),
        3,
        window=1,
    ).toarray()
    expected = np.zeros((3, 3))
    expected[0, 1] = expected[1, 2] = expected[2, 0] = 1.0
    np.testing.assert_array_equal(T, expected)


def _chains(n_users=300, n_chains=12, chain_length=15, watched=8, seed=0):
    """Each profile watches ``watched`` consecutive titles of one chain (a
    series in order), starting anywhere: what comes next is the following
    title of the same chain."""
    rng = np.random.default_rng(seed)
    users, items, times = [], [], []
    for u in range(n_users):
        chain = rng.integers(n_chains)
        start = rng.integers(chain_length - watched + 1)
        for step in range(watched):
            users.append(u)
            items.append(chain * chain_length + start + step)
            times.append(1_000 * u + step)
    return Interactions.from_lists(users, items, np.full(len(users), 4.0), times)


def test_plain_ease_lambda_matches_the_closed_form():
    inter = _chains()
    model = fit_ease(inter, lam=50.0)
    fit = EaseFit(inter)
    X = fit.engagement().toarray()
    P = np.linalg.inv(X.T @ X + 50.0 * np.eye(X.shape[1]))
    B = P / -np.diag(P)[None, :]
    np.fill_diagonal(B, 0.0)
    np.testing.assert_allclose(model.B, B, atol=1e-4)


def test_on_series_watched_in_order_validation_turns_time_on_and_it_pays():
    inter = _chains()
    train, test = split_by_time(inter, test_fraction=0.25)
    plain = TrainingConfig(blend=0.0, ease_lambda=50.0)

    chosen, report = choose_settings(train, plain)
    timeless = evaluate(train, test, plain, cold_viewers=())
    aware = evaluate(train, test, chosen, cold_viewers=())

    assert chosen.recency_half_life or chosen.sequence_weight > 0
    assert report["chosen"]["ease_lambda"] == chosen.ease_lambda
    assert all("ndcg@10" in row for row in report["tried"])
    assert aware["ranking"]["ndcg@10"] > timeless["ranking"]["ndcg@10"] + 0.05


def test_validation_reads_only_the_training_rows():
    """Rows outside ``train`` cannot change the choice: it is made from
    ``train`` alone (the test rows are not even passed)."""
    inter = _chains(seed=3)
    train, _ = split_by_time(inter, test_fraction=0.25)
    config = TrainingConfig(blend=0.0, ease_lambda=50.0)

    first, _ = choose_settings(train, config)
    again, _ = choose_settings(train, config)

    assert first == again


def _zipf(n_users=400, n_items=120, per_user=20, seed=0):
    """Popular titles are watched by everyone; each profile also has a taste
    for one of four niches of the tail."""
    rng = np.random.default_rng(seed)
    popularity = 1.0 / np.arange(1, n_items + 1) ** 0.8
    users, items = [], []
    for u in range(n_users):
        niche = np.zeros(n_items)
        niche[40 + (u % 4) * 20 : 60 + (u % 4) * 20] = 0.05
        p = popularity + niche
        chosen = rng.choice(n_items, per_user, replace=False, p=p / p.sum())
        users += [u] * per_user
        items += chosen.tolist()
    times = rng.integers(0, 10_000, len(users))
    return Interactions.from_lists(users, items, np.full(len(users), 4.0), times)


def test_the_popularity_correction_lowers_the_popularity_of_what_is_recommended():
    inter = _zipf()
    train, test = split_by_time(inter)
    plain = evaluate(train, test, TrainingConfig(blend=0.0), cold_viewers=())
    corrected = evaluate(
        train, test, TrainingConfig(blend=0.0, popularity_beta=0.5), cold_viewers=()
    )

    key = "popularity_percentile@10"
    assert corrected["ranking"][key] < plain["ranking"][key] - 2
    assert (
        corrected["ranking"]["long_tail_share@10"]
        > plain["ranking"]["long_tail_share@10"]
    )


def test_evaluate_reports_the_chosen_settings_and_cold_viewers():
    inter = _zipf(seed=1)
    train, test = split_by_time(inter)

    result = evaluate(
        train,
        test,
        TrainingConfig(blend=0.0, validate=True),
        cold_viewers=(3, 5),
    )

    chosen = result["validation"]["chosen"]
    assert result["config"]["ease_lambda"] == chosen["ease_lambda"]
    assert result["config"]["popularity_beta"] == chosen["popularity_beta"]
    assert set(result["cold_viewers"]) == {"3", "5"}
    assert result["cold_viewers"]["3"]["profiles"] > 0
    assert 0 <= result["cold_viewers"]["3"]["ndcg@10"] <= 1
    assert 0 < result["data"]["history_popularity_percentile"] < 100


def test_a_fresh_row_counts_most_when_the_model_has_a_half_life():
    inter = _chains()
    from recommendations.engine.experiment import fit_recommender

    model, _ = fit_recommender(
        inter, TrainingConfig(blend=0.0, ease_lambda=50.0, recency_half_life=0.5)
    )
    # Two titles from two different chains; the later one decides.
    history = History(
        profile_id=-1,
        items=np.array([7, 37]),
        values=np.array([4.0, 4.0]),
        hidden=np.zeros(0, np.int64),
        times=np.array([100, 200]),
        use_trained_vector=False,
    )
    newer_last = model.candidates([history], count=3)[0].title_ids
    older_last = model.candidates(
        [History(**{**history.__dict__, "times": np.array([200, 100])})], count=3
    )[0].title_ids

    assert newer_last[0] // 15 == 37 // 15  # the chain of the newest title
    assert older_last[0] // 15 == 0
