"""The privacy centre's pages: who may see them, the inventory of what is held,
the inferred taste profile, the model in use, and the plain-language page."""

import math
import re
import uuid
from datetime import UTC, datetime

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Profile
from activity.models import (
    Feedback,
    Impression,
    ListItem,
    Rating,
    SearchEvent,
    TagApplication,
    ViewingEvent,
)
from consent import policy
from privacy import selectors
from privacy.models import ConsentEvent, DataExport
from privacy.services import privacy_settings_update
from recommendations.models import (
    ModelVersion,
    ProfileCandidates,
    RowEngagement,
    SeedExclusion,
)
from recommendations.services.dataset import profile_histories, training_dataset
from tests.activity.conftest import HTMX, watch_as
from tests.factories import (
    ACCOUNT_PASSWORD,
    AccountFactory,
    FeedbackFactory,
    GenreFactory,
    ListItemFactory,
    ProfileFactory,
    RatingFactory,
    SearchEventFactory,
    TagFactory,
    TitleFactory,
    ViewingEventFactory,
)

CENTRE = reverse("privacy:centre")


def at(day: int) -> datetime:
    return datetime(2026, 3, day, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def ada(db) -> Profile:
    return ProfileFactory(user=AccountFactory(email="ada@example.com"), name="Ada")


@pytest.fixture
def ada_client(client, ada):
    return watch_as(client, ada)


# --- who may see it ------------------------------------------------------------------


def test_centre_asks_a_visitor_to_log_in(client, db):
    response = client.get(CENTRE)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next={CENTRE}"


def test_kids_profile_is_asked_for_the_account_password_first(client, ada):
    kid = ProfileFactory(user=ada.user, name="Kiddo", is_kids=True)
    watch_as(client, kid)

    asked = client.get(CENTRE)
    wrong = client.post(
        reverse("accounts:confirm_password"), {"password": "nope", "next": CENTRE}
    )
    still_asked = client.get(CENTRE)
    typed = client.post(
        reverse("accounts:confirm_password"),
        {"password": ACCOUNT_PASSWORD, "next": CENTRE},
    )
    page = client.get(CENTRE)

    confirm = f"{reverse('accounts:confirm_password')}?next=%2Fprivacy%2F"
    assert (asked.status_code, asked["Location"]) == (302, confirm)
    assert wrong.status_code == 200
    assert still_asked["Location"] == confirm
    assert (typed.status_code, typed["Location"]) == (302, CENTRE)
    assert page.status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        reverse("privacy:centre"),
        reverse("privacy:ledger"),
        reverse("privacy:consent_log"),
    ],
)
def test_every_account_page_of_the_centre_needs_the_password_on_a_kids_profile(
    client, ada, path
):
    watch_as(client, ProfileFactory(user=ada.user, name="Kiddo", is_kids=True))

    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:confirm_password"))


def test_another_accounts_profile_is_a_404(ada_client, ada):
    stranger = ProfileFactory(name="Bea")
    RatingFactory(profile=stranger)

    response = ada_client.get(CENTRE, {"profile": stranger.pk})

    assert response.status_code == 404
    assert "Bea" not in response.content.decode()


def test_a_profile_that_is_not_a_number_is_a_400(ada_client):
    response = ada_client.get(CENTRE, {"profile": "ada"})

    assert response.status_code == 400
    assert "A profile is given by its number." in response.content.decode()


def test_centre_opens_on_the_active_profile_and_switches_with_profile(ada_client, ada):
    sibling = ProfileFactory(user=ada.user, name="Sibling")
    SearchEventFactory.create_batch(3, profile=sibling)

    first = ada_client.get(CENTRE).content.decode()
    switched = ada_client.get(CENTRE, {"profile": sibling.pk}).content.decode()

    def heading(page: str) -> str:
        return re.search(r'id="profile-heading"[^>]*>([^<]+)', page)[1].strip()

    def current_tab(page: str) -> str:
        tab = re.search(r'href="\?profile=(\d+)"[^>]*aria-current="page"', page)
        return int(tab[1])

    assert (heading(first), current_tab(first)) == ("Ada", ada.pk)
    assert (heading(switched), current_tab(switched)) == ("Sibling", sibling.pk)


