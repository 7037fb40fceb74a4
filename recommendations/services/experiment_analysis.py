"""The evidence of an online test, read from its impressions: what each arm
was shown and took, with 95 % intervals, the verdict in words, and the
guardrails that flag a winner which narrows the catalog.

Every count is one aggregated query (GROUP BY arm, or arm and profile); the
statistics are the engine's (``engine.online``), the exposure measures the
health page's (``engine.health``, ``engine.evaluation``), so each word means
here what it means there.

- An A/B test: per arm, profiles assigned, sessions (distinct page views),
  impressions, takes and the take rate with its interval (the unit is the
  profile: one viewer's impressions are not independent), and every other
  arm's difference to the control (the first arm) with its interval and
  verdict. With more than two arms each comparison is judged at 5 % divided
  by their number (Bonferroni), so adding arms does not add false winners.
- An interleaving test: every page view with an interleaved Top picks row is
  a session; a take of a card credits the arm whose ranker contributed it
  (the impression's ``ranker``; a card both would have picked credits
  neither); a viewer prefers the arm credited more over its sessions. The
  preference, its interval and the sign test are
  ``engine.online.interleaving_preference``.
- The verdicts use the always-valid p-values (``engine.online``'s mixture
  sequential tests), so the page may be read, and the test stopped, at any
  refresh without more false winners than stated; the tables also show the
  fixed-sample z test's p.
- Guardrails per arm (per ranker when interleaving) over its latest page
  views, the same number for every arm (so a larger arm does not look wider
  by its size alone, capped at :data:`PAGE_VIEW_SAMPLE`): catalog coverage
  (distinct titles shown / available titles), mean popularity percentile of
  the titles shown (per impression), intra-list genre diversity of each page
  view's Top picks, and genre calibration (KL between the profile's taste and
  the genre mix of its Top picks, over up to :data:`PROFILE_SAMPLE`
  profiles). An arm whose coverage falls, or popularity percentile rises,
  beyond the ``RECOMMENDER_HEALTH_*`` tolerances against the control is
  flagged. They are kept :data:`GUARDRAILS_SECONDS` (the counts above are
  not: the page refreshes them every 10 s).
"""

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime

import numpy as np
from django.core.cache import cache
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from activity.models import Impression
from recommendations.engine import health as maths
from recommendations.engine.evaluation import popularity_percentiles
from recommendations.engine.online import (
    Difference,
    Estimate,
    Preference,
    Verdict,
    interleaving_preference,
    rate_difference,
    take_rate,
    verdict,
)
from recommendations.home.snapshot import CatalogSnapshot, catalog_snapshot
from recommendations.models import Experiment, ExperimentArm, ExperimentAssignment
from recommendations.services.experiments import INTERLEAVED, config_words
from recommendations.services.guardrails import guardrails
from recommendations.services.health import spread, taste_histories, title_popularity

TOP_PICKS = "top-picks"
ALPHA = 0.05
#: Latest page views per arm the guardrails read (the same number for each).
PAGE_VIEW_SAMPLE = 1000
#: Profiles per arm whose taste the calibration compares with their Top picks.
PROFILE_SAMPLE = 200
#: The titles' popularity percentiles are recounted at most this often.
POPULARITY_SECONDS = 600
#: The guardrails read a sample of page views and move slowly: they are
#: recomputed at most this often, while the take rates are counted afresh on
#: every refresh of the page.
GUARDRAILS_SECONDS = 120


@dataclass(frozen=True)
class ArmEvidence:
    key: str
    name: str
    control: bool
    #: The configuration in words ("exploration 30 of 100"); "" for {}.
    changes: str
    profiles: int
    sessions: int
    impressions: int
    takes: int
    rate: Estimate
    #: This arm minus the control (A/B tests, every arm but the control).
    difference: Difference | None = None
    verdict: Verdict | None = None


