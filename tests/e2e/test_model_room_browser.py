"""The model room in a real browser: an operator starts a training from the
admin, says why, watches its stages advance on a real Celery worker, sees it
end as the active version, and compares it with the one before.

Full-page screenshots at 1440 px (the live progress, the list with its
chart, the diff) land in the test's folder (``--basetemp`` to keep them).
"""

import re
from pathlib import Path

import pytest
from django.contrib.admin.models import LogEntry
from playwright.sync_api import expect

from accounts.models import User
from recommendations.models import ModelVersion
from recommendations.services import training
from tests.e2e.test_accessibility_browser import (
    AXE_URL,
    RUN_AXE,
    WCAG_TAGS,
    axe_source,  # noqa: F401 (the fixture)
    describe,
)

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

EMAIL, PASSWORD = "operator@example.com", "a-long-operator-pass-phrase"
SMALL = {"n_factors": 10, "n_epochs": 5, "random_state": 0}
#: Slow enough on the demo catalog (several seconds) to watch each stage.
SLOW_PARAMS = '{"n_factors": 60, "n_epochs": 10000, "random_state": 0}'
WORKER_SECONDS = 90_000  # ms: a cold worker, then a slow training


def shot(page, tmp_path: Path, name: str) -> None:
    page.screenshot(path=tmp_path / f"model-room-{name}.png", full_page=True)


def violations(page, where: str) -> list[str]:
    """What axe-core finds against WCAG 2.2 AA on the page as it is now."""
    page.add_script_tag(url=AXE_URL)
    return [describe(where, v) for v in page.evaluate(RUN_AXE, WCAG_TAGS)]


def test_an_operator_trains_from_the_admin_watches_the_stages_and_compares(
    page,
    live_server,
    own_stack,
    demo_catalog,
    tmp_path,
    axe_source,  # noqa: F811
):
    page.route(
        f"**{AXE_URL}",
        lambda route: route.fulfill(path=axe_source, content_type="text/javascript"),
    )
    found = []
    first = training.model_train(params=SMALL)
    own_stack.start_worker(RECOMMENDER_PARAMS=SLOW_PARAMS)
    User.objects.create_superuser(email=EMAIL, password=PASSWORD)

    page.goto("/admin/recommendations/modelversion/")
    page.get_by_label("E-mail address").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    # Train now asks why first.
    page.get_by_role("link", name="Train now").click()
    expect(page.get_by_role("heading", name="Train a new version now?")).to_be_visible()
    found += violations(page, "Train now?")
    page.get_by_role("button", name="Yes, train now").click()
    expect(page.get_by_label("Why?")).to_be_focused()  # required: not sent empty
    page.get_by_label("Why?").fill("A week of new ratings.")
    page.get_by_role("button", name="Yes, train now").click()
    expect(page.get_by_text("Training queued")).to_be_visible()

    # The live panel follows the training through its stages.
    live = page.locator("#training-live")
    stage = live.locator(".training-stage")
    expect(stage).to_have_text("Validation", timeout=WORKER_SECONDS)
    expect(live.get_by_role("progressbar", name="Training progress")).to_be_visible()
    expect(live).to_contain_text(f"from version #{first.pk}'s stage times")
    expect(live.get_by_role("button", name="Cancel training")).to_be_visible()
    shot(page, tmp_path, "live")
    found += violations(page, "the list, a training under way")
    expect(stage).to_have_text("Fit rating", timeout=WORKER_SECONDS)

    # When it ends the page reloads: the new version is active, the panel gone.
    newer = ModelVersion.objects.exclude(pk=first.pk).get()
    row = page.locator("#result_list tbody tr", has_text=f"{newer.pk}")
    expect(live).to_have_count(0, timeout=WORKER_SECONDS)
    expect(page.locator("#result_list tbody tr").first).to_contain_text("Active")
    expect(row.first).to_contain_text("verified")
    expect(
        page.get_by_role("img", name="NDCG@10 (time split) by version")
    ).to_be_visible()
    shot(page, tmp_path, "changelist")
    found += violations(page, "the list with its chart")
    entry = LogEntry.objects.get()
    assert entry.user.email == EMAIL
    assert entry.get_change_message() == "Train now. Why: A week of new ratings."

    # Compare the two versions.
    for version in (first, newer):
        page.locator(f"input[name=_selected_action][value='{version.pk}']").check()
    page.locator("select[name=action]").select_option("compare")
    page.locator("button[name=index]").click()
    expect(page).to_have_url(re.compile(rf"diff/\?a={first.pk}&b={newer.pk}$"))
    factors = page.locator(
        "tr", has=page.get_by_role("rowheader", name="params.n_factors")
    )
    expect(factors).to_contain_text("10")
    expect(factors).to_contain_text("60")
    expect(factors).to_contain_text("changed +50")
    shot(page, tmp_path, "diff")
    found += violations(page, "the diff")
    assert found == [], f"{len(found)} violation(s):\n" + "\n".join(found)
