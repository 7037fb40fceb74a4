"""The public changelog of recommendation changes, read from the registry.

Every model version that was put live (``ModelVersion.activated_at``) is an
entry: what it was trained on, and how its measured Top picks differ from
those of the version live before it (``metrics["ranking"]`` of each, judged
on its own held-out rows at training). Going back to an earlier version is
an entry of its own. Every offline comparison whose winner was trained for
real (``ModelComparison.promoted_version``) is an entry too. Newest first;
nothing here is written by hand, so the log cannot forget a change.
"""

from dataclasses import dataclass
from datetime import datetime

from recommendations.models import Experiment, ModelComparison, ModelVersion
from recommendations.services.experiments import config_words

#: A change in a measure smaller than this (relative, in %) is not worth a line.
MIN_CHANGE_PERCENT = 1

#: How each measure of Top picks reads when it goes up and when it goes down.
_MEASURES = (
    (
        "ndcg@10",
        "closer to what viewers went on to watch",
        "further from what viewers went on to watch",
    ),
    ("diversity", "more diverse", "less diverse"),
    ("coverage", "reach more of the catalogue", "reach less of the catalogue"),
    ("novelty", "less obvious", "more familiar"),
)
_UNITS = {"diversity": " genres", "coverage": " titles"}


@dataclass(frozen=True)
class Change:
    at: datetime
    kind: str  # "model", "rollback", "comparison" or "test"
    headline: str
    details: tuple[str, ...] = ()
    version: int | None = None


def _percent(new: float | None, old: float | None) -> int | None:
    if new is None or old is None or not old:
        return None
    return round((new - old) / abs(old) * 100)


def measure_changes(version: ModelVersion, before: ModelVersion) -> tuple[str, ...]:
    """ "Top picks more diverse (+8 % genres)": each measure of Top picks
    that moved by at least :data:`MIN_CHANGE_PERCENT`."""
    new = (version.metrics or {}).get("ranking", {})
    old = (before.metrics or {}).get("ranking", {})
    out = []
    for key, up, down in _MEASURES:
        change = _percent(new.get(key), old.get(key))
        if change is None or abs(change) < MIN_CHANGE_PERCENT:
            continue
        out.append(
            f"Top picks {up if change > 0 else down} "
            f"({change:+d} %{_UNITS.get(key, '')})"
        )
    return tuple(out)


def _signals(version: ModelVersion) -> str:
    counts = version.data_counts or {}
    if "rows" not in counts:
        return ""
    said = f"trained on {counts['rows']:,} signals"
    if "profiles" in counts:
        said += f" from {counts['profiles']:,} profiles"
    return said


def _model_changes() -> list[Change]:
    live = list(
        ModelVersion.objects.filter(activated_at__isnull=False)
        .only("pk", "activated_at", "created_at", "data_counts", "metrics")
        .order_by("activated_at", "pk")
    )
    out = []
    for n, version in enumerate(live):
        trained = _signals(version)
        before = live[n - 1] if n else None
        if before is None:
            headline = "First model"
        elif version.created_at < before.created_at:
            out.append(
                Change(
                    version.activated_at,
                    "rollback",
                    f"Went back to an earlier model, #{version.pk}",
                    measure_changes(version, before),
                    version.pk,
                )
            )
            continue
        else:
            headline = "New model"
        out.append(
            Change(
                version.activated_at,
                "model",
                f"{headline} #{version.pk}, {trained}" if trained else headline,
                measure_changes(version, before) if before else (),
                version.pk,
            )
        )
    return out


def _comparison_changes() -> list[Change]:
    promoted = ModelComparison.objects.filter(
        promotion=ModelComparison.Promotion.DONE,
        promoted_version__isnull=False,
        promoted_at__isnull=False,
    ).order_by("promoted_at", "pk")
    out = []
    for comparison in promoted:
        side = comparison.promoted_side
        other = "b" if side == "a" else "a"
        details = [comparison.verdict] if comparison.verdict else []
        out.append(
            Change(
                comparison.promoted_at,
                "comparison",
                f"Settings “{comparison.label_of(side)}” beat "
                f"“{comparison.label_of(other)}” on past viewing and were trained "
                f"for real as model #{comparison.promoted_version_id}",
                tuple(details),
                comparison.promoted_version_id,
            )
        )
    return out


def _experiment_changes() -> list[Change]:
    promoted = (
        Experiment.objects.filter(
            status=Experiment.Status.PROMOTED, stopped_at__isnull=False
        )
        .prefetch_related("arms")
        .order_by("stopped_at", "pk")
    )
    out = []
    for experiment in promoted:
        arm = next(
            (a for a in experiment.arms.all() if a.key == experiment.winner), None
        )
        changed = (
            config_words(arm.config) if arm and isinstance(arm.config, dict) else ""
        )
        out.append(
            Change(
                experiment.stopped_at,
                "test",
                f"Test “{experiment.name}”: arm {experiment.winner} became the "
                f"default ({changed or 'no change to the rows'})",
                (f"What it tested: {experiment.hypothesis}",),
                arm.config.get("model_version")
                if arm and isinstance(arm.config, dict)
                else None,
            )
        )
    return out


def changelog() -> list[Change]:
    """Every change, newest first."""
    return sorted(
        [*_model_changes(), *_comparison_changes(), *_experiment_changes()],
        key=lambda c: (c.at, c.kind != "comparison"),
        reverse=True,
    )
