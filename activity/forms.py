"""Input of the viewer's actions; the writes are in :mod:`activity.services`."""

from django import forms

from activity.models import RATING_VALUES, Feedback

#: Longest a single play may last (a heartbeat claiming more is refused).
MAX_SECONDS_WATCHED = 24 * 60 * 60


class RatingForm(forms.Form):
    """A half-star rating from 0.5 to 5.0, or ``clear`` to remove the rating."""

    value = forms.FloatField(required=False)
    clear = forms.BooleanField(required=False)

    def clean_value(self) -> float | None:
        value = self.cleaned_data["value"]
        if value is not None and value not in RATING_VALUES:
            raise forms.ValidationError(
                "Choose from half a star to five stars, in half stars.",
                code="not_half_stars",
            )
        return value

    def clean(self) -> dict:
        cleaned = super().clean()
        if not self.errors and not cleaned.get("clear") and cleaned["value"] is None:
            self.add_error("value", "Choose how many stars to give.")
        return cleaned


class ThumbsForm(forms.Form):
    """Thumbs up, thumbs down, or neither ("none")."""

    thumb = forms.ChoiceField(
        choices=[
            (Feedback.Kind.THUMBS_UP, "Thumbs up"),
            (Feedback.Kind.THUMBS_DOWN, "Thumbs down"),
            ("none", "Neither"),
        ]
    )

    def clean_thumb(self) -> str | None:
        thumb = self.cleaned_data["thumb"]
        return None if thumb == "none" else thumb


class ToggleForm(forms.Form):
    """Add to or remove from a set (My List, "not interested")."""

    action = forms.ChoiceField(choices=[("add", "Add"), ("remove", "Remove")])


class PlayForm(forms.Form):
    """Start a play: resume or from the beginning; of a series, which episode
    (without one, the episode that comes next for the profile)."""

    start = forms.ChoiceField(
        choices=[("resume", "Resume"), ("beginning", "From the beginning")],
        required=False,
    )
    episode = forms.IntegerField(min_value=1, required=False)


class HeartbeatForm(forms.Form):
    """How far a play got: ``progress`` from 0 to 1, ``seconds`` watched so far."""

    progress = forms.FloatField(min_value=0.0, max_value=1.0)
    seconds = forms.IntegerField(
        min_value=0, max_value=MAX_SECONDS_WATCHED, required=False
    )
