"""Explanations name only signals that raised the score. Pure numpy, no database.

A title's ranking score is ``Σ_j x_j · B_ji`` over the profile's history
(``x_j`` the engagement weight times the recency weight); "Why this?" and
"Because you…" name the history titles with the largest positive parts.
Removing a named title from the history must lower the title's score.
"""

import numpy as np
import pytest

from recommendations.engine.content import ContentFeatures
from recommendations.engine.dataset import Interactions
from recommendations.engine.experiment import (
    TrainingConfig,
    fit_recommender,
    histories_of,
)
from recommendations.engine.ranking import NEGATIVE_WEIGHT
from recommendations.engine.recommender import History, Recommender

N_USERS, N_ITEMS, N_COLD = 80, 50, 4
FIRST_USER, FIRST_ITEM = 1_000, 5_000
COLD_IDS = np.arange(N_COLD) + FIRST_ITEM + N_ITEMS
HALF_LIFE = 3.0


def interactions(seed: int = 1) -> Interactions:
    rng = np.random.default_rng(seed)
    taste = rng.normal(size=(N_USERS, 3))
    traits = rng.normal(size=(N_ITEMS, 3))
    affinity = taste @ traits.T
    users, items = np.nonzero(rng.random((N_USERS, N_ITEMS)) < 0.35)
    values = np.clip(np.round((3.2 + affinity[users, items]) * 2) / 2, 0.5, 5.0)
    negative = rng.random(len(users)) < 0.08
    return Interactions.from_lists(
        users + FIRST_USER,
        items + FIRST_ITEM,
        values,
        times=rng.integers(1_600_000_000, 1_700_000_000, len(users)),
        negative=negative,
    )


@pytest.fixture(scope="module")
def inter() -> Interactions:
    return interactions()


@pytest.fixture(scope="module")
def model(inter) -> Recommender:
    rng = np.random.default_rng(2)
    ids = np.arange(FIRST_ITEM, FIRST_ITEM + N_ITEMS + N_COLD)
    features = ContentFeatures(
        title_ids=ids,
        matrix=(rng.random((len(ids), 6)) < 0.4).astype(np.float32),
        names=np.array([f"genre:{n}" for n in range(6)]),
    )
    config = TrainingConfig(
        params={"n_factors": 4, "n_epochs": 5, "random_state": 0},
        ease_lambda=10.0,
        min_profiles=2,
        recency_half_life=HALF_LIFE,
        blend=0.0,
    )
    fitted, _ = fit_recommender(inter, config, content_features=features)
    assert fitted.content is not None
    assert set(COLD_IDS) <= set(fitted.content.cold_ids.tolist())
    return fitted


@pytest.fixture(scope="module")
def histories(inter) -> list[History]:
    return histories_of(inter, np.arange(8) + FIRST_USER)


def without(h: History, title_id: int) -> History:
    keep = h.items != title_id
    return History(
        h.profile_id,
        h.items[keep],
        h.values[keep],
        h.hidden,
        negative=h.negative[keep],
        times=h.times[keep],
    )


def by_hand(model: Recommender, h: History, title_id: int) -> float:
    """The score computed independently: recency by sorting, a dense B."""
    item_ids = model.ranking.item_ids
    B = model.ranking.B.astype(np.float64)
    order = np.lexsort((h.items, h.times))
    age = np.empty(len(h.items))
    age[order] = np.arange(len(h.items))[::-1]
    x = np.zeros(len(item_ids))
    for t, no, a in zip(h.items, h.negative, age, strict=True):
        if t in item_ids:
            x[np.searchsorted(item_ids, t)] += (
                NEGATIVE_WEIGHT if no else 1.0
            ) * 0.5 ** (a / HALF_LIFE)
    if title_id in item_ids:
        return float(x @ B[:, np.searchsorted(item_ids, title_id)])
    scores = x @ B
    cold = int(np.searchsorted(model.content.cold_ids, title_id))
    raw = (x @ model.content.M) @ model.content.cold_features[cold]
    centre = scores.mean()
    return float(centre + model.content.weight * (raw - centre))


def test_a_score_is_the_sum_of_its_parts_and_matches_an_independent_computation(
    model, histories
):
    for h in histories:
        for title_id in [*model.ranking.item_ids[:12], *COLD_IDS]:
            ids, parts, _ = model.contributions(h, int(title_id))
            score = model.ranking_score(h, int(title_id))

            assert score == pytest.approx(by_hand(model, h, int(title_id)), abs=1e-5)
            assert parts.sum() == pytest.approx(score, abs=1e-6)
            assert list(parts) == sorted(parts, reverse=True)
            assert set(ids.tolist()) <= set(h.items.tolist())


