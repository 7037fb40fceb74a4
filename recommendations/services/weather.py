"""Today's weather where a viewer is, from a pluggable provider.

A provider answers one question, "what is the weather at this coarse
point?", with one of :class:`consent.context.Weather`'s kinds, or None.
:class:`OfflineWeather` (the default) always says None: with no operator
setting, Marquee never calls out. :class:`OpenMeteoWeather` asks Open-Meteo's
forecast API (no key) for the current WMO weather code.

What leaves the machine: the declared region's centre, latitude and
longitude rounded to one decimal (about 10 km; the regions' table holds
nothing finer), never a profile, an account or an address. Nothing is
stored: the answer is kept in this process's memory for
:data:`MEMO_SECONDS` per point, a failure for :data:`FAILURE_MEMO_SECONDS`
(the weather of a region is nobody's personal data), so a busy region asks
once, not once per page.

A provider is only asked when the viewer turned both "today's weather" and
"look up the weather" on, declared a region, and the operator configured
``WEATHER_PROVIDER``. A slow or failing provider (timeout at most
:data:`MAX_TIMEOUT` seconds, an HTTP error, an answer that does not parse)
means "no weather": logged, never shown to the viewer as an error.
"""

import json
import logging
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Protocol

from django.conf import settings

from consent.context import Weather

logger = logging.getLogger(__name__)

MAX_TIMEOUT = 2.0
MEMO_SECONDS = 15 * 60
#: A failed lookup is not retried for this long (a provider that is down is
#: not asked on every page), nor remembered longer.
FAILURE_MEMO_SECONDS = 60

#: WMO weather interpretation codes (Open-Meteo's ``weather_code``) → kind.
WMO_CODES: dict[int, str] = {
    **dict.fromkeys((0, 1), Weather.SUNNY),
    **dict.fromkeys((2, 3, 45, 48), Weather.CLOUDY),
    **dict.fromkeys(
        (51, 53, 55, 56, 57, 61, 63, 65, 66, 67, 80, 81, 82), Weather.RAINY
    ),
    **dict.fromkeys((71, 73, 75, 77, 85, 86), Weather.SNOWY),
    **dict.fromkeys((95, 96, 99), Weather.STORMY),
}


def coarse(latitude: float, longitude: float) -> tuple[float, float]:
    """A point rounded to one decimal (about 10 km)."""
    return round(latitude, 1), round(longitude, 1)


class WeatherProvider(Protocol):
    name: str

    def current(self, latitude: float, longitude: float) -> str | None:
        """The weather kind at this point now, or None when unknown."""
        ...


class OfflineWeather:
    """No provider: the weather is never known (the viewer may declare it)."""

    name = "offline"

    def current(self, latitude: float, longitude: float) -> str | None:
        return None


class OpenMeteoWeather:
    """Open-Meteo's current weather (``/v1/forecast?current=weather_code``)."""

    name = "open-meteo"

    def __init__(self, url: str, timeout: float = MAX_TIMEOUT) -> None:
        self.url = url
        self.timeout = min(timeout, MAX_TIMEOUT)
        self._memo: dict[tuple[float, float], tuple[float, str | None]] = {}
        self._lock = threading.Lock()

    def current(self, latitude: float, longitude: float) -> str | None:
        point = coarse(latitude, longitude)
        with self._lock:
            memo = self._memo.get(point)
        if memo is not None and time.monotonic() < memo[0]:
            return memo[1]
        kind = self._ask(*point)
        keep = MEMO_SECONDS if kind is not None else FAILURE_MEMO_SECONDS
        with self._lock:
            self._memo[point] = (time.monotonic() + keep, kind)
        return kind

    def _ask(self, latitude: float, longitude: float) -> str | None:
        query = urllib.parse.urlencode(
            {"latitude": latitude, "longitude": longitude, "current": "weather_code"}
        )
        try:
            with urllib.request.urlopen(
                f"{self.url}?{query}", timeout=self.timeout
            ) as answer:
                code = json.load(answer)["current"]["weather_code"]
            return WMO_CODES.get(int(code))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            logger.warning("Weather provider %s failed: %s", self.name, exc)
            return None


_providers: dict[tuple[str, str, float], WeatherProvider] = {}


def weather_provider() -> WeatherProvider:
    """The configured provider (``WEATHER_PROVIDER``); offline by default."""
    key = (
        settings.WEATHER_PROVIDER,
        settings.WEATHER_PROVIDER_URL,
        settings.WEATHER_PROVIDER_TIMEOUT,
    )
    if key not in _providers:
        if OpenMeteoWeather.name == settings.WEATHER_PROVIDER:
            _providers[key] = OpenMeteoWeather(key[1], key[2])
        else:
            _providers[key] = OfflineWeather()
    return _providers[key]


def provider_configured() -> bool:
    return not isinstance(weather_provider(), OfflineWeather)
