"""Serving candidates, and model artifacts on disk. Pure numpy, no database.

The recommender is trained on small synthetic ratings (a low-rank taste
structure plus biases and noise); artifacts are written under ``tmp_path``.
"""

import hashlib
from pathlib import Path

import numpy as np
import pytest

from recommendations.engine import artifact
from recommendations.engine.artifact import ArtifactError
from recommendations.engine.dataset import Interactions
from recommendations.engine.experiment import (
    TrainingConfig,
    fit_recommender,
    histories_of,
)
from recommendations.engine.recommender import History, Recommender, in_order

N_USERS, N_ITEMS = 100, 70
FIRST_USER, FIRST_ITEM = 1_000, 5_000
UNKNOWN_PROFILE = 999_999


def synthetic_ratings(seed: int = 0, density: float = 0.3) -> Interactions:
    rng = np.random.default_rng(seed)
    taste = rng.normal(size=(N_USERS, 3))
    traits = rng.normal(size=(N_ITEMS, 3))
    full = (
        3.5
        + rng.normal(0.0, 0.3, N_USERS)[:, None]
        + rng.normal(0.0, 0.5, N_ITEMS)[None, :]
        + 0.6 * taste @ traits.T
        + rng.normal(0.0, 0.3, (N_USERS, N_ITEMS))
    )
    full = np.clip(np.round(full * 2) / 2, 0.5, 5.0)
    users, items = np.nonzero(rng.random((N_USERS, N_ITEMS)) < density)
    negative = full[users, items] <= 1.0
    return Interactions.from_lists(
        users + FIRST_USER,
        items + FIRST_ITEM,
        full[users, items],
        negative=negative,
    )


@pytest.fixture(scope="module")
def ratings() -> Interactions:
    return synthetic_ratings()


@pytest.fixture(scope="module", params=["svd", "svdpp"])
def recommender(request, ratings) -> Recommender:
    config = TrainingConfig(
        algorithm=request.param,
        params={"n_factors": 4, "n_epochs": 10, "random_state": 0},
        ease_lambda=20.0,
    )
    model, _ = fit_recommender(ratings, config)
    return model


def histories_with_hidden(ratings: Interactions) -> list[History]:
    """Five trained profiles, each hiding three titles it never rated."""
    out = []
    for n, h in enumerate(histories_of(ratings, np.arange(5) + FIRST_USER)):
        unrated = np.setdiff1d(np.arange(N_ITEMS) + FIRST_ITEM, h.items)
        hidden = unrated[n : n + 3]
        out.append(
            History(h.profile_id, h.items, h.values, hidden, negative=h.negative)
        )
    return out


def stranger() -> History:
    """A profile the rating model never saw, with six signals."""
    items = np.array([5, 9, 14, 22, 40, 61]) + FIRST_ITEM
    return History(
        profile_id=UNKNOWN_PROFILE,
        items=items,
        values=np.array([5.0, 4.5, 1.0, 4.0, 3.0, 2.5]),
        hidden=np.array([FIRST_ITEM + 1]),
        negative=np.array([False, False, True, False, False, False]),
    )


def assert_same_candidates(left, right, atol=0.0):
    assert len(left) == len(right)
    for a, b in zip(left, right, strict=True):
        assert a.profile_id == b.profile_id
        np.testing.assert_array_equal(a.title_ids, b.title_ids)
        np.testing.assert_allclose(a.scores, b.scores, rtol=0, atol=atol)
        np.testing.assert_allclose(a.predicted, b.predicted, rtol=0, atol=atol)


@pytest.mark.parametrize("count", [10, 40, 300])
def test_candidates_are_unseen_unhidden_sorted_and_on_the_scale(
    recommender, ratings, count
):
    histories = [*histories_with_hidden(ratings), stranger()]

    results = recommender.candidates(histories, count=count)

    assert [c.profile_id for c in results] == [h.profile_id for h in histories]
    for h, c in zip(histories, results, strict=True):
        rankable = set(recommender.ranking.item_ids.tolist())
        allowed = rankable - set(h.items.tolist()) - set(h.hidden.tolist())
        assert set(c.title_ids.tolist()) <= allowed
        assert len(c.title_ids) == min(count, len(allowed))
        assert len(set(c.title_ids.tolist())) == len(c.title_ids)
        assert np.all(np.diff(c.scores) <= 0)
        assert np.all(np.isfinite(c.scores))
        assert np.all((c.predicted >= 0.5) & (c.predicted <= 5.0))


