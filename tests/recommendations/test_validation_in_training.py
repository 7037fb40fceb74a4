"""A training chooses its ranking settings on rows inside its training part,
records them, and serves with them; tuning never sees the gate's rows."""

import numpy as np
import pytest

from recommendations.engine.splits import split_by_time
from recommendations.services import training
from recommendations.services.dataset import training_dataset

pytestmark = pytest.mark.django_db


def test_a_training_records_the_settings_validation_chose_and_serves_them(trained):
    version = trained
    chosen = version.metrics["validation"]["chosen"]

    assert version.parameters["ease_lambda"] == chosen["ease_lambda"]
    assert version.parameters["popularity_beta"] == chosen["popularity_beta"]
    assert version.parameters["recency_half_life"] == chosen["recency_half_life"]
    assert version.metrics["validation"]["tried"], "every setting tried is listed"
    served = training.recommender_for(version)
    assert served.recency_half_life == chosen["recency_half_life"]
    assert served.blend == chosen["blend"]
    # Figures a curator reads on the version: bias and cold-start viewers.
    assert 0 <= version.metrics["ranking"]["popularity_percentile@10"] <= 100
    assert set(version.metrics["cold_viewers"]) == {"3", "5", "10"}


def test_tuning_searches_the_training_part_only(demo_catalog, monkeypatch):
    seen = {}

    def fake_tune(inter, **kwargs):
        seen["rows"] = inter
        return {"best_params": {"n_factors": 5}, "best_rmse": 1.0, "best_mae": 0.8}

    monkeypatch.setattr(training, "tune", fake_tune)
    training.tuning_run(algorithm="svd", seconds=1)

    train, test = split_by_time(training_dataset())
    rows = seen["rows"]
    assert len(rows) == len(train) and len(test) > 0
    key = lambda i: set(zip(i.users.tolist(), i.items.tolist(), strict=True))  # noqa: E731
    assert not key(rows) & key(test)
    assert np.array_equal(np.sort(rows.times), np.sort(train.times))


def test_no_card_shows_a_higher_match_than_the_card_before_it(demo_viewer):
    from recommendations.home.page import home_page
    from recommendations.home.rows import MATCH_ROW_KINDS

    page = home_page(profile=demo_viewer)

    rows = [r for r in page.rows if r.kind in MATCH_ROW_KINDS]
    assert any(r.kind == "top-picks" for r in rows)
    for row in rows:
        matches = [t.match for t in row.titles]
        assert all(m is not None for m in matches), row.key
        assert matches == sorted(matches, reverse=True), row.key
