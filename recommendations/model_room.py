"""The admin's model room: what the list of model versions, its chart and the
diff of two versions show. Reads only; the writes are ``services.training``
(train, promote, roll back) and ``services.training_progress`` (cancel).
"""

import math
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from recommendations.engine.artifact import ArtifactError
from recommendations.models import ModelVersion
from recommendations.services import artifact_store
from recommendations.services.training_progress import STAGES


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    path: tuple[str, str]
    better: str  # "higher" or "lower"
    digits: int = 4


#: The figures of a version shown in the list, the chart and the diff.
METRICS = (
    Metric("rmse", "RMSE", ("rating", "rmse"), "lower"),
    Metric("ndcg", "NDCG@10 (time split)", ("ranking", "ndcg@10"), "higher"),
    Metric("coverage", "Coverage", ("ranking", "coverage"), "higher"),
    Metric(
        "popularity_percentile",
        "Popularity percentile",
        ("ranking", "popularity_percentile@10"),
        "lower",
        1,
    ),
    Metric("diversity", "Diversity", ("ranking", "diversity"), "higher"),
)
METRICS_BY_KEY = {m.key: m for m in METRICS}
#: Versions drawn in the chart, newest last.
CHART_VERSIONS = 30


def metric_value(version: ModelVersion, key: str) -> float | None:
    section, name = METRICS_BY_KEY[key].path
    value = (version.metrics or {}).get(section, {}).get(name)
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None


#: Lists too long for a diff row: every setting validation tried (the
#: chosen ones are compared; the version's JSON keeps the whole list).
NOT_DIFFED = frozenset({"validation.tried"})


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts as one level of dotted keys (``params.n_factors``)."""
    if not isinstance(data, dict):
        return {prefix: data} if prefix else {}
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if name in NOT_DIFFED:
            continue
        if isinstance(value, dict) and value:
            flat.update(flatten(value, name))
        else:
            flat[name] = value
    return flat


#: The parameters the list shows (the diff shows every one): the rating
#: algorithm's own (``params.*``, but its seed) and the ranking's main knobs.
KEY_PARAMETERS = ("ease_lambda", "recency_half_life", "popularity_beta", "blend")
_NOT_KEY = {"params.random_state"}


def key_parameters(version: ModelVersion) -> list[str]:
    """The parameters that tell versions apart, short (the algorithm has its
    own column)."""
    flat = flatten(version.parameters or {})
    keys = [k for k in flat if k.startswith("params.") and k not in _NOT_KEY]
    keys += [k for k in KEY_PARAMETERS if k in flat]
    return [f"{key.removeprefix('params.')}={_short(flat[key])}" for key in keys]


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def duration_s(version: ModelVersion) -> float | None:
    if version.finished_at is None:
        return None
    return max(0.0, (version.finished_at - version.created_at).total_seconds())


def checksum_state(version: ModelVersion) -> str:
    """``verified``, ``failed`` (the file is there but not the one recorded),
    ``missing``, or ``none`` (the version never had a file). Hashed once per
    process per (file, sha256), as serving does."""
    if not version.artifact or not version.sha256:
        return "none"
    try:
        artifact_store.artifact_verify(name=version.artifact, sha256=version.sha256)
    except ArtifactError:
        path = artifact_store.artifact_local_path(name=version.artifact)
        return "failed" if path is not None and path.is_file() else "missing"
    return "verified"


# --- the chart -------------------------------------------------------------------

PANEL_W, PANEL_H = 250, 130
PAD_L, PAD_R, PAD_T, PAD_B = 44, 12, 14, 26


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    version_id: int
    value: float
    active: bool


@dataclass(frozen=True)
class Panel:
    metric: Metric
    points: list[Point]
    polyline: str
    y_top: str
    y_bottom: str
    x_first: str
    x_last: str
    description: str


def chart_versions() -> list[ModelVersion]:
    """The latest versions with metrics, oldest first."""
    latest = (
        ModelVersion.objects.exclude(metrics={})
        .exclude(status=ModelVersion.Status.FAILED)
        .order_by("-created_at", "-pk")[:CHART_VERSIONS]
    )
    return list(reversed(latest))


def chart_panels(versions: list[ModelVersion]) -> list[Panel]:
    """One small line chart per metric, across ``versions`` (SVG coordinates)."""
    panels = []
    inner_w = PANEL_W - PAD_L - PAD_R
    inner_h = PANEL_H - PAD_T - PAD_B
    for metric in METRICS:
        values = [(n, v, metric_value(v, metric.key)) for n, v in enumerate(versions)]
        known = [(n, v, value) for n, v, value in values if value is not None]
        if not known:
            continue
        low = min(value for _, _, value in known)
        high = max(value for _, _, value in known)
        if high == low:  # one value (or all equal): a band around it
            pad = abs(high) * 0.05 or 0.01
            low, high = low - pad, high + pad
        span = high - low
        steps = max(len(versions) - 1, 1)
        points = []
        for n, version, value in known:
            x = PAD_L + (inner_w * n / steps if len(versions) > 1 else inner_w / 2)
            y = PAD_T + inner_h * (1 - (value - low) / span)
            points.append(
                Point(
                    round(x, 1),
                    round(y, 1),
                    version.pk,
                    value,
                    version.status == ModelVersion.Status.ACTIVE,
                )
            )
        fmt = f"{{:.{metric.digits}f}}"
        described = "; ".join(f"#{p.version_id}: {fmt.format(p.value)}" for p in points)
        panels.append(
            Panel(
                metric=metric,
                points=points,
                polyline=" ".join(f"{p.x},{p.y}" for p in points),
                y_top=fmt.format(high),
                y_bottom=fmt.format(low),
                x_first=f"#{versions[0].pk}",
                x_last=f"#{versions[-1].pk}",
                description=(
                    f"{metric.label} ({metric.better} is better) by version, "
                    f"oldest first: {described}."
                ),
            )
        )
    return panels


def chart_rows(versions: list[ModelVersion]) -> list[dict]:
    """The chart's figures, for its table."""
    rows = []
    for version in versions:
        values = []
        for metric in METRICS:
            value = metric_value(version, metric.key)
            values.append(None if value is None else f"{value:.{metric.digits}f}")
        rows.append({"version": version, "values": values})
    return rows


