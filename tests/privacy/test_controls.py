"""The privacy centre's controls: each change takes effect at once, is logged
as old → new, and a value that is not allowed is a 400 that changes nothing."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Profile
from activity.models import Feedback, Rating, SearchEvent
from consent import policy
from consent.models import PrivacySettings
from consent.policy import PRIVATE_SESSION_KEY
from privacy.models import ConsentEvent
from tests.activity.conftest import HTMX, watch_as
from tests.factories import (
    FeedbackFactory,
    GenreFactory,
    PrivacySettingsFactory,
    ProfileFactory,
    RatingFactory,
    SearchEventFactory,
    TitleFactory,
)

TOGGLE = reverse("privacy:toggle")
RETENTION = reverse("privacy:retention")
EXPLORATION = reverse("privacy:exploration")
HIDDEN_GENRES = reverse("privacy:hidden_genres")
CENTRE = reverse("privacy:centre")

#: The on/off settings stored in the database, with their defaults.
STORED_TOGGLES = {
    "personalization": True,
    "pause_viewing_history": False,
    "pause_search_history": False,
    "contextual_signals": False,
    "calibration": True,
    "allow_training": True,
    "experiments": True,
}


@pytest.fixture
def ada(db) -> Profile:
    return ProfileFactory(name="Ada")


@pytest.fixture
def ada_client(client, ada):
    return watch_as(client, ada)


def fresh(profile: Profile) -> Profile:
    """The profile as the next request loads it (the middleware's query)."""
    return Profile.objects.select_related("privacy").get(pk=profile.pk)


def stored(profile: Profile, name: str):
    loaded = fresh(profile)
    if name == "allow_training":
        return loaded.allow_training
    return getattr(policy.settings_for(loaded), name)


def log(profile: Profile) -> list[tuple[str, str, str]]:
    """The settings' lines (effect receipts aside: tests/privacy/test_receipts.py)."""
    return list(
        ConsentEvent.objects.filter(user=profile.user)
        .exclude(what__startswith="receipt: ")
        .order_by("id")
        .values_list("what", "old_value", "new_value")
    )


def touch_long_ago(profile: Profile):
    long_ago = timezone.now() - timedelta(days=1)
    Profile.objects.filter(pk=profile.pk).update(activity_changed_at=long_ago)
    return long_ago


# --- toggles ---------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "default"), list(STORED_TOGGLES.items()))
def test_each_toggle_takes_effect_at_once_and_is_logged(ada_client, ada, name, default):
    long_ago = touch_long_ago(ada)
    new = "off" if default else "on"

    response = ada_client.post(
        TOGGLE, {"setting": name, "value": new, "profile": ada.pk}
    )

    assert response.status_code == 302
    assert response["Location"] == f"{CENTRE}?profile={ada.pk}#controls"
    assert stored(ada, name) is (not default)
    old_shown, new_shown = ("on", "off") if default else ("off", "on")
    assert log(ada) == [(name, old_shown, new_shown)]
    assert fresh(ada).activity_changed_at > long_ago
    page = ada_client.get(CENTRE).content.decode()
    assert re.search(
        rf'id="toggle-{name}"[^>]*aria-checked="{"false" if default else "true"}"',
        page,
    )


@pytest.mark.parametrize("name", list(STORED_TOGGLES))
def test_toggling_back_logs_the_way_back(ada_client, ada, name):
    default = STORED_TOGGLES[name]
    there, back = ("off", "on") if default else ("on", "off")

    ada_client.post(TOGGLE, {"setting": name, "value": there, "profile": ada.pk})
    ada_client.post(TOGGLE, {"setting": name, "value": back, "profile": ada.pk})

    assert stored(ada, name) is default
    assert log(ada) == [(name, back, there), (name, there, back)]


def test_setting_a_toggle_to_what_it_is_logs_nothing(ada_client, ada):
    response = ada_client.post(
        TOGGLE, {"setting": "personalization", "value": "on", "profile": ada.pk}
    )

    assert response.status_code == 302
    assert log(ada) == []


def test_toggle_with_htmx_answers_with_the_controls(ada_client, ada):
    response = ada_client.post(
        TOGGLE,
        {"setting": "pause_viewing_history", "value": "on", "profile": ada.pk},
        headers=HTMX,
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert page.lstrip().startswith('<section id="controls"')
    assert re.search(r'id="toggle-pause_viewing_history"[^>]*aria-checked="true"', page)
    assert "Ada: Pause viewing history is on." in page


def test_toggle_with_htmx_also_updates_the_inventory_and_consent_log(ada_client, ada):
    before = ada_client.get(CENTRE).content.decode()

    response = ada_client.post(
        TOGGLE,
        {"setting": "pause_viewing_history", "value": "on", "profile": ada.pk},
        headers=HTMX,
    )

    controls, summary, account = re.split(
        r'(?=<div id="profile-summary"|<section id="account-summary")',
        response.content.decode().strip(),
    )
    settings_line = (
        r'Settings and hidden genres</span>\s*<span class="inventory-dates">(\w+ \w+)'
    )
    assert re.findall(settings_line, before) == ["Never changed"]
    assert "Nothing yet." in before
    assert "hx-swap-oob" not in before
    assert controls.startswith('<section id="controls"')
    assert summary.startswith(
        '<div id="profile-summary" class="privacy-stack" hx-swap-oob="true">'
    )
    assert re.findall(settings_line, summary) == ["Last changed"]
    assert account.startswith(
        '<section id="account-summary" class="privacy-account"'
        ' aria-labelledby="account-heading" hx-swap-oob="true">'
    )
    assert re.findall(r"Setting changed: ([^<]+)</td>\s*<td>([^<]+)</td>", account) == [
        ("Pause viewing history", "off → on")
    ]
    assert "Nothing yet." not in account


def test_toggle_defaults_to_the_active_profile(ada_client, ada):
    ada_client.post(TOGGLE, {"setting": "pause_search_history", "value": "on"})

    assert stored(ada, "pause_search_history") is True


def test_toggle_changes_another_profile_of_the_account(ada_client, ada):
    sibling = ProfileFactory(user=ada.user, name="Sibling")

    ada_client.post(
        TOGGLE, {"setting": "personalization", "value": "off", "profile": sibling.pk}
    )

    assert (stored(sibling, "personalization"), stored(ada, "personalization")) == (
        False,
        True,
    )


def test_toggle_of_another_accounts_profile_is_a_404_and_changes_nothing(
    ada_client, ada
):
    stranger = ProfileFactory(name="Bea")

    response = ada_client.post(
        TOGGLE, {"setting": "personalization", "value": "off", "profile": stranger.pk}
    )

    assert response.status_code == 404
    assert stored(stranger, "personalization") is True
    assert ConsentEvent.objects.count() == 0


def test_kids_profile_must_give_the_password_before_changing_anything(client, ada):
    kid = ProfileFactory(user=ada.user, name="Kiddo", is_kids=True)
    watch_as(client, kid)

    response = client.post(
        TOGGLE, {"setting": "personalization", "value": "off", "profile": kid.pk}
    )

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:confirm_password"))
    assert stored(kid, "personalization") is True


# --- bad input ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "data", "message"),
    [
        (
            TOGGLE,
            {"setting": "telemetry", "value": "on"},
            "no setting called “telemetry”",
        ),
        (TOGGLE, {"setting": "personalization", "value": "maybe"}, "“on” or “off”"),
        (TOGGLE, {"setting": "personalization"}, "This field is required."),
        (
            TOGGLE,
            {"setting": "personalization", "value": "off", "profile": "ada"},
            "A profile is given by its number.",
        ),
        (EXPLORATION, {"exploration": "101"}, "Exploration goes from 0 to 100."),
        (EXPLORATION, {"exploration": "-1"}, "Exploration goes from 0 to 100."),
        (EXPLORATION, {"exploration": "lots"}, "a whole number from 0 to 100"),
        (EXPLORATION, {}, "Choose how adventurous"),
        (RETENTION, {"retention_months": "7"}, "3, 18 or 36 months"),
        (RETENTION, {"retention_months": "forever"}, "3, 18 or 36 months"),
        (HIDDEN_GENRES, {"genres": ["999999"]}, "no genre with id 999999"),
        (HIDDEN_GENRES, {"genres": ["drama"]}, "“drama” is not a genre."),
    ],
)
def test_a_value_that_is_not_allowed_is_a_400_that_changes_nothing(
    ada_client, ada, url, data, message
):
    long_ago = touch_long_ago(ada)

    page = ada_client.post(url, data)
    fragment = ada_client.post(url, data, headers=HTMX)

    assert page.status_code == fragment.status_code == 400
    assert message in page.content.decode()
    assert message in fragment.content.decode()
    assert "<html" not in fragment.content.decode()
    assert not PrivacySettings.objects.exists()
    assert ConsentEvent.objects.count() == 0
    assert fresh(ada).activity_changed_at == long_ago


@pytest.mark.parametrize("url", [TOGGLE, RETENTION, EXPLORATION, HIDDEN_GENRES])
def test_controls_only_take_posts(ada_client, url):
    assert ada_client.get(url).status_code == 405


# --- the private session -------------------------------------------------------------


def test_private_session_is_kept_in_this_browser_and_logged(ada_client, ada, client):
    ada_client.post(
        TOGGLE, {"setting": "private_session", "value": "on", "profile": ada.pk}
    )

    assert ada_client.session[PRIVATE_SESSION_KEY] == [ada.pk]
    assert log(ada) == [("private_session", "off", "on")]
    assert not PrivacySettings.objects.exists()  # nothing stored for the profile


def test_private_session_shows_a_banner_on_every_page_until_turned_off(ada_client, ada):
    ada_client.post(
        TOGGLE, {"setting": "private_session", "value": "on", "profile": ada.pk}
    )
    pages = [
        ada_client.get(reverse("recommendations:home")),
        ada_client.get(reverse("activity:history")),
        ada_client.get(CENTRE),
    ]
    turned_off = ada_client.post(
        TOGGLE,
        {
            "setting": "private_session",
            "value": "off",
            "profile": ada.pk,
            "next": reverse("activity:history"),
        },
    )
    after = ada_client.get(reverse("activity:history")).content.decode()

    for page in pages:
        assert "<strong>Private session</strong> for Ada" in page.content.decode()
    assert turned_off["Location"] == reverse("activity:history")
    assert "Private session</strong>" not in after
    assert log(ada) == [
        ("private_session", "off", "on"),
        ("private_session", "on", "off"),
    ]


def test_private_session_toggle_with_htmx_swaps_the_banner_too(ada_client, ada):
    response = ada_client.post(
        TOGGLE,
        {"setting": "private_session", "value": "on", "profile": ada.pk},
        headers={**HTMX, "HX-Current-URL": "http://testserver/privacy/?profile=1"},
    )

    page = response.content.decode()
    assert (
        '<div id="private-session-banner" class="private-banner-slot" hx-swap-oob="true">'
        in page
    )
    assert 'name="next" value="/privacy/?profile=1"' in page


# --- retention ------------------------------------------------------------------------


def test_shortening_retention_deletes_older_activity_at_once(ada_client, ada):
    now = timezone.now()
    old = RatingFactory(profile=ada, updated_at=now - timedelta(days=800))
    recent = RatingFactory(profile=ada, updated_at=now - timedelta(days=200))
    SearchEventFactory(profile=ada, created_at=now - timedelta(days=800))
    kept_search = SearchEventFactory(profile=ada, created_at=now - timedelta(days=10))

    response = ada_client.post(RETENTION, {"retention_months": "18", "profile": ada.pk})

    assert response.status_code == 302
    assert list(Rating.objects.all()) == [recent]
    assert list(SearchEvent.objects.all()) == [kept_search]
    assert policy.settings_for(fresh(ada)).retention_months == 18
    assert log(ada)[0] == ("retention_months", "0", "18")
    assert old.pk not in Rating.objects.values_list("pk", flat=True)


def test_shortening_retention_further_deletes_more(ada_client, ada):
    PrivacySettingsFactory(profile=ada, retention_months=18)
    now = timezone.now()
    RatingFactory(profile=ada, updated_at=now - timedelta(days=200))
    recent = RatingFactory(profile=ada, updated_at=now - timedelta(days=20))

    ada_client.post(RETENTION, {"retention_months": "3", "profile": ada.pk})

    assert list(Rating.objects.all()) == [recent]


@pytest.mark.parametrize(("before", "after"), [(3, 36), (18, 0)])
def test_lengthening_retention_deletes_nothing(ada_client, ada, before, after):
    # Rows older than the old window stay if they are still there: only a
    # shorter window deletes at once (the daily task does the rest).
    PrivacySettingsFactory(profile=ada, retention_months=before)
    old = RatingFactory(profile=ada, updated_at=timezone.now() - timedelta(days=900))

    ada_client.post(RETENTION, {"retention_months": str(after), "profile": ada.pk})

    assert list(Rating.objects.all()) == [old]
    assert log(ada) == [("retention_months", str(before), str(after))]


# --- exploration and hidden genres ----------------------------------------------------


def test_exploration_is_saved_and_logged(ada_client, ada):
    response = ada_client.post(EXPLORATION, {"exploration": "55"}, headers=HTMX)

    assert response.status_code == 200
    assert 'name="exploration" min="0" max="100" step="5" value="55"' in (
        response.content.decode()
    )
    assert policy.settings_for(fresh(ada)).exploration == 55
    assert log(ada) == [("exploration", "20", "55")]


def test_hidden_genres_follow_the_ticked_boxes(ada_client, ada):
    drama, horror, comedy = (
        GenreFactory(name=n) for n in ("Drama", "Horror", "Comedy")
    )

    ada_client.post(HIDDEN_GENRES, {"genres": [drama.pk, horror.pk]})
    first = policy.hidden_genre_ids(policy.settings_for(fresh(ada)))
    ada_client.post(HIDDEN_GENRES, {"genres": [horror.pk, comedy.pk]})
    second = policy.hidden_genre_ids(policy.settings_for(fresh(ada)))
    ada_client.post(HIDDEN_GENRES, {})
    third = policy.hidden_genre_ids(policy.settings_for(fresh(ada)))

    assert (first, second, third) == (
        {drama.pk, horror.pk},
        {horror.pk, comedy.pk},
        set(),
    )
    assert log(ada) == [
        ("hidden genre Drama", "off", "on"),
        ("hidden genre Horror", "off", "on"),
        ("hidden genre Drama", "on", "off"),
        ("hidden genre Comedy", "off", "on"),
        ("hidden genre Horror", "on", "off"),
        ("hidden genre Comedy", "on", "off"),
    ]


def test_hidden_genres_are_ticked_on_the_page(ada_client, ada):
    drama = GenreFactory(name="Drama")
    GenreFactory(name="Comedy")
    ada_client.post(HIDDEN_GENRES, {"genres": [drama.pk]})

    page = ada_client.get(CENTRE).content.decode()

    ticked = re.findall(r'name="genres" value="(\d+)" checked', page)
    assert ticked == [str(drama.pk)]


# --- hidden titles ----------------------------------------------------------------------


def test_hidden_titles_are_listed_with_an_undo(ada_client, ada):
    heat = TitleFactory(title="Heat")
    hidden = FeedbackFactory(profile=ada, title=heat, kind="not_interested")
    FeedbackFactory(profile=ada, title=TitleFactory(title="Alien"), kind="thumbs_up")

    page = ada_client.get(CENTRE).content.decode()
    undo = reverse("privacy:hidden_title_show", args=[hidden.pk])
    response = ada_client.post(undo)

    assert re.findall(r'class="hidden-title-name"><a [^>]*>([^<]+)</a>', page) == [
        "Heat"
    ]
    assert f'action="{undo}"' in page
    assert response.status_code == 302
    assert response["Location"] == f"{CENTRE}?profile={ada.pk}#controls"
    assert list(Feedback.objects.values_list("kind", flat=True)) == ["thumbs_up"]
    after = ada_client.get(CENTRE).content.decode()
    assert re.findall(r'class="hidden-title">', after) == []


def test_undoing_a_hidden_title_by_htmx_updates_the_inventory_too(ada_client, ada):
    hidden = FeedbackFactory(profile=ada, title=TitleFactory(), kind="not_interested")

    response = ada_client.post(
        reverse("privacy:hidden_title_show", args=[hidden.pk]), headers=HTMX
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="controls"' in html
    assert 'id="profile-summary" class="privacy-stack" hx-swap-oob="true"' in html
    assert re.search(
        r'inventory-count">0</span>\s*<span class="inventory-label">Not interested',
        html,
    )
    assert not Feedback.objects.exists()


def test_someone_elses_hidden_title_cannot_be_shown_again(ada_client):
    theirs = FeedbackFactory(kind="not_interested")

    response = ada_client.post(reverse("privacy:hidden_title_show", args=[theirs.pk]))

    assert response.status_code == 404
    assert Feedback.objects.filter(pk=theirs.pk).exists()


def test_training_opt_out_keeps_every_row_of_the_profile_out_of_the_next_dataset(
    ada_client, ada
):
    from recommendations.services.dataset import training_dataset

    other = ProfileFactory()
    for title in TitleFactory.create_batch(3):
        RatingFactory(profile=ada, title=title, value=4.5)
        RatingFactory(profile=other, title=title, value=3.0)
    FeedbackFactory(profile=ada, title=TitleFactory(), kind=Feedback.Kind.THUMBS_UP)
    assert (training_dataset().users == ada.pk).sum() == 4

    ada_client.post(
        TOGGLE, {"setting": "allow_training", "value": "off", "profile": ada.pk}
    )

    dataset = training_dataset()
    assert (dataset.users == ada.pk).sum() == 0
    assert (dataset.users == other.pk).sum() == 3
