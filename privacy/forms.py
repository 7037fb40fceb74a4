"""Input of the privacy centre's controls and the ledger's filters.

Each control is its own small form, so a toggle posts one setting and a
tampered or stale post is refused with a message that says what was wrong.
"""

from django import forms

from catalog.models import Genre
from consent.context import REGION_CHOICES, WEATHER_CHOICES
from consent.models import PrivacySettings
from privacy.registry import LEDGER_KINDS
from recommendations.engine import taste

#: The on/off controls: name → (label, what "on" means). ``private_session``
#: lives in the browser's session; ``allow_training`` on the profile.
TOGGLES: dict[str, tuple[str, str]] = {
    "personalization": (
        "Personalized rows",
        "On: your rows are chosen from what you rate, watch and like. Off: you "
        "get everyone’s rows (trending, new, curated), your history is not "
        "used for them, and nothing new is learnt: no searches or clicks on "
        "rows are kept, plays only while viewing history is not paused, and "
        "your activity stays out of training.",
    ),
    "pause_viewing_history": (
        "Pause viewing history",
        "On: nothing you play is kept (no history, no Continue watching, "
        "nothing learnt). Titles still play.",
    ),
    "pause_search_history": (
        "Pause search history",
        "On: searches are not kept. Search still works.",
    ),
    "private_session": (
        "Private session in this browser",
        "On: don’t learn from this session. Nothing you play or search here "
        "is kept until you turn it off or sign out; ratings and thumbs you "
        "give still count.",
    ),
    "contextual_signals": (
        "Device and time of day",
        "On: the kind of device is kept with each play, and the device and "
        "time of day may adjust your rows. Off: neither is kept nor used.",
    ),
    "allow_training": (
        "Help improve recommendations for others",
        "On: your activity may be part of the data the shared model learns "
        "from. Off: it never enters a training run; your own rows still use "
        "your signals.",
    ),
    "calibration": (
        "Keep my genre mix",
        "On: Top picks follow the genre mix of what you like. Off: they are "
        "ranked by match alone.",
    ),
    "experiments": (
        "Take part in tests",
        "On: your rows may be one of the versions being tested (each test is "
        "named on “How recommendations work”). Off: you always get the rows "
        "everyone gets, and the record of your tests is deleted.",
    ),
}


#: The context a viewer may share (consent/context.py), shown apart: all off
#: by default.
CONTEXT_TOGGLES: dict[str, tuple[str, str]] = {
    "location": (
        "My region",
        "On: the region you choose below adds a “Popular in …” row, and you "
        "count (anonymously, with at least 19 others) towards that region’s "
        "row. Never your address or position: only the region you pick.",
    ),
    "weather": (
        "Today’s weather",
        "On: the weather you say it is today picks a mood for your rows when "
        "you choose none (rain: cosy picks). Off: weather is never used.",
    ),
    "weather_provider": (
        "Look up the weather for my region",
        "On: instead of asking you, Marquee asks a weather service about the "
        "centre of your region (nothing more precise) and keeps nothing. "
        "Needs “My region” and “Today’s weather” on.",
    ),
}
ALL_TOGGLES = {**TOGGLES, **CONTEXT_TOGGLES}


class ToggleForm(forms.Form):
    setting = forms.ChoiceField(
        choices=[(name, label) for name, (label, _) in ALL_TOGGLES.items()],
        error_messages={"invalid_choice": "There is no setting called “%(value)s”."},
    )
    value = forms.ChoiceField(
        choices=[("on", "On"), ("off", "Off")],
        error_messages={"invalid_choice": "A setting is turned “on” or “off”."},
    )

    def clean_value(self) -> bool:
        return self.cleaned_data["value"] == "on"


class RegionForm(forms.Form):
    region = forms.ChoiceField(
        choices=[("", "No region"), *REGION_CHOICES],
        required=False,
        error_messages={"invalid_choice": "There is no region “%(value)s”."},
    )


class WeatherTodayForm(forms.Form):
    weather_today = forms.ChoiceField(
        choices=[("", "Not saying"), *WEATHER_CHOICES],
        required=False,
        error_messages={"invalid_choice": "There is no weather “%(value)s”."},
    )


