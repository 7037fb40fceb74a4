"""The editable taste profile: the genres of what a profile likes, shown as
sliders in the privacy centre, each turned up, down or off; the rows follow
at once, "Reset to what you do" puts them back; every edit is a setting
(logged, exported, erased with the profile), and only the account's own."""

import json
import zipfile

import pytest
from django.urls import reverse

from accounts.models import Profile
from catalog.models import Genre
from consent import policy
from consent.models import PrivacySettings
from privacy import services
from privacy.models import ConsentEvent
from privacy.selectors import taste_of
from recommendations.home.cache import cached_page
from recommendations.home.page import page_builder
from tests.activity.conftest import HTMX, watch_as
from tests.factories import ProfileFactory

pytestmark = pytest.mark.django_db

TASTE = reverse("privacy:taste")
RESET = reverse("privacy:taste_reset")
CENTRE = reverse("privacy:centre")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def fresh(profile: Profile) -> Profile:
    """The profile as the next request loads it (the middleware's query)."""
    return Profile.objects.select_related("privacy").get(pk=profile.pk)


def rows(profile: Profile):
    """The home page the viewer gets now (from the cache, as the browser does)."""
    return cached_page(profile=fresh(profile), mood="", device="")


def top_picks(profile: Profile) -> list:
    page = rows(profile)
    (row,) = [r for r in page.rows if r.kind == "top-picks"]
    return row.titles


def genre_count(titles, genre: Genre) -> int:
    return sum(1 for t in titles if genre in t.genres.all())


def taste_genres(profile: Profile) -> list[Genre]:
    """The genres of the profile's taste, strongest first (as the centre lists)."""
    return [Genre.objects.get(slug=g.slug) for g in taste_of(profile).genres]


def log(profile: Profile) -> list[tuple[str, str, str]]:
    """The settings lines (each edit's receipt is tested in test_receipts)."""
    return list(
        ConsentEvent.objects.filter(user=profile.user)
        .exclude(what__startswith="receipt: ")
        .order_by("id")
        .values_list("what", "old_value", "new_value")
    )


@pytest.fixture
def export_dir(settings, tmp_path):
    settings.PRIVACY_EXPORT_DIR = tmp_path / "exports"
    return settings.PRIVACY_EXPORT_DIR


def genre_rows(profile: Profile) -> list[str]:
    """The genre rows built for the profile (before de-duplication)."""
    builder, _ = page_builder(profile=fresh(profile))
    return [d.name for d in builder.genre_rows()]


@pytest.fixture
def viewer(demo_viewer, client):
    watch_as(client, demo_viewer)
    return demo_viewer


# --- the rows follow ------------------------------------------------------------


def test_turning_a_genre_up_raises_its_share_of_top_picks(viewer, client):
    before = top_picks(viewer)
    # The liked genre Top picks show least of: room to rise.
    genre = min(taste_genres(viewer)[:6], key=lambda g: genre_count(before, g))

    response = client.post(TASTE, {"profile": viewer.pk, f"genre-{genre.pk}": 200})

    assert response.status_code == 302
    after = top_picks(viewer)
    assert genre_count(after, genre) > genre_count(before, genre)
    assert policy.taste_levels(policy.settings_for(fresh(viewer))) == {genre.pk: 200}


def test_turning_a_genre_down_lowers_its_share_of_top_picks(viewer, client):
    before = top_picks(viewer)
    genre = max(taste_genres(viewer), key=lambda g: genre_count(before, g))

    client.post(TASTE, {"profile": viewer.pk, f"genre-{genre.pk}": 50})

    assert genre_count(top_picks(viewer), genre) < genre_count(before, genre)


