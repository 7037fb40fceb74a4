"""The admin's recommendation health page: every figure of the latest snapshot
with a sparkline across the history, the alerts as red lines, exposure by
genre and decade against the catalog, and the titles never recommended.

Staff only (the admin's login), any staff member: the figures are counts
over every profile, nothing about one person.
"""

from dataclasses import dataclass

from django.conf import settings
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from recommendations.engine.health import sparkline_points
from recommendations.models import HealthSnapshot
from recommendations.services import health
from recommendations.services.guardrails import guardrails

SPARK_WIDTH, SPARK_HEIGHT = 120, 28

#: The page's figures, by group: (key, label, how to show it, what it means).
GROUPS: tuple[tuple[str, tuple[tuple[str, str, str, str], ...]], ...] = (
    (
        "Exposure",
        (
            (
                "coverage_top_picks",
                "Catalog coverage of Top picks",
                "share",
                "Titles in anyone's Top picks / titles in the catalog.",
            ),
            (
                "coverage_page",
                "Catalog coverage of the whole page",
                "share",
                "Titles on any sampled home page / titles in the catalog.",
            ),
            (
                "gini",
                "Gini of exposure",
                "ratio",
                "0 = every title shown equally often, 1 = one title takes all.",
            ),
            (
                "long_tail_share",
                "Long-tail share",
                "share",
                "Top picks slots outside the titles making 20 % of interactions.",
            ),
            (
                "effective_catalog_size",
                "Effective catalog size",
                "number",
                "Gomez-Uribe & Hunt: how many titles the exposure is worth.",
            ),
            (
                "titles_never_recommended",
                "Titles never recommended",
                "count",
                "In no one's Top picks and on no sampled page.",
            ),
        ),
    ),
    (
        "Popularity",
        (
            (
                "popularity_percentile",
                "Popularity percentile recommended",
                "percentile",
                "Mean over profiles of their Top picks' percentile (100 = most "
                "interacted).",
            ),
            (
                "history_popularity_percentile",
                "Popularity percentile watched",
                "percentile",
                "The same of what the profiles rated and played.",
            ),
            (
                "amplification",
                "Popularity amplification",
                "points",
                "Recommended minus watched, in percentile points.",
            ),
            (
                "niche_popularity_percentile",
                "Niche-taste profiles: recommended",
                "percentile",
                "The bottom quartile of profiles by their history's popularity.",
            ),
            (
                "niche_history_popularity_percentile",
                "Niche-taste profiles: watched",
                "percentile",
                "",
            ),
            (
                "amplification_niche",
                "Niche-taste profiles: amplification",
                "points",
                "Kowald et al. found niche viewers served worst.",
            ),
        ),
    ),
    (
        "Calibration and diversity",
        (
            (
                "calibration_kl",
                "Genre calibration, KL(history ‖ Top picks)",
                "ratio",
                "0 = Top picks mix genres as the history does.",
            ),
            (
                "intra_list_diversity",
                "Intra-list diversity",
                "ratio",
                "Mean genre distance between two titles of one Top picks.",
            ),
        ),
    ),
    (
        "Personalization",
        (
            (
                "share_personal_candidates",
                "Profiles with personal candidates",
                "share",
                "Candidates from a model and at least one signal.",
            ),
            (
                "share_non_personalized",
                "Profiles on non-personalized rows",
                "share",
                "Personalization off, no signal yet or no candidates.",
            ),
            (
                "share_personalization_off",
                "Opted out of personalized rows",
                "share",
                "Turned personalized rows off in the privacy centre.",
            ),
            (
                "share_training_opt_out",
                "Opted out of training",
                "share",
                "Their activity enters no training set.",
            ),
        ),
    ),
    (
        "Freshness",
        (
            (
                "signals_per_day",
                "Signals in the last 24 h",
                "count",
                "Ratings, plays and feedback.",
            ),
            (
                "lag_p50_s",
                "Lag to refreshed candidates, p50",
                "duration",
                "From a profile's latest signal to its candidates' refresh.",
            ),
            (
                "lag_p95_s",
                "Lag to refreshed candidates, p95",
                "duration",
                "Profiles still waiting count the time so far.",
            ),
            (
                "lag_waiting",
                "Profiles waiting for a refresh",
                "count",
                "Signalled in the last 24 h, candidates older than the signal.",
            ),
            (
                "model_age_hours",
                "Age of the active model",
                "hours",
                "Since its training finished.",
            ),
        ),
    ),
)


