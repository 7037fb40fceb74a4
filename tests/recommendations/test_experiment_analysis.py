"""The analysis page of an online test: counts and take rates equal a hand
count of seeded impressions, interleaving credits go to the ranker that
contributed the taken card, the verdict reads right for a clear winner and
for none, and an arm that narrows the catalog is flagged."""

import html
import math
import re
import uuid

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from accounts.models import Profile
from activity.models import Impression, Rating
from recommendations.models import Experiment, ExperimentArm, ExperimentAssignment
from recommendations.services.experiment_analysis import experiment_analysis
from tests.factories import GenreFactory, ProfileFactory, TitleFactory, UserFactory

pytestmark = pytest.mark.django_db

Z95 = 1.959963984540054


def text_of(response) -> str:
    body = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", html.unescape(body))


def make(kind=Experiment.Kind.AB, arms=({}, {"exploration": 30})) -> Experiment:
    experiment = Experiment.objects.create(
        name="More exploration",
        hypothesis="Viewers take more when Top picks explore a little more.",
        kind=kind,
        traffic_share=1.0,
        status=Experiment.Status.RUNNING,
        started_at=timezone.now(),
    )
    for key, config in zip("AB", arms, strict=True):
        ExperimentArm.objects.create(
            experiment=experiment, key=key, name=f"Arm {key}", config=config
        )
    return experiment


@pytest.fixture
def titles() -> list:
    genres = [GenreFactory(name=n) for n in ("Drama", "Comedy", "Horror", "Sci-Fi")]
    return [TitleFactory(genres=[genres[n % 4]]) for n in range(40)]


def show(
    profile: Profile,
    experiment: Experiment,
    arm: str,
    titles: list,
    *,
    taken=(),
    rankers: str = "",
    row_kind: str = "top-picks",
    page_view: uuid.UUID | None = None,
) -> uuid.UUID:
    """One page view's cards (one row), the cards at ``taken`` taken."""
    page_view = page_view or uuid.uuid4()
    now = timezone.now()
    Impression.objects.bulk_create(
        Impression(
            profile=profile,
            page_view=page_view,
            row_kind=row_kind,
            row_position=0,
            title=title,
            position=n,
            experiment_id=experiment.pk,
            arm=arm,
            ranker=rankers[n] if rankers else "",
            taken_at=now if n in taken else None,
            take="play" if n in taken else "",
        )
        for n, title in enumerate(titles)
    )
    return page_view


def analysis_url(experiment: Experiment) -> str:
    return reverse("admin:recommendations_experiment_analysis", args=[experiment.pk])


def test_each_arms_counts_and_take_rate_equal_a_hand_count(titles, admin_client):
    experiment = make()
    p1, p2, p3, p4, idle = ProfileFactory.create_batch(5)
    for profile, arm in ((p1, "A"), (p2, "A"), (idle, "A"), (p3, "B"), (p4, "B")):
        ExperimentAssignment.objects.create(
            experiment=experiment, profile=profile, arm=arm
        )
    show(p1, experiment, "A", titles[:10], taken={0, 3})
    show(p2, experiment, "A", titles[10:20])
    show(p2, experiment, "A", titles[20:30], taken={1})
    show(p3, experiment, "B", titles[:10], taken={0, 1, 2})
    show(p4, experiment, "B", titles[10:20], taken={5})
    # Another test's impressions count for nothing here.
    show(p1, make_other(), "B", titles[:10], taken={0, 1, 2, 3})

    a, b = experiment_analysis(experiment).arms
    assert (a.key, a.control, a.profiles, a.sessions, a.impressions, a.takes) == (
        "A",
        True,
        3,
        3,
        30,
        3,
    )
    assert (b.key, b.control, b.profiles, b.sessions, b.impressions, b.takes) == (
        "B",
        False,
        2,
        2,
        20,
        4,
    )
    # Per profile, A: takes (2, 1) of (10, 20) cards. Delta method by hand:
    # R = 3/30; residuals t - R·e = (1, -1), variance 2, n = 2, mean e = 15.
    half = Z95 * math.sqrt(2 / (2 * 15**2))
    assert a.rate.value == pytest.approx(0.1)
    assert a.rate.low == pytest.approx(max(0.0, 0.1 - half))
    assert a.rate.high == pytest.approx(0.1 + half)
    # B: takes (3, 1) of (10, 10): R = 0.2, residuals (1, -1), mean e = 10.
    half_b = Z95 * math.sqrt(2 / (2 * 10**2))
    assert b.rate.value == pytest.approx(0.2)
    assert b.rate.high == pytest.approx(0.2 + half_b)
    assert b.difference.diff == pytest.approx(0.1)
    se = math.sqrt(2 / (2 * 15**2) + 2 / (2 * 10**2))
    assert b.difference.low == pytest.approx(0.1 - Z95 * se)
    assert b.verdict.text == "No difference yet after 5 sessions"

    page = text_of(admin_client.get(analysis_url(experiment)))
    assert "A · Arm A (control) what everyone gets 3 3 30 3 10.00 %" in page
    assert f"[0.00 %, {(0.1 + half) * 100:.2f} %]" in page
    assert "B · Arm B exploration 30 of 100 2 2 20 4 20.00 %" in page
    assert "+10.00 pts" in page
    assert "No difference yet after 5 sessions" in page


