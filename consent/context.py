"""The context a viewer may declare: where they are (a region) and today's weather.

Both are off by default and switched in the privacy centre. A region is one
entry of :data:`REGIONS`, chosen by the viewer: never coordinates, never an
address looked up from the connection. Each region carries one coarse centre
(latitude and longitude to one decimal, about 10 km), the only place a
weather provider is ever asked about; nothing finer exists in Marquee.

MovieLens 100k and 1M users have a US zip code: its first digit is a US
postal zone, so :func:`region_of_zip` turns an imported user into one of the
ten US regions below (a Canadian postal code, starting with a letter, into
Canada), which seeds the demo's "Popular in …" rows.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    latitude: float
    longitude: float


#: Every region a viewer may declare. US regions are the ten postal zones
#: (a zip code's first digit); countries elsewhere.
REGIONS: dict[str, Region] = {
    r.code: r
    for r in (
        Region("us-0", "New England (US)", 42.4, -71.4),
        Region("us-1", "New York and Pennsylvania (US)", 41.5, -75.5),
        Region("us-2", "the Mid-Atlantic (US)", 37.5, -78.6),
        Region("us-3", "the Southeast (US)", 32.0, -84.5),
        Region("us-4", "the Great Lakes (US)", 40.5, -84.5),
        Region("us-5", "the Upper Midwest (US)", 45.0, -95.0),
        Region("us-6", "the Central Plains (US)", 39.5, -93.0),
        Region("us-7", "the South Central US", 32.0, -95.5),
        Region("us-8", "the Mountain West (US)", 39.0, -110.0),
        Region("us-9", "the Pacific Coast (US)", 38.5, -121.5),
        Region("ca", "Canada", 45.4, -75.7),
        Region("gb", "the United Kingdom", 52.5, -1.5),
        Region("ie", "Ireland", 53.3, -7.7),
        Region("fr", "France", 46.6, 2.4),
        Region("de", "Germany", 51.1, 10.4),
        Region("es", "Spain", 40.4, -3.7),
        Region("it", "Italy", 42.8, 12.6),
        Region("nl", "the Netherlands", 52.2, 5.3),
        Region("se", "Sweden", 59.3, 18.1),
        Region("pl", "Poland", 52.0, 19.4),
        Region("in", "India", 21.0, 78.0),
        Region("jp", "Japan", 36.2, 138.3),
        Region("au", "Australia", -33.9, 151.2),
        Region("br", "Brazil", -15.8, -47.9),
        Region("mx", "Mexico", 19.4, -99.1),
        Region("za", "South Africa", -26.2, 28.0),
    )
}

REGION_CHOICES = [(r.code, r.name) for r in REGIONS.values()]


#: What a viewer may say about today's weather (a chip each).
class Weather:
    SUNNY = "sunny"
    CLOUDY = "cloudy"
    RAINY = "rainy"
    SNOWY = "snowy"
    STORMY = "stormy"


WEATHER_CHOICES = [
    (Weather.SUNNY, "Sunny"),
    (Weather.CLOUDY, "Grey"),
    (Weather.RAINY, "Raining"),
    (Weather.SNOWY, "Snowing"),
    (Weather.STORMY, "Stormy"),
]


def region_of_zip(zip_code: str) -> str | None:
    """The region of a MovieLens user's zip code: a US postal zone from its
    first digit, Canada for a postal code starting with a letter; None when
    there is none."""
    zip_code = zip_code.strip()
    if not zip_code:
        return None
    first = zip_code[0]
    if first.isdigit():
        return f"us-{first}"
    if first.isalpha():
        return "ca"
    return None
