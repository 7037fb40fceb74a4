"""The context a viewer declared, as the home page uses it: their region and
today's weather (both off by default; the privacy centre switches them).

Weather picks a mood when the viewer chose none, through one table,
:data:`WEATHER_MOODS` (the moods are ``engine.rerank.MOODS``):

=========  ==================  =================================================
weather    mood                reason line
=========  ==================  =================================================
raining    feel-good           It's raining where you are: cosy picks
snowing    feel-good           It's snowing where you are: cosy picks
stormy     thrilling           It's stormy where you are: edge-of-your-seat picks
grey       thought-provoking   It's grey where you are: something to think about
sunny      light-short         It's sunny where you are: light, short picks
=========  ==================  =================================================

Which weather: the one the viewer declared for today (a chip; another day it
is ignored), else, when they turned "look up the weather" on and the
operator configured a provider, the provider's for the centre of their
declared region; else none. A mood chip the viewer picks wins over the
weather's.

Whether weather moods help is to be measured, not assumed: once the
experiments issue lands they run as an experiment arm (not built yet).
"""

from dataclasses import dataclass
from datetime import date

from django.utils import timezone

from accounts.models import Profile
from consent.context import REGIONS, Region, Weather
from consent.policy import settings_for
from recommendations.services.weather import weather_provider

#: weather → (mood key in ``rerank.MOODS``, the reason line).
WEATHER_MOODS: dict[str, tuple[str, str]] = {
    Weather.RAINY: ("feel-good", "It’s raining where you are: cosy picks"),
    Weather.SNOWY: ("feel-good", "It’s snowing where you are: cosy picks"),
    Weather.STORMY: ("thrilling", "It’s stormy where you are: edge-of-your-seat picks"),
    Weather.CLOUDY: (
        "thought-provoking",
        "It’s grey where you are: something to think about",
    ),
    Weather.SUNNY: ("light-short", "It’s sunny where you are: light, short picks"),
}


@dataclass(frozen=True)
class WeatherNow:
    kind: str
    mood: str
    reason: str
    looked_up: bool  # from the provider, not declared


def viewer_region(profile: Profile | None) -> Region | None:
    """The region the profile declared, when it shares it (location on)."""
    if profile is None:
        return None
    settings = settings_for(profile)
    if not settings.location:
        return None
    return REGIONS.get(settings.region)


def weather_now(
    profile: Profile | None, *, today: date | None = None
) -> WeatherNow | None:
    """Today's weather for the profile and the mood it picks, or None."""
    if profile is None:
        return None
    settings = settings_for(profile)
    if not settings.weather:
        return None
    today = today or timezone.localdate()
    kind, looked_up = None, False
    if settings.weather_today and settings.weather_declared_on == today:
        kind = settings.weather_today
    elif settings.weather_provider:
        region = viewer_region(profile)
        if region is not None:
            kind = weather_provider().current(region.latitude, region.longitude)
            looked_up = True
    if kind not in WEATHER_MOODS:
        return None
    mood, reason = WEATHER_MOODS[kind]
    return WeatherNow(kind=kind, mood=mood, reason=reason, looked_up=looked_up)
