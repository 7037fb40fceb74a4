"""Recommendation health: how wide, how popular, how calibrated and how fresh
recommendations are, taken as a snapshot hourly and after each promotion,
kept as a history, and alarming when they narrow or grow stale.

Exposure is computed from stored candidates, not from what was shown:
impressions (what each page really showed) do not exist yet.

- Top picks: each profile's first :data:`TOP_PICKS` stored candidates, for
  every profile whose home page is personal (personalization on, candidates
  from a model, a signal), up to ``PROFILE_SAMPLE`` of them spread evenly by
  id.
- The whole page: the home page built by the real row builders
  (``recommendations.home.page.home_page``) for ``PAGE_SAMPLE`` profiles,
  spread evenly by id over every profile (non-personal pages included).

When impressions exist, :func:`_exposure` is the one place to read them
instead, setting ``exposure_source`` to ``impressions``; the page says which.

Snapshots are kept a year (:data:`KEEP`).

Alerts (a red line on the page, ``mail_admins`` and an ERROR log): a
snapshot compares its figures with the last snapshot of the model version
before (``baseline``) through the guardrails (``services.guardrails``), once
the candidates of at least :data:`CAUGHT_UP` of the profiles come from the
active model; the freshness lag is checked every time. An alert is mailed
and logged when it appears (its key was not among the previous snapshot's),
and stays on the page while it holds.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from django.conf import settings
from django.core.mail import mail_admins
from django.db.models import Count, Exists, Max, OuterRef, Q
from django.utils import timezone

from accounts.models import Profile
from activity.models import Feedback, Rating, ViewingEvent
from catalog.models import Title
from outbox.services import outbox_add
from recommendations.engine import health as maths
from recommendations.engine.evaluation import exposure_metrics, popularity_percentiles
from recommendations.home.page import home_page
from recommendations.home.snapshot import (
    CatalogSnapshot,
    catalog_snapshot_fresh,
)
from recommendations.models import HealthSnapshot, ModelVersion, ProfileCandidates
from recommendations.services.dataset import profile_histories
from recommendations.services.guardrails import guardrails

logger = logging.getLogger(__name__)

HEALTH_SNAPSHOT_TASK = "recommendations.tasks.health_snapshot"

#: The first candidates of a profile that make its Top picks.
TOP_PICKS = 10
#: Signals within this window count for "signals per day" and the lag.
LAG_WINDOW = timedelta(hours=24)
#: Share of profiles whose candidates come from the active model before a
#: snapshot is compared with the model before (a promotion's refresh is done).
CAUGHT_UP = 0.95
#: Titles never recommended shown as examples.
NEVER_EXAMPLES = 8
#: Snapshots drawn in each sparkline.
HISTORY = 48
#: Snapshots older than this are deleted as a new one is taken.
KEEP = timedelta(days=365)

#: The signals that refresh a profile's candidates, and their time field.
SIGNALS = (
    (Rating, "updated_at"),
    (ViewingEvent, "updated_at"),
    (Feedback, "created_at"),
)


@dataclass(frozen=True)
class _Exposure:
    """Dense catalog positions of what each sampled profile was recommended."""

    source: str
    #: Profiles whose Top picks were read, and their lists (same order).
    profile_ids: list[int]
    top_picks: list[np.ndarray]
    #: The titles of each sampled page.
    pages: list[np.ndarray]


def spread(ids: list[int], limit: int) -> list[int]:
    """At most ``limit`` of ``ids`` (sorted), evenly spread: the same sample
    from one snapshot to the next while profiles stay."""
    if len(ids) <= limit:
        return ids
    picks = np.linspace(0, len(ids) - 1, num=limit).round().astype(int)
    return [ids[i] for i in np.unique(picks)]


def _has_signal() -> Q:
    return (
        Q(Exists(Rating.objects.filter(profile=OuterRef("pk"))))
        | Q(Exists(ViewingEvent.objects.filter(profile=OuterRef("pk"))))
        | Q(Exists(Feedback.objects.filter(profile=OuterRef("pk"))))
    )


_PERSONALIZATION_ON = Q(privacy__isnull=True) | Q(privacy__personalization=True)
_MODEL_CANDIDATES = Q(candidates__model_version__isnull=False) & ~Q(
    candidates__title_ids=[]
)


def _exposure(snap: CatalogSnapshot, version: ModelVersion | None) -> _Exposure:
    """From stored candidates and sampled pages (see the module docstring)."""
    conf = settings.RECOMMENDER_HEALTH
    personal: list[int] = []
    if version is not None:
        personal = list(
            Profile.objects.filter(_PERSONALIZATION_ON, _MODEL_CANDIDATES)
            .filter(_has_signal())
            .order_by("id")
            .values_list("id", flat=True)
        )
    sample = spread(personal, conf["PROFILE_SAMPLE"])
    stored = dict(
        ProfileCandidates.objects.filter(profile_id__in=sample).values_list(
            "profile_id", "title_ids"
        )
    )
    top_picks = []
    for pid in sample:
        pos = snap.index(stored.get(pid, [])[:TOP_PICKS])
        top_picks.append(pos[pos >= 0])
    page_ids = spread(
        list(Profile.objects.order_by("id").values_list("id", flat=True)),
        conf["PAGE_SAMPLE"],
    )
    pages = []
    for profile in Profile.objects.filter(pk__in=page_ids).select_related(
        "privacy", "user"
    ):
        pos = snap.index(home_page(profile=profile).title_ids)
        pages.append(pos[pos >= 0])
    return _Exposure(
        source=HealthSnapshot.Source.CANDIDATES,
        profile_ids=sample,
        top_picks=top_picks,
        pages=pages,
    )


def title_popularity(snap: CatalogSnapshot) -> np.ndarray:
    """Per catalog title: profiles that rated it plus profiles that played it."""
    popularity = np.zeros(len(snap.ids))
    for model in (Rating, ViewingEvent):
        rows = list(
            model.objects.order_by()
            .values("title_id")
            .annotate(n=Count("profile_id", distinct=True))
            .values_list("title_id", "n")
        )
        ids, counts = zip(*rows, strict=True) if rows else ((), ())
        pos = snap.index(list(ids))
        found = pos >= 0
        np.add.at(popularity, pos[found], np.asarray(counts, np.float64)[found])
    return popularity


def taste_histories(snap: CatalogSnapshot, profile_ids: list[int]) -> list[np.ndarray]:
    """Each profile's positive history (catalog positions), same order."""
    out = []
    for h in profile_histories(profile_ids):
        items = h.items if h.negative is None else h.items[~h.negative]
        pos = snap.index(items)
        out.append(pos[pos >= 0])
    return out


