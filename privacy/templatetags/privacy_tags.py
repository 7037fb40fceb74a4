"""The private-session banner (on every page) and the taste chart (drawn as
inline SVG on the server: no JavaScript, no inline style)."""

from django import template

from consent.policy import private_session_on
from privacy.forms import TOGGLES
from privacy.selectors import TasteProfile

register = template.Library()

#: The taste chart's geometry, in SVG user units (the chart scales to its box).
CHART_WIDTH = 400
CHART_ROW = 48
CHART_BAR = 16
CHART_VALUE_ROOM = 48


@register.inclusion_tag("privacy/_private_banner.html", takes_context=True)
def private_session_banner(context, oob: bool = False) -> dict:
    """The banner shown while the active profile is in a private session.

    Always renders its slot (``#private-session-banner``), so a control can
    swap it out of band (``oob=True``) when the private session changes.
    """
    request = context.get("request")
    profile = getattr(request, "profile", None) if request else None
    on = bool(request) and private_session_on(request.session, profile)
    here = ""
    if on:
        htmx = getattr(request, "htmx", None)
        # Swapped in by htmx, "here" is the page the viewer is on, not the POST.
        here = (htmx and htmx.current_url_abs_path) or request.get_full_path()
    return {
        "on": on,
        "profile": profile,
        "oob": oob,
        "next": here,
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("privacy/_taste_chart.html")
def taste_chart(taste: TasteProfile) -> dict:
    """Horizontal bars, one per genre: its name above, its share beside."""
    top = max((g.weight for g in taste.genres), default=0) or 1
    usable = CHART_WIDTH - CHART_VALUE_ROOM
    bars = []
    for n, genre in enumerate(taste.genres):
        width = max(2, round(usable * genre.weight / top, 1))
        y = n * CHART_ROW
        bars.append(
            {
                "genre": genre,
                "percent": round(genre.weight * 100),
                "label_y": y + 17,
                "bar_y": y + 24,
                "width": width,
                "value_x": width + 8,
                "value_y": y + 24 + CHART_BAR - 3,
            }
        )
    return {
        "taste": taste,
        "bars": bars,
        "width": CHART_WIDTH,
        "height": max(CHART_ROW, len(bars) * CHART_ROW),
        "bar_height": CHART_BAR,
    }


#: Consent log names of settings that are not toggles.
_SETTING_NAMES = {
    "retention_months": "Auto-delete activity older than (months, 0 = keep)",
    "exploration": "Exploration",
}


@register.filter
def consent_what(what: str) -> str:
    """A consent log line's setting in the words of the privacy centre."""
    if what in TOGGLES:
        return TOGGLES[what][0]
    return _SETTING_NAMES.get(what, what)
