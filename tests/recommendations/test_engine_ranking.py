"""EASE on hand-made data, and against its closed form written out with numpy.

Pure numpy and scipy, no database. The toy has two groups of five titles,
each watched together by its own six profiles (each profile skips one title
of its group), and one profile that watched one title of each group.
"""

import numpy as np
import pytest

from recommendations.engine.dataset import Interactions
from recommendations.engine.ranking import engagement_matrix, fit_ease

GROUP_A = [101, 102, 103, 104, 105]
GROUP_B = [201, 202, 203, 204, 205]


def two_groups(extra_rows=()) -> Interactions:
    rows = []
    for n in range(6):
        rows += [(n + 1, t) for k, t in enumerate(GROUP_A) if k != n % 5]
        rows += [(n + 7, t) for k, t in enumerate(GROUP_B) if k != n % 5]
    rows += [(13, 105), (13, 205)]
    rows += [(profile, title) for profile, title, _ in extra_rows]
    negative = [False] * (len(rows) - len(extra_rows))
    negative += [no for _, _, no in extra_rows]
    users, items = zip(*rows, strict=True)
    return Interactions.from_lists(
        users, items, np.full(len(rows), 4.0), negative=negative
    )


def ranking_scores(model, title_ids, negative=None) -> dict[int, float]:
    """A profile's EASE scores by title id, as the recommender computes them."""
    cols = np.searchsorted(model.item_ids, title_ids)
    x = engagement_matrix(
        np.zeros(len(cols), dtype=np.int64),
        cols,
        np.zeros(len(cols), bool) if negative is None else np.asarray(negative),
        (1, len(model.item_ids)),
    )
    scores = np.asarray(x @ model.B, dtype=np.float64)[0]
    return dict(zip(model.item_ids.tolist(), scores.tolist(), strict=True))


def test_a_profile_of_group_a_gets_group_a_ranked_above_group_b():
    model = fit_ease(two_groups(), lam=1.0)

    scores = ranking_scores(model, [101, 102])

    unseen_a = [scores[t] for t in (103, 104, 105)]
    all_b = [scores[t] for t in GROUP_B]
    assert min(unseen_a) > max(all_b)


def test_weights_have_a_zero_diagonal():
    model = fit_ease(two_groups(), lam=1.0)

    assert model.B.shape == (10, 10)
    assert model.B.dtype == np.float32
    np.testing.assert_array_equal(np.diag(model.B), np.zeros(10))


def test_titles_seen_by_fewer_than_min_profiles_are_left_out():
    rare = [(1, 900, False), (2, 900, False)]
    said_no = [(1, 901, False), (2, 901, False), (3, 901, True), (4, 901, True)]
    inter = two_groups(rare + said_no)

    model = fit_ease(inter, lam=1.0, min_profiles=3)

    # 901 has four rows, but two are "not interested": only two engaged.
    np.testing.assert_array_equal(model.item_ids, sorted(GROUP_A + GROUP_B))
    assert 900 in fit_ease(inter, lam=1.0, min_profiles=2).item_ids


def test_max_items_keeps_the_most_engaged_with_titles():
    # Engaged profiles per title: 10 -> 3, 11 -> 7, 12 -> 4, 13 -> 6, 14 -> 5.
    counts = {10: 3, 11: 7, 12: 4, 13: 6, 14: 5}
    users = [p for c in counts.values() for p in range(c)]
    items = [t for t, c in counts.items() for _ in range(c)]
    inter = Interactions.from_lists(users, items, np.full(len(users), 4.0))

    model = fit_ease(inter, lam=1.0, min_profiles=1, max_items=3)

    np.testing.assert_array_equal(model.item_ids, [11, 13, 14])
    assert model.B.shape == (3, 3)


def test_max_items_keeps_the_most_engaged_with_titles_when_counts_tie():
    # Titles 10, 11 and 12 tie with 4 profiles each at the cut; 13 has 9.
    counts = {10: 4, 11: 4, 12: 4, 13: 9}
    users = [p for c in counts.values() for p in range(c)]
    items = [t for t, c in counts.items() for _ in range(c)]
    inter = Interactions.from_lists(users, items, np.full(len(users), 4.0))

    model = fit_ease(inter, lam=1.0, min_profiles=1, max_items=2)

    assert len(model.item_ids) == 2
    assert 13 in model.item_ids.tolist()


def test_not_interested_lowers_the_scores_of_that_titles_neighbours():
    model = fit_ease(two_groups(), lam=1.0)

    plain = ranking_scores(model, [101])
    with_no = ranking_scores(model, [101, 103], negative=[False, True])

    for title in (102, 104, 105):
        assert with_no[title] < plain[title]
    # The "no" counts as -0.5 of the title's row of B.
    row = model.B[list(model.item_ids).index(103)]
    expected = np.array(list(plain.values())) - 0.5 * row
    np.testing.assert_allclose(list(with_no.values()), expected, rtol=1e-6)


def test_neighbours_are_the_co_consumed_titles_best_first():
    model = fit_ease(two_groups(), lam=1.0)

    rows, weights = model.neighbours(count=4)

    ids = model.item_ids
    for group in (GROUP_A, GROUP_B):
        for title in group[:4]:
            n = list(ids).index(title)
            assert set(ids[rows[n]].tolist()) == set(group) - {title}
            assert np.all(np.diff(weights[n]) <= 0)
            np.testing.assert_array_equal(weights[n], model.B[n, rows[n]])


def test_a_title_is_never_its_own_neighbour():
    model = fit_ease(two_groups(), lam=1.0)

    rows, _ = model.neighbours()

    assert rows.shape == (10, 9)
    for n in range(10):
        assert n not in rows[n].tolist(), model.item_ids[n]


def test_no_rankable_titles_gives_an_empty_model():
    inter = Interactions.from_lists([1, 2], [10, 10], [4.0, 4.0])

    model = fit_ease(inter, min_profiles=3)

    assert len(model.item_ids) == 0
    assert model.B.shape == (0, 0)
    rows, weights = model.neighbours()
    assert rows.shape == weights.shape == (0, 0)


@pytest.mark.parametrize("lam", [0.5, 3.0])
def test_weights_equal_the_closed_form(lam):
    """B = I - P diag(1/diag(P)), P = (XᵀX + λI)⁻¹, on a tiny X written out."""
    inter = Interactions.from_lists(
        users=[1, 1, 1, 2, 2, 3, 3, 3, 4, 4, 5, 5, 5],
        items=[7, 8, 9, 7, 9, 8, 9, 6, 6, 7, 6, 8, 9],
        values=np.full(13, 4.0),
        negative=[False] * 12 + [True],
    )
    # Profiles × titles 6, 7, 8, 9; profile 5 said "not interested" to 9.
    X = np.array(
        [
            [0, 1, 1, 1],
            [0, 1, 0, 1],
            [1, 0, 1, 1],
            [1, 1, 0, 0],
            [1, 0, 1, -0.5],
        ]
    )
    P = np.linalg.inv(X.T @ X + lam * np.eye(4))
    expected = np.eye(4) - P @ np.diag(1 / np.diag(P))

    model = fit_ease(inter, lam=lam, min_profiles=1)

    np.testing.assert_array_equal(model.item_ids, [6, 7, 8, 9])
    np.testing.assert_allclose(model.B, expected, rtol=1e-5, atol=1e-7)