def test_switching_profile_with_htmx_returns_only_its_section(ada_client, ada):
    sibling = ProfileFactory(user=ada.user, name="Sibling")

    response = ada_client.get(
        CENTRE,
        {"profile": sibling.pk},
        headers={**HTMX, "HX-Target": "profile-section"},
    )

    page = response.content.decode()
    assert page.lstrip().startswith('<section id="profile-section"')
    assert "<html" not in page
    assert response["Vary"].count("HX-Request") == 1


def test_privacy_is_linked_from_every_page_for_logged_in_people(client, ada):
    anonymous = client.get(reverse("recommendations:home")).content.decode()
    watch_as(client, ada)
    pages = [
        client.get(reverse("recommendations:home")),
        client.get(reverse("catalog:search"), {"q": "x"}),
        client.get(reverse("activity:my_list")),
    ]

    assert 'href="/privacy/"' not in anonymous
    for page in pages:
        assert page.status_code == 200
        html = page.content.decode()
        assert '<a class="nav-privacy" href="/privacy/">' in html
        assert '<span class="nav-privacy-text">Privacy</span></a>' in html
        assert (
            '<nav class="footer-links" aria-label="Privacy"><a href="/privacy/">'
            in html
        )


def test_how_recommendations_work_is_in_the_footer_for_everyone(client, ada):
    how = reverse("privacy:how_it_works")
    changes = reverse("privacy:changelog")
    anonymous = client.get(reverse("recommendations:home")).content.decode()
    watch_as(client, ada)
    logged_in = client.get(reverse("recommendations:home")).content.decode()

    assert (
        '<nav class="footer-links" aria-label="Privacy">'
        f'<a href="{how}">How recommendations work</a>'
        f' <a href="{changes}">Changes to recommendations</a></nav>'
    ) in anonymous
    assert (
        '<nav class="footer-links" aria-label="Privacy"><a href="/privacy/">Privacy</a>'
        f' <a href="{how}">How recommendations work</a>'
        f' <a href="{changes}">Changes to recommendations</a></nav>'
    ) in logged_in


# --- what we keep: the inventory -----------------------------------------------------


def _fill(profile: Profile) -> None:
    """A known amount of every kind of data, at known dates."""
    titles = TitleFactory.create_batch(4)
    RatingFactory(profile=profile, title=titles[0], created_at=at(2), updated_at=at(9))
    RatingFactory(profile=profile, title=titles[1], created_at=at(3), updated_at=at(4))
    ViewingEventFactory(profile=profile, title=titles[0], started_at=at(5))
    SearchEventFactory(profile=profile, created_at=at(6))
    SearchEventFactory(profile=profile, created_at=at(7))
    SearchEventFactory(profile=profile, created_at=at(8))
    FeedbackFactory(profile=profile, title=titles[2], kind="not_interested")
    FeedbackFactory(profile=profile, title=titles[3], kind="not_interested")
    FeedbackFactory(profile=profile, title=titles[0], kind="thumbs_up")
    FeedbackFactory(profile=profile, title=titles[1], kind="pick")
    ListItemFactory(profile=profile, title=titles[1])
    TagApplication.objects.create(profile=profile, title=titles[0], tag=TagFactory())
    SeedExclusion.objects.create(profile=profile, title=titles[0])
    RowEngagement.objects.create(profile=profile, row_kind="top_picks", count=3)


