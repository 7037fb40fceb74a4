"""The context a viewer may share (region, today's weather, the weather
lookup): off by default, shown and switched in the privacy centre and the API,
each change in the consent log; a value that does not exist changes nothing."""

from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import Profile, User
from consent import policy
from consent.context import REGIONS, region_of_zip
from consent.models import PrivacySettings
from privacy.models import ConsentEvent
from tests.activity.conftest import HTMX, watch_as
from tests.factories import ProfileFactory, UserFactory
from tests.privacy.test_api import token_client, url

TOGGLE = reverse("privacy:toggle")
REGION = reverse("privacy:region")
WEATHER = reverse("privacy:weather_today")
CENTRE = reverse("privacy:centre")


@pytest.fixture
def ada(db) -> Profile:
    return ProfileFactory(name="Ada")


@pytest.fixture
def ada_client(client, ada):
    return watch_as(client, ada)


def saved(profile: Profile) -> PrivacySettings:
    return policy.settings_for(
        Profile.objects.select_related("privacy").get(pk=profile.pk)
    )


def log(profile: Profile) -> list[tuple[str, str, str]]:
    return list(
        ConsentEvent.objects.filter(user=profile.user)
        .order_by("id")
        .values_list("what", "old_value", "new_value")
    )


def test_context_is_off_by_default(ada):
    settings = saved(ada)

    assert (settings.location, settings.weather, settings.weather_provider) == (
        False,
        False,
        False,
    )
    assert (settings.region, settings.weather_today) == ("", "")


def test_the_centre_shows_the_context_controls_off(ada_client):
    page = ada_client.get(CENTRE).content.decode()

    assert 'id="context-controls"' in page
    for name in ("location", "weather", "weather_provider"):
        assert (
            f'id="toggle-{name}" class="switch" type="submit" role="switch" '
            'aria-checked="false"' in page
        )
    assert '<option value="" selected>No region</option>' in page
    assert "This site has no weather service set up" in page


@pytest.mark.parametrize("name", ["location", "weather", "weather_provider"])
def test_each_context_switch_turns_on_and_is_logged(ada_client, ada, name):
    response = ada_client.post(
        TOGGLE, {"profile": ada.pk, "setting": name, "value": "on"}, headers=HTMX
    )

    assert response.status_code == 200
    assert getattr(saved(ada), name) is True
    assert log(ada) == [(name, "off", "on")]
    assert (
        f'id="toggle-{name}" class="switch" type="submit" role="switch" '
        'aria-checked="true"' in response.content.decode()
    )


def test_a_region_is_declared_and_logged(ada_client, ada):
    response = ada_client.post(REGION, {"profile": ada.pk, "region": "gb"})

    assert response.status_code == 302
    assert saved(ada).region == "gb"
    assert log(ada) == [("region", "", "gb")]


def test_a_region_that_does_not_exist_is_a_400_that_changes_nothing(ada_client, ada):
    response = ada_client.post(REGION, {"profile": ada.pk, "region": "51.5,-0.12"})

    assert response.status_code == 400
    assert "There is no region “51.5,-0.12”." in response.content.decode()
    assert saved(ada).region == ""
    assert log(ada) == []


def test_todays_weather_is_declared_for_today_and_logged(ada_client, ada):
    response = ada_client.post(
        WEATHER, {"profile": ada.pk, "weather_today": "rainy"}, headers=HTMX
    )

    assert response.status_code == 200
    settings = saved(ada)
    assert (settings.weather_today, settings.weather_declared_on) == (
        "rainy",
        timezone.localdate(),
    )
    assert log(ada) == [("weather_today", "", "rainy")]
    assert 'value="rainy" aria-pressed="true"' in response.content.decode()


def test_an_unknown_weather_is_a_400_that_changes_nothing(ada_client, ada):
    response = ada_client.post(WEATHER, {"profile": ada.pk, "weather_today": "hail"})

    assert response.status_code == 400
    assert saved(ada).weather_today == ""
    assert log(ada) == []


def test_another_accounts_profile_is_404_and_unchanged(ada_client):
    eve = ProfileFactory(name="Eve")

    response = ada_client.post(REGION, {"profile": eve.pk, "region": "gb"})

    assert response.status_code == 404
    assert saved(eve).region == ""
    assert log(eve) == []


# --- the API --------------------------------------------------------------------------


def test_the_api_shows_and_changes_the_context_settings(ada):
    api = token_client(ada.user)

    before = api.get(url("profile-settings", ada.pk)).json()
    response = api.patch(
        url("profile-settings", ada.pk),
        {"location": True, "region": "us-9", "weather": True, "weather_today": "snowy"},
        format="json",
    )

    assert {
        k: before[k] for k in ("location", "region", "weather", "weather_today")
    } == {
        "location": False,
        "region": "",
        "weather": False,
        "weather_today": "",
    }
    assert before["weather_provider"] is False
    assert response.status_code == 200
    assert response.json()["region"] == "us-9"
    assert response.json()["weather_today"] == "snowy"
    assert {what for what, _, _ in log(ada)} == {
        "location",
        "region",
        "weather",
        "weather_today",
    }


def test_the_api_refuses_coordinates_for_a_region(ada):
    api = token_client(ada.user)

    response = api.patch(
        url("profile-settings", ada.pk), {"region": "51.5,-0.12"}, format="json"
    )

    assert response.status_code == 400
    assert saved(ada).region == ""


# --- the demo's regions from MovieLens zip codes ---------------------------------------


def test_zip_codes_become_us_zones_and_canada():
    assert region_of_zip("85711") == "us-8"
    assert region_of_zip("02139") == "us-0"
    assert region_of_zip("T8H1N") == "ca"
    assert region_of_zip("") is None
    assert {f"us-{n}" for n in range(10)} | {"ca"} <= set(REGIONS)


def test_seed_regions_gives_imported_viewers_their_zip_codes_region(db, tmp_path: Path):
    folder = tmp_path / "ml-100k"
    folder.mkdir()
    (folder / "u.user").write_text(
        "1|24|M|technician|85711\n2|53|F|other|94043\n3|23|M|writer|32067\n"
    )
    imported = {
        n: ProfileFactory(
            user=UserFactory(
                email=f"ml-100k-{n}@movielens.invalid", source=User.Source.MOVIELENS
            )
        )
        for n in (1, 2)
    }
    someone = ProfileFactory(user=UserFactory(email="ml-100k-3@example.com"))

    call_command("seed_regions", str(folder))

    assert (saved(imported[1]).location, saved(imported[1]).region) == (True, "us-8")
    assert saved(imported[2]).region == "us-9"
    assert saved(someone).region == ""
    assert ("region", "", "us-8") in log(imported[1])


def test_seed_regions_without_demographics_seeds_nothing(db, ml_latest_small, capsys):
    call_command("seed_regions", str(ml_latest_small))

    assert "No zip codes" in capsys.readouterr().out
    assert not PrivacySettings.objects.filter(location=True).exists()