def test_the_order_of_candidates_is_the_order_of_these_scores(model, histories):
    """With blend 0 the candidates are ranked by exactly this score."""
    for h, found in zip(histories, model.candidates(histories, count=15), strict=True):
        scores = [model.ranking_score(h, int(t)) for t in found.title_ids]
        assert scores == sorted(scores, reverse=True)


def test_taking_a_named_title_out_of_the_history_lowers_the_score(model, histories):
    named_any = 0
    for h, found in zip(histories, model.candidates(histories, count=10), strict=True):
        liked = h.items[~h.negative]
        for title_id in [*found.title_ids.tolist(), *COLD_IDS.tolist()]:
            named = model.explain(h, title_id, among=liked.tolist(), count=2)
            ids, parts, falls = model.contributions(h, title_id)
            before = model.ranking_score(h, title_id)
            for seed in named:
                named_any += 1
                after = model.ranking_score(without(h, seed), title_id)
                at = list(ids).index(seed)
                assert parts[at] > 0
                assert after < before
                assert before - after == pytest.approx(falls[at], abs=1e-6)
    assert named_any > 50


def test_only_positive_parts_of_allowed_titles_are_named_largest_first(
    model, histories
):
    h = histories[0]
    title_id = int(model.candidates([h], count=1)[0].title_ids[0])
    ids, parts, falls = model.contributions(h, title_id)
    positive = [
        int(t) for t, p, f in zip(ids, parts, falls, strict=True) if p > 0 and f > 0
    ]
    negative = [int(t) for t, p in zip(ids, parts, strict=True) if p <= 0]

    assert model.explain(h, title_id, among=ids.tolist(), count=3) == positive[:3]
    assert model.explain(h, title_id, among=negative, count=3) == []
    assert model.explain(h, title_id, among=positive[1:2], count=3) == positive[1:2]
    assert model.explain(h, title_id, among=[], count=3) == []


def test_a_clear_no_counts_against_similar_titles(model, histories):
    """A thumbs down's part has the opposite sign of the same title liked."""
    h = histories[1]
    seed = int(h.items[~h.negative][0])
    flipped = History(
        h.profile_id,
        h.items,
        h.values,
        h.hidden,
        negative=np.where(h.items == seed, True, h.negative),
        times=h.times,
    )
    for title_id in model.ranking.item_ids[:10]:
        liked = dict(zip(*model.contributions(h, int(title_id))[:2], strict=True))
        disliked = dict(
            zip(*model.contributions(flipped, int(title_id))[:2], strict=True)
        )
        assert disliked[seed] == pytest.approx(NEGATIVE_WEIGHT * liked[seed])


def test_a_title_the_model_cannot_rank_has_no_contributions(model, histories):
    ids, parts, _ = model.contributions(histories[0], 999_999)

    assert model.ranking_score(histories[0], 999_999) == 0.0
    assert not parts.any()
    assert model.explain(histories[0], 999_999, among=ids.tolist()) == []


def test_every_titles_fall_is_what_taking_it_out_really_costs(model, histories):
    """The closed form for the fall (recency shifts the older titles) against
    scoring the history without each title."""
    h = histories[2]
    for title_id in [int(model.ranking.item_ids[3]), int(COLD_IDS[0])]:
        ids, _, falls = model.contributions(h, title_id)
        before = model.ranking_score(h, title_id)
        for t, fall in zip(ids, falls, strict=True):
            after = model.ranking_score(without(h, int(t)), title_id)
            assert before - after == pytest.approx(fall, abs=1e-6)


def test_what_a_title_lifts_along_its_row_is_what_it_adds_down_each_column(model):
    source = int(model.ranking.item_ids[4])
    targets = np.array([*model.ranking.item_ids[:8], *COLD_IDS, 999_999])
    source_row = int(np.searchsorted(model.ranking.item_ids, source))

    along = model.lifted_by(source, targets)

    down = [model.lifts(int(t))[source_row] for t in targets]
    np.testing.assert_allclose(along, down, rtol=1e-6, atol=1e-9)
    assert along[-1] == 0.0
    assert not model.lifted_by(999_999, targets).any()
