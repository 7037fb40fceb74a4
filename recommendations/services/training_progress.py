"""Live training: where a running training is, how long it has left, and
stopping it.

A training reports each stage as it begins (``training.TRAINING_STAGES``).
:func:`stage_recorder` writes it on the version at once (the training runs
in autocommit, so the admin's page, polling every second or two, sees it):
the stage, when it began, and the seconds each earlier stage took, which stay
on the version (``stage_timings``) and estimate the next training's time.

Cancel sets ``cancel_requested_at``; the training reads it as each stage
begins and stops there (:class:`TrainingCancelled`): the version is marked
failed with "Cancelled", its files go, the lease is released as the block
ends, and the active version serves on. A training asked for but not started
is an outbox row: cancelling deletes the row, and the worker that receives
its message skips it.
"""

import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from outbox.models import OutboxMessage
from recommendations.models import ModelVersion
from recommendations.services import artifact_store

#: The stages of a training run, in order, and how the admin names them.
STAGE_LABELS = {
    "dataset": "Dataset",
    "validation": "Validation",
    "fit_rating": "Fit rating",
    "fit_ranking": "Fit ranking",
    "publish": "Publish",
    "candidates": "Candidates",
}
STAGES = tuple(STAGE_LABELS)
#: How a cancelled training's ``error`` begins.
CANCELLED = "Cancelled"
TRAIN_MODEL_TASK = "recommendations.tasks.train_model"
#: Frames kept of a failed training's traceback.
TRACEBACK_FRAMES = 6


class TrainingCancelled(Exception):
    """The training was asked to stop (Cancel in the admin)."""


# --- the training's side --------------------------------------------------------


def stage_recorder(
    *, version_id: int, then: Callable[[str], None] = lambda stage: None
) -> Callable[[str], None]:
    """The ``progress`` of a training: records each stage as it begins, after
    raising :class:`TrainingCancelled` if Cancel was asked for; ``then``
    hears the stage too."""

    def record(stage: str) -> None:
        row = _stage_row(version_id)
        if row is None:
            return
        if row["cancel_requested_at"] is not None:
            raise TrainingCancelled(f"{CANCELLED} before {STAGE_LABELS[stage]}.")
        now = timezone.now()
        ModelVersion.objects.filter(pk=version_id).update(
            stage=stage, stage_started_at=now, stage_timings=_closed(row, now)
        )
        then(stage)

    return record


def stages_finish(*, version_id: int) -> None:
    """The last stage ended: its time is kept and the version no longer runs."""
    row = _stage_row(version_id)
    if row is None:
        return
    ModelVersion.objects.filter(pk=version_id).update(
        stage="", stage_started_at=None, stage_timings=_closed(row, timezone.now())
    )


def training_failed(*, version: ModelVersion, exc: BaseException) -> None:
    """Marks a training failed (or cancelled) with its reason and the last
    frames of its traceback, and removes its file.

    A version another process already marked failed (its lease lapsed) keeps
    that reason.
    """
    cancelled = isinstance(exc, TrainingCancelled)
    row = _stage_row(version.pk)
    now = timezone.now()
    marked = ModelVersion.objects.filter(
        pk=version.pk,
        status__in=[ModelVersion.Status.TRAINING, ModelVersion.Status.READY],
    ).update(
        status=ModelVersion.Status.FAILED,
        error=str(exc) if cancelled else scrub(f"{type(exc).__name__}: {exc}"),
        error_traceback="" if cancelled else traceback_summary(exc),
        finished_at=now,
        stage="",
        stage_started_at=None,
        stage_timings=_closed(row, now) if row else {},
    )
    name = ModelVersion.objects.filter(pk=version.pk).values_list("artifact", flat=True)
    if marked and name and name[0]:
        artifact_store.artifact_discard(name=name[0])


def _stage_row(version_id: int) -> dict | None:
    return (
        ModelVersion.objects.filter(pk=version_id)
        .values("stage", "stage_started_at", "stage_timings", "cancel_requested_at")
        .first()
    )


def _closed(row: dict, now: datetime) -> dict[str, float]:
    """The stage timings with the stage under way ended ``now``."""
    timings = dict(row["stage_timings"] or {})
    if row["stage"] and row["stage_started_at"] is not None:
        timings[row["stage"]] = round(
            (now - row["stage_started_at"]).total_seconds(), 3
        )
    return timings


_CREDENTIALS = re.compile(r"(\w+://)[^\s/@:]+(:[^\s/@]*)?@")


def scrub(text: str) -> str:
    """``text`` without the user and password of any URL in it (a database or
    broker URL in a connection error)."""
    return _CREDENTIALS.sub(r"\1…@", text)


def traceback_summary(exc: BaseException, frames: int = TRACEBACK_FRAMES) -> str:
    """The last ``frames`` frames (file, line, function, source line) and the
    exception's type: no locals, no message (it is in ``error``, scrubbed)."""
    lines = []
    for frame in traceback.extract_tb(exc.__traceback__)[-frames:]:
        lines.append(f"{_short_path(frame.filename)}:{frame.lineno} in {frame.name}")
        if frame.line:
            lines.append(f"    {frame.line.strip()}")
    lines.append(type(exc).__name__)
    return "\n".join(lines)


def _short_path(filename: str) -> str:
    path = Path(filename)
    for root in (Path(settings.BASE_DIR),):
        if path.is_relative_to(root):
            return str(path.relative_to(root))
    parts = path.parts
    if "site-packages" in parts:
        return str(Path(*parts[parts.index("site-packages") + 1 :]))
    return path.name


