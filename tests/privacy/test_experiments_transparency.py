"""Tests as viewers see them: "How recommendations work" names the running
tests and the profile's own arm, with a way to leave; the centre's "Take part
in tests" switch and the settings API do the same."""

import re

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import AccessToken, Profile
from accounts.services import token_create
from consent.models import PrivacySettings
from privacy.models import ConsentEvent
from recommendations.models import Experiment, ExperimentAssignment
from recommendations.services import experiments
from tests.activity.conftest import HTMX, watch_as
from tests.factories import ProfileFactory
from tests.recommendations.test_experiments_serving import experiment_start

pytestmark = pytest.mark.django_db

HOW = reverse("privacy:how_it_works")
LEAVE = reverse("privacy:experiments_leave")
TOGGLE = reverse("privacy:toggle")
CENTRE = reverse("privacy:centre")


@pytest.fixture
def ada(db) -> Profile:
    return ProfileFactory(name="Ada")


@pytest.fixture
def in_test(ada) -> Experiment:
    """Ada in arm B (the test's one arm) of a running test, recorded."""
    experiment = experiment_start(("B", {"exploration": 80}))
    experiments.assignment_record(
        profile_id=ada.pk, experiment_id=experiment.pk, arm="B"
    )
    return experiment


def text(response) -> str:
    assert response.status_code == 200
    page = response.content.decode()
    return re.sub(r"\s+", " ", page.replace("&#x27;", "'").replace("&quot;", '"'))


def consent_lines(profile: Profile) -> list[tuple[str, str, str]]:
    return list(
        ConsentEvent.objects.filter(profile_id_at_time=profile.pk)
        .exclude(what__startswith="receipt: ")
        .values_list("what", "old_value", "new_value")
    )


def left(profile: Profile) -> None:
    """What leaving tests must have done, however the viewer left."""
    assert PrivacySettings.objects.get(profile=profile).experiments is False
    assert not ExperimentAssignment.objects.filter(profile=profile).exists()
    assert consent_lines(profile) == [("experiments", "on", "off")]
    assert experiments.arm_for(Profile.objects.get(pk=profile.pk)) is None


def test_how_it_works_lists_the_running_tests_for_everyone(client):
    experiment_start(("A", {}), ("B", {"exploration": 80}), share=0.25)

    page = text(client.get(HOW))

    assert "No experiments are running" not in page
    assert (
        "<strong>More variety</strong> (25% of viewers). More variety in Top picks "
        "leads to more plays." in page
    )
    assert "You are in" not in page and "you are in" not in page


def test_how_it_works_tells_the_profile_its_test_and_arm(client, ada, in_test):
    watch_as(client, ada)

    page = text(client.get(HOW))

    assert (
        "Ada: you are in test “More variety”, arm B: exploration 80 of 100 "
        "unless you set your own." in page
    )
    form = re.search(rf'<form method="post" action="{LEAVE}">(.*?)</form>', page)
    assert 'name="csrfmiddlewaretoken"' in form[1]
    assert f'name="profile" value="{ada.pk}"' in form[1]
    assert "Leave this test</button>" in form[1]


def test_an_interleaving_test_is_told_as_both_versions_mixed(client, ada):
    experiment_start(
        ("A", {}), ("B", {"calibration": False}), kind=Experiment.Kind.INTERLEAVING
    )
    watch_as(client, ada)

    page = text(client.get(HOW))

    assert "(100% of viewers, Top picks only)" in page
    assert "you are in test “More variety”, with both versions mixed: your Top " in page
    assert "B: “Keep my genre mix” off" in page


def test_leaving_the_test_from_how_it_works(client, ada, in_test):
    watch_as(client, ada)

    response = client.post(LEAVE, {"profile": ada.pk})

    assert response.status_code == 302
    assert response["Location"] == HOW
    left(ada)
    page = text(client.get(HOW))
    assert "you are in test" not in page
    assert "Ada left the tests" in page
    # Never placed again, even in a test started later.
    experiment_start(("A", {}), name="Another")
    assert experiments.arm_for(Profile.objects.get(pk=ada.pk)) is None


def test_leaving_for_another_accounts_profile_is_404_and_changes_nothing(
    client, ada, in_test
):
    stranger = ProfileFactory(name="Eve")
    experiments.assignment_record(
        profile_id=stranger.pk, experiment_id=in_test.pk, arm="B"
    )
    watch_as(client, ada)

    response = client.post(LEAVE, {"profile": stranger.pk})

    assert response.status_code == 404
    assert ExperimentAssignment.objects.filter(profile=stranger).exists()
    assert not PrivacySettings.objects.filter(profile=stranger).exists()
    assert ConsentEvent.objects.count() == 0


def test_leaving_is_a_post_and_needs_a_sign_in(client, ada, in_test):
    assert client.post(LEAVE, {"profile": ada.pk}).status_code == 302  # to log in
    watch_as(client, ada)
    assert client.get(LEAVE).status_code == 405
    assert client.post(LEAVE, {"profile": "x"}).status_code == 400
    assert ExperimentAssignment.objects.filter(profile=ada).exists()


def test_the_centres_switch_leaves_tests_without_javascript(client, ada, in_test):
    watch_as(client, ada)
    page = text(client.get(CENTRE))
    assert re.search(r'id="toggle-experiments"[^>]*aria-checked="true"', page)
    assert "Take part in tests" in page

    response = client.post(
        TOGGLE, {"setting": "experiments", "value": "off", "profile": ada.pk}
    )

    assert response.status_code == 302
    left(ada)


def test_the_centres_switch_with_htmx_answers_with_the_controls(client, ada, in_test):
    watch_as(client, ada)

    response = client.post(
        TOGGLE,
        {"setting": "experiments", "value": "off", "profile": ada.pk},
        headers=HTMX,
    )

    page = text(response)
    assert re.search(r'id="toggle-experiments"[^>]*aria-checked="false"', page)
    left(ada)


def test_a_kids_profile_gives_the_account_password_before_leaving(client, ada):
    kid = ProfileFactory(user=ada.user, name="Kiddo", is_kids=True)
    experiment_start(("B", {}), include_kids=True)
    watch_as(client, kid)

    for response in (
        client.post(LEAVE, {"profile": kid.pk}),
        client.post(TOGGLE, {"setting": "experiments", "value": "off"}),
    ):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:confirm_password"))
    assert experiments.arm_for(Profile.objects.get(pk=kid.pk)).page_arm == "B"


def test_the_centre_shows_the_exploration_the_rows_use(client, ada, in_test):
    watch_as(client, ada)

    page = text(client.get(CENTRE))

    assert 'Exploration <span class="privacy-muted">(now 80 of 100)</span>' in page


def test_the_settings_api_reads_and_writes_taking_part_in_tests(ada, in_test):
    _, secret = token_create(
        user=ada.user, name="test", scope=AccessToken.Scope.ACCOUNT
    )
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    url = reverse("api:privacy-api:profile-settings", args=[ada.pk])

    assert api.get(url).json()["experiments"] is True
    bad = api.patch(url, {"experiments": "sometimes"}, format="json")
    assert bad.status_code == 400
    assert ExperimentAssignment.objects.filter(profile=ada).exists()

    changed = api.patch(url, {"experiments": False}, format="json")

    assert changed.status_code == 200
    assert changed.json()["experiments"] is False
    assert api.get(url).json()["experiments"] is False
    left(ada)
    other = ProfileFactory()
    assert (
        api.get(
            reverse("api:privacy-api:profile-settings", args=[other.pk])
        ).status_code
        == 404
    )
