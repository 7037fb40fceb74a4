"""The main parameters of the recommendations (DSA Art. 27), read from what runs.

Nothing here is a copy (each value is read from its module when the page
is asked for): the signals and their weights are the engine's
implicit-feedback table (``engine.dataset.IMPLICIT_VALUES``,
``NEGATIVE_SIGNALS``) and the ranking's weight of a clear "no"
(``engine.ranking.NEGATIVE_WEIGHT``); the ranking's settings are the active
model version's ``parameters`` (chosen on validation at its training), or,
before any model, the site's configuration; the re-rankers' defaults are
``engine.rerank``'s constants and the privacy settings' field defaults; what
is never used is every kind of personal data the registry says the
recommendations do not learn from. Change any of them and the page
``/privacy/how-recommendations-work/`` says so on its next request.

Only the words are written here, and each is looked up by key: a signal the
table gains shows up under its own name until it is given better words.
"""

from dataclasses import dataclass
from datetime import datetime

from consent.models import PrivacySettings
from privacy import registry
from recommendations.engine import dataset, ranking, rerank
from recommendations.models import ModelComparison
from recommendations.services import experiments, training

#: The signals in the order the rule applies them (a rating always wins).
_SIGNAL_WORDS = {
    "not_interested": ("“Not interested”", "Also hides the title from your rows."),
    "thumbs_down": ("Thumbs down", ""),
    "thumbs_up": ("Thumbs up", ""),
    "pick": ("A title picked when the profile was new", ""),
    "completed": ("A play you finished, not rated", ""),
    "watched_half": ("A play stopped past half way, not rated", ""),
    "abandoned": ("A play stopped before half way, not rated", ""),
}

#: How the summary names a signal that pushes titles down.
_SAYING = {"not_interested": "saying “not interested”", "thumbs_down": "a thumbs down"}

#: The words for each setting of the ranking (``TrainingConfig`` fields).
_SETTING_WORDS = {
    "ease_lambda": (
        "Smoothing (EASE λ)",
        "Higher leans on titles many people watch together; lower trusts rarer "
        "pairs more.",
    ),
    "recency_half_life": (
        "Recency half-life",
        "Your newest title counts fully; one this many titles older counts half.",
    ),
    "sequence_weight": (
        "Next-title weight",
        "How much “what people watch next” (series, sequels) counts beside "
        "“what people watch together”.",
    ),
    "popularity_beta": (
        "Popularity correction",
        "Each title's score is divided by its popularity to this power: 0 leaves "
        "popular titles as they are, more gives lesser-known titles room.",
    ),
    "blend": (
        "Predicted stars in the order",
        "0: the order comes from what you engage with; the stars we predict are "
        "the match on each card.",
    ),
}


@dataclass(frozen=True)
class SignalWeight:
    key: str
    label: str
    #: What it counts as for the match score, on the 0.5–5 star scale (None:
    #: a rating, which counts as its own stars).
    stars: float | None
    #: Its weight in the order of the rows: 1, or the weight of a clear "no".
    ranking_weight: float
    pushes_down: bool
    note: str = ""


@dataclass(frozen=True)
class Setting:
    key: str
    label: str
    value: str
    meaning: str


@dataclass(frozen=True)
class Reranker:
    label: str
    default: str
    meaning: str


@dataclass(frozen=True)
class ModelInUse:
    number: int
    activated_at: datetime | None
    signals: int | None  # rows it was trained on
    profiles: int | None
    algorithm: str
    chosen_on_validation: bool

    @property
    def trained_on(self) -> str:
        """ "101,230 signals from 610 profiles" ("" when not recorded)."""
        if self.signals is None:
            return ""
        said = f"{self.signals:,} signals"
        if self.profiles is not None:
            said += f" from {self.profiles:,} profiles"
        return said


@dataclass(frozen=True)
class LiveExperiment:
    """A test running now, as viewers are told of it."""

    name: str
    hypothesis: str
    #: Percent of the profiles that take part in tests.
    share: int
    interleaving: bool


@dataclass(frozen=True)
class MainParameters:
    summary: str
    signals: tuple[SignalWeight, ...]
    half_life: float | None
    model: ModelInUse | None  # None: no model trained yet
    settings: tuple[Setting, ...]
    rerankers: tuple[Reranker, ...]
    live_experiments: tuple[LiveExperiment, ...]
    comparisons_running: int
    never_used: tuple[str, ...]


def _number(value: float) -> str:
    return f"{value:g}"


def _stars(value: float) -> str:
    return f"{value:g} star" if value == 1 else f"{value:g} stars"


def signal_weights() -> tuple[SignalWeight, ...]:
    """A rating, then every implicit signal of the engine's table, in the
    order the rule applies them."""
    values = dataset.IMPLICIT_VALUES
    ordered = [*_SIGNAL_WORDS, *(k for k in values if k not in _SIGNAL_WORDS)]
    out = [
        SignalWeight(
            "rating",
            "Your rating",
            None,
            1.0,
            False,
            "Always wins over anything else you did with the same title.",
        )
    ]
    for key in ordered:
        if key not in values:
            continue
        label, note = _SIGNAL_WORDS.get(key, (key.replace("_", " ").capitalize(), ""))
        negative = key in dataset.NEGATIVE_SIGNALS
        out.append(
            SignalWeight(
                key,
                label,
                values[key],
                ranking.NEGATIVE_WEIGHT if negative else 1.0,
                negative,
                note,
            )
        )
    return tuple(out)


