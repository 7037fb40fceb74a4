"""The public changelog of recommendation changes, generated from the registry.

Every model version put live and every offline comparison whose winner was
trained for real is an entry, with the measured change against the version
live before; anyone can read it, from the footer or "How recommendations
work".
"""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from recommendations.changelog import changelog
from recommendations.models import ModelComparison, ModelVersion
from recommendations.services import training

pytestmark = pytest.mark.django_db

CHANGES = reverse("privacy:changelog")
DEC_1 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
DEC_3 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def version(created, activated, status="retired", **ranking) -> ModelVersion:
    return ModelVersion.objects.create(
        algorithm="svd",
        status=status,
        created_at=created,
        activated_at=activated,
        data_counts={"rows": 101230, "profiles": 610},
        metrics={"ranking": ranking},
    )


def entries(client) -> list[str]:
    html = client.get(CHANGES).content.decode()
    found = re.findall(
        r'<li class="changelog-entry"[^>]*>(.*?)</li>\s*'
        r'(?=<li class="changelog-entry"|</ol)',
        html,
        re.S,
    )
    return [" ".join(re.sub(r"<[^>]+>", " ", e).split()) for e in found]


def test_each_version_put_live_is_an_entry_with_its_measured_changes(client):
    first = version(DEC_1, DEC_1, diversity=0.50, coverage=0.10, **{"ndcg@10": 0.30})
    second = version(
        DEC_3,
        DEC_3,
        status="active",
        diversity=0.54,
        coverage=0.08,
        novelty=7.0,
        **{"ndcg@10": 0.301},
    )
    version(DEC_3 + timedelta(hours=1), None, status="failed")  # never live

    assert entries(client) == [
        f"3 Dec 2026 Model New model #{second.pk}, trained on 101,230 signals "
        "from 610 profiles Top picks more diverse (+8 % genres) "
        "Top picks reach less of the catalogue (-20 % titles)",
        f"1 Dec 2026 Model First model #{first.pk}, trained on 101,230 signals "
        "from 610 profiles",
    ]


def test_going_back_to_an_earlier_version_is_an_entry(client):
    first = version(DEC_1, DEC_1, diversity=0.50)
    second = version(DEC_3, DEC_3, diversity=0.40)
    ModelVersion.objects.filter(pk=second.pk).update(status="retired")
    ModelVersion.objects.filter(pk=first.pk).update(
        status="active", activated_at=DEC_3 + timedelta(days=1)
    )

    (back, new) = entries(client)

    assert back == (
        f"4 Dec 2026 Back to earlier model Went back to an earlier model, #{first.pk} "
        "Top picks more diverse (+25 % genres)"
    )
    assert new.startswith(f"3 Dec 2026 Model First model #{second.pk}")


def test_a_promoted_comparison_is_an_entry(client):
    trained = version(DEC_3, DEC_3, status="active")
    ModelComparison.objects.create(
        label_a="Now",
        config_a={},
        label_b="Stronger popularity correction",
        config_b={},
        status="done",
        results={"verdict": "B better on NDCG@10: +0.004 (+0.001 to +0.007)"},
        promotion="done",
        promoted_side="b",
        promoted_at=DEC_3 - timedelta(hours=1),
        promoted_version=trained,
    )
    ModelComparison.objects.create(  # asked for, never promoted
        label_a="Now", config_a={}, label_b="Other", config_b={}, status="done"
    )

    (model, comparison) = entries(client)

    assert model.startswith(f"3 Dec 2026 Model First model #{trained.pk}")
    assert comparison == (
        "3 Dec 2026 Comparison Settings “Stronger popularity correction” beat "
        f"“Now” on past viewing and were trained for real as model #{trained.pk} "
        "B better on NDCG@10: +0.004 (+0.001 to +0.007)"
    )


def test_without_a_model_the_changelog_says_so(client):
    html = client.get(CHANGES).content.decode()

    assert "No model has been put live yet: everyone gets the same rows." in html


def test_a_real_training_and_promotion_appear_for_every_viewer(
    client, trained, on_commit
):
    """The demo catalog trained for real, then trained again and promoted."""
    with on_commit():
        again = training.model_train(
            params={"n_factors": 10, "n_epochs": 5, "random_state": 1}, force=True
        )
    assert again.status == ModelVersion.Status.ACTIVE

    shown = entries(client)
    rows = trained.data_counts["rows"]

    assert [c.version for c in changelog()] == [again.pk, trained.pk]
    assert shown[0].startswith(
        f"{again.activated_at:%-d %b %Y} Model New model #{again.pk}, trained on "
        f"{again.data_counts['rows']:,} signals"
    )
    assert shown[1].startswith(
        f"{trained.activated_at:%-d %b %Y} Model First model #{trained.pk}, "
        f"trained on {rows:,} signals"
    )


def test_the_changelog_is_linked_from_the_footer_and_open_to_everyone(client):
    home = client.get(reverse("recommendations:home")).content.decode()

    assert f'<a href="{CHANGES}">Changes to recommendations</a>' in home
    assert client.get(CHANGES).status_code == 200