def display(value: float | int | None, kind: str) -> str:
    """A figure as the page shows it."""
    if value is None:
        return "—"
    match kind:
        case "share":
            return f"{value:.1%}"
        case "percentile":
            return f"{value:.1f}"
        case "points":
            return f"{value:+.1f} pts"
        case "ratio":
            return f"{value:.3f}"
        case "number":
            return f"{value:,.1f}"
        case "count":
            return f"{int(value):,}"
        case "hours":
            return f"{value / 24:.1f} days" if value >= 48 else f"{value:.1f} h"
        case "duration":
            if value < 120:
                return f"{value:.1f} s"
            return f"{value / 60:.0f} min" if value < 7200 else f"{value / 3600:.1f} h"
    return str(value)


@dataclass(frozen=True)
class FigureRow:
    key: str
    label: str
    value: str
    help: str
    points: str
    history: str  # the sparkline's values, for its text alternative
    alert: bool


def _rows(
    latest: HealthSnapshot, history: list[HealthSnapshot]
) -> list[tuple[str, list[FigureRow]]]:
    alerted = {a["key"] for a in latest.alerts}
    groups = []
    for name, figures in GROUPS:
        rows = []
        for key, label, kind, help_text in figures:
            series = [s.figures.get(key) for s in history]
            known = [display(v, kind) for v in series if v is not None]
            rows.append(
                FigureRow(
                    key=key,
                    label=label,
                    value=display(latest.figures.get(key), kind),
                    help=help_text,
                    points=sparkline_points(
                        series, width=SPARK_WIDTH, height=SPARK_HEIGHT
                    ),
                    history=(
                        f"{len(known)} snapshots, from {known[0]} to {known[-1]}"
                        if known
                        else "no history"
                    ),
                    alert=key in alerted,
                )
            )
        groups.append((name, rows))
    return groups


def _exposure_rows(groups: list[dict]) -> list[dict]:
    """Each group with its shares as percents and shown/catalog ratio."""
    return [
        {
            **g,
            "shown_pct": f"{g['shown']:.1%}",
            "catalog_pct": f"{g['catalog']:.1%}",
            "ratio": f"{g['shown'] / g['catalog']:.2f}×" if g["catalog"] else "—",
            "never_shown": g["shown"] == 0 and g["titles"] > 0,
            "under": g["catalog"] > 0 and g["shown"] < g["catalog"] / 2,
        }
        for g in groups
    ]


@admin.register(HealthSnapshot)
class HealthSnapshotAdmin(admin.ModelAdmin):
    """One page, not a list: the latest snapshot and its history."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_urls(self):
        refresh = self.admin_site.admin_view(require_POST(self.refresh_view))
        return [
            path("refresh/", refresh, name="recommendations_healthsnapshot_refresh"),
            *super().get_urls(),
        ]

    def refresh_view(self, request: HttpRequest) -> HttpResponseRedirect:
        health.health_refresh_ask()
        self.message_user(
            request, "A new snapshot is being taken; reload in a minute.", messages.INFO
        )
        return HttpResponseRedirect(
            reverse("admin:recommendations_healthsnapshot_changelist")
        )

    def changelist_view(self, request: HttpRequest, extra_context=None):
        latest = health.health_latest()
        rails = guardrails()
        context = {
            **self.admin_site.each_context(request),
            "title": "Recommendation health",
            "opts": self.model._meta,
            "latest": latest,
            "spark_width": SPARK_WIDTH,
            "spark_height": SPARK_HEIGHT,
            "rails": {
                "coverage": f"{rails.coverage_drop:.0%}",
                "amplification": f"{rails.amplification_rise:g}",
                "lag": display(rails.max_lag_s, "duration"),
                "gate": settings.RECOMMENDER_HEALTH["GATE"],
            },
        }
        if latest is not None:
            context |= {
                "groups": _rows(latest, health.health_history()),
                "genres": _exposure_rows(latest.details.get("genres", [])),
                "decades": _exposure_rows(latest.details.get("decades", [])),
                "never_examples": latest.details.get("never_examples", []),
                "never_count": latest.figures.get("titles_never_recommended"),
            }
        return TemplateResponse(
            request,
            "admin/recommendations/health.html",
            {**context, **(extra_context or {})},
        )