@dataclass(frozen=True)
class InterleavingEvidence:
    key_a: str
    key_b: str
    sessions: int
    #: Takes credited to each arm's ranker, over every session.
    credits_a: int
    credits_b: int
    #: Viewers preferring each arm (their takes credited it more).
    wins_a: int
    wins_b: int
    preference: Preference
    verdict: Verdict


@dataclass(frozen=True)
class ArmGuardrails:
    key: str
    name: str
    page_views: int
    titles_shown: int
    coverage: float | None
    popularity: float | None
    diversity: float | None
    calibration: float | None
    profiles_sampled: int
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Analysis:
    experiment: Experiment
    arms: list[ArmEvidence]
    interleaving: InterleavingEvidence | None
    #: The headline: one verdict per comparison (A/B), or the preference's.
    verdicts: list[Verdict]
    guardrails: list[ArmGuardrails]
    #: Every guardrail flag, in arm order.
    flags: list[str] = field(default_factory=list)
    catalog_titles: int = 0
    assigned: int = 0
    #: When the guardrails were computed (they are kept a few minutes).
    guardrails_at: datetime | None = None


def experiment_analysis(experiment: Experiment) -> Analysis:
    """Everything the analysis page shows, computed now."""
    arms = list(experiment.arms.order_by("key"))
    assigned = dict(
        ExperimentAssignment.objects.filter(experiment=experiment)
        .order_by()
        .values_list("arm")
        .annotate(n=Count("id"))
    )
    shown = Impression.objects.filter(experiment_id=experiment.pk)
    interleaving = experiment.kind == Experiment.Kind.INTERLEAVING and len(arms) == 2
    if interleaving:
        shown = shown.filter(arm=INTERLEAVED).exclude(ranker="")
        column = "ranker"
    else:
        column = "arm"
    evidence = _arm_evidence(arms, shown, column, assigned, judged=not interleaving)
    preference = _interleaving(arms, shown) if interleaving else None
    if not any(a.sessions for a in evidence):
        verdicts = []  # nothing shown yet: no verdict, not even "no difference"
    elif preference is not None:
        verdicts = [preference.verdict]
    else:
        verdicts = [a.verdict for a in evidence if a.verdict is not None]
    snap = catalog_snapshot()
    key = f"experiments:guardrails:{experiment.pk}"
    held = cache.get(key)
    if held is None:
        sessions = {a.key: a.sessions for a in evidence}
        held = (timezone.now(), _guardrails(arms, shown, column, snap, sessions))
        if all(g.page_views for g in held[1]):  # kept once every arm has some
            cache.set(key, held, GUARDRAILS_SECONDS)
    guardrails_at, rails = held
    return Analysis(
        experiment=experiment,
        arms=evidence,
        interleaving=preference,
        verdicts=verdicts,
        guardrails=rails,
        flags=[flag for g in rails for flag in g.flags],
        catalog_titles=len(snap.ids),
        assigned=sum(assigned.values()),
        guardrails_at=guardrails_at,
    )


# --- take rates ----------------------------------------------------------------------


_TAKEN = Q(taken_at__isnull=False)


