"""The weather provider: asked only when the viewer turned it on and an operator
configured it, about a coarse point only; a slow or broken provider means "no
weather", silently for the viewer. Every test talks to a local stub server."""

import json
import logging
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from consent.context import REGIONS, Weather
from recommendations.home.context import weather_now
from recommendations.services.weather import (
    MAX_TIMEOUT,
    OfflineWeather,
    OpenMeteoWeather,
    weather_provider,
)
from tests.activity.conftest import watch_as
from tests.factories import PrivacySettingsFactory, ProfileFactory


class Stub:
    """A local stand-in for Open-Meteo: answers each GET with ``reply``
    (status, body) after ``delay`` seconds, and records the queries."""

    def __init__(self) -> None:
        self.queries: list[dict[str, list[str]]] = []
        self.reply: tuple[int, bytes] = (200, b"{}")
        self.delay = 0.0
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                stub.queries.append(parse_qs(urlsplit(self.path).query))
                if stub.delay:
                    time.sleep(stub.delay)
                status, body = stub.reply
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the client gave up (a timeout test)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1/forecast"

    def code(self, weather_code: int) -> None:
        body = {"current": {"time": "2026-12-04T16:00", "weather_code": weather_code}}
        self.reply = (200, json.dumps(body).encode())


@pytest.fixture
def stub() -> Iterator[Stub]:
    server = Stub()
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def configured(settings, stub):
    settings.WEATHER_PROVIDER = "open-meteo"
    settings.WEATHER_PROVIDER_URL = stub.url
    settings.WEATHER_PROVIDER_TIMEOUT = 0.5
    return stub


def looking_up(*, location=True, weather=True, weather_provider=True):
    """A profile in the Pacific region that asked for the weather to be looked up."""
    return PrivacySettingsFactory(
        profile=ProfileFactory(name="Ada"),
        location=location,
        region="us-9",
        weather=weather,
        weather_provider=weather_provider,
    ).profile


def test_the_provider_is_asked_about_a_point_rounded_to_about_10_km(stub):
    stub.code(61)

    kind = OpenMeteoWeather(stub.url).current(38.5432, -121.4987)

    assert kind == Weather.RAINY
    assert stub.queries == [
        {
            "latitude": ["38.5"],
            "longitude": ["-121.5"],
            "current": ["weather_code"],
        }
    ]


@pytest.mark.parametrize(
    ("code", "kind"),
    [(0, "sunny"), (3, "cloudy"), (45, "cloudy"), (81, "rainy"), (73, "snowy")],
)
def test_wmo_codes_become_weather_kinds(stub, code, kind):
    stub.code(code)

    assert OpenMeteoWeather(stub.url).current(1.0, 2.0) == kind


@pytest.mark.parametrize(
    "reply",
    [(500, b"{}"), (200, b"not json"), (200, b'{"current": {}}'), (200, b"[]")],
)
def test_a_broken_answer_is_no_weather_and_is_logged(stub, caplog, reply):
    stub.reply = reply

    with caplog.at_level(logging.WARNING, "recommendations.services.weather"):
        assert OpenMeteoWeather(stub.url).current(1.0, 2.0) is None

    assert "Weather provider open-meteo failed" in caplog.text


def test_a_slow_provider_is_no_weather(stub, caplog):
    stub.code(61)
    stub.delay = 1.0

    with caplog.at_level(logging.WARNING, "recommendations.services.weather"):
        assert OpenMeteoWeather(stub.url, timeout=0.2).current(1.0, 2.0) is None

    assert "timed out" in caplog.text


def test_the_timeout_is_never_above_two_seconds(settings):
    assert MAX_TIMEOUT == 2.0
    assert OpenMeteoWeather("http://127.0.0.1:9/", timeout=30).timeout == 2.0


def test_a_region_is_asked_once_in_a_while_not_on_every_page(stub):
    stub.code(0)
    provider = OpenMeteoWeather(stub.url)

    assert [provider.current(38.5, -121.5) for _ in range(3)] == ["sunny"] * 3
    assert len(stub.queries) == 1


def test_with_no_operator_setting_the_provider_is_offline(settings, stub, db):
    settings.WEATHER_PROVIDER = ""
    stub.code(61)

    assert isinstance(weather_provider(), OfflineWeather)
    assert weather_now(looking_up()) is None
    assert stub.queries == []


def test_a_viewer_who_turned_it_on_gets_their_regions_weather(configured, db):
    configured.code(95)
    pacific = REGIONS["us-9"]

    now = weather_now(looking_up())

    assert (now.kind, now.mood, now.looked_up) == ("stormy", "thrilling", True)
    assert configured.queries == [
        {
            "latitude": [str(pacific.latitude)],
            "longitude": [str(pacific.longitude)],
            "current": ["weather_code"],
        }
    ]


@pytest.mark.parametrize(
    "off", [{"weather_provider": False}, {"weather": False}, {"location": False}]
)
def test_the_provider_is_never_asked_unless_the_viewer_turned_it_on(
    configured, db, off
):
    configured.code(61)

    assert weather_now(looking_up(**off)) is None
    assert configured.queries == []


def test_a_declared_weather_is_used_without_asking(configured, db):
    profile = looking_up()
    profile.privacy.weather_today = Weather.SUNNY
    profile.privacy.weather_declared_on = timezone.localdate()
    profile.privacy.save()

    assert weather_now(profile).kind == Weather.SUNNY
    assert configured.queries == []


def test_a_failing_provider_leaves_the_home_page_as_it_was(client, configured, db):
    configured.reply = (503, b"")
    viewer = watch_as(client, looking_up())

    response = viewer.get(reverse("recommendations:home"))

    assert response.status_code == 200
    assert "where you are" not in response.content.decode()
    assert len(configured.queries) == 1


def test_the_home_page_says_its_the_regions_weather(client, configured, db):
    configured.code(63)
    viewer = watch_as(client, looking_up())

    page = viewer.get(reverse("recommendations:home")).content.decode()

    assert (
        "It’s raining where you are: cosy picks (today’s weather for your region)"
        in page
    )
