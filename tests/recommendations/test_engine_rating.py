"""The rating model against Surprise itself, and fold-in against plain least squares.

Pure numpy and Surprise on small synthetic ratings (a low-rank taste structure
plus biases and noise), no database. Every fitted model's vectorised scores
are compared with the fitted Surprise algorithm's own ``estimate``.
"""

import numpy as np
import pytest

from recommendations.engine.dataset import Interactions, index_of
from recommendations.engine.rating import fit_rating_model

N_USERS, N_ITEMS = 120, 80
FIRST_USER, FIRST_ITEM = 1_000, 5_000


def synthetic_ratings(seed: int = 0, density: float = 0.35) -> Interactions:
    """Ratings on the 0.5–5.0 half-star scale from three hidden taste factors."""
    rng = np.random.default_rng(seed)
    taste = rng.normal(size=(N_USERS, 3))
    traits = rng.normal(size=(N_ITEMS, 3))
    user_bias = rng.normal(0.0, 0.3, N_USERS)
    item_bias = rng.normal(0.0, 0.5, N_ITEMS)
    full = (
        3.5
        + user_bias[:, None]
        + item_bias[None, :]
        + 0.6 * taste @ traits.T
        + rng.normal(0.0, 0.3, (N_USERS, N_ITEMS))
    )
    full = np.clip(np.round(full * 2) / 2, 0.5, 5.0)
    users, items = np.nonzero(rng.random((N_USERS, N_ITEMS)) < density)
    return Interactions.from_lists(
        users + FIRST_USER, items + FIRST_ITEM, full[users, items]
    )


@pytest.fixture(scope="module")
def ratings() -> Interactions:
    return synthetic_ratings()


@pytest.fixture(scope="module")
def converged_svd(ratings):
    """An SVD trained long enough for its user vectors to settle."""
    model, _ = fit_rating_model(
        ratings,
        algorithm="svd",
        params={"n_factors": 3, "n_epochs": 200, "lr_all": 0.01, "random_state": 0},
    )
    return model


@pytest.mark.parametrize(
    ("algorithm", "params"),
    [
        ("svd", {"n_factors": 4, "n_epochs": 10, "random_state": 0}),
        ("svd", {"n_factors": 4, "n_epochs": 10, "biased": False, "random_state": 0}),
        ("svdpp", {"n_factors": 4, "n_epochs": 5, "random_state": 0}),
        ("nmf", {"n_factors": 4, "n_epochs": 10, "random_state": 0}),
        ("nmf", {"n_factors": 4, "n_epochs": 10, "biased": True, "random_state": 0}),
        ("baseline", {"verbose": False}),
    ],
)
def test_scores_equal_surprises_own_estimates(ratings, algorithm, params):
    model, algo = fit_rating_model(ratings, algorithm=algorithm, params=params)
    rng = np.random.default_rng(1)
    profile_ids = rng.choice(np.unique(ratings.users), size=10, replace=False)
    title_ids = rng.choice(np.unique(ratings.items), size=5, replace=False)

    scores = model.scores(model.user_index(profile_ids), model.item_index(title_ids))

    trainset = algo.trainset
    expected = np.array(
        [
            [
                algo.estimate(
                    trainset.to_inner_uid(int(profile)),
                    trainset.to_inner_iid(int(title)),
                )
                for title in title_ids
            ]
            for profile in profile_ids
        ]
    )
    assert scores.shape == (10, 5)
    np.testing.assert_allclose(scores, expected, rtol=0, atol=1e-9)
    every_title = model.scores(model.user_index(profile_ids))
    np.testing.assert_allclose(
        every_title[:, model.item_index(title_ids)], expected, rtol=0, atol=1e-9
    )


def test_model_ids_are_the_sorted_distinct_ids_of_the_data(ratings):
    model, _ = fit_rating_model(
        ratings, algorithm="baseline", params={"verbose": False}
    )

    np.testing.assert_array_equal(model.user_ids, sorted(set(ratings.users.tolist())))
    np.testing.assert_array_equal(model.item_ids, sorted(set(ratings.items.tolist())))
    assert model.P.shape == (len(model.user_ids), 0)
    assert model.Q.shape == (len(model.item_ids), 0)


