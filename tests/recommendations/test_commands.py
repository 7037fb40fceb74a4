"""The engine's management commands as an operator runs them."""

import json
from datetime import UTC, datetime
from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from catalog.services import demo_catalog_seed
from recommendations.engine.experiment import predict_pairs
from recommendations.engine.ranking import RankingModel
from recommendations.engine.rating import fit_rating_model
from recommendations.engine.recommender import Recommender
from recommendations.engine.splits import split_random
from recommendations.models import ModelVersion, TuningRun
from recommendations.services import dataset


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_evaluate_on_movielens_beats_default_svd_and_popularity(ml_latest_small):
    result = json.loads(
        run(
            "evaluate",
            "--data",
            str(ml_latest_small),
            "--split",
            "random",
            "--test-size",
            "0.25",
            "--json",
        )
    )

    # An independent yardstick on the very same split: Surprise's default SVD.
    inter, _ = dataset.movielens_interactions(ml_latest_small)
    train, test = split_random(inter, test_size=0.25, seed=0)
    default_svd, _ = fit_rating_model(
        train, algorithm="svd", params={"random_state": 0}
    )
    empty = RankingModel(np.zeros(0, np.int64), np.zeros((0, 0), np.float32))
    predicted = predict_pairs(Recommender(default_svd, empty), test.users, test.items)
    default_rmse = float(np.sqrt(np.mean((predicted - test.values) ** 2)))

    assert result["data"]["test_rows"] == len(test)
    assert result["rating"]["rmse"] < default_rmse
    ranking, popularity = result["ranking"], result["popularity"]
    assert ranking["ndcg@10"] > 1.8 * popularity["ndcg@10"]
    assert ranking["precision@10"] > popularity["precision@10"]
    assert ranking["coverage"] > 5 * popularity["coverage"]
    assert 0 < ranking["diversity"] <= 1
    assert result["ndcg_vs_popularity"] == round(
        ranking["ndcg@10"] / popularity["ndcg@10"], 3
    )


@pytest.mark.django_db
def test_evaluate_on_an_empty_database_says_what_to_do():
    with pytest.raises(CommandError, match="import or seed a catalog first"):
        run("evaluate")


def test_evaluate_on_a_folder_without_movielens_files_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="No MovieLens files"):
        run("evaluate", "--data", str(tmp_path))


@pytest.fixture
def catalog(settings, tmp_path):
    settings.RECOMMENDER = {**settings.RECOMMENDER, "ARTIFACT_DIR": tmp_path / "models"}
    demo_catalog_seed(
        seed=3, titles=120, viewers=30, until=datetime(2026, 1, 1, tzinfo=UTC)
    )


SMALL = '{"n_factors": 5, "n_epochs": 3, "random_state": 0}'


@pytest.mark.django_db
def test_train_list_promote_and_rollback(catalog):
    first_out = run("train", "--params", SMALL)
    first = ModelVersion.objects.get()
    assert f"Version #{first.pk} (svd): Active" in first_out
    assert "NDCG@10" in first_out and "RMSE" in first_out

    second = json.loads(run("train", "--params", SMALL, "--force", "--json"))
    assert second["id"] > first.pk and second["status"] == "active"

    listing = run("models")
    assert listing.splitlines()[1].split()[:3] == [str(second["id"]), "active", "svd"]
    assert listing.splitlines()[2].split()[:3] == [str(first.pk), "retired", "svd"]

    assert f"Version #{first.pk} is now active." in run("models", "rollback")
    assert ModelVersion.objects.get(status="active").pk == first.pk
    out = run("models", "promote", str(second["id"]), "--force")
    assert f"Version #{second['id']} is now active." in out

    with pytest.raises(CommandError, match="no model version #99999"):
        run("models", "promote", "99999")


@pytest.mark.django_db
def test_train_with_an_unknown_algorithm_parameter_fails_clearly(catalog):
    with pytest.raises(CommandError, match="Training failed"):
        run("train", "--params", '{"no_such_parameter": 1}')
    assert ModelVersion.objects.get().status == ModelVersion.Status.FAILED


@pytest.mark.django_db
def test_tune_records_the_winner_and_train_tuned_uses_it(catalog):
    out = run("tune", "--seconds", "2")

    run_ = TuningRun.objects.get()
    assert f"tuning run #{run_.pk}" in out
    assert run_.best_rmse > 0 and run_.best_params
    trained = json.loads(run("train", "--tuned", "--json"))
    assert (
        ModelVersion.objects.get(pk=trained["id"]).parameters["params"]
        == run_.best_params
    )