def _arm_evidence(
    arms: list[ExperimentArm],
    shown: QuerySet,
    column: str,
    assigned: dict[str, int],
    *,
    judged: bool,
) -> list[ArmEvidence]:
    # One pass: per arm and profile (a page view is one profile's, so the
    # arm's sessions are the sum of its profiles' distinct page views).
    totals: dict[str, dict[str, int]] = defaultdict(
        lambda: {"sessions": 0, "impressions": 0, "takes": 0}
    )
    units: dict[str, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
    for key, _, sessions, n, taken in (
        shown.order_by()
        .values_list(column, "profile_id")
        .annotate(
            sessions=Count("page_view", distinct=True),
            n=Count("id"),
            taken=Count("id", filter=_TAKEN),
        )
    ):
        units[key][0].append(taken)
        units[key][1].append(n)
        totals[key]["sessions"] += sessions
        totals[key]["impressions"] += n
        totals[key]["takes"] += taken

    def arrays(key: str) -> tuple[np.ndarray, np.ndarray]:
        takes, exposures = units.get(key, ([], []))
        return np.asarray(takes, np.float64), np.asarray(exposures, np.float64)

    control = arms[0].key if arms else ""
    comparisons = max(len(arms) - 1, 1)
    out = []
    for n, arm in enumerate(arms):
        row = totals[arm.key]
        takes, exposures = arrays(arm.key)
        difference = judgement = None
        if judged and n > 0:
            difference = rate_difference(*arrays(control), takes, exposures)
            sessions = row["sessions"] + totals[control]["sessions"]
            judgement = verdict(
                names=(control, arm.key),
                p_value=difference.always_valid_p,
                effect=difference.diff,
                sessions=sessions,
                alpha=ALPHA / comparisons,
            )
        out.append(
            ArmEvidence(
                key=arm.key,
                name=arm.name,
                control=n == 0,
                changes=config_words(arm.config)
                if isinstance(arm.config, dict)
                else "",
                profiles=assigned.get(arm.key, 0)
                if judged
                else len(units.get(arm.key, ([], []))[1]),
                sessions=row["sessions"],
                impressions=row["impressions"],
                takes=row["takes"],
                rate=take_rate(takes, exposures),
                difference=difference,
                verdict=judgement,
            )
        )
    return out


def _interleaving(arms: list[ExperimentArm], shown: QuerySet) -> InterleavingEvidence:
    """Each viewer's credits (takes of the cards each ranker contributed).

    The unit of the sign test is the viewer, not the session: a profile sees
    the same interleaved row on every page until its candidates change (the
    team draft's seed), so its sessions are not independent trials.
    """
    key_a, key_b = arms[0].key, arms[1].key
    counts = shown.aggregate(
        sessions=Count("page_view", distinct=True),
        viewers=Count("profile", distinct=True),
    )
    sessions = counts["sessions"]
    credited = list(
        shown.filter(_TAKEN)
        .order_by()
        .values("profile")
        .annotate(
            a=Count("id", filter=Q(ranker=key_a)),
            b=Count("id", filter=Q(ranker=key_b)),
        )
        .values_list("a", "b")
    )
    # Viewers without a take credit nobody: zeros, as ties.
    untaken = [(0, 0)] * (counts["viewers"] - len(credited))
    pairs = np.asarray(credited + untaken, np.int64).reshape(-1, 2)
    credits_a, credits_b = pairs[:, 0], pairs[:, 1]
    preference = interleaving_preference(credits_a, credits_b)
    return InterleavingEvidence(
        key_a=key_a,
        key_b=key_b,
        sessions=sessions,
        credits_a=int(credits_a.sum()),
        credits_b=int(credits_b.sum()),
        wins_a=int((credits_a > credits_b).sum()),
        wins_b=int((credits_b > credits_a).sum()),
        preference=preference,
        verdict=verdict(
            names=(key_a, key_b),
            p_value=preference.always_valid_p,
            effect=preference.share_b - 0.5,
            sessions=sessions,
            alpha=ALPHA,
        ),
    )


# --- guardrails ----------------------------------------------------------------------


def _percentiles(snap: CatalogSnapshot) -> np.ndarray:
    """Each available title's popularity percentile (0..100), as the health
    page counts popularity; recounted every :data:`POPULARITY_SECONDS`."""
    key = f"experiments:popularity:{len(snap.ids)}:{int(snap.ids.sum())}"
    found = cache.get(key)
    if found is None or len(found) != len(snap.ids):
        found = popularity_percentiles(title_popularity(snap))
        cache.set(key, found, POPULARITY_SECONDS)
    return found


def _latest_page_views(shown: QuerySet, limit: int) -> QuerySet:
    return (
        shown.order_by()
        .values("page_view")
        .annotate(at=Max("shown_at"))
        .order_by("-at", "page_view")
        .values("page_view")[:limit]
    )


def _guardrails(
    arms: list[ExperimentArm],
    shown: QuerySet,
    column: str,
    snap: CatalogSnapshot,
    sessions: dict[str, int],
) -> list[ArmGuardrails]:
    n_titles = len(snap.ids)
    sample = min([sessions.get(a.key, 0) for a in arms] + [PAGE_VIEW_SAMPLE])
    percentile = _percentiles(snap) if n_titles else np.zeros(0)
    out = []
    # Interleaving: a card both rankers would have picked ("AB") is each's.
    both = "".join(a.key for a in arms[:2])
    for arm in arms:
        if column == "ranker":
            mine = shown.filter(ranker__in=[arm.key, both])
        else:
            mine = shown.filter(arm=arm.key)
        if not sample:
            out.append(
                ArmGuardrails(arm.key, arm.name, 0, 0, None, None, None, None, 0)
            )
            continue
        page_views = mine.filter(page_view__in=_latest_page_views(mine, sample))
        counted = list(
            page_views.order_by().values_list("title_id").annotate(n=Count("id"))
        )
        ids = [t for t, _ in counted]
        counts = np.asarray([n for _, n in counted], np.float64)
        pos = snap.index(ids)
        available = pos >= 0
        popularity = (
            float(np.average(percentile[pos[available]], weights=counts[available]))
            if available.any()
            else None
        )
        per_view, per_profile = _top_picks(page_views, snap)
        profiles = list(per_profile)
        out.append(
            ArmGuardrails(
                key=arm.key,
                name=arm.name,
                page_views=sample,
                titles_shown=int(available.sum()),
                coverage=maths.coverage([pos[available]], n_titles)
                if n_titles
                else None,
                popularity=popularity,
                diversity=maths.mean_intra_list_diversity(per_view, snap.features),
                calibration=maths.calibration_kl(
                    taste_histories(snap, profiles),
                    [per_profile[p] for p in profiles],
                    snap.features,
                ),
                profiles_sampled=len(profiles),
            )
        )
    return _flagged(out)


def _top_picks(
    page_views: QuerySet, snap: CatalogSnapshot
) -> tuple[list[np.ndarray], dict[int, np.ndarray]]:
    """The Top picks of the page views as catalog positions: one list per page
    view, and the distinct titles of each profile sampled for calibration
    (up to :data:`PROFILE_SAMPLE`, spread by id)."""
    by_view: dict = defaultdict(list)
    by_profile: dict = defaultdict(set)
    for view, profile_id, title_id in page_views.filter(row_kind=TOP_PICKS).values_list(
        "page_view", "profile_id", "title_id"
    ):
        by_view[view].append(title_id)
        by_profile[profile_id].add(title_id)
    profiles = spread(sorted(by_profile), PROFILE_SAMPLE)

    def positions(ids) -> np.ndarray:
        pos = snap.index(list(ids))
        return pos[pos >= 0]

    return (
        [positions(ids) for ids in by_view.values()],
        {p: positions(sorted(by_profile[p])) for p in profiles},
    )


def _percent(share: float) -> str:
    return f"{share * 100:.1f} %"


def _flagged(rails: list[ArmGuardrails]) -> list[ArmGuardrails]:
    """Each arm with its flags against the control (the first arm)."""
    if not rails:
        return rails
    tolerances = guardrails()
    control, out = rails[0], [rails[0]]
    for arm in rails[1:]:
        flags = []
        if maths.guardrail_breaches(
            {"coverage_top_picks": control.coverage},
            {"coverage_top_picks": arm.coverage},
            tolerances,
        ):
            flags.append(
                f"{arm.key} narrows the catalog: coverage "
                f"{_percent(arm.coverage)} vs {_percent(control.coverage)}"
            )
        if maths.guardrail_breaches(
            {"popularity_percentile": control.popularity},
            {"popularity_percentile": arm.popularity},
            tolerances,
        ):
            flags.append(
                f"{arm.key} leans on popular titles: popularity percentile "
                f"{arm.popularity:.1f} vs {control.popularity:.1f}"
            )
        out.append(replace(arm, flags=tuple(flags)))
    return out