def test_inventory_counts_equal_the_database(ada):
    sibling = ProfileFactory(user=ada.user, name="Sibling")
    _fill(ada)
    _fill(ProfileFactory(name="Stranger"))  # another account: not counted
    SearchEventFactory(profile=sibling)
    privacy_settings_update(profile=ada, exploration=40, pause_search_history=True)
    DataExport.objects.create(user=ada.user)

    inventory = selectors.inventory(ada.user)

    def counts(profile):
        found = inventory.for_profile(profile.pk)
        return {h.key: h.count for h in found.holdings}

    def held(profile):
        of = {"profile": profile}
        return {
            "ratings": Rating.objects.filter(**of).count(),
            "viewings": ViewingEvent.objects.filter(**of).count(),
            "searches": SearchEvent.objects.filter(**of).count(),
            **{
                f"feedback_{kind}": Feedback.objects.filter(**of, kind=kind).count()
                for kind in Feedback.Kind
            },
            "list": ListItem.objects.filter(**of).count(),
            "tags": TagApplication.objects.filter(**of).count(),
            "seed_exclusions": SeedExclusion.objects.filter(**of).count(),
            "row_engagement": RowEngagement.objects.filter(**of).count(),
        }

    assert {k: v for k, v in counts(ada).items() if k in held(ada)} == held(ada)
    assert counts(ada) | {} == {
        **dict.fromkeys(counts(ada), 0),
        "ratings": 2,
        "viewings": 1,
        "searches": 3,
        "feedback_not_interested": 2,
        "feedback_thumbs_up": 1,
        "feedback_thumbs_down": 0,
        "feedback_pick": 1,
        "list": 1,
        "tags": 1,
        "seed_exclusions": 1,
        "row_engagement": 1,
    }
    assert counts(sibling)["searches"] == 1
    assert sum(counts(sibling).values()) == 1
    account = {h.key: h.count for h in inventory.account}
    assert account == {
        "profiles": 2,
        "consent_log": ConsentEvent.objects.filter(user=ada.user).count(),
        "exports": 1,
        "tokens": 0,
    }
    assert account["consent_log"] == 2


def test_inventory_gives_each_kind_its_date_range(ada):
    _fill(ada)

    holdings = {h.key: h for h in selectors.inventory(ada.user).profiles[0].holdings}

    assert (holdings["ratings"].first, holdings["ratings"].last) == (at(2), at(9))
    assert (holdings["searches"].first, holdings["searches"].last) == (at(6), at(8))
    assert (holdings["viewings"].first, holdings["feedback_thumbs_down"].first) == (
        at(5),
        None,
    )


def test_inventory_takes_the_same_number_of_queries_whatever_is_held(ada):
    with CaptureQueriesContext(connection) as empty:
        selectors.inventory(ada.user)
    for n in range(3):
        _fill(ProfileFactory(user=ada.user, name=f"P{n}"))
    _fill(ada)

    with CaptureQueriesContext(connection) as full:
        selectors.inventory(ada.user)

    assert len(full) == len(empty)


def test_inventory_lists_every_model_that_holds_profile_data(ada):
    """A new model with a foreign key to Profile shows up without being named."""
    holding_profiles = {
        model
        for model in apps.get_models()
        if any(
            f.is_relation and f.related_model is Profile
            for f in model._meta.concrete_fields
        )
    }
    keys = {h.key for h in selectors.inventory(ada.user).profiles[0].holdings}

    named = {kind.model for kind in selectors.PROFILE_DATA}
    shown_apart = set(selectors._SHOWN_APART)
    # The account's, that may be tied to a profile (a token): listed for the account.
    of_the_account = {kind.model for kind in selectors.ACCOUNT_DATA}
    for model in holding_profiles - named - shown_apart - of_the_account:
        assert model._meta.label_lower in keys


def test_centre_page_shows_the_counts(ada_client, ada):
    _fill(ada)

    page = ada_client.get(CENTRE).content.decode()

    items = re.findall(
        r'inventory-count">(\d+)</span>\s*<span class="inventory-label">([^<]+)<', page
    )
    shown = {label: int(count) for count, label in items}
    assert shown["Ratings"] == 2
    assert shown["Searches"] == 3
    assert shown["Not interested (hidden titles)"] == 2
    assert shown["Profiles"] == 1


