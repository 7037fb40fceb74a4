"""The taste sliders of the privacy centre: the genres of what a profile likes,
each turned up, down or off by the viewer, and "Reset to what you do".

Like the centre's other controls: a small form that posts here; htmx gets the
sliders' card again (and the consent log out of band), a plain post goes back
to the centre with a message; a value that is not allowed is a 400 that says
why, and another account's profile a 404 (``views._chosen_profile``).
"""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from accounts.access import account_password_required
from accounts.models import Profile
from consent import policy
from privacy import receipts, selectors
from privacy.forms import TasteForm
from privacy.views import (
    CONSENT_LOG_IN_CENTRE,
    _back,
    _bad_request,
    _centre_url,
    _chosen_profile,
    _errors,
)
from recommendations.engine import taste


def taste_context(profile: Profile) -> dict:
    """What the sliders' card draws (``privacy/_taste_sliders.html``)."""
    return {
        "selected": profile,
        "settings": policy.settings_for(profile),
        "taste_sliders": selectors.taste_sliders(selectors.taste_of(profile)),
    }


def _done(request: HttpRequest, profile: Profile, message: str) -> HttpResponse:
    # The receipt changed the settings through its own copy of the profile.
    profile = Profile.objects.select_related("privacy").get(pk=profile.pk)
    if request.htmx:
        context = {
            **taste_context(profile),
            "taste_changed": message,
            "inventory": selectors.inventory(request.user),
            "consent_events": list(
                selectors.consent_log(request.user)[:CONSENT_LOG_IN_CENTRE]
            ),
        }
        return render(request, "privacy/_taste_sliders.html#taste-done", context)
    messages.success(request, message)
    return _back(request, _centre_url(profile, "taste-sliders"))


def _profile(request: HttpRequest) -> Profile | HttpResponse:
    try:
        return _chosen_profile(request, request.POST.get("profile"))
    except ValueError as exc:
        return _bad_request(request, [str(exc)])


@account_password_required
@require_POST
def taste_levels(request: HttpRequest) -> HttpResponse:
    """Sets the weight of each genre on the sliders (``genre-<id>`` = percent)."""
    form = TasteForm(request.POST)
    if not form.is_valid():
        return _bad_request(request, _errors(form))
    profile = _profile(request)
    if isinstance(profile, HttpResponse):
        return profile
    try:
        receipt = receipts.taste_receipt(
            profile=profile, levels=form.cleaned_data["levels"]
        )
    except ValueError as exc:
        return _bad_request(request, [str(exc)])
    changes = receipt.result
    if not changes:
        message = f"{profile.name}’s taste is unchanged."
    else:
        said = "; ".join(f"{c.genre}: {taste.LEVELS[c.new].lower()}" for c in changes)
        message = f"{profile.name}’s rows now use {said}. {receipt.text}"
    return _done(request, profile, message)


@account_password_required
@require_POST
def taste_reset(request: HttpRequest) -> HttpResponse:
    """Puts every genre back to what the profile's history says."""
    profile = _profile(request)
    if isinstance(profile, HttpResponse):
        return profile
    receipt = receipts.taste_receipt(profile=profile, levels=None)
    message = (
        f"{profile.name}’s rows follow what {profile.name} does again. {receipt.text}"
        if receipt.result
        else f"{profile.name}’s rows already follow what {profile.name} does."
    )
    return _done(request, profile, message)
