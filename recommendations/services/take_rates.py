"""Take rates for staff: of the cards shown, how many were played or rated
soon after (``activity.services.impression_take``), per kind of row, per
place in the row, per row on the page and per model version.

A take rate is ``engine.online.take_rate`` over profiles: each profile's
impressions and takes in a group are summed before the interval is taken, so
a viewer who scrolls a lot counts once, not once per card. Counts over every
profile, nothing about one person. One query per breakdown.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from django.db.models import Case, CharField, Count, Q, QuerySet, Value, When
from django.utils import timezone

from activity.models import Impression
from recommendations.engine.online import Estimate, take_rate

#: The periods the page offers, in days.
PERIODS = (7, 30, 90)
#: Bands of a card's place in its row (1 = first): label, first, last.
POSITION_BANDS = (
    ("1", 1, 1),
    ("2–3", 2, 3),
    ("4–6", 4, 6),
    ("7–10", 7, 10),
    ("11–20", 11, 20),
    ("21+", 21, None),
)


@dataclass(frozen=True)
class RateRow:
    """One group's figures."""

    key: str
    label: str
    impressions: int
    takes: int
    profiles: int
    rate: Estimate


@dataclass(frozen=True)
class Breakdown:
    """One table: a figure per group, in the page's order."""

    name: str
    caption: str
    rows: list[RateRow]


@dataclass(frozen=True)
class TakeRates:
    days: int
    since: datetime
    total: RateRow
    breakdowns: list[Breakdown]


def _band() -> Case:
    """The card's position band (positions are stored 0 first)."""
    whens = [
        When(
            Q(position__gte=first - 1)
            & (Q(position__lte=last - 1) if last is not None else Q()),
            then=Value(label),
        )
        for label, first, last in POSITION_BANDS
    ]
    return Case(*whens, default=Value(""), output_field=CharField())


def _grouped(impressions: QuerySet, column: str | None) -> dict[object, RateRow]:
    """The figures per value of ``column`` (all together without one)."""
    group = [column] if column else []
    per_profile = (
        impressions.order_by()
        .values(*group, "profile_id")
        .annotate(
            shown=Count("id"), taken=Count("id", filter=Q(taken_at__isnull=False))
        )
    )
    units: dict[object, list[tuple[int, int]]] = defaultdict(list)
    for row in per_profile:
        units[row[column] if column else None].append((row["taken"], row["shown"]))
    figures = {}
    for key, pairs in units.items():
        takes, shown = np.array(pairs, dtype=float).T
        figures[key] = RateRow(
            key=str(key),
            label=str(key),
            impressions=int(shown.sum()),
            takes=int(takes.sum()),
            profiles=len(pairs),
            rate=take_rate(takes, shown),
        )
    return figures


def _labelled(figures: dict, order: list, label) -> list[RateRow]:
    return [
        RateRow(
            key=str(key),
            label=label(key),
            impressions=f.impressions,
            takes=f.takes,
            profiles=f.profiles,
            rate=f.rate,
        )
        for key in order
        if (f := figures.get(key)) is not None
    ]


def take_rates(*, days: int, now: datetime | None = None) -> TakeRates:
    """The take rates of impressions shown in the last ``days`` days."""
    since = (now or timezone.now()) - timedelta(days=days)
    shown = Impression.objects.filter(shown_at__gte=since)
    total = _grouped(shown, None).get(None) or RateRow(
        "all", "All", 0, 0, 0, take_rate(np.array([]), np.array([]))
    )

    kinds = _grouped(shown, "row_kind")
    by_kind = sorted(kinds, key=lambda k: (-kinds[k].impressions, str(k)))
    bands = _grouped(shown.annotate(band=_band()), "band")
    rows = _grouped(shown, "row_position")
    versions = _grouped(shown, "model_version_id")
    by_version = sorted(versions, key=lambda v: (v is None, -(v or 0)))
    return TakeRates(
        days=days,
        since=since,
        total=total,
        breakdowns=[
            Breakdown(
                "row_kind",
                "Per kind of row",
                _labelled(kinds, by_kind, str),
            ),
            Breakdown(
                "position",
                "Per place in the row (1 = the first card)",
                _labelled(bands, [b[0] for b in POSITION_BANDS], str),
            ),
            Breakdown(
                "row_position",
                "Per row on the page (1 = the top row)",
                _labelled(rows, sorted(rows), lambda r: str(r + 1)),
            ),
            Breakdown(
                "model_version",
                "Per model version",
                _labelled(
                    versions,
                    by_version,
                    lambda v: f"#{v}" if v is not None else "None (everyone's rows)",
                ),
            ),
        ],
    )