# --- what we work out: the taste profile ---------------------------------------------


@pytest.fixture
def tastes(ada):
    drama, comedy, horror = (
        GenreFactory(name=n) for n in ("Drama", "Comedy", "Horror")
    )
    a = TitleFactory(genres=[drama])
    b = TitleFactory(genres=[comedy, drama])
    c = TitleFactory(genres=[horror])
    d = TitleFactory(genres=[comedy])
    e = TitleFactory(genres=[drama])
    f = TitleFactory(genres=[horror])
    RatingFactory(profile=ada, title=a, value=4.0)
    ViewingEventFactory(profile=ada, title=a, progress=0.3)  # counted once
    ViewingEventFactory(profile=ada, title=b, progress=0.95, completed=True)
    RatingFactory(profile=ada, title=c, value=2.0)  # not liked
    FeedbackFactory(profile=ada, title=c, kind="thumbs_down")
    ViewingEventFactory(profile=ada, title=c, progress=0.4)  # not finished
    FeedbackFactory(profile=ada, title=d, kind="thumbs_up")
    FeedbackFactory(profile=ada, title=e, kind="pick")
    RatingFactory(profile=ada, title=f, value=3.5)  # liked: 3★ or more
    RatingFactory(profile=ProfileFactory(user=ada.user), title=c, value=5.0)
    return ada


def test_taste_profile_weighs_the_genres_of_liked_titles(tastes):
    taste = selectors.taste_profile(tastes)

    assert taste.liked_titles == 5
    # Weighed as the rows weigh them (a 4★ 0.8, b finished 0.8, d thumbs up 1,
    # e picked 0.8, f 3.5★ 0.7): of 4.1 in all.
    assert [(g.name, round(g.weight, 6)) for g in taste.genres] == [
        ("Drama", 0.487805),  # a, half of b, e: 2.0
        ("Comedy", 0.341463),  # half of b, d: 1.4
        ("Horror", 0.170732),  # f: 0.7
    ]
    shares = (2.0 / 4.1, 1.4 / 4.1, 0.7 / 4.1)
    expected = -sum(p * math.log(p) for p in shares)
    assert taste.adventurousness == pytest.approx(expected / math.log(3))
    assert taste.adventurousness_words.startswith("Very adventurous")


def test_taste_of_a_single_genre_is_focused(ada):
    drama = GenreFactory(name="Drama")
    GenreFactory(name="Comedy")
    for _ in range(3):
        RatingFactory(profile=ada, title=TitleFactory(genres=[drama]), value=5.0)

    taste = selectors.taste_profile(ada)

    assert taste.adventurousness == 0.0
    assert taste.adventurousness_words.startswith("Focused")


def test_taste_needs_a_few_titles_before_judging_adventurousness(ada):
    RatingFactory(profile=ada, title=TitleFactory(genres=[GenreFactory()]), value=5.0)

    taste = selectors.taste_profile(ada)

    assert (taste.liked_titles, taste.adventurousness) == (1, None)
    assert taste.adventurousness_words.startswith("Not enough history")


def test_centre_draws_the_taste_chart_as_inline_svg(ada_client, tastes):
    page = ada_client.get(CENTRE).content.decode()

    chart = re.search(r'<svg class="taste-chart".*?</svg>', page, re.S)[0]
    assert re.findall(r'class="taste-label"[^>]*>([^<]+)<', chart) == [
        "Drama",
        "Comedy",
        "Horror",
    ]
    widths = [
        float(w) for w in re.findall(r'class="taste-fill"[^>]*width="([\d.]+)"', chart)
    ]
    assert widths == [352.0, 246.4, 123.2]  # proportional, the top one full
    assert "Drama: 49%; Comedy: 34%; Horror: 17%." in chart
    assert "<script" not in page.split("</head>")[1]
    assert "style=" not in chart


