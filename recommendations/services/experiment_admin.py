"""Running an online test from the admin: start it, stop it, promote an arm.

Each is one transaction that changes the test and writes the admin log entry
(who, what, and the reason the operator gave), and once committed drops the
running tests' cache (``experiments.experiments_changed``) so every page
served next knows.

- start: a draft with at least two arms (exactly two for an interleaving
  test), every arm's configuration valid; profiles are assigned from the
  next page served. Arms, kind and traffic are fixed from then on (the admin
  shows them read-only), which keeps the assignment hash sticky.
- stop: a running test ends; its profiles get the defaults again and its
  evidence stays readable.
- promote: an arm's configuration becomes what everyone gets — its model
  version is promoted (``training.model_promote``, its gate included), its
  exploration, calibration and row order become the ``ServingDefaults`` —
  and the test ends as promoted with that arm as winner. The public
  changelog reads promoted tests (``recommendations.changelog``).

Anything not allowed raises :class:`ExperimentRefused` with a sentence for
the operator, and changes nothing.
"""

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from recommendations.models import (
    Experiment,
    ExperimentArm,
    ModelVersion,
    ServingDefaults,
)
from recommendations.services import training
from recommendations.services.experiments import (
    arm_config_errors,
    config_words,
    experiments_changed,
)


class ExperimentRefused(Exception):
    """The test is not in a state that allows what was asked (a 4xx, never a 500)."""


def arms_problems(experiment: Experiment, arms: list[ExperimentArm]) -> list[str]:
    """Why these arms cannot run (empty when they can), one sentence each."""
    problems = []
    if len(arms) < 2:
        problems.append("A test needs at least two arms.")
    if experiment.kind == Experiment.Kind.INTERLEAVING and len(arms) != 2:
        problems.append("An interleaving test has exactly two arms.")
    for arm in arms:
        if not isinstance(arm.config, dict):
            problems.append(f"Arm {arm.key}: the configuration must be a JSON object.")
            continue
        problems += [f"Arm {arm.key}: {e}" for e in arm_config_errors(arm.config)]
    return problems


def _log(*, user, experiment: Experiment, message: str) -> None:
    LogEntry.objects.create(
        user_id=user.pk,
        content_type_id=ContentType.objects.get_for_model(Experiment).pk,
        object_id=str(experiment.pk),
        object_repr=str(experiment)[:200],
        action_flag=CHANGE,
        change_message=message,
    )


def _locked(experiment_id: int) -> Experiment:
    try:
        return Experiment.objects.select_for_update().get(pk=experiment_id)
    except Experiment.DoesNotExist:
        raise ExperimentRefused("No such test.") from None


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ExperimentRefused("Say why: the reason is kept in the admin log.")
    return reason


@transaction.atomic
def experiment_start(*, experiment_id: int, user, reason: str) -> Experiment:
    """Starts a draft whose arms can run (see :func:`arms_problems`)."""
    reason = _reason(reason)
    experiment = _locked(experiment_id)
    if experiment.status != Experiment.Status.DRAFT:
        raise ExperimentRefused(
            f"“{experiment}” is {experiment.get_status_display().lower()}: "
            "only a draft can start (make a new test to run it again)."
        )
    problems = arms_problems(experiment, list(experiment.arms.all()))
    if problems:
        raise ExperimentRefused(" ".join(problems))
    experiment.status = Experiment.Status.RUNNING
    experiment.started_at = timezone.now()
    experiment.save(update_fields=["status", "started_at"])
    _log(user=user, experiment=experiment, message=f"Started. Why: {reason}")
    transaction.on_commit(experiments_changed)
    return experiment


@transaction.atomic
def experiment_stop(*, experiment_id: int, user, reason: str) -> Experiment:
    """Ends a running test without changing what everyone gets."""
    reason = _reason(reason)
    experiment = _locked(experiment_id)
    if experiment.status != Experiment.Status.RUNNING:
        raise ExperimentRefused(
            f"“{experiment}” is {experiment.get_status_display().lower()}, not running."
        )
    experiment.status = Experiment.Status.STOPPED
    experiment.stopped_at = timezone.now()
    experiment.save(update_fields=["status", "stopped_at"])
    _log(user=user, experiment=experiment, message=f"Stopped. Why: {reason}")
    transaction.on_commit(experiments_changed)
    return experiment


@transaction.atomic
def experiment_promote(
    *, experiment_id: int, arm_key: str, user, reason: str
) -> Experiment:
    """Makes arm ``arm_key``'s configuration the default and ends the test."""
    reason = _reason(reason)
    experiment = _locked(experiment_id)
    if experiment.status == Experiment.Status.DRAFT:
        raise ExperimentRefused(
            f"“{experiment}” has not run: there is no evidence to promote on."
        )
    if experiment.status == Experiment.Status.PROMOTED:
        raise ExperimentRefused(
            f"“{experiment}” already made arm {experiment.winner} the default."
        )
    arm = experiment.arms.filter(key=arm_key).first()
    if arm is None:
        raise ExperimentRefused(f"“{experiment}” has no arm {arm_key}.")
    config = arm.config
    errors = (
        arm_config_errors(config)
        if isinstance(config, dict)
        else ["It is not a JSON object."]
    )
    if errors:
        raise ExperimentRefused(
            f"Arm {arm.key}'s configuration no longer holds: {' '.join(errors)}"
        )
    _apply(config)
    experiment.status = Experiment.Status.PROMOTED
    experiment.winner = arm.key
    experiment.stopped_at = experiment.stopped_at or timezone.now()
    experiment.save(update_fields=["status", "winner", "stopped_at"])
    changed = config_words(config) or "the defaults as they were"
    _log(
        user=user,
        experiment=experiment,
        message=f"Promoted arm {arm.key} ({arm.name}): {changed}. Why: {reason}",
    )
    transaction.on_commit(experiments_changed)
    return experiment


def _apply(config: dict) -> None:
    """The arm's configuration as what everyone gets."""
    version_id = config.get("model_version")
    if version_id is not None:
        version = ModelVersion.objects.filter(pk=version_id).first()
        if version is None:
            raise ExperimentRefused(f"Model version #{version_id} no longer exists.")
        if version.status != ModelVersion.Status.ACTIVE:
            try:
                training.model_promote(version=version)
            except training.PromotionRefused as exc:
                raise ExperimentRefused(
                    f"Model version #{version_id} cannot be promoted: {exc}"
                ) from None
    keys = ("exploration", "calibration", "row_order")
    serving = {k: config[k] for k in keys if k in config}
    if serving:
        defaults, _ = ServingDefaults.objects.select_for_update().get_or_create(pk=1)
        for name, value in serving.items():
            setattr(defaults, name, value)
        defaults.save()
