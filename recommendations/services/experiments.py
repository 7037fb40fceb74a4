"""Experiments as served: who is in which test and arm, and what it changes.

- :func:`running_experiments` (and :func:`serving_defaults`) are read from
  the cache, not the database: one entry that :func:`experiments_changed`
  drops (every start, stop, promotion or edit calls it), and while the cache
  has none (Redis away) a few seconds' copy in the process, so a page costs
  no query for them.
- :func:`arm_for` places a profile: only a profile that takes part in tests
  (``PrivacySettings.experiments``), is not in the non-profiling mode, and is
  not a kids profile unless the test includes kids. It is in one test at
  most: the earliest started whose ``engine.online.assign`` admits it. The
  hash is the experiment's and the profile's, so the arm is the same on
  every machine and every page while the test runs (arms and traffic are
  fixed once it runs).
- An arm's ``config`` (:data:`ARM_CONFIG_KEYS`) is a delta over what
  everyone gets: ``exploration`` and ``calibration`` apply only where the
  viewer did not set its own (:func:`effective_tuning`), ``row_order`` puts
  those kinds of rows first (after Continue watching), ``model_version``
  serves that version's candidates. An interleaving test has two arms whose
  Top picks rankings are merged by team draft (``home.page``).
- :func:`assignment_record` keeps the assignment (personal data) when the
  page is first shown with impressions kept; :func:`assignments_forget`
  deletes a profile's when it leaves tests.
"""

import time
from dataclasses import dataclass, field
from datetime import datetime
from threading import Lock

from django.core.cache import cache
from django.db import IntegrityError, transaction

from accounts.models import Profile
from consent.models import PrivacySettings
from consent.policy import settings_for
from recommendations.engine import online
from recommendations.models import (
    Experiment,
    ExperimentAssignment,
    ModelVersion,
    ServingDefaults,
)
from recommendations.services.engagement import ROW_KINDS

ARM_CONFIG_KEYS = ("model_version", "exploration", "calibration", "row_order")
#: The controls a viewer may set itself, which no test overrides.
OWN_CHOICES = ("exploration", "calibration")
#: How long a process trusts its own copy before it asks the cache again.
LOCAL_SECONDS = 5.0
#: A page of an interleaving test says so instead of naming one arm.
INTERLEAVED = "interleaved"


@dataclass(frozen=True)
class Arm:
    key: str
    name: str
    weight: int
    config: dict


@dataclass(frozen=True)
class RunningExperiment:
    id: int
    name: str
    hypothesis: str
    kind: str
    traffic_share: float
    include_kids: bool
    started_at: datetime | None
    arms: tuple[Arm, ...]

    @property
    def interleaving(self) -> bool:
        return self.kind == Experiment.Kind.INTERLEAVING

    @property
    def weights(self) -> list[int]:
        return [arm.weight for arm in self.arms]


@dataclass(frozen=True)
class Defaults:
    """``ServingDefaults`` as served (None: the built-in default)."""

    exploration: int | None = None
    calibration: bool | None = None
    row_order: tuple[str, ...] = ()
    #: Changes whenever they do: part of every home page's cache key.
    stamp: str = ""


@dataclass(frozen=True)
class ArmChoice:
    """A profile's test and arm (for an interleaving test, the arm is None:
    its Top picks come from both)."""

    experiment: RunningExperiment
    arm: Arm | None

    @property
    def page_arm(self) -> str:
        """What a page and its impressions record: the arm's key, or
        "interleaved"."""
        return INTERLEAVED if self.arm is None else self.arm.key

    @property
    def config(self) -> dict:
        return {} if self.arm is None else self.arm.config


@dataclass(frozen=True)
class _State:
    experiments: tuple[RunningExperiment, ...] = ()
    defaults: Defaults = field(default_factory=Defaults)


_local_lock = Lock()
#: This process's last copy: served for a few seconds while the cache has
#: none (Redis away, or just emptied by another process's change).
_local: dict[str, tuple[float, _State]] = {}
_STATE_KEY = "experiments:state"
_STATE_SECONDS = 3600