def test_index_of_returns_minus_one_for_unknown_ids():
    ids = np.array([3, 5, 9])

    np.testing.assert_array_equal(
        index_of(ids, np.array([5, 1, 10, 9, 4, 3])), [1, -1, -1, 2, -1, 0]
    )
    np.testing.assert_array_equal(index_of(np.array([], np.int64), [1, 2]), [-1, -1])
    assert len(index_of(ids, np.array([], np.int64))) == 0


def test_item_and_user_index_return_minus_one_for_unknown_ids(converged_svd):
    model = converged_svd
    known_title, known_profile = FIRST_ITEM + 7, FIRST_USER + 7

    np.testing.assert_array_equal(
        model.item_index(np.array([known_title, 1, FIRST_ITEM + N_ITEMS])),
        [7, -1, -1],
    )
    np.testing.assert_array_equal(
        model.user_index(np.array([FIRST_USER - 1, known_profile])), [-1, 7]
    )


def test_fold_in_solves_the_regularised_least_squares_problem(converged_svd):
    """Checked against numpy's lstsq on the ridge problem stacked as one system."""
    model = converged_svd
    item_rows = np.array([0, 4, 9, 17, 30, 41, 55])
    values = np.array([4.5, 2.0, 3.5, 5.0, 1.0, 3.0, 4.0])

    bu, p = model.fold_in(item_rows, values)

    design = np.column_stack([np.ones(len(item_rows)), model.Q[item_rows]])
    target = values - model.global_mean - model.bi[item_rows]
    width = design.shape[1]
    stacked = np.vstack([design, np.sqrt(model.fold_in_reg) * np.eye(width)])
    expected, *_ = np.linalg.lstsq(
        stacked, np.concatenate([target, np.zeros(width)]), rcond=None
    )
    assert bu == pytest.approx(expected[0], abs=1e-9)
    np.testing.assert_allclose(p, expected[1:], rtol=0, atol=1e-9)
    np.testing.assert_allclose(
        model.scores_for_vector(bu, p),
        model.global_mean + bu + model.bi + model.Q @ p,
        rtol=0,
        atol=1e-12,
    )


def test_fold_in_of_no_signals_is_the_average_profile(converged_svd):
    bu, p = converged_svd.fold_in(np.array([], np.int64), np.array([]))

    assert bu == 0.0
    np.testing.assert_array_equal(p, np.zeros(3))


def test_rating_a_title_five_lifts_the_titles_closest_to_it(converged_svd, ratings):
    """For every profile: rate the title it is predicted to like least 5.0.

    The score change on the 20 titles whose factors point most the same way as
    that title's (cosine of Q) must beat the change on the 20 pointing most the
    other way. The bias change is shared by all titles, so it cancels out.
    """
    model = converged_svd
    unit = model.Q / np.linalg.norm(model.Q, axis=1, keepdims=True)
    for profile in model.user_ids:
        own = ratings.users == profile
        item_rows = model.item_index(ratings.items[own])
        values = ratings.values[own]
        bu, p = model.fold_in(item_rows, values)
        before = model.scores_for_vector(bu, p)
        unrated = np.setdiff1d(np.arange(len(model.item_ids)), item_rows)
        title = unrated[np.argmin(before[unrated])]

        bu, p = model.fold_in(np.append(item_rows, title), np.append(values, 5.0))
        change = model.scores_for_vector(bu, p) - before

        by_closeness = np.argsort(-(unit @ unit[title]), kind="stable")
        by_closeness = by_closeness[by_closeness != title]
        nearest, farthest = by_closeness[:20], by_closeness[-20:]
        assert change[title] > 0
        assert change[nearest].mean() > change[farthest].mean(), profile


