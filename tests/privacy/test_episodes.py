"""Plays of episodes are viewings like any other: exported (with the episode),
erased one by one or all together, and aged out by retention."""

import csv
import io
import json
import zipfile
from datetime import UTC, datetime, timedelta

import pytest

from activity import selectors
from activity.models import ViewingEvent
from catalog.models import Episode
from consent.models import PrivacySettings
from privacy import services
from tests.factories import AccountFactory, ProfileFactory, series_with

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 5, 31, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def ada():
    return ProfileFactory(user=AccountFactory(email="ada@example.com"), name="Ada")


def play(profile, series, season, number, *, at=NOW, progress=1.0):
    episode = Episode.objects.get(
        season__title=series, season__number=season, number=number
    )
    return ViewingEvent.objects.create(
        profile=profile,
        title=series,
        episode=episode,
        started_at=at,
        updated_at=at,
        progress=progress,
        completed=progress >= ViewingEvent.COMPLETED_AT,
    )


def test_the_export_names_the_episode_of_each_play(ada, settings, tmp_path, on_commit):
    settings.PRIVACY_EXPORT_DIR = tmp_path
    series = series_with(2, 5, title="Harbour Lights")
    viewing = play(ada, series, 2, 4, progress=0.4)
    with on_commit():
        export = services.data_export_request(user=ada.user)
    export.refresh_from_db()

    archive = zipfile.ZipFile(export.file)
    rows = json.loads(archive.read("viewings.json"))
    table = list(csv.DictReader(io.StringIO(archive.read("viewings.csv").decode())))

    assert [
        (
            r["id"],
            r["title__title"],
            r["episode_id"],
            r["episode__season__number"],
            r["episode__number"],
            r["episode__title"],
        )
        for r in rows
    ] == [(viewing.pk, "Harbour Lights", viewing.episode_id, 2, 4, "S2 episode 4")]
    assert (table[0]["episode__season__number"], table[0]["episode__number"]) == (
        "2",
        "4",
    )


def test_erasing_one_episode_play_takes_the_series_back_to_the_play_before(
    ada, on_commit
):
    series = series_with(6)
    play(ada, series, 1, 2, at=NOW - timedelta(days=1))
    latest = play(ada, series, 1, 3)
    assert selectors.continue_watching(ada).get().up_next_code == "S1:E4"

    with on_commit():
        services.erase_item(profile=ada, kind="play", item_id=latest.pk)

    assert not ViewingEvent.objects.filter(pk=latest.pk).exists()
    assert selectors.continue_watching(ada).get().up_next_code == "S1:E3"
    assert selectors.up_next(ada, series).episode.code == "S1:E3"
    assert Episode.objects.filter(season__title=series).count() == 6


def test_erasing_the_viewing_history_erases_every_episode_play(ada, on_commit):
    series = series_with(3)
    for number in (1, 2, 3):
        play(ada, series, 1, number)

    with on_commit():
        erased = services.erase_category(profile=ada, category="viewings")

    assert erased == 3
    assert not ViewingEvent.objects.filter(profile=ada).exists()
    assert selectors.up_next(ada, series).episode.code == "S1:E1"


def test_retention_ages_out_old_episode_plays_and_keeps_recent_ones(ada, on_commit):
    PrivacySettings.objects.create(profile=ada, retention_months=3)
    series = series_with(4)
    play(ada, series, 1, 1, at=NOW - timedelta(days=200))
    play(ada, series, 1, 2, at=NOW - timedelta(days=120))
    recent = play(ada, series, 1, 3, at=NOW - timedelta(days=2), progress=0.5)

    with on_commit():
        counts = services.retention_purge_profile(profile=ada, now=NOW)

    assert counts == {"viewings": 2}
    assert list(ViewingEvent.objects.filter(profile=ada)) == [recent]