# --- the admin's side ----------------------------------------------------------


def _cancellable() -> Q:
    # A version READY with a stage under way has not been promoted yet.
    return Q(status=ModelVersion.Status.TRAINING) | Q(
        status=ModelVersion.Status.READY, stage__gt=""
    )


def training_cancel(*, version: ModelVersion) -> bool:
    """Asks ``version``'s training to stop at its next stage; False when it is
    not running (it ended, or Cancel was asked already)."""
    return bool(
        ModelVersion.objects.filter(_cancellable(), pk=version.pk)
        .filter(cancel_requested_at=None)
        .update(cancel_requested_at=timezone.now())
    )


def training_queued() -> OutboxMessage | None:
    """A training asked for ("Train now") that no worker has started yet."""
    return (
        OutboxMessage.objects.filter(task=TRAIN_MODEL_TASK, started_at=None)
        .order_by("created_at")
        .first()
    )


def training_queued_cancel() -> int:
    """Drops the trainings asked for but not started; returns how many.

    The message already sent for one reaches a worker, which finds its outbox
    row gone and skips it.
    """
    deleted, _ = OutboxMessage.objects.filter(
        task=TRAIN_MODEL_TASK, started_at=None
    ).delete()
    return deleted


@dataclass(frozen=True)
class StageState:
    name: str
    label: str
    state: str  # "done", "running" or "waiting"
    seconds: float | None


@dataclass(frozen=True)
class TrainingStatus:
    """What the admin shows of one training, running or ended."""

    version: ModelVersion
    running: bool
    stage: str
    stage_label: str
    stage_number: int  # 1-based; 0 before the first stage
    stage_count: int
    percent: int
    elapsed_s: float
    remaining_s: float | None  # None: nothing to estimate from
    estimated_from: int | None  # the version whose stage times estimate it
    cancel_requested: bool
    cancelled: bool
    stages: list[StageState] = field(default_factory=list)


def running_training() -> ModelVersion | None:
    """The version whose training runs now, if any (one at a time)."""
    return ModelVersion.objects.filter(_cancellable()).order_by("-created_at").first()


def _estimate_source(version: ModelVersion) -> ModelVersion | None:
    """The newest successful training that kept its stage times."""
    return (
        ModelVersion.objects.filter(
            status__in=[
                ModelVersion.Status.READY,
                ModelVersion.Status.ACTIVE,
                ModelVersion.Status.RETIRED,
            ],
            stage="",
        )
        .exclude(pk=version.pk)
        .exclude(stage_timings={})
        .order_by("-created_at", "-pk")
        .first()
    )


def training_status(
    version: ModelVersion, *, now: datetime | None = None
) -> TrainingStatus:
    """Stage, percent, elapsed and estimated remaining time of ``version``'s
    training. The estimate takes the previous successful training's time for
    each stage still to come (and for the one under way, less what it has
    spent); without one, percent counts stages and nothing is estimated."""
    now = now or timezone.now()
    running = version.status == ModelVersion.Status.TRAINING or (
        version.status == ModelVersion.Status.READY and bool(version.stage)
    )
    timings = version.stage_timings or {}
    current = version.stage if running else ""
    index = STAGES.index(current) if current in STAGES else -1
    in_stage = (
        (now - version.stage_started_at).total_seconds()
        if running and version.stage_started_at
        else 0.0
    )
    end = version.finished_at if not running and version.finished_at else now
    elapsed = max(0.0, (end - version.created_at).total_seconds())
    source = _estimate_source(version) if running else None
    expected = (source.stage_timings if source else {}) or {}
    remaining: float | None = None
    if not running:
        percent = 100 if version.status != ModelVersion.Status.FAILED else 0
        if version.status == ModelVersion.Status.FAILED:
            percent = round(100 * len(timings) / len(STAGES))
    elif expected and all(stage in expected for stage in STAGES):
        total = sum(expected[s] for s in STAGES) or 1.0
        done = sum(expected[s] for s in STAGES[: max(index, 0)])
        spent_here = min(in_stage, expected[current]) if index >= 0 else 0.0
        percent = round(100 * (done + spent_here) / total)
        remaining = max(0.0, total - done - spent_here)
        if index >= 0 and in_stage > expected[current]:
            # Slower than last time: at least the stages still to come remain.
            remaining = sum(expected[s] for s in STAGES[index + 1 :])
    else:
        percent = round(100 * max(index, 0) / len(STAGES))
    percent = min(percent, 99) if running else percent
    stages = []
    for position, name in enumerate(STAGES):
        if name in timings and (not running or position < index):
            stages.append(StageState(name, STAGE_LABELS[name], "done", timings[name]))
        elif running and position == index:
            stages.append(StageState(name, STAGE_LABELS[name], "running", in_stage))
        else:
            stages.append(StageState(name, STAGE_LABELS[name], "waiting", None))
    return TrainingStatus(
        version=version,
        running=running,
        stage=current,
        stage_label=STAGE_LABELS.get(current, ""),
        stage_number=index + 1,
        stage_count=len(STAGES),
        percent=percent,
        elapsed_s=elapsed,
        remaining_s=remaining,
        estimated_from=source.pk if source else None,
        cancel_requested=version.cancel_requested_at is not None,
        cancelled=version.status == ModelVersion.Status.FAILED
        and version.error.startswith(CANCELLED),
        stages=stages,
    )