def test_a_profile_unknown_to_the_rating_model_gets_folded_in(recommender):
    history = stranger()
    assert recommender.rating.user_index(np.array([UNKNOWN_PROFILE]))[0] == -1

    (result,) = recommender.candidates([history], count=20)

    assert len(result.title_ids) == 20
    rating = recommender.rating
    seen = rating.item_index(history.items)
    bu, p = rating.fold_in(seen, history.values)
    expected = rating.scores_for_vector(bu, p, rating.item_index(result.title_ids))
    np.testing.assert_allclose(
        result.predicted, in_order(np.clip(expected, 0.5, 5.0)), rtol=0, atol=1e-12
    )


def test_trained_profiles_are_scored_with_their_trained_vectors(recommender, ratings):
    (history,) = histories_of(ratings, np.array([FIRST_USER + 3]))

    (result,) = recommender.candidates([history], count=20)

    rating = recommender.rating
    expected = rating.scores(
        rating.user_index(np.array([history.profile_id])),
        rating.item_index(result.title_ids),
    )[0]
    np.testing.assert_allclose(
        result.predicted, in_order(np.clip(expected, 0.5, 5.0)), rtol=0, atol=1e-12
    )


def test_a_batch_gives_each_profile_what_it_gets_alone(recommender, ratings):
    """Equal up to rounding: BLAS may sum a batched product in another order."""
    histories = [*histories_with_hidden(ratings), stranger()]

    together = recommender.candidates(histories, count=25)
    alone = [recommender.candidates([h], count=25)[0] for h in histories]

    assert_same_candidates(together, alone, atol=1e-12)


def test_no_histories_give_no_candidates(recommender):
    assert recommender.candidates([], count=10) == []


def test_round_trip_through_an_artifact_gives_identical_candidates(
    recommender, ratings, tmp_path
):
    histories = [*histories_with_hidden(ratings), stranger()]
    path = tmp_path / "models" / "model.npz"

    sha256 = artifact.save(path, recommender.to_arrays())
    restored = Recommender.from_arrays(artifact.load(path, sha256))

    assert sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert restored.rating.algorithm == recommender.rating.algorithm
    assert restored.blend == recommender.blend
    assert_same_candidates(
        restored.candidates(histories, count=30),
        recommender.candidates(histories, count=30),
    )


def small_arrays() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(3)
    return {"B": rng.normal(size=(4, 4)), "item_ids": np.arange(4)}


def test_load_with_a_wrong_sha256_is_refused(tmp_path):
    path = tmp_path / "model.npz"
    sha256 = artifact.save(path, small_arrays())
    wrong = hashlib.sha256(b"another model").hexdigest()

    with pytest.raises(ArtifactError, match="checksum"):
        artifact.load(path, wrong)
    assert artifact.load(path, sha256).keys() == {"B", "item_ids"}


def test_a_tampered_file_is_refused(tmp_path):
    path = tmp_path / "model.npz"
    sha256 = artifact.save(path, small_arrays())
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))

    with pytest.raises(ArtifactError, match="checksum"):
        artifact.load(path, sha256)


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(ArtifactError, match="Cannot read"):
        artifact.load(tmp_path / "absent.npz", "0" * 64)


def test_save_leaves_only_the_final_file(tmp_path):
    arrays = small_arrays()

    artifact.save(tmp_path / "model.npz", arrays)

    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]


def failing_savez(file, *args, **kwargs):
    """Writes the start of an archive, then fails as a full disk would."""
    file.write(b"PK\x03\x04 half an archive")
    raise OSError(28, "No space left on device")