class RetentionForm(forms.Form):
    retention_months = forms.TypedChoiceField(
        label="Auto-delete activity older than",
        choices=PrivacySettings.Retention.choices,
        coerce=int,
        error_messages={
            "invalid_choice": "Keep activity for 3, 18 or 36 months, or until "
            "you delete it."
        },
    )


class ExplorationForm(forms.Form):
    exploration = forms.IntegerField(
        min_value=0,
        max_value=PrivacySettings.EXPLORATION_MAX,
        error_messages={
            "invalid": "Exploration is a whole number from 0 to 100.",
            "min_value": "Exploration goes from 0 to 100.",
            "max_value": "Exploration goes from 0 to 100.",
            "required": "Choose how adventurous Top picks should be (0 to 100).",
        },
    )


class HiddenGenresForm(forms.Form):
    genres = forms.ModelMultipleChoiceField(
        queryset=Genre.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "invalid_choice": "There is no genre with id %(value)s.",
            "invalid_pk_value": "“%(pk)s” is not a genre.",
        },
    )


class LedgerFilterForm(forms.Form):
    """The ledger's filters. An unknown kind is a 400; a profile that is not
    the account's is a 404, checked by the view."""

    kind = forms.ChoiceField(
        choices=[("", "Everything"), *((k, v.plural) for k, v in LEDGER_KINDS.items())],
        required=False,
        error_messages={"invalid_choice": "There is no kind of activity “%(value)s”."},
    )
    profile = forms.IntegerField(
        required=False,
        min_value=1,
        error_messages={
            "invalid": "A profile is given by its number.",
            "min_value": "A profile is given by its number.",
        },
    )


class HomeControlsForm(forms.Form):
    """The home page's exploration slider and calibration switch."""

    exploration = forms.IntegerField(
        min_value=0,
        max_value=PrivacySettings.EXPLORATION_MAX,
        label="Exploration",
        widget=forms.NumberInput(attrs={"type": "range", "step": 10}),
    )
    calibration = forms.BooleanField(
        required=False, label="Keep the genre mix of my history in Top picks"
    )


class RowsBasisForm(forms.Form):
    """The home page's non-profiling switch: what the rows are based on."""

    ACTIVITY = "activity"
    EVERYONE = "everyone"

    basis = forms.ChoiceField(
        choices=[
            (ACTIVITY, "Based on my activity"),
            (EVERYONE, "Not based on my activity"),
        ],
        error_messages={
            "required": "Choose what your rows are based on.",
            "invalid_choice": "Your rows are based on your activity or not: "
            "“%(value)s” is neither.",
        },
    )
    keep_plays = forms.BooleanField(
        required=False, label="Keep my plays so Continue watching can resume them"
    )


class TasteForm(forms.Form):
    """The taste sliders: one ``genre-<id>`` field per genre shown, each a
    level in percent (``engine.taste.LEVELS``: 0 off … 200 much more).
    ``cleaned_data["levels"]`` is genre id → level."""

    PREFIX = "genre-"
    LEVELS = tuple(taste.LEVELS)

    def clean(self):
        levels = {}
        for key in self.data:
            if not key.startswith(self.PREFIX):
                continue
            raw_id, raw = key.removeprefix(self.PREFIX), self.data.get(key, "")
            if not (raw_id.isdigit() and len(raw_id) <= 9 and raw.isdigit()):
                raise forms.ValidationError(
                    "Each genre's weight is a whole percent: "
                    + ", ".join(map(str, self.LEVELS))
                    + "."
                )
            if len(raw) > 3 or int(raw) not in self.LEVELS:
                raise forms.ValidationError(
                    f"{raw[:6]}% is not a weight: choose "
                    + ", ".join(map(str, self.LEVELS))
                    + "."
                )
            levels[int(raw_id)] = int(raw)
        if not levels:
            raise forms.ValidationError("No genre's weight was given.")
        if not Genre.objects.filter(pk__in=levels).count() == len(levels):
            raise forms.ValidationError("There is no such genre.")
        return {"levels": levels}