# --- the diff --------------------------------------------------------------------


@dataclass(frozen=True)
class DiffRow:
    name: str
    a: str
    b: str
    changed: bool
    delta: str  # b - a for numbers, "" otherwise
    verdict: str  # "better", "worse" or "" (metrics with a direction only)


@dataclass(frozen=True)
class DiffSection:
    title: str
    rows: list[DiffRow]

    @property
    def changes(self) -> int:
        return sum(row.changed for row in self.rows)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _rows(
    a: dict,
    b: dict,
    better: dict[str, str] | None = None,
    *,
    order: tuple[str, ...] | None = None,
) -> list[DiffRow]:
    """One row per key of either; ``order`` first, then the rest sorted
    (PostgreSQL keeps no key order in JSON)."""
    flat_a, flat_b = flatten(a), flatten(b)
    names = sorted(set(flat_a) | set(flat_b))
    if order is not None:
        names = [n for n in order if n in names] + [n for n in names if n not in order]
    rows = []
    for name in names:
        va, vb = flat_a.get(name), flat_b.get(name)
        changed = va != vb
        delta = verdict = ""
        if changed and _is_number(va) and _is_number(vb):
            delta = f"{vb - va:+.4g}"
            direction = (better or {}).get(name)
            if direction:
                improved = vb > va if direction == "higher" else vb < va
                verdict = "better" if improved else "worse"
        rows.append(DiffRow(name, _shown(va), _shown(vb), changed, delta, verdict))
    return rows


def versions_diff(a: ModelVersion, b: ModelVersion) -> list[DiffSection]:
    """Parameters, the list's metrics, every other metric, data and timings of
    two versions, side by side; ``verdict`` says whether b improves on a."""
    labels = tuple(m.label for m in METRICS)
    headline = {m.label: metric_value(a, m.key) for m in METRICS}
    headline_b = {m.label: metric_value(b, m.key) for m in METRICS}
    better = {m.label: m.better for m in METRICS}
    params_a = {"algorithm": a.algorithm, **(a.parameters or {})}
    params_b = {"algorithm": b.algorithm, **(b.parameters or {})}
    first = tuple(flatten(params_a))
    return [
        DiffSection(
            "Parameters",
            _rows(params_a, params_b, order=first),
        ),
        DiffSection("Metrics", _rows(headline, headline_b, better, order=labels)),
        DiffSection("All metrics", _rows(a.metrics or {}, b.metrics or {})),
        DiffSection("Data", _rows(a.data_counts or {}, b.data_counts or {})),
        DiffSection(
            "Seconds per stage",
            _rows(a.stage_timings or {}, b.stage_timings or {}, order=STAGES),
        ),
    ]


def versions_for_diff(a: int, b: int) -> QuerySet[ModelVersion]:
    return ModelVersion.objects.filter(pk__in=[a, b])