def make_other() -> Experiment:
    other = Experiment.objects.create(
        name="Other", hypothesis="-", status=Experiment.Status.RUNNING
    )
    for key in "AB":
        ExperimentArm.objects.create(experiment=other, key=key, name=key)
    return other


def seed_rates(experiment, titles, a_takes, b_takes, profiles=40):
    """``profiles`` per arm, one page view of 20 cards each; the n-th
    profile of an arm takes ``takes[n % 2]`` of them."""
    for arm, takes in (("A", a_takes), ("B", b_takes)):
        for n, profile in enumerate(ProfileFactory.create_batch(profiles)):
            show(profile, experiment, arm, titles[:20], taken=range(takes[n % 2]))


def test_a_clear_winner_is_named_with_its_confidence(titles, admin_client):
    experiment = make()
    seed_rates(experiment, titles, a_takes=(1, 2), b_takes=(5, 6))
    [v] = experiment_analysis(experiment).verdicts
    assert v.winner == "B"
    assert v.text == "B wins with more than 99.9 % confidence after 80 sessions"
    page = admin_client.get(analysis_url(experiment)).content.decode()
    assert (
        '<p class="experiment-verdict has-winner">B wins with more than 99.9 % '
        "confidence after 80 sessions</p>"
    ) in page


def test_equal_arms_have_no_winner(titles):
    experiment = make()
    seed_rates(experiment, titles, a_takes=(1, 2), b_takes=(2, 1))
    [v] = experiment_analysis(experiment).verdicts
    assert v.winner is None
    assert v.text == "No difference yet after 80 sessions"


def test_nothing_shown_yet_says_so(admin_client):
    experiment = make()
    assert experiment_analysis(experiment).verdicts == []
    page = text_of(admin_client.get(analysis_url(experiment)))
    assert "No evidence yet: no page of this test has been shown." in page


def test_interleaving_credits_each_take_to_the_ranker_that_contributed_the_card(
    titles, admin_client
):
    experiment = make(kind=Experiment.Kind.INTERLEAVING, arms=({}, {"exploration": 60}))
    p1, p2, p3 = ProfileFactory.create_batch(3)
    for profile in (p1, p2, p3):
        ExperimentAssignment.objects.create(
            experiment=experiment, profile=profile, arm="interleaved"
        )
    first = show(
        p1, experiment, "interleaved", titles[:4], rankers="ABAB", taken={0, 1, 2}
    )
    # The page's other rows: no ranker, a take there credits nobody.
    show(
        p1,
        experiment,
        "interleaved",
        titles[30:33],
        row_kind="trending",
        taken={0, 1, 2},
        page_view=first,
    )
    show(p2, experiment, "interleaved", titles[4:8], rankers="BABA", taken={0})
    show(p3, experiment, "interleaved", titles[8:10], rankers="AB", taken={1})
    show(p1, experiment, "interleaved", titles[10:12], rankers="AB")

    found = experiment_analysis(experiment).interleaving
    assert (found.credits_a, found.credits_b) == (2, 3)
    assert (found.wins_a, found.wins_b) == (1, 2)
    assert found.sessions == 4
    # Each viewer counts once (p1's two sessions are one preference for A).
    assert found.preference.ties == 0
    assert found.preference.share_b == pytest.approx(2 / 3)
    assert found.verdict.text == "No difference yet after 4 sessions"

    page = text_of(admin_client.get(analysis_url(experiment)))
    assert (
        "Of the 3 viewers who took more titles from one ranker's cards, 66.7 %" in page
    )
    assert "A 2 1" in page and "B 3 2" in page  # credits and viewers won
    assert "3 profiles assigned" in page


def test_an_interleaving_winner_is_named(titles):
    experiment = make(kind=Experiment.Kind.INTERLEAVING)
    for profile in ProfileFactory.create_batch(30):
        show(profile, experiment, "interleaved", titles[:4], rankers="ABAB", taken={1})
    [v] = experiment_analysis(experiment).verdicts
    assert v.text == "B wins with more than 99.9 % confidence after 30 sessions"