def _read_state() -> _State:
    running = (
        Experiment.objects.filter(status=Experiment.Status.RUNNING)
        .prefetch_related("arms")
        .order_by("started_at", "id")
    )
    found = tuple(
        RunningExperiment(
            id=e.pk,
            name=e.name,
            hypothesis=e.hypothesis,
            kind=e.kind,
            traffic_share=e.traffic_share,
            include_kids=e.include_kids,
            started_at=e.started_at,
            arms=tuple(
                Arm(a.key, a.name, a.weight, dict(a.config or {}))
                for a in sorted(e.arms.all(), key=lambda a: a.key)
            ),
        )
        for e in running
    )
    row = ServingDefaults.objects.filter(pk=1).first()
    defaults = Defaults()
    if row is not None:
        defaults = Defaults(
            exploration=row.exploration,
            calibration=row.calibration,
            row_order=tuple(k for k in row.row_order or () if k in ROW_KINDS),
            stamp=str(row.updated_at.timestamp()) if row.updated_at else "",
        )
    return _State(tuple(e for e in found if e.arms), defaults)


def _state() -> _State:
    state = cache.get(_STATE_KEY)
    now = time.monotonic()
    if state is None:
        with _local_lock:
            held = _local.get("state")
        if held is not None and held[0] > now:
            return held[1]
        state = _read_state()
        cache.set(_STATE_KEY, state, _STATE_SECONDS)
    with _local_lock:
        _local["state"] = (now + LOCAL_SECONDS, state)
    return state


def experiments_changed() -> None:
    """Drops what is cached of the running tests and the serving defaults
    (call after any start, stop, promotion or edit): this process reads
    them again at once, every other one within :data:`LOCAL_SECONDS`."""
    cache.delete(_STATE_KEY)
    with _local_lock:
        _local.clear()


def running_experiments() -> tuple[RunningExperiment, ...]:
    """The tests running now, earliest started first (from the cache)."""
    return _state().experiments


def serving_defaults() -> Defaults:
    """What everyone gets unless a test or its own choice says otherwise."""
    return _state().defaults


def eligible(profile: Profile, settings: PrivacySettings | None = None) -> bool:
    """Whether the profile may be placed in a test at all."""
    settings = settings or settings_for(profile)
    return bool(settings.experiments and settings.personalization)


def arm_for(profile: Profile | None) -> ArmChoice | None:
    """The profile's test and arm; None when it is in none."""
    if profile is None or profile.pk is None or not eligible(profile):
        return None
    for experiment in running_experiments():
        if profile.is_kids and not experiment.include_kids:
            continue
        if experiment.interleaving and len(experiment.arms) < 2:
            continue
        index = online.assign(
            experiment.id,
            profile.pk,
            traffic_share=experiment.traffic_share,
            weights=experiment.weights,
        )
        if index is None:
            continue
        if experiment.interleaving:
            return ArmChoice(experiment, None)
        return ArmChoice(experiment, experiment.arms[index])
    return None


def assignment_record(*, profile_id: int, experiment_id: int, arm: str) -> None:
    """Keeps the profile's assignment (once: later calls change nothing)."""
    try:
        with transaction.atomic():
            ExperimentAssignment.objects.get_or_create(
                experiment_id=experiment_id,
                profile_id=profile_id,
                defaults={"arm": arm},
            )
    except IntegrityError:
        pass  # recorded by a concurrent page view, or the test is gone


def assignments_forget(*, profile_id: int) -> int:
    """Deletes the profile's assignments (it left tests); how many."""
    deleted, _ = ExperimentAssignment.objects.filter(profile_id=profile_id).delete()
    return deleted


# --- what an arm changes -----------------------------------------------------------


def _builtin(name: str):
    return PrivacySettings._meta.get_field(name).default


def tuning_under(
    settings: PrivacySettings, config: dict, defaults: Defaults | None = None
) -> tuple[int, bool]:
    """Exploration and calibration for a profile under an arm's ``config``:
    the viewer's own value where it set one (named in ``own_choices``, or
    saved different from the built-in default), else the arm's, else the
    serving defaults', else the built-in."""
    defaults = defaults if defaults is not None else serving_defaults()
    own = set(settings.own_choices or ())
    out = []
    for name in OWN_CHOICES:
        saved = getattr(settings, name)
        if name in own or saved != _builtin(name):
            out.append(saved)
        elif config.get(name) is not None:
            out.append(config[name])
        elif getattr(defaults, name) is not None:
            out.append(getattr(defaults, name))
        else:
            out.append(_builtin(name))
    return int(out[0]), bool(out[1])