def _profile_shares(version: ModelVersion | None) -> dict[str, float | int | None]:
    profiles = Profile.objects.count()
    with_candidates = Profile.objects.filter(_MODEL_CANDIDATES).filter(_has_signal())
    personal = with_candidates.filter(_PERSONALIZATION_ON).count() if version else 0
    off = Profile.objects.filter(privacy__personalization=False).count()
    opted_out = Profile.objects.filter(allow_training=False).count()
    from_active = (
        ProfileCandidates.objects.filter(model_version=version).count()
        if version
        else 0
    )
    stored = ProfileCandidates.objects.count()

    def share(n: int, of: int = profiles) -> float | None:
        return n / of if of else None

    return {
        "profiles": profiles,
        "share_personal_candidates": share(with_candidates.count()),
        "share_non_personalized": share(profiles - personal),
        "share_personalization_off": share(off),
        "share_training_opt_out": share(opted_out),
        "candidates_from_active": share(from_active, stored),
    }


def _freshness(version: ModelVersion | None, now: datetime) -> dict:
    since = now - LAG_WINDOW
    latest: dict[int, datetime] = {}
    signals = 0
    for model, field in SIGNALS:
        recent = model.objects.filter(**{f"{field}__gte": since})
        signals += recent.count()
        for pid, at in (
            recent.order_by()
            .values("profile_id")
            .annotate(at=Max(field))
            .values_list("profile_id", "at")
        ):
            latest[pid] = max(at, latest.get(pid, at))
    out: dict = {
        "signals_per_day": signals,
        "lag_p50_s": None,
        "lag_p95_s": None,
        "lag_waiting": 0,
        "lag_profiles": 0,
        "model_age_hours": None,
    }
    if version is None:
        return out
    made = version.finished_at or version.created_at
    out["model_age_hours"] = (now - made).total_seconds() / 3600
    if not latest:
        return out
    ids = sorted(latest)
    stored = {
        pid: (updated, activated)
        for pid, updated, activated in ProfileCandidates.objects.filter(
            profile_id__in=ids
        ).values_list("profile_id", "updated_at", "model_version__activated_at")
    }

    def ts(at: datetime | None) -> float:
        return at.timestamp() if at else np.nan

    lags, waiting = maths.refresh_lags(
        np.array([ts(latest[p]) for p in ids]),
        np.array([ts(stored.get(p, (None, None))[0]) for p in ids]),
        np.array([ts(stored.get(p, (None, None))[1]) for p in ids]),
        now.timestamp(),
    )
    out["lag_p50_s"], out["lag_p95_s"] = maths.percentiles(lags, (50, 95))
    out["lag_waiting"], out["lag_profiles"] = waiting, len(lags)
    return out