def test_a_failed_save_keeps_the_previous_file_and_leaves_no_temporary(
    tmp_path, monkeypatch
):
    path = tmp_path / "model.npz"
    sha256 = artifact.save(path, small_arrays())
    before = path.read_bytes()
    monkeypatch.setattr(np, "savez", failing_savez)

    with pytest.raises(OSError, match="No space left"):
        artifact.save(path, {"B": np.zeros((2, 2))})

    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]
    assert path.read_bytes() == before
    np.testing.assert_array_equal(artifact.load(path, sha256)["B"], small_arrays()["B"])


def test_a_failed_first_save_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(np, "savez", failing_savez)

    with pytest.raises(OSError):
        artifact.save(tmp_path / "model.npz", small_arrays())

    assert list(Path(tmp_path).iterdir()) == []


def test_profile_ids_are_the_models_training_profiles(recommender, tmp_path):
    path = tmp_path / "model.npz"
    artifact.save(path, recommender.to_arrays())

    held = artifact.profile_ids(path)

    np.testing.assert_array_equal(held, recommender.rating.user_ids)
    assert held.tolist() == list(range(FIRST_USER, FIRST_USER + N_USERS))


@pytest.mark.parametrize("content", [None, b"not an archive", "no profile ids"])
def test_profile_ids_of_an_unreadable_file_are_refused(tmp_path, content):
    path = tmp_path / "model.npz"
    if content == "no profile ids":
        artifact.save(path, small_arrays())
    elif content is not None:
        path.write_bytes(content)

    with pytest.raises(ArtifactError, match="Cannot read the profile ids"):
        artifact.profile_ids(path)


def test_a_content_addressed_save_is_named_by_its_sha256(tmp_path):
    path, sha256 = artifact.save_addressed(tmp_path, small_arrays(), stem="model-7")

    assert path == tmp_path / f"{sha256}.npz"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == sha256
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
    np.testing.assert_array_equal(artifact.load(path, sha256)["B"], small_arrays()["B"])


def test_a_stopped_writes_temporary_files_are_found_by_its_stem(tmp_path, monkeypatch):
    monkeypatch.setattr(np, "savez", failing_savez)
    leftover = tmp_path / ".model-7.abc123.tmp"  # as a killed process leaves one
    leftover.write_bytes(b"half")
    (tmp_path / ".model-8.def456.tmp").write_bytes(b"another run's")

    with pytest.raises(OSError):
        artifact.save_addressed(tmp_path, small_arrays(), stem="model-7")

    assert artifact.temporaries(tmp_path, "model-7") == [leftover]


def test_received_bytes_are_kept_only_when_they_hash_to_the_expected_sha256(tmp_path):
    source, sha256 = artifact.save_addressed(tmp_path / "store", small_arrays())
    data = source.read_bytes()
    pieces = [data[i : i + 100] for i in range(0, len(data), 100)]

    copy = artifact.receive(tmp_path / "cache", iter(pieces), sha256)

    assert copy == tmp_path / "cache" / f"{sha256}.npz"
    assert copy.read_bytes() == data
    assert artifact.verified_state(copy, sha256) == "verified"  # hashed on arrival
    damaged = [bytes(len(pieces[0])), *pieces[1:]]
    with pytest.raises(ArtifactError, match="fails its checksum"):
        artifact.receive(tmp_path / "other", iter(damaged), sha256)
    assert list((tmp_path / "other").iterdir()) == []


def test_the_match_never_rises_down_the_list(recommender, ratings):
    """A card's match (the predicted rating) never exceeds the one before it,
    so the number on a card cannot contradict the order of the row."""
    for result in recommender.candidates(histories_of(ratings, ratings.users[:8]), 50):
        assert np.all(np.diff(result.predicted) <= 1e-12)


def test_in_order_only_averages_the_stretches_that_disagree():
    # 3.7 ranked above 4.4: the pair shares its mean; agreeing ends stay.
    np.testing.assert_allclose(
        in_order(np.array([4.6, 3.7, 4.4, 3.0])), [4.6, 4.05, 4.05, 3.0]
    )
    already = np.array([4.5, 4.0, 3.5])
    np.testing.assert_array_equal(in_order(already), already)
