"""The content model for cold-start titles. Pure numpy, no database.

Synthetic catalog with a planted content structure: titles belong to one of
two genres ("Comedy" or "Horror"), profiles like one of them and engage
almost only with titles of their genre. Some titles of each genre have no
interaction at all (new to the catalog).
"""

import numpy as np
import pytest

from recommendations.engine.cold_titles import (
    _expected_random_ndcg,
    evaluate_cold_titles,
    split_titles,
)
from recommendations.engine.content import (
    ARRAY_PREFIX,
    ContentModel,
    TitleFacts,
    content_features,
)
from recommendations.engine.dataset import Interactions
from recommendations.engine.experiment import TrainingConfig, fit_recommender
from recommendations.engine.forget import without_profiles
from recommendations.engine.recommender import History, Recommender

N_USERS, N_WARM, N_NEW = 80, 60, 10
FIRST_USER, FIRST_ITEM = 1_000, 5_000
GENRES = ("Comedy", "Horror")


def genre_of(item: int) -> str:
    return GENRES[(item - FIRST_ITEM) % 2]


def taste_of(user: int) -> str:
    return GENRES[(user - FIRST_USER) % 2]


def catalog_facts() -> list[TitleFacts]:
    return [
        TitleFacts(
            title_id=item,
            genres=(genre_of(item),),
            tags=("funny",) if genre_of(item) == "Comedy" else ("scary", "dark"),
            year=1990 + (item % 30),
            runtime_minutes=95,
        )
        for item in range(FIRST_ITEM, FIRST_ITEM + N_WARM + N_NEW)
    ]


def planted_interactions(seed: int = 0) -> Interactions:
    """Each profile engages with 60 % of its genre's warm titles and 5 % of
    the others'; the last N_NEW titles have no interaction."""
    rng = np.random.default_rng(seed)
    users, items = [], []
    for user in range(FIRST_USER, FIRST_USER + N_USERS):
        for item in range(FIRST_ITEM, FIRST_ITEM + N_WARM):
            p = 0.6 if genre_of(item) == taste_of(user) else 0.05
            if rng.random() < p:
                users.append(user)
                items.append(item)
    return Interactions.from_lists(users, items, np.full(len(users), 4.0))


CONFIG = TrainingConfig(
    params={"n_factors": 4, "n_epochs": 5, "random_state": 0},
    ease_lambda=10.0,
    min_profiles=1,
    blend=0.0,
)
NEW_IDS = np.arange(FIRST_ITEM + N_WARM, FIRST_ITEM + N_WARM + N_NEW)


@pytest.fixture(scope="module")
def model() -> Recommender:
    model, _ = fit_recommender(
        planted_interactions(),
        CONFIG,
        content_features=content_features(catalog_facts(), min_tag_titles=1),
    )
    return model


def history(user: int, items=(), hidden=()) -> History:
    inter = planted_interactions()
    mine = inter.users == user
    return History(
        profile_id=user,
        items=np.concatenate([inter.items[mine], np.asarray(items, np.int64)]),
        values=np.full(mine.sum() + len(items), 4.0),
        hidden=np.asarray(hidden, np.int64),
    )


def test_content_features_name_every_column_and_describe_each_title():
    features = content_features(
        [
            TitleFacts(1, ("Drama",), ("Twist", "twist ", "noir"), 1994, 142),
            TitleFacts(2, ("Comedy", "Drama"), ("twist",), None, None, "series"),
        ],
        min_tag_titles=1,
    )
    names = features.names.tolist()
    assert names == [
        "bias",
        "year",
        "genre:Comedy",
        "genre:Drama",
        "tag:twist",
        "tag:noir",
        "decade:1990s",
        "decade:unknown",
        "runtime:<90",
        "runtime:90-119",
        "runtime:120-149",
        "runtime:150+",
        "runtime:unknown",
        "kind:movie",
        "kind:series",
    ]
    first = dict(zip(names, features.rows(np.array([1]))[0], strict=True))
    assert {n for n, v in first.items() if v} == {
        "bias",
        "year",
        "genre:Drama",
        "tag:twist",
        "tag:noir",
        "decade:1990s",
        "runtime:120-149",
        "kind:movie",
    }
    assert first["year"] == pytest.approx(-0.3)
    second = dict(zip(names, features.rows(np.array([2]))[0], strict=True))
    assert {n for n, v in second.items() if v} == {
        "bias",
        "genre:Comedy",
        "genre:Drama",
        "tag:twist",
        "decade:unknown",
        "runtime:unknown",
        "kind:series",
    }
    assert not features.rows(np.array([3])).any()  # not described: zeros


def test_the_planted_content_structure_is_recovered(model):
    """Every profile's best new title is of the genre it likes, and so are
    at least 4 of its top 5."""
    content = model.content
    assert content is not None
    assert content.cold_ids.tolist() == NEW_IDS.tolist()
    assert content.new.all()
    for user in range(FIRST_USER, FIRST_USER + N_USERS):
        (found,) = model.candidates([history(user)], count=N_WARM + N_NEW)
        new_in_order = [t for t in found.title_ids.tolist() if t in set(NEW_IDS)]
        assert genre_of(new_in_order[0]) == taste_of(user)
        assert sum(genre_of(t) == taste_of(user) for t in new_in_order[:5]) >= 4