def test_off_takes_away_a_genres_boost_but_hides_nothing(viewer, client):
    strongest = taste_genres(viewer)[0]
    before = top_picks(viewer)
    assert f"{strongest.name} you’ll like" in genre_rows(viewer)
    assert genre_count(before, strongest) > 0

    client.post(TASTE, {"profile": viewer.pk, f"genre-{strongest.pk}": 0})

    page = rows(viewer)
    after = top_picks(viewer)
    assert genre_count(after, strongest) < genre_count(before, strongest)
    assert f"{strongest.name} you’ll like" not in genre_rows(viewer)
    # Not a filter: its titles still show in the rows everyone gets.
    shown = [t for r in page.rows for t in r.titles]
    assert genre_count(shown, strongest) > 0


def test_reset_puts_the_rows_back_to_what_you_do(viewer, client):
    before = [t.pk for t in top_picks(viewer)]
    first, second = taste_genres(viewer)[:2]
    client.post(
        TASTE,
        {"profile": viewer.pk, f"genre-{first.pk}": 0, f"genre-{second.pk}": 200},
    )
    assert [t.pk for t in top_picks(viewer)] != before

    response = client.post(RESET, {"profile": viewer.pk})

    assert response.status_code == 302
    assert [t.pk for t in top_picks(viewer)] == before
    assert fresh(viewer).privacy.taste_adjustments == {}


# --- the centre -------------------------------------------------------------------


def test_the_centre_shows_a_labelled_slider_per_genre_of_the_taste(viewer, client):
    genres = taste_genres(viewer)
    services.taste_levels_set(profile=viewer, levels={genres[0].pk: 150})

    html = client.get(CENTRE).content.decode()

    for genre in genres:
        assert f'<label class="control-label" for="taste-{genre.slug}">' in html
        assert f'name="genre-{genre.pk}"' in html
    assert (
        f'name="genre-{genres[0].pk}" min="0" max="200" step="50" value="150"' in html
    )
    assert 'aria-valuetext="More"' in html
    assert "Reset to what you do" in html


