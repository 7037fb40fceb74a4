"""Small formatting filters for the activity templates."""

import math

from django import template

from activity.models import ViewingEvent

register = template.Library()


@register.filter
def percent(fraction: float | None) -> str:
    """0.427 -> "42%" (rounded down: 89.9% is not yet "90%", the completion mark)."""
    if fraction is None:
        return ""
    return f"{math.floor(fraction * 100 + 1e-9)}%"


@register.filter
def clock(seconds: int | float | None) -> str:
    """Seconds as a player shows them: "42:07", "1:05:00"."""
    total = max(0, int(seconds or 0))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"


@register.filter
def half_stars(value: float | None) -> list[bool]:
    """A rating as ten half stars, lit or not: 3.5 -> 7 lit, then 3 unlit."""
    lit = round((value or 0.0) * 2)
    return [n < lit for n in range(10)]


@register.filter
def stars_label(value: float | None) -> str:
    """3.5 -> "3.5 stars", 1.0 -> "1 star"."""
    if value is None:
        return ""
    return f"{value:g} star{'' if value == 1 else 's'}"


@register.filter
def time_left(viewing: ViewingEvent) -> str:
    """What is left of a viewing's title (of a series, of the episode it
    resumes at): "1 h 31 min left", "8 min left"."""
    seconds = (1 - viewing.up_next_progress) * viewing.play_seconds
    minutes = max(1, math.ceil(seconds / 60))
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes} min left" if minutes else f"{hours} h left"
    return f"{minutes} min left"
