"""An operator compares two configurations in the admin and promotes the
winner: a real browser, a real worker, the demo catalog."""

import json
import re

import pytest
from django.contrib.admin.models import LogEntry
from playwright.sync_api import expect

from accounts.models import User
from recommendations.models import ModelComparison, ModelVersion

pytestmark = pytest.mark.services

PASSWORD = "a-long-pass-phrase"
SMALL = '{"n_factors": 10, "n_epochs": 5, "random_state": 0}'
#: The worker trains and judges two small models on the demo catalog, then
#: trains the winner; generous, as the machine may be busy.
WORKER_MS = 180_000


def test_compare_two_configurations_then_promote_the_winner(
    page, live_server, celery_worker, demo_catalog
):
    User.objects.create_superuser(email="op@example.com", password=PASSWORD)
    page.goto("/admin/")
    page.get_by_label("E-mail address").fill("op@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.goto("/admin/recommendations/modelcomparison/")
    page.get_by_role("link", name="Compare two configurations").click()
    expect(page.get_by_role("heading", name="Side A")).to_be_visible()
    # Side A starts as the live configuration; make it a poor one.
    expect(page.locator("#id_a-label")).to_have_value("Live")
    page.locator("#id_a-label").fill("Tiny lambda")
    page.locator("#id_a-ease_lambda").fill("2")
    page.locator("#id_a-validate").uncheck()  # else validation picks lambda
    page.locator("#id_a-params").fill(SMALL)
    page.locator("#id_b-label").fill("Live lambda")
    page.locator("#id_b-params").fill(SMALL)
    page.get_by_role("button", name="Compare").click()

    expect(page).to_have_url(re.compile(r"/modelcomparison/\d+/change/$"))
    comparison = ModelComparison.objects.get()
    # The page polls until the worker has judged both sides.
    verdict = page.locator(".comparison-verdict")
    expect(verdict).to_have_text(
        re.compile(r"^B better on NDCG@10: \+0\.\d{3} \[\+0\.\d{3}, \+0\.\d{3}\]$"),
        timeout=WORKER_MS,
    )
    table = page.locator("table.comparison-metrics")
    for metric in ("NDCG@10", "Recall@10", "Catalog coverage", "RMSE"):
        expect(table.get_by_role("row", name=re.compile(metric))).to_be_visible()
    ndcg = table.get_by_role("row", name=re.compile("^NDCG@10"))
    expect(ndcg.get_by_role("cell").last).to_have_text("B")
    comparison.refresh_from_db()
    assert comparison.status == "done" and comparison.winner == "b"

    # Promote the winner: the side is chosen, a reason is asked.
    expect(page.get_by_label("B", exact=True)).to_be_checked()
    page.get_by_label("Reason").fill("Tiny lambda overfits; keep the live one")
    page.get_by_role("button", name="Promote the winner").click()
    expect(page.get_by_text("Training Live lambda for real")).to_be_visible()

    version_link = page.locator("a.promoted-version")
    expect(version_link).to_be_visible(timeout=WORKER_MS)
    comparison.refresh_from_db()
    version = comparison.promoted_version
    # B validates: the version serves the lambda validation chose for it.
    assert comparison.config_b["training"]["validate"]
    assert (
        version.parameters["ease_lambda"]
        == version.metrics["validation"]["chosen"]["ease_lambda"]
    )
    assert version.parameters["params"] == json.loads(SMALL)
    assert version.status == ModelVersion.Status.ACTIVE
    expect(version_link).to_have_text(f"model version #{version.pk}")
    entry = LogEntry.objects.get(object_id=str(comparison.pk), action_flag=2)
    assert "Why: Tiny lambda overfits; keep the live one" in entry.change_message

    version_link.click()
    expect(page).to_have_url(re.compile(rf"/modelversion/{version.pk}/change/$"))