def test_a_slider_moved_with_htmx_answers_with_the_card_and_the_log(viewer, client):
    genre = taste_genres(viewer)[0]

    response = client.post(
        TASTE, {"profile": viewer.pk, f"genre-{genre.pk}": 50}, headers=HTMX
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="taste-sliders"')
    assert f"rows now use {genre.name}: less" in html
    assert 'id="account-summary"' in html and 'hx-swap-oob="true"' in html
    assert f"taste: {genre.name}" in html  # the consent log, out of band


def test_the_centre_shows_the_mix_the_rows_use_after_the_sliders(viewer):
    first, second = taste_genres(viewer)[:2]
    services.taste_levels_set(profile=viewer, levels={first.pk: 0, second.pk: 150})
    builder, _ = page_builder(profile=fresh(viewer))

    shown = {g.slug: (g.share, g.level, g.used) for g in taste_of(fresh(viewer)).genres}
    snap = builder.snap
    for j, g in enumerate(snap.genre_order):
        slug = snap.genre_slugs[g]
        if slug in shown:
            share, _level, used = shown[slug]
            assert used == pytest.approx(builder.taste[j]), slug
            assert share == pytest.approx(builder.history_taste[j]), slug
    assert shown[first.slug][1:] == (0, 0.0)
    assert shown[second.slug][2] > shown[second.slug][0]


# --- a setting: logged, exported, erased ---------------------------------------------


def test_each_change_is_logged_and_an_unchanged_one_is_not(viewer, client):
    first, second = taste_genres(viewer)[:2]

    client.post(
        TASTE,
        {"profile": viewer.pk, f"genre-{first.pk}": 0, f"genre-{second.pk}": 100},
    )
    client.post(TASTE, {"profile": viewer.pk, f"genre-{first.pk}": 0})
    client.post(RESET, {"profile": viewer.pk})
    client.post(RESET, {"profile": viewer.pk})

    assert log(viewer) == [
        (f"taste: {first.name}", "100% (as you watch)", "0% (off)"),
        (
            "taste: reset to what you do",
            f"{first.name} 0% (off)",
            "every genre as you watch",
        ),
    ]


def test_taste_edits_are_exported(viewer, client, export_dir, on_commit):
    first, second = taste_genres(viewer)[:2]
    client.post(
        TASTE,
        {"profile": viewer.pk, f"genre-{first.pk}": 0, f"genre-{second.pk}": 150},
    )

    with on_commit():
        export = services.data_export_request(user=viewer.user)
    export.refresh_from_db()

    archive = zipfile.ZipFile(export.file)
    settings = json.loads(archive.read("privacy_settings.json"))
    (mine,) = [s for s in settings if s["profile_id"] == viewer.pk]
    assert mine["taste_adjustments"] == {first.name: 0, second.name: 150}
    taste = {
        t["genre"]: t
        for t in json.loads(archive.read("taste_profile.json"))
        if t["profile_id"] == viewer.pk
    }
    assert taste[first.name]["your_setting_percent"] == 0
    assert taste[first.name]["weight_used"] == 0
    assert taste[second.name]["your_setting_percent"] == 150
    assert taste[second.name]["weight_used"] > taste[second.name]["weight"]


def test_taste_edits_are_erased_with_the_profile(viewer, client):
    other = ProfileFactory(user=viewer.user, name="Other")
    genre = taste_genres(viewer)[0]
    client.post(TASTE, {"profile": viewer.pk, f"genre-{genre.pk}": 0})
    assert PrivacySettings.objects.filter(profile=viewer).exists()

    services.erase_profile(profile=viewer)

    assert not PrivacySettings.objects.filter(profile_id=viewer.pk).exists()
    assert not PrivacySettings.objects.filter(
        taste_adjustments__has_key=str(genre.pk)
    ).exists()
    assert Profile.objects.filter(pk=other.pk).exists()


# --- who and what may be posted ----------------------------------------------------


def test_another_accounts_profile_is_a_404_and_nothing_changes(viewer, client):
    stranger = ProfileFactory(name="Eve")
    genre = taste_genres(viewer)[0]

    for url, data in (
        (TASTE, {"profile": stranger.pk, f"genre-{genre.pk}": 0}),
        (RESET, {"profile": stranger.pk}),
        (CENTRE + f"?profile={stranger.pk}", None),
    ):
        response = client.post(url, data) if data else client.get(url)
        assert response.status_code == 404, url
    assert not PrivacySettings.objects.filter(profile=stranger).exists()
    assert ConsentEvent.objects.count() == 0


def test_someone_signed_out_cannot_edit(viewer, client):
    client.logout()
    genre = taste_genres(viewer)[0]

    response = client.post(TASTE, {"profile": viewer.pk, f"genre-{genre.pk}": 0})

    assert response.status_code == 302 and "login" in response["Location"]
    assert policy.taste_levels(policy.settings_for(fresh(viewer))) == {}


@pytest.mark.parametrize(
    "data",
    [
        {"genre-{g}": "75"},
        {"genre-{g}": "300"},
        {"genre-{g}": "-50"},
        {"genre-{g}": "lots"},
        {"genre-{g}": ""},
        {"genre-{g}": "9" * 40},
        {"genre-999999": "100"},
        {"genre-" + "9" * 30: "100"},
        {"genre-x": "100"},
        {},
        {"genre-{g}": "100", "profile": "abc"},
    ],
)
def test_bad_input_is_a_400_that_says_why_and_changes_nothing(viewer, client, data):
    genre = taste_genres(viewer)[0]
    post = {"profile": viewer.pk}
    post.update({k.format(g=genre.pk): v for k, v in data.items()})

    response = client.post(TASTE, post)

    assert response.status_code == 400
    assert response.content.decode().count("<li") >= 1
    assert policy.taste_levels(policy.settings_for(fresh(viewer))) == {}
    assert ConsentEvent.objects.count() == 0


def test_the_sliders_only_take_posts(viewer, client):
    assert client.get(TASTE).status_code == 405
    assert client.get(RESET).status_code == 405
