"""An online test end to end in a real browser: a viewer in a running test
sees which test and arm it is in, plays a title from a home row, the staff's
analysis page counts that take for the viewer's arm as it refreshes itself,
and the viewer leaves the test."""

import re
import time
import uuid

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import User
from activity.models import Impression
from catalog.models import Title
from recommendations.engine import online
from recommendations.models import Experiment, ExperimentArm, ExperimentAssignment
from recommendations.services import experiments
from recommendations.services.candidates import profile_refresh
from tests.e2e.test_accessibility_browser import (  # noqa: F401 (a fixture)
    AXE_URL,
    RUN_AXE,
    WCAG_TAGS,
    axe_source,
    describe,
)
from tests.e2e.test_keyboard_browser import PASSWORD, sign_in
from tests.factories import ProfileFactory

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

STAFF_PASSWORD = "a-long-pass-phrase"
#: The analysis page refreshes its evidence every 10 s.
REFRESH_MS = 25_000


@pytest.fixture
def viewer(demo_viewer):
    profile_refresh(profile_id=demo_viewer.pk)
    user = demo_viewer.user
    user.set_password(PASSWORD)
    user.save()
    return demo_viewer


@pytest.fixture
def experiment() -> Experiment:
    experiment = Experiment.objects.create(
        name="More exploration",
        hypothesis="Viewers take more titles when Top picks explore a little more.",
        traffic_share=1.0,
        status=Experiment.Status.RUNNING,
        started_at=timezone.now(),
    )
    ExperimentArm.objects.create(experiment=experiment, key="A", name="Control")
    ExperimentArm.objects.create(
        experiment=experiment, key="B", name="Explore", config={"exploration": 40}
    )
    experiments.experiments_changed()
    return experiment


@pytest.fixture
def staff(browser, live_server):
    """A second browser: an operator signed in to the admin."""
    User.objects.create_superuser(email="op@example.com", password=STAFF_PASSWORD)
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1440, "height": 900}
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto("/admin/")
    page.get_by_label("E-mail address").fill("op@example.com")
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    yield page
    context.close()


def wait_until(condition, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the database never showed it"
        time.sleep(0.1)


def test_a_viewer_in_a_test_takes_a_title_the_analysis_counts_it_and_the_viewer_leaves(
    page, staff, viewer, experiment
):
    arm = "AB"[
        online.assign(experiment.pk, viewer.pk, traffic_share=1.0, weights=[1, 1])
    ]
    staff.goto(f"/admin/recommendations/experiment/{experiment.pk}/analysis/")
    takes = staff.locator(f'.experiment-arms tr[data-arm="{arm}"] .experiment-takes')
    expect(takes).to_have_text("0")

    # The viewer's home page is its arm's, and the page says so.
    sign_in(page, viewer)
    shown = Impression.objects.filter(profile=viewer, experiment_id=experiment.pk)
    wait_until(lambda: shown.exists())
    assert set(shown.values_list("arm", flat=True)) == {arm}
    assert ExperimentAssignment.objects.get(profile=viewer).arm == arm
    page.goto("/privacy/how-recommendations-work/")
    your_test = page.locator("#your-test")
    expect(your_test).to_contain_text(
        re.compile(rf"you are in test “More exploration”, arm {arm}\b", re.I)
    )

    # A title from Top picks, played.
    page.goto("/")
    card = page.locator(".home-row-top-picks a.card-link").first
    title_id = int(re.search(r"/titles/(\d+)/", card.get_attribute("href")).group(1))
    card.click()
    expect(page).to_have_url(re.compile(rf"/titles/{title_id}/"))
    page.get_by_role("button", name="Play").first.click()
    taken = shown.filter(title_id=title_id, taken_at__isnull=False)
    wait_until(lambda: taken.exists())

    # The staff's page counts it without a reload (htmx, every 10 s).
    expect(takes).to_have_text("1", timeout=REFRESH_MS)
    staff.reload()
    expect(takes).to_have_text("1")

    # The viewer leaves the test; it is no longer in it.
    page.goto("/privacy/how-recommendations-work/")
    page.get_by_role("button", name="Leave this test").click()
    page.goto("/privacy/how-recommendations-work/")
    expect(page.locator("#your-test")).to_have_count(0)
    expect(page.get_by_text(re.compile("you are in test", re.I))).to_have_count(0)
    assert not ExperimentAssignment.objects.filter(profile=viewer).exists()
    viewer.refresh_from_db()
    assert experiments.arm_for(viewer) is None
    before = shown.count()
    page.goto("/")
    expect(page.locator(".home-row").first).to_be_visible()
    assert shown.count() == before  # its new page views are in no test


def seed_evidence(experiment: Experiment, titles: list) -> None:
    """Forty page views per arm; arm B shows only ten titles (a flag)."""
    now = timezone.now()
    for n, profile in enumerate(ProfileFactory.create_batch(40)):
        arm = "AB"[n % 2]
        shown = titles[:10] if arm == "B" else titles[n % 4 * 10 : n % 4 * 10 + 10]
        page_view = uuid.uuid4()
        Impression.objects.bulk_create(
            Impression(
                profile=profile,
                page_view=page_view,
                row_kind="top-picks",
                row_position=0,
                title=title,
                position=p,
                experiment_id=experiment.pk,
                arm=arm,
                taken_at=now if p < 1 + n % 3 else None,
            )
            for p, title in enumerate(shown)
        )


def test_the_experiment_pages_have_no_wcag_22_aa_violation(
    staff,
    experiment,
    demo_catalog,
    axe_source,  # noqa: F811 (the fixture imported above)
):
    seed_evidence(experiment, list(Title.objects.order_by("id")[:40]))
    draft = Experiment.objects.create(name="Draft", hypothesis="Later.")
    mixed = Experiment.objects.create(
        name="Mixed", hypothesis="Both.", kind=Experiment.Kind.INTERLEAVING
    )
    for test in (draft, mixed):
        ExperimentArm.objects.create(experiment=test, key="A", name="Control")
        ExperimentArm.objects.create(
            experiment=test, key="B", name="Calm", config={"calibration": True}
        )
    staff.route(
        f"**{AXE_URL}",
        lambda route: route.fulfill(path=axe_source, content_type="text/javascript"),
    )
    base = "/admin/recommendations/experiment"
    found = []
    for path in (
        f"{base}/",
        f"{base}/add/",
        f"{base}/{experiment.pk}/change/",
        f"{base}/{experiment.pk}/analysis/",
        f"{base}/{experiment.pk}/stop/",
        f"{base}/{draft.pk}/start/",
        f"{base}/{draft.pk}/change/",
        f"{base}/{mixed.pk}/analysis/",
    ):
        response = staff.goto(path)
        assert response.status == 200, path
        expect(staff.locator("h1").first).to_be_visible()
        staff.add_script_tag(url=AXE_URL)
        found += [describe(path, v) for v in staff.evaluate(RUN_AXE, WCAG_TAGS)]
        if path == f"{base}/{experiment.pk}/analysis/":
            expect(staff.locator(".experiment-flag")).to_contain_text(
                "B narrows the catalog"
            )
    assert not found, "\n".join(found)