def test_an_arm_that_narrows_the_catalog_or_leans_on_popular_titles_is_flagged(
    titles, admin_client
):
    experiment = make()
    fans = ProfileFactory.create_batch(5)
    for title in titles[:10]:  # the ten most popular titles
        for fan in fans:
            Rating.objects.create(profile=fan, title=title, value=4.0)
    for n, profile in enumerate(ProfileFactory.create_batch(4)):
        show(profile, experiment, "A", titles[n * 10 : n * 10 + 10])
        show(profile, experiment, "B", titles[:10])

    control, narrow = experiment_analysis(experiment).guardrails
    assert (control.page_views, control.titles_shown, control.coverage) == (4, 40, 1.0)
    assert (narrow.page_views, narrow.titles_shown, narrow.coverage) == (4, 10, 0.25)
    assert control.flags == ()
    assert narrow.flags[0] == "B narrows the catalog: coverage 25.0 % vs 100.0 %"
    assert narrow.flags[1].startswith(
        f"B leans on popular titles: popularity percentile {narrow.popularity:.1f} "
        f"vs {control.popularity:.1f}"
    )
    assert narrow.popularity > control.popularity + 5
    # Four genres cycle through every ten titles: each Top picks row mixes them.
    assert narrow.diversity == pytest.approx(control.diversity)

    page = admin_client.get(analysis_url(experiment)).content.decode()
    assert (
        '<p class="experiment-flag" role="alert"><strong>Guardrail:</strong> '
        "B narrows the catalog: coverage 25.0 % vs 100.0 %</p>"
    ) in page
    assert '<tr data-arm="B" class="flagged">' in page
    assert "it wins on takes, but a guardrail flags it" not in page  # no winner


def test_a_winner_that_a_guardrail_flags_is_called_out_by_the_verdict(
    titles, admin_client
):
    experiment = make()
    for n, profile in enumerate(ProfileFactory.create_batch(40)):
        if n % 2:
            show(profile, experiment, "B", titles[:10], taken=range(4 + n % 4))
        else:
            shown = titles[n % 4 * 10 : n % 4 * 10 + 10]
            show(profile, experiment, "A", shown, taken=range(n % 4 // 2))
    page = text_of(admin_client.get(analysis_url(experiment)))
    assert "B wins with more than 99.9 % confidence after 40 sessions" in page
    assert "Before promoting B: it wins on takes, but a guardrail flags it" in page
    assert "B narrows the catalog: coverage 25.0 % vs 50.0 %" in page


def test_arms_of_different_sizes_are_compared_over_as_many_page_views(titles):
    """A larger arm covering more titles by its size alone is not a flag."""
    experiment = make()
    for n in range(4):
        show(ProfileFactory(), experiment, "A", titles[n * 10 : n * 10 + 10])
    show(ProfileFactory(), experiment, "B", titles[30:40])
    control, arm = experiment_analysis(experiment).guardrails
    assert control.page_views == arm.page_views == 1
    assert control.coverage == arm.coverage == 0.25
    assert arm.flags == ()


def test_the_evidence_refreshes_itself_as_a_fragment(titles, admin_client):
    experiment = make()
    show(ProfileFactory(), experiment, "A", titles[:10], taken={0})
    page = admin_client.get(analysis_url(experiment)).content.decode()
    assert f'hx-get="{analysis_url(experiment)}" hx-trigger="every 10s"' in page
    assert f'<a href="{analysis_url(experiment)}">Reload</a>' in page  # no JS
    fragment = admin_client.get(
        analysis_url(experiment), headers={"HX-Request": "true"}
    )
    body = fragment.content.decode()
    assert body.lstrip().startswith('<div id="experiment-evidence"')
    assert "<html" not in body
    assert "HX-Request" in fragment["Vary"]


def test_the_analysis_is_for_staff_who_may_view_tests(client, titles):
    experiment = make()
    client.force_login(UserFactory(email="viewer@example.com"))
    response = client.get(analysis_url(experiment))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    staff = UserFactory(email="staff@example.com", is_staff=True)
    client.force_login(staff)
    assert client.get(analysis_url(experiment)).status_code == 403
    staff.user_permissions.add(Permission.objects.get(codename="view_experiment"))
    page = client.get(analysis_url(experiment))
    assert page.status_code == 200
    assert "You may read this test but not change it." in text_of(page)
    assert (
        client.get(
            reverse("admin:recommendations_experiment_analysis", args=[99999])
        ).status_code
        == 404
    )


def test_the_query_count_does_not_grow_with_the_evidence(
    titles, admin_client, django_assert_max_num_queries
):
    experiment = make()
    seed_rates(experiment, titles, a_takes=(1, 2), b_takes=(2, 3), profiles=30)
    admin_client.get(analysis_url(experiment))  # the popularity cache warms
    with django_assert_max_num_queries(30) as few:
        admin_client.get(analysis_url(experiment))
    seed_rates(experiment, titles, a_takes=(1, 2), b_takes=(2, 3), profiles=60)
    with django_assert_max_num_queries(len(few.captured_queries)):
        admin_client.get(analysis_url(experiment))