def effective_tuning(
    profile: Profile, choice: ArmChoice | bool | None = True
) -> tuple[int, bool]:
    """The exploration and calibration the profile's rows use (and its
    controls show). ``choice`` is its arm when already known."""
    if choice is True:
        choice = arm_for(profile)
    config = choice.config if isinstance(choice, ArmChoice) else {}
    return tuning_under(settings_for(profile), config)


def row_order_for(choice: ArmChoice | None) -> tuple[str, ...]:
    """The kinds of rows put first: the arm's order, else the defaults'."""
    if choice is not None and choice.config.get("row_order"):
        return tuple(choice.config["row_order"])
    return serving_defaults().row_order


def arm_model_version(choice: ArmChoice | None) -> ModelVersion | None:
    """The version an arm serves candidates from (None: the serving one),
    while it is still Ready or Active."""
    if choice is None or choice.config.get("model_version") is None:
        return None
    return ModelVersion.objects.filter(
        pk=choice.config["model_version"],
        status__in=[ModelVersion.Status.READY, ModelVersion.Status.ACTIVE],
    ).first()


def arm_config_errors(config: object) -> list[str]:
    """What is wrong with an arm's configuration, in words ([] when nothing)."""
    if not isinstance(config, dict):
        return ["An arm's configuration is an object of settings."]
    errors = []
    unknown = sorted(set(config) - set(ARM_CONFIG_KEYS))
    if unknown:
        errors.append(
            f"Unknown setting{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}; "
            f"an arm may set {', '.join(ARM_CONFIG_KEYS)}."
        )
    if "exploration" in config:
        value = config["exploration"]
        if type(value) is not int or not 0 <= value <= PrivacySettings.EXPLORATION_MAX:
            errors.append("exploration is a whole number from 0 to 100.")
    if "calibration" in config and type(config["calibration"]) is not bool:
        errors.append("calibration is true or false.")
    if "model_version" in config:
        value = config["model_version"]
        usable = (
            type(value) is int
            and ModelVersion.objects.filter(
                pk=value,
                status__in=[ModelVersion.Status.READY, ModelVersion.Status.ACTIVE],
            ).exists()
        )
        if not usable:
            errors.append(
                f"model_version {value!r} is not the number of a Ready or Active "
                "model version."
            )
    if "row_order" in config:
        order = config["row_order"]
        if not isinstance(order, list) or not all(isinstance(k, str) for k in order):
            errors.append("row_order is a list of kinds of rows.")
        else:
            bad = [k for k in order if k not in ROW_KINDS]
            if bad:
                errors.append(
                    f"row_order names unknown kinds of rows: {', '.join(bad)}; "
                    f"the kinds are {', '.join(ROW_KINDS)}."
                )
            elif len(set(order)) != len(order):
                errors.append("row_order names a kind of row twice.")
    return errors


_ROW_WORDS = {
    "continue": "Continue watching",
    "top-picks": "Top picks",
    "because": "“Because you…”",
    "trending": "Trending",
    "new": "New",
    "top10": "the Top 10",
    "genre": "your genres",
    "gems": "Hidden gems",
    "outside": "Outside your usual",
    "collection": "collections",
    "my-list": "My List",
    "short": "Short on time",
}


def config_words(config: dict, *, yours_wins: bool = False) -> str:
    """What an arm changes, in words a viewer reads ("" for the control);
    ``yours_wins`` says that the viewer's own setting wins."""
    said = []
    unless = " unless you set your own" if yours_wins else ""
    if config.get("exploration") is not None:
        said.append(f"exploration {config['exploration']} of 100{unless}")
    if config.get("calibration") is not None:
        state = "on" if config["calibration"] else "off"
        said.append(f"“Keep my genre mix” {state}{unless}")
    if config.get("row_order"):
        rows = [_ROW_WORDS.get(k, k) for k in config["row_order"]]
        said.append(f"{', '.join(rows)} first")
    if config.get("model_version") is not None:
        said.append(f"picks from model #{config['model_version']}")
    return "; ".join(said)


def what_differs(choice: ArmChoice) -> str:
    """What the profile's arm changes for it, in a sentence."""
    if choice.arm is None:
        a, b = choice.experiment.arms[:2]
        return (
            "your Top picks mix the picks of two ways of ranking "
            f"({a.key}: {config_words(a.config) or 'as everyone gets'}; "
            f"{b.key}: {config_words(b.config) or 'as everyone gets'}), and your "
            "plays show which you prefer"
        )
    words = config_words(choice.arm.config, yours_wins=True)
    return words or "nothing: you get the rows everyone gets, to compare with"
