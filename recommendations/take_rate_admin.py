"""The admin's take-rate page (``/admin/recommendations/take-rate/``): of the
cards the home page showed in the last 7, 30 or 90 days, the share played or
rated soon after, with 95 % intervals over profiles, per kind of row, per
place in the row, per row on the page and per model version.

Staff only (the admin's login, ``admin_site.admin_view`` in the URLconf),
any staff member: counts over every profile, nothing about one person.
"""

import math

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse

from recommendations.services.take_rates import PERIODS, RateRow, take_rates

DEFAULT_DAYS = 30


def _percent(value: float) -> str:
    return "—" if math.isnan(value) else f"{value:.1%}"


def _shown(row: RateRow, scale: float) -> dict:
    """A group's figures as the table shows them, and its interval as an SVG
    bar (0 to ``scale`` across 100 units)."""
    rate = row.rate
    known = not math.isnan(rate.low)
    return {
        "row": row,
        "impressions": f"{row.impressions:,}",
        "takes": f"{row.takes:,}",
        "profiles": f"{row.profiles:,}",
        "value": _percent(rate.value),
        "interval": (f"{_percent(rate.low)} – {_percent(rate.high)}" if known else "—"),
        "bar": (
            {
                "x": round(100 * rate.low / scale, 2),
                "width": max(round(100 * (rate.high - rate.low) / scale, 2), 0.5),
                "dot": round(100 * rate.value / scale, 2),
            }
            if known and scale > 0
            else None
        ),
    }


def take_rate_view(request: HttpRequest) -> TemplateResponse:
    asked = request.GET.get("days", str(DEFAULT_DAYS))
    if asked not in {str(days) for days in PERIODS}:
        return TemplateResponse(
            request,
            "admin/recommendations/take_rate.html",
            {
                **admin.site.each_context(request),
                "title": "Take rate",
                "periods": PERIODS,
                "error": f"Choose a period of {', '.join(map(str, PERIODS[:-1]))} "
                f"or {PERIODS[-1]} days.",
            },
            status=400,
        )
    rates = take_rates(days=int(asked))
    highs = [
        row.rate.high
        for breakdown in rates.breakdowns
        for row in breakdown.rows
        if not math.isnan(row.rate.high)
    ]
    scale = min(1.0, max(highs, default=0.0) * 1.1)
    context = {
        **admin.site.each_context(request),
        "title": "Take rate",
        "periods": PERIODS,
        "days": rates.days,
        "since": rates.since,
        "total": _shown(rates.total, scale),
        "scale": _percent(scale) if highs else "",
        "breakdowns": [
            {
                "name": breakdown.name,
                "caption": breakdown.caption,
                "rows": [_shown(row, scale) for row in breakdown.rows],
            }
            for breakdown in rates.breakdowns
        ],
    }
    return TemplateResponse(request, "admin/recommendations/take_rate.html", context)