def test_centre_says_when_there_is_no_taste_yet(ada_client):
    page = ada_client.get(CENTRE).content.decode()

    assert '<svg class="taste-chart"' not in page
    assert "Nothing yet: like, rate or finish a few titles" in page


# --- the model in use --------------------------------------------------------------------


def test_model_in_use_without_any_model(ada_client):
    page = ada_client.get(CENTRE).content.decode()

    assert "None: non-personalized. No model has been trained yet." in page


def test_model_in_use_names_the_version_of_the_profiles_candidates(ada_client, ada):
    version = ModelVersion.objects.create(algorithm="svd", status="active")
    ProfileCandidates.objects.create(
        profile=ada, model_version=version, title_ids=[1, 2, 3], scores=[3, 2, 1]
    )

    page = ada_client.get(CENTRE).content.decode()

    assert f"Model #{version.pk} (svd), active." in page
    assert re.search(
        r'inventory-count">3</span>\s*<span class="inventory-label">Top picks candidates',
        page,
    )


def test_model_in_use_is_none_while_personalization_is_off(ada_client, ada):
    version = ModelVersion.objects.create(algorithm="svd", status="active")
    ProfileCandidates.objects.create(profile=ada, model_version=version)
    privacy_settings_update(profile=ada, personalization=False)

    page = ada_client.get(CENTRE).content.decode()

    assert "None: personalization is off" in page
    assert f"Model #{version.pk}" not in page


def test_model_in_use_before_the_profiles_first_signal(ada):
    active = ModelVersion(algorithm="svd", status="active")

    found = selectors.model_in_use(policy.settings_for(ada), None, active)

    assert found.version is None
    assert found.explanation.startswith("None: non-personalized. Your picks")


# --- how recommendations work ------------------------------------------------------------


def test_how_recommendations_work_is_open_to_everyone(client, db):
    page = client.get(reverse("privacy:how_it_works")).content.decode()

    assert '<h1 class="page-title">How recommendations work</h1>' in page
    assert "never used to choose titles" in page  # searches
    assert "No age, gender, location or other demographics" in page


def test_what_the_page_says_is_not_used_is_not_in_the_training_data(ada):
    """Searches, My List, tags and rows shown are said to be unused: the
    dataset agrees."""
    title = TitleFactory()
    RatingFactory(profile=ada, title=TitleFactory(), value=4.0)
    before = training_dataset()
    (history_before,) = profile_histories([ada.pk])

    SearchEventFactory(profile=ada, query=title.title)
    ListItemFactory(profile=ada, title=title)
    TagApplication.objects.create(profile=ada, title=title, tag=TagFactory())
    Impression.objects.create(
        profile=ada,
        page_view=uuid.uuid4(),
        row_kind="trending",
        row_position=0,
        title=title,
        position=0,
        take=Impression.Take.PLAY,
        taken_at=timezone.now(),
    )
    after = training_dataset()
    (history_after,) = profile_histories([ada.pk])

    assert len(before) == len(after) == 1
    assert list(after.items) == list(before.items)
    assert list(history_after.items) == list(history_before.items)


# --- the consent log page ------------------------------------------------------------------


def test_consent_log_page_shows_the_accounts_own_log_newest_first(ada_client, ada):
    privacy_settings_update(profile=ada, exploration=35)
    privacy_settings_update(profile=ada, pause_search_history=True)
    privacy_settings_update(profile=ProfileFactory(name="Bea"), exploration=90)

    page = ada_client.get(reverse("privacy:consent_log")).content.decode()

    rows = re.findall(r"Setting changed: ([^<]+)</td>\s*<td>([^<]+)</td>", page)
    assert rows == [("Pause search history", "off → on"), ("Exploration", "20 → 35")]
    assert "Bea" not in page