def test_a_new_title_gets_a_score_for_every_profile(model):
    found = model.candidates(
        [history(u) for u in range(FIRST_USER, FIRST_USER + N_USERS)],
        count=N_WARM + N_NEW,
    )
    for c in found:
        assert set(NEW_IDS) <= set(c.title_ids.tolist())
        assert np.isfinite(c.scores).all()
        assert ((c.predicted >= 0.5) & (c.predicted <= 5.0)).all()
    assert model.is_new(NEW_IDS).all()
    assert not model.is_new(np.array([FIRST_ITEM])).any()


def test_seen_and_hidden_new_titles_are_not_candidates(model):
    watched, hidden = int(NEW_IDS[0]), int(NEW_IDS[1])
    (found,) = model.candidates(
        [history(FIRST_USER, items=[watched], hidden=[hidden])], count=200
    )
    assert watched not in found.title_ids
    assert hidden not in found.title_ids
    assert set(NEW_IDS[2:]) <= set(found.title_ids.tolist())


def test_nearest_titles_of_a_warm_title_include_new_titles_of_its_genre(model):
    comedy = FIRST_ITEM  # even offset: Comedy
    ids, weights = model.nearest(comedy, 80)
    new = [t for t in ids.tolist() if t in set(NEW_IDS)]
    # All its new titles, the comedies first.
    assert sorted(new) == NEW_IDS.tolist()
    assert [genre_of(t) for t in new] == ["Comedy"] * 5 + ["Horror"] * 5
    assert (np.diff(weights) <= 0).all()
    assert comedy not in ids
    # A new title's nearest: the warm titles its predicted column leans on.
    ids, _ = model.nearest(int(NEW_IDS[1]), 5)  # odd offset: Horror
    assert [genre_of(t) for t in ids] == ["Horror"] * 5
    assert model.nearest(1, 5)[0].size == 0


def test_arrays_round_trip_keeps_the_content_model(model):
    arrays = model.to_arrays()
    assert f"{ARRAY_PREFIX}M" in arrays
    again = Recommender.from_arrays(arrays)
    assert again.content is not None
    assert again.content.cold_ids.tolist() == model.content.cold_ids.tolist()
    assert again.content.names.tolist() == model.content.names.tolist()
    assert again.content.alpha == model.content.alpha
    assert again.content.weight == model.content.weight
    histories = [history(u) for u in range(FIRST_USER, FIRST_USER + 6)]
    for a, b in zip(
        model.candidates(histories), again.candidates(histories), strict=True
    ):
        assert a.title_ids.tolist() == b.title_ids.tolist()
        np.testing.assert_allclose(a.scores, b.scores)


def test_model_arrays_from_before_cold_titles_still_load(model):
    old = {k: v for k, v in model.to_arrays().items() if not k.startswith(ARRAY_PREFIX)}
    loaded = Recommender.from_arrays(old)
    assert loaded.content is None
    assert ContentModel.from_arrays(old) is None
    (found,) = loaded.candidates([history(FIRST_USER)], count=200)
    assert not set(NEW_IDS) & set(found.title_ids.tolist())
    assert loaded.nearest(FIRST_ITEM, 5)[0].size > 0
    assert not loaded.is_new(NEW_IDS).any()


def test_without_content_features_nothing_changes():
    plain, _ = fit_recommender(planted_interactions(), CONFIG)
    assert plain.content is None
    assert not any(k.startswith(ARRAY_PREFIX) for k in plain.to_arrays())


def test_expected_random_ndcg_matches_shuffling():
    rng = np.random.default_rng(1)
    n_titles, relevant = 30, [np.arange(3), np.arange(12)]
    trials = []
    discounts = 1.0 / np.log2(np.arange(2, 12))
    for _ in range(4000):
        out = []
        for r in relevant:
            order = rng.permutation(n_titles)[:10]
            dcg = (np.isin(order, r) * discounts).sum()
            out.append(dcg / discounts[: min(len(r), 10)].sum())
        trials.append(np.mean(out))
    expected = _expected_random_ndcg(np.array([3, 12]), n_titles, 10)
    assert expected == pytest.approx(np.mean(trials), abs=0.01)


def test_title_split_holds_out_every_interaction_of_the_held_titles():
    inter = planted_interactions()
    split = split_titles(inter, 0.1, seed=3)
    assert len(split.held_out) == round(0.1 * len(np.unique(inter.items)))
    assert not np.isin(split.train.items, split.held_out).any()
    assert np.isin(split.test.items, split.held_out).all()
    assert len(split.train) + len(split.test) == len(inter)


def test_cold_title_evaluation_beats_random_on_the_planted_structure():
    inter = planted_interactions()
    facts = content_features(catalog_facts(), min_tag_titles=1)
    result = evaluate_cold_titles(
        inter, facts, fraction=0.2, seed=0, ease_lambda=10.0, min_profiles=1
    )
    assert result["held_out_titles"] == 12
    assert result["profiles"] > 0
    assert result["ndcg@10"] > 1.25 * result["random"]
    assert result["ndcg@10"] > result["popularity"]


def test_erasing_a_profile_from_the_model_keeps_its_content_model(model):
    arrays, dropped = without_profiles(model.to_arrays(), np.array([FIRST_USER]))
    assert dropped == 1
    again = Recommender.from_arrays(arrays)
    assert again.content is not None
    assert again.content.cold_ids.tolist() == NEW_IDS.tolist()
    np.testing.assert_array_equal(again.content.M, model.content.M)