def test_fold_in_of_a_trained_profiles_own_rows_gives_its_trained_predictions(
    converged_svd, ratings
):
    """Close, not equal: Surprise's SGD regularises each rating (0.02 per row,
    not ``fold_in_reg``), moves biases and item factors together with the user
    vector and stops after a fixed number of epochs, whereas fold-in is the
    exact solution with the items held fixed. Correlation > 0.9 is the bar."""
    model = converged_svd
    for profile in model.user_ids:
        own = ratings.users == profile
        trained = model.scores(model.user_index(np.array([profile])))[0]
        bu, p = model.fold_in(model.item_index(ratings.items[own]), ratings.values[own])
        folded = model.scores_for_vector(bu, p)

        assert np.corrcoef(trained, folded)[0, 1] > 0.9, profile
        personal = np.corrcoef(trained - model.bi, folded - model.bi)[0, 1]
        assert personal > 0.9, profile


def test_unknown_algorithm_is_refused_naming_the_choices(ratings):
    with pytest.raises(ValueError, match=r"'knn'.*svd, svdpp, nmf, baseline"):
        fit_rating_model(ratings, algorithm="knn")


def test_empty_data_is_refused():
    with pytest.raises(ValueError, match="No training data"):
        fit_rating_model(Interactions.from_lists([], [], []))


@pytest.mark.parametrize(
    ("algorithm", "params"),
    [
        ("svd", {"n_factors": 4, "n_epochs": 10, "random_state": 0}),
        ("svdpp", {"n_factors": 4, "n_epochs": 3, "random_state": 0}),
        ("nmf", {"n_factors": 4, "n_epochs": 10, "random_state": 0}),
        ("baseline", {"verbose": False}),
    ],
)
def test_array_trainset_fits_the_model_surprises_own_trainset_fits(
    ratings, algorithm, params
):
    """The array-backed trainset is a memory saving only: Surprise trained on
    its own tuple Trainset (same dense inner ids) predicts the same (ALS and
    NMF sum per-title lists in another order: equal to the last bit or two)."""
    from collections import defaultdict

    from surprise import Trainset

    from recommendations.engine.rating import make_algorithm

    shuffled = ratings.subset(np.random.default_rng(3).permutation(len(ratings)))
    user_ids = sorted(set(shuffled.users.tolist()))
    item_ids = sorted(set(shuffled.items.tolist()))
    inner_user = {raw: n for n, raw in enumerate(user_ids)}
    inner_item = {raw: n for n, raw in enumerate(item_ids)}
    ur, ir = defaultdict(list), defaultdict(list)
    for u, i, r in zip(
        shuffled.users.tolist(),
        shuffled.items.tolist(),
        shuffled.values.tolist(),
        strict=True,
    ):
        ur[inner_user[u]].append((inner_item[i], r))
        ir[inner_item[i]].append((inner_user[u], r))
    theirs = make_algorithm(algorithm, dict(params))
    theirs.fit(
        Trainset(
            ur,
            ir,
            len(user_ids),
            len(item_ids),
            len(shuffled),
            (0.5, 5.0),
            inner_user,
            inner_item,
        )
    )

    _, ours = fit_rating_model(shuffled, algorithm=algorithm, params=params)

    pairs = [
        (int(u), int(i))
        for u, i in zip(shuffled.users[:40], shuffled.items[::7][:40], strict=True)
    ] + [(1, FIRST_ITEM), (FIRST_USER, 1)]
    expected = [theirs.predict(u, i).est for u, i in pairs]
    assert [ours.predict(u, i).est for u, i in pairs] == pytest.approx(
        expected, rel=0, abs=1e-12
    )
    if algorithm == "svd":  # reads nothing but all_ratings(): to the last bit
        assert [ours.predict(u, i).est for u, i in pairs] == expected
    assert ours.trainset.global_mean == theirs.trainset.global_mean
    assert [ours.predict(u, i).details for u, i in pairs] == [
        theirs.predict(u, i).details for u, i in pairs
    ]
