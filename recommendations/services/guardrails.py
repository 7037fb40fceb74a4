"""The recommendation health guardrails, from the settings, for the health page
and for the promotion gate (one definition for both).

The gate (``RECOMMENDER_HEALTH_GATE``, off by default) compares a candidate
version's offline figures with the active one's: coverage of its top 10 on
the time split, and the mean popularity percentile of those top 10 (the
training data's own history percentile barely moves between two trainings,
so its rise is what amplification's would be).
"""

from django.conf import settings

from recommendations.engine.health import Guardrails, guardrail_breaches
from recommendations.models import ModelVersion


def guardrails() -> Guardrails:
    conf = settings.RECOMMENDER_HEALTH
    return Guardrails(
        coverage_drop=conf["COVERAGE_TOLERANCE"],
        amplification_rise=conf["AMPLIFICATION_TOLERANCE"],
        max_lag_s=conf["MAX_LAG_SECONDS"],
    )


def offline_figures(version: ModelVersion) -> dict[str, float | None]:
    """The version's offline coverage and popularity percentile of its top 10,
    under the names the guardrails compare."""
    ranking = version.metrics.get("ranking", {})
    return {
        "coverage_top_picks": ranking.get("coverage"),
        "popularity_percentile": ranking.get("popularity_percentile@10"),
    }


def gate_breaches(*, candidate: ModelVersion, active: ModelVersion) -> list[str]:
    """What the candidate narrows or skews beyond the guardrails against the
    active version; nothing while ``RECOMMENDER_HEALTH_GATE`` is off."""
    if not settings.RECOMMENDER_HEALTH["GATE"]:
        return []
    return guardrail_breaches(
        offline_figures(active), offline_figures(candidate), guardrails()
    )