def _configuration() -> tuple[ModelInUse | None, dict]:
    """The active version and the settings it was trained with; before any
    model, None and the site's configuration."""
    version = training.active_version()
    if version is not None and version.parameters.get("algorithm"):
        counts = version.data_counts or {}
        return (
            ModelInUse(
                number=version.pk,
                activated_at=version.activated_at,
                signals=counts.get("rows"),
                profiles=counts.get("profiles"),
                algorithm=version.algorithm,
                chosen_on_validation=bool(version.parameters.get("validate")),
            ),
            version.parameters,
        )
    return None, training.training_config().as_dict()


def _settings(parameters: dict) -> tuple[Setting, ...]:
    out = []
    for key, (label, meaning) in _SETTING_WORDS.items():
        if key not in parameters:
            continue
        value = parameters[key]
        if key == "recency_half_life":
            shown = f"{value:g} titles" if value else "off (all count the same)"
        else:
            shown = _number(float(value or 0))
        out.append(Setting(key, label, shown, meaning))
    return tuple(out)


def _default(field: str):
    return PrivacySettings._meta.get_field(field).default


def rerankers() -> tuple[Reranker, ...]:
    """What the home page does to the ranked list, with today's defaults (a
    promoted test's, where one set them: ``ServingDefaults``)."""
    served = experiments.serving_defaults()
    exploration = (
        _default("exploration") if served.exploration is None else served.exploration
    )
    calibration = (
        _default("calibration") if served.calibration is None else served.calibration
    )
    on = "on" if calibration else "off"
    context = "on" if _default("contextual_signals") else "off"
    moods = ", ".join(m.label for m in rerank.MOODS.values())
    return (
        Reranker(
            "Exploration",
            f"{exploration} of {PrivacySettings.EXPLORATION_MAX} "
            f"(relevance weight {rerank.exploration_lambda(exploration):.2f})",
            "Top picks trade the closest match for variety in genres. You set it "
            "in Privacy.",
        ),
        Reranker(
            "Keep my genre mix",
            f"{on} (weight {rerank.CALIBRATION_LAMBDA:g})",
            "Top picks follow the genre mix of what you liked.",
        ),
        Reranker(
            "Show fewer like this",
            f"×(1 − {rerank.SHOW_FEWER_WEIGHT:g} × genre likeness)",
            "Titles like the ones you asked to see fewer of move down; none is hidden.",
        ),
        Reranker(
            "Moods",
            "none picked",
            f"When you pick a mood ({moods}), titles of its genres move up (at "
            f"most ×{rerank.MOOD_GENRE_CAP:g}) and those it avoids move down "
            f"(×{rerank.MOOD_AVOID_FACTOR:g}).",
        ),
        Reranker(
            "Device and time of day",
            context,
            f"When on, late at night ({rerank.LATE_FROM_HOUR}:00 to "
            f"{rerank.LATE_UNTIL_HOUR}:00) or on a phone, titles of "
            f"{rerank.SHORT_RUNTIME} minutes or less count ×{rerank.SHORT_FACTOR:g} "
            f"and those over {rerank.LONG_RUNTIME} minutes ×{rerank.LONG_FACTOR:g}.",
        ),
        Reranker(
            "Editors' boosts",
            "×1 (no change)",
            f"Editors may move a title by ×{rerank.BOOST_MIN:g} to "
            f"×{rerank.BOOST_MAX:g}; the same for everyone.",
        ),
    )


def live_experiments() -> tuple[LiveExperiment, ...]:
    """The tests running now (``recommendations.services.experiments``)."""
    return tuple(
        LiveExperiment(
            name=e.name,
            hypothesis=e.hypothesis,
            share=max(1, round(e.traffic_share * 100)),
            interleaving=e.interleaving,
        )
        for e in experiments.running_experiments()
    )


def never_used() -> tuple[str, ...]:
    """The kinds of a profile's own data never used to choose titles, as the
    personal-data registry marks them."""
    return tuple(entry.label for entry in registry.ENTRIES if entry.never_recommends)


def _summary(signals: tuple[SignalWeight, ...], half_life, unused) -> str:
    """The page's opening, in short sentences and short words (checked at or
    below an 8th-grade reading level)."""
    by_key = {s.key: s for s in signals}
    said = [
        "We pick titles for you from what you do on Marquee.",
        "Your own stars count the most.",
    ]
    if "completed" in by_key:
        said.append(
            f"A film you watch to the end counts as "
            f"{_stars(by_key['completed'].stars)}."
        )
    if "abandoned" in by_key:
        said.append(
            f"One you stop early counts as {_stars(by_key['abandoned'].stars)}."
        )
    down = [_SAYING.get(s.key, s.label.lower()) for s in signals if s.pushes_down]
    if down:
        said.append(f"{_joined(down).capitalize()} moves titles like it down.")
    if half_life:
        said.append(
            f"What you did last counts the most: a title {_number(half_life)} "
            "titles back counts half as much."
        )
    else:
        said.append("Old and new things you did count the same.")
    if unused:
        said.append(f"We never use your {_joined(unused)} to pick titles.")
    said.append("We do not know your age or where you live.")
    return " ".join(said)


def _joined(words) -> str:
    words = list(words)
    if len(words) < 2:
        return "".join(words)
    return ", ".join(words[:-1]) + " or " + words[-1]


def main_parameters() -> MainParameters:
    """Everything the page says, read now."""
    signals = signal_weights()
    model, parameters = _configuration()
    half_life = parameters.get("recency_half_life") or None
    unused = never_used()
    return MainParameters(
        summary=_summary(signals, half_life, unused),
        signals=signals,
        half_life=half_life,
        model=model,
        settings=_settings(parameters),
        rerankers=rerankers(),
        live_experiments=live_experiments(),
        comparisons_running=ModelComparison.objects.filter(
            status__in=[ModelComparison.Status.QUEUED, ModelComparison.Status.RUNNING]
        ).count(),
        never_used=unused,
    )