def _figures_and_details(
    snap: CatalogSnapshot, version: ModelVersion | None, now: datetime
) -> tuple[str, dict, dict]:
    n = len(snap.ids)
    exposure = _exposure(snap, version)
    popularity = title_popularity(snap)
    percentile = popularity_percentiles(popularity)
    counts = maths.exposure_counts(exposure.top_picks, n)
    page_counts = maths.exposure_counts(exposure.pages, n)
    concentration = exposure_metrics(
        np.concatenate([np.zeros(0, np.int64), *exposure.top_picks]),
        popularity,
        k=TOP_PICKS,
    )
    histories = taste_histories(snap, exposure.profile_ids)
    amp = maths.popularity_amplification(exposure.top_picks, histories, percentile)
    never = np.flatnonzero((counts == 0) & (page_counts == 0))
    figures = {
        "coverage_top_picks": maths.coverage(exposure.top_picks, n),
        "coverage_page": maths.coverage(exposure.pages, n) if exposure.pages else None,
        "gini": concentration[f"gini@{TOP_PICKS}"],
        "long_tail_share": concentration[f"long_tail_share@{TOP_PICKS}"],
        "effective_catalog_size": concentration[f"effective_catalog_size@{TOP_PICKS}"],
        "popularity_percentile": amp.recommended,
        "history_popularity_percentile": amp.history,
        "amplification": amp.amplification,
        "niche_popularity_percentile": amp.niche_recommended,
        "niche_history_popularity_percentile": amp.niche_history,
        "amplification_niche": amp.niche_amplification,
        "calibration_kl": maths.calibration_kl(
            histories, exposure.top_picks, snap.features
        ),
        "intra_list_diversity": maths.mean_intra_list_diversity(
            exposure.top_picks, snap.features
        ),
        **_profile_shares(version),
        "titles_never_recommended": len(never),
        "catalog_titles": n,
        **_freshness(version, now),
    }
    shown, catalog = maths.genre_exposure(counts, snap.features)
    never_by_genre = maths.genre_never_shown(counts, snap.features)
    genres = [
        {
            "name": snap.genre_names[g],
            "shown": float(shown[j]),
            "catalog": float(catalog[j]),
            "never": int(never_by_genre[j]),
            "titles": int((snap.features[:, j] > 0).sum()),
        }
        for j, g in enumerate(snap.genre_order)
    ]
    decades = [
        {
            "name": f"{label}s" if label else "Unknown year",
            "shown": shown_share,
            "catalog": catalog_share,
            "never": never_count,
            "titles": int((maths.decade_of(snap.year) == label).sum()),
        }
        for label, shown_share, catalog_share, never_count in maths.group_exposure(
            counts, maths.decade_of(snap.year)
        )
    ]
    examples = never[np.argsort(-popularity[never], kind="stable")][:NEVER_EXAMPLES]
    names = Title.objects.in_bulk([int(snap.ids[i]) for i in examples])
    details = {
        "top_picks_profiles": len(exposure.profile_ids),
        "page_profiles": len(exposure.pages),
        "niche_profiles": amp.niche_profiles,
        "genres": sorted(genres, key=lambda g: (-g["catalog"], g["name"])),
        "decades": decades,
        "never_examples": [
            {
                "id": int(snap.ids[i]),
                "title": str(names[int(snap.ids[i])]),
                "interactions": int(popularity[i]),
            }
            for i in examples
            if int(snap.ids[i]) in names
        ],
        "lag_window_hours": LAG_WINDOW.total_seconds() / 3600,
    }
    return exposure.source, figures, details


def _baseline(version: ModelVersion | None) -> HealthSnapshot | None:
    """The last snapshot of another model version, taken once its candidates
    had caught up."""
    if version is None:
        return None
    return (
        HealthSnapshot.objects.exclude(model_version=version)
        .filter(
            model_version__isnull=False,
            figures__candidates_from_active__gte=CAUGHT_UP,
        )
        .first()
    )


