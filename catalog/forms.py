"""Query-string forms of the catalog pages (GET only, never a write)."""

from django import forms

from catalog.selectors import Runtime, Sort


class BrowseForm(forms.Form):
    """A genre page's sort and filters; all optional, bad values are errors."""

    sort = forms.ChoiceField(choices=Sort.choices, required=False)
    decade = forms.IntegerField(required=False, min_value=1870, max_value=2100)
    runtime = forms.ChoiceField(choices=Runtime.choices, required=False)

    def clean_sort(self) -> str:
        return self.cleaned_data["sort"] or Sort.POPULAR

    def clean_decade(self) -> int | None:
        decade = self.cleaned_data["decade"]
        if decade is not None and decade % 10:
            raise forms.ValidationError("A decade is a year ending in 0, like 1990.")
        return decade


class OnboardingPickForm(forms.Form):
    """One toggle of the onboarding grid: pick a title, or take the pick back.

    ``page`` is the grid's set, to return to without JavaScript.
    """

    title = forms.IntegerField(min_value=1, max_value=2**63 - 1)
    picked = forms.TypedChoiceField(
        choices=[("1", "Pick"), ("0", "Un-pick")], coerce=lambda v: v == "1"
    )
    page = forms.IntegerField(required=False, min_value=1, max_value=1000)