def _alerts(figures: dict, baseline: HealthSnapshot | None) -> list[dict]:
    rails = guardrails()
    alerts = []
    caught_up = (figures.get("candidates_from_active") or 0) >= CAUGHT_UP
    if baseline is not None and caught_up:
        for key in (*maths.COVERAGE_FIGURES, *maths.AMPLIFICATION_FIGURES):
            breach = maths.guardrail_breaches(
                {key: baseline.figures.get(key)}, {key: figures.get(key)}, rails
            )
            alerts += [{"key": key, "message": text} for text in breach]
    lag = maths.lag_breach(figures.get("lag_p95_s"), rails)
    if lag:
        alerts.append({"key": "lag_p95_s", "message": lag})
    return alerts


def health_snapshot_take(
    *, trigger: str = HealthSnapshot.Trigger.HOURLY, now: datetime | None = None
) -> HealthSnapshot:
    """Computes every figure, keeps it as a new snapshot and raises its alerts."""
    now = now or timezone.now()
    version = ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).first()
    source, figures, details = _figures_and_details(
        catalog_snapshot_fresh(), version, now
    )
    previous = HealthSnapshot.objects.first()
    baseline = _baseline(version)
    alerts = _alerts(figures, baseline)
    snapshot = HealthSnapshot.objects.create(
        created_at=now,
        model_version=version,
        trigger=trigger,
        exposure_source=source,
        figures=figures,
        details=details,
        alerts=alerts,
        baseline=baseline,
    )
    HealthSnapshot.objects.filter(created_at__lt=now - KEEP).delete()
    before = {a["key"] for a in previous.alerts} if previous else set()
    raised = [a for a in alerts if a["key"] not in before]
    if raised:
        _raise(snapshot, raised)
    return snapshot


def _raise(snapshot: HealthSnapshot, alerts: list[dict]) -> None:
    """An ERROR log and a mail to the admins (``ADMINS``) for new alerts."""
    text = "\n".join(f"- {a['message']}" for a in alerts)
    version = f"model version #{snapshot.model_version_id}"
    logger.error("Recommendation health alert (%s):\n%s", version, text)
    mail_admins(
        f"Recommendation health: {len(alerts)} alert(s) ({version})",
        f"Health snapshot #{snapshot.pk}, {snapshot.created_at:%Y-%m-%d %H:%M} UTC, "
        f"{version}:\n\n{text}\n\nSee /admin/recommendations/healthsnapshot/.",
        fail_silently=True,
    )


def candidates_caught_up(version_id: int) -> bool | None:
    """Whether a promotion's refresh is done (see :data:`CAUGHT_UP`); None
    when the version no longer serves."""
    version = ModelVersion.objects.filter(
        pk=version_id, status=ModelVersion.Status.ACTIVE
    ).first()
    if version is None:
        return None
    stored = ProfileCandidates.objects.count()
    from_version = ProfileCandidates.objects.filter(model_version=version).count()
    return bool(stored) and from_version >= CAUGHT_UP * stored


def health_refresh_ask() -> None:
    """ "Refresh now" on the page: a snapshot taken by a worker, soon."""
    outbox_add(
        task=HEALTH_SNAPSHOT_TASK, args=[HealthSnapshot.Trigger.MANUAL], coalesce=True
    )


# --- reading ---------------------------------------------------------------------


def health_latest() -> HealthSnapshot | None:
    return HealthSnapshot.objects.select_related("model_version", "baseline").first()


def health_history(limit: int = HISTORY) -> list[HealthSnapshot]:
    """The latest ``limit`` snapshots, oldest first (for sparklines)."""
    return list(
        reversed(HealthSnapshot.objects.only("created_at", "figures", "alerts")[:limit])
    )


def health_as_json(snapshot: HealthSnapshot) -> dict:
    """What ``manage.py health`` prints: every figure, the alerts and the tables."""
    return {
        "taken_at": snapshot.created_at.isoformat(),
        "model_version": snapshot.model_version_id,
        "trigger": snapshot.trigger,
        "exposure_source": snapshot.exposure_source,
        "alerts": [a["message"] for a in snapshot.alerts],
        "figures": snapshot.figures,
        "details": snapshot.details,
    }
