"""The privacy centre: what is held and inferred, the controls, the ledger.

- Every page is an account page (:func:`accounts.access.account_password_required`:
  on a kids profile the account password is asked for first).
- The centre is account-wide, with a section per profile: the active one
  unless ``?profile=<id>`` picks another of the account's (anyone else's is
  a 404).
- Each control is a small form that posts here. To htmx it answers with the
  controls' fragment, swapped in place, and the rest of the page that the
  change alters (inventory, consent log) out of band; without htmx it
  redirects back to the centre, with a message. A value that is not
  allowed is a 400 that says why; nothing is changed then.
- The controls that change the rows answer with an effect receipt
  (:mod:`privacy.receipts`: the rows built before and after, in words, with
  an Undo); the strong ones (hiding a genre, personalization off) can be
  previewed first (``preview=1``), with Confirm and Cancel.
- The ledger lists every rating, thumb, hidden title, pick, play and search,
  each with a delete button. It, the Ratings and History shelves (whose
  delete buttons post to :func:`erase_item`) and the erase API erase an item
  through one service, :func:`privacy.services.erase_item`: one outcome
  whichever page asks.
"""

from dataclasses import dataclass
from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.core.paginator import InvalidPage, Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import capfirst
from django.views.decorators.http import (
    require_http_methods,
    require_POST,
    require_safe,
)

from accounts.access import (
    access_profile,
    account_password_required,
    profile_deactivate,
    profile_required,
)
from accounts.models import Profile
from activity import services as activity_services
from activity.models import Feedback, SearchEvent, ViewingEvent
from catalog.models import Genre
from config.links import parse_id
from consent import policy
from consent.context import REGION_CHOICES, REGIONS, WEATHER_CHOICES
from consent.models import PrivacySettings
from privacy import receipts, selectors, services
from privacy.forms import (
    ALL_TOGGLES,
    CONTEXT_TOGGLES,
    TOGGLES,
    ExplorationForm,
    HiddenGenresForm,
    HomeControlsForm,
    LedgerFilterForm,
    RegionForm,
    RetentionForm,
    RowsBasisForm,
    ToggleForm,
    WeatherTodayForm,
)
from privacy.main_parameters import main_parameters
from recommendations.changelog import changelog as changelog_entries
from recommendations.services import experiments
from recommendations.services.training import active_version
from recommendations.services.weather import provider_configured
from recommendations.views import home_main

LEDGER_PAGE_SIZE = 50
CONSENT_LOG_PAGE_SIZE = 50
CONSENT_LOG_IN_CENTRE = 10
#: Toggles that change the rows: each answers with an effect receipt...
RECEIPT_TOGGLES = frozenset({"personalization", "pause_viewing_history", "calibration"})
#: ...and these are previewed before they are turned off (the centre's switch
#: asks for the preview; a plain post of "off" turns it off at once).
PREVIEW_TOGGLES = frozenset({"personalization"})

# --- helpers ---------------------------------------------------------------------


def _varies_with_htmx(response: HttpResponse) -> HttpResponse:
    """Page and fragment share a URL; caches must keep them apart."""
    patch_vary_headers(response, ("HX-Request",))
    return response


def _profile_id(raw: str | None) -> int | None:
    """A profile id from the query or a form: None when absent; a 400 page is
    the caller's when it is not a number (raised as ValueError)."""
    if raw in (None, ""):
        return None
    pk = parse_id(raw)
    if pk is None:
        raise ValueError("A profile is given by its number.")
    return pk


def _chosen_profile(request: HttpRequest, raw: str | None) -> Profile:
    """The profile a page or control is about: ``raw`` (an id, checked to be
    the account's: 404 otherwise), else the active profile, else the first."""
    profile_id = _profile_id(raw)
    if profile_id is not None:
        profile = access_profile(request.user, profile_id)
    elif request.profile is not None:
        return request.profile
    else:
        profile = Profile.objects.filter(user=request.user).first()
        if profile is None:
            raise Http404("This account has no profile.")
    return Profile.objects.select_related("privacy").get(pk=profile.pk)


def _bad_request(request: HttpRequest, errors: list[str]) -> HttpResponse:
    """A 400 that says what was wrong; nothing was changed."""
    template = "privacy/bad_request.html" + ("#errors" if request.htmx else "")
    return render(request, template, {"errors": errors}, status=400)


def _errors(form) -> list[str]:
    return [error for field_errors in form.errors.values() for error in field_errors]


def _centre_url(profile: Profile, anchor: str = "controls") -> str:
    return f"{reverse('privacy:centre')}?{urlencode({'profile': profile.pk})}#{anchor}"


def _back(request: HttpRequest, default: str) -> HttpResponseRedirect:
    """Back to ``next`` when it is one of ours, else to ``default``."""
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = default
    return HttpResponseRedirect(target)


#: Said under "Look up the weather" while the operator set no provider.
NO_WEATHER_SERVICE = "This site has no weather service set up, so it is never asked."


def _context_toggles(settings: PrivacySettings) -> list[dict]:
    """The switches of "Context you share", drawn like the other toggles."""
    toggles = []
    for name, (label, help_text) in CONTEXT_TOGGLES.items():
        if name == "weather_provider" and not provider_configured():
            help_text = f"{help_text} {NO_WEATHER_SERVICE}"
        toggles.append(
            {
                "name": name,
                "label": label,
                "help": help_text,
                "on": getattr(settings, name),
            }
        )
    return toggles


def _profile_context(request: HttpRequest, profile: Profile) -> dict:
    """What the controls need to draw one profile's settings."""
    settings = policy.settings_for(profile)
    hidden = policy.hidden_genre_ids(settings)
    return {
        "selected": profile,
        "settings": settings,
        "exploration": experiments.effective_tuning(profile)[0],
        "private_session": policy.private_session_on(request.session, profile),
        "toggles": _toggles(request, profile, settings),
        "context_toggles": _context_toggles(settings),
        "region_choices": REGION_CHOICES,
        "weather_choices": WEATHER_CHOICES,
        "weather_today": (
            settings.weather_today
            if settings.weather_declared_on == timezone.localdate()
            else ""
        ),
        "retention_choices": PrivacySettings.Retention.choices,
        "genres": [(genre, genre.pk in hidden) for genre in Genre.objects.all()],
        "hidden_titles": list(selectors.hidden_titles(profile)),
        "fewer_titles": list(selectors.show_fewer_titles(profile)),
    }


def _toggles(request: HttpRequest, profile: Profile, settings) -> list[dict]:
    values = {
        "private_session": policy.private_session_on(request.session, profile),
        "allow_training": profile.allow_training,
        # What the rows use: the viewer's own, else its test's or the site's.
        "calibration": experiments.effective_tuning(profile)[1],
    }
    return [
        {
            "name": name,
            "label": label,
            "help": help_text,
            "on": values[name] if name in values else getattr(settings, name),
        }
        for name, (label, help_text) in TOGGLES.items()
    ]


def _summary_context(request: HttpRequest, profile: Profile) -> dict:
    """What the centre says beside the controls: the profile's taste, model
    and inventory, and the account's holdings and consent log."""
    inventory = selectors.inventory(request.user)
    selected = inventory.for_profile(profile.pk)
    mix = selectors.taste_of(profile)
    return {
        "inventory": inventory,
        "selected_inventory": selected,
        "taste": selectors.taste_profile(profile, mix),
        "taste_sliders": selectors.taste_sliders(mix),
        "model": selectors.model_in_use(
            selected.settings, selected.candidates, active_version()
        ),
        "consent_events": list(
            selectors.consent_log(request.user)[:CONSENT_LOG_IN_CENTRE]
        ),
    }


@dataclass(frozen=True)
class Resubmit:
    """A form that posts a control again: a receipt's "Undo" (the values
    before the change) or a preview's "Confirm" (the values previewed)."""

    url: str
    fields: list[tuple[str, object]]
    label: str


def _control_done(
    request: HttpRequest,
    profile: Profile,
    message: str,
    receipt: receipts.Receipt | None = None,
    undo: Resubmit | None = None,
) -> HttpResponse:
    """htmx gets the controls again, and out of band what a change alters
    elsewhere on the page (the private-session banner, the profile's summary
    and inventory, the account's consent log); a plain form post goes back to
    the centre, with a message (and the receipt: what the rows did)."""
    if receipt is not None:  # changed on a copy of its own: read it again
        profile = Profile.objects.select_related("privacy").get(pk=profile.pk)
    if request.htmx:
        context = {
            **_profile_context(request, profile),
            **_summary_context(request, profile),
            "changed": message,
            "receipt": receipt,
            "undo": undo,
        }
        return render(request, "privacy/centre.html#control-done", context)
    messages.success(request, message)
    if receipt is not None:
        messages.info(request, receipt.text)
    return _back(request, _centre_url(profile))


def _control_preview(
    request: HttpRequest, profile: Profile, receipt: receipts.Receipt, confirm: Resubmit
) -> HttpResponse:
    """What a strong control would do, with Confirm (``confirm``) and Cancel;
    nothing was changed."""
    context = {
        **_profile_context(request, profile),
        "preview": receipt,
        "confirm": confirm,
        "cancel_url": _centre_url(profile),
    }
    if request.htmx:
        return render(request, "privacy/centre.html#controls", context)
    return render(
        request,
        "privacy/centre.html",
        {**context, **_summary_context(request, profile)},
    )


def _wants_preview(request: HttpRequest) -> bool:
    return request.POST.get("preview") == "1"


# --- the centre --------------------------------------------------------------------


@account_password_required
@require_safe
def centre(request: HttpRequest) -> HttpResponse:
    """Everything about the account, a section per profile (``?profile=``)."""
    try:
        profile = _chosen_profile(request, request.GET.get("profile"))
    except ValueError as exc:
        return _bad_request(request, [str(exc)])
    context = {
        **_profile_context(request, profile),
        **_summary_context(request, profile),
    }
    template = "privacy/centre.html"
    if request.htmx and request.htmx.target == "profile-section":
        template += "#profile-section"
    return _varies_with_htmx(render(request, template, context))


@require_safe
def how_it_works(request: HttpRequest) -> HttpResponse:
    """How recommendations are made, in plain words (open to everyone): the
    main parameters as they are now (``privacy.main_parameters``)."""
    context = {
        "params": main_parameters(),
        "completed_at": ViewingEvent.COMPLETED_AT,
        "your_test": _your_test(request.profile),
    }
    return render(request, "privacy/how_it_works.html", context)


def _your_test(profile: Profile | None) -> dict | None:
    """The signed-in profile's test and arm, and what it changes for it."""
    choice = experiments.arm_for(profile) if profile is not None else None
    if choice is None:
        return None
    return {
        "profile": profile,
        "name": choice.experiment.name,
        "arm": choice.page_arm,
        "differs": experiments.what_differs(choice),
    }


@account_password_required
@require_POST
def experiments_leave(request: HttpRequest) -> HttpResponse:
    """Leaves tests for good: "Take part in tests" off (logged), and the
    record of the profile's tests deleted."""
    try:
        profile = _chosen_profile(request, request.POST.get("profile"))
    except ValueError as exc:
        return _bad_request(request, [str(exc)])
    services.privacy_settings_update(profile=profile, experiments=False)
    messages.success(
        request,
        f"{profile.name} left the tests: its rows are the ones everyone gets, and "
        "it won’t be put in a test again unless you turn “Take part in tests” on.",
    )
    return redirect("privacy:how_it_works")


@require_safe
def changelog(request: HttpRequest) -> HttpResponse:
    """Every change to the recommendations, newest first (open to everyone)."""
    return render(request, "privacy/changelog.html", {"changes": changelog_entries()})


@account_password_required
@require_safe
def consent_log(request: HttpRequest) -> HttpResponse:
    """The account's whole consent log, newest first."""
    paginator = Paginator(selectors.consent_log(request.user), CONSENT_LOG_PAGE_SIZE)
    try:
        page = paginator.page(request.GET.get("page") or 1)
    except InvalidPage:
        raise Http404("No such page.") from None
    return render(request, "privacy/consent_log.html", {"page": page})


# --- the controls ------------------------------------------------------------------


def _control_input(
    request: HttpRequest, form_class
) -> tuple[dict, Profile, None] | tuple[None, None, HttpResponse]:
    """A control's valid input and the profile it is for, or the 400 to answer."""
    form = form_class(request.POST)
    if not form.is_valid():
        return None, None, _bad_request(request, _errors(form))
    try:
        profile = _chosen_profile(request, request.POST.get("profile"))
    except ValueError as exc:
        return None, None, _bad_request(request, [str(exc)])
    return form.cleaned_data, profile, None


@account_password_required
@require_POST
def toggle(request: HttpRequest) -> HttpResponse:
    """Turns one setting on or off for a profile of the account."""
    data, profile, refused = _control_input(request, ToggleForm)
    if refused is not None:
        return refused
    name, on = data["setting"], data["value"]
    receipt = undo = None
    if name in RECEIPT_TOGGLES:
        if _wants_preview(request) and name in PREVIEW_TOGGLES and not on:
            receipt = receipts.setting_receipt(
                profile=profile, name=name, value=on, preview=True
            )
            confirm = Resubmit(
                url=reverse("privacy:toggle"),
                fields=[("profile", profile.pk), ("setting", name), ("value", "off")],
                label="Turn it off",
            )
            return _control_preview(request, profile, receipt, confirm)
        receipt = receipts.setting_receipt(profile=profile, name=name, value=on)
        undo = Resubmit(
            url=reverse("privacy:toggle"),
            fields=[
                ("profile", profile.pk),
                ("setting", name),
                ("value", "off" if on else "on"),
            ],
            label="Undo",
        )
    elif name == "private_session":
        services.private_session_set(session=request.session, profile=profile, on=on)
    else:
        services.privacy_settings_update(profile=profile, **{name: on})
    label = ALL_TOGGLES[name][0]
    return _control_done(
        request,
        profile,
        f"{profile.name}: {label} is {'on' if on else 'off'}.",
        receipt,
        undo,
    )


@account_password_required
@require_POST
def region(request: HttpRequest) -> HttpResponse:
    """The region a profile declares (used only while "My region" is on)."""
    data, profile, refused = _control_input(request, RegionForm)
    if refused is not None:
        return refused
    code = data["region"]
    services.privacy_settings_update(profile=profile, region=code)
    name = REGIONS[code].name if code else "no region"
    return _control_done(request, profile, f"{profile.name}’s region: {name}.")


@account_password_required
@require_POST
def weather_today(request: HttpRequest) -> HttpResponse:
    """Today's weather as the viewer declares it (a chip; for today only)."""
    data, profile, refused = _control_input(request, WeatherTodayForm)
    if refused is not None:
        return refused
    kind = data["weather_today"]
    services.privacy_settings_update(profile=profile, weather_today=kind)
    said = dict(WEATHER_CHOICES).get(kind, "not saying").lower()
    return _control_done(
        request, profile, f"{profile.name}: today’s weather is {said}."
    )


@account_password_required
@require_POST
def retention(request: HttpRequest) -> HttpResponse:
    """How long activity is kept; a shorter window deletes the older activity now."""
    data, profile, refused = _control_input(request, RetentionForm)
    if refused is not None:
        return refused
    months = data["retention_months"]
    services.privacy_settings_update(profile=profile, retention_months=months)
    message = (
        f"{profile.name}’s activity is kept until you delete it."
        if months == PrivacySettings.Retention.KEEP
        else f"{profile.name}’s activity older than {months} months is deleted."
    )
    return _control_done(request, profile, message)


@account_password_required
@require_POST
def exploration(request: HttpRequest) -> HttpResponse:
    """How far Top picks trade match for variety (0 to 100)."""
    data, profile, refused = _control_input(request, ExplorationForm)
    if refused is not None:
        return refused
    value, before = data["exploration"], experiments.effective_tuning(profile)[0]
    receipt = receipts.setting_receipt(profile=profile, name="exploration", value=value)
    undo = Resubmit(
        url=reverse("privacy:exploration"),
        fields=[("profile", profile.pk), ("exploration", before)],
        label="Undo",
    )
    return _control_done(
        request, profile, f"{profile.name}: exploration is {value}.", receipt, undo
    )


@account_password_required
@require_POST
def hidden_genres(request: HttpRequest) -> HttpResponse:
    """The genres never recommended to a profile (the boxes ticked)."""
    data, profile, refused = _control_input(request, HiddenGenresForm)
    if refused is not None:
        return refused
    genres = list(data["genres"])
    url = reverse("privacy:hidden_genres")
    if _wants_preview(request):
        receipt = receipts.hidden_genres_receipt(
            profile=profile, genres=genres, preview=True
        )
        confirm = Resubmit(
            url=url,
            fields=[("profile", profile.pk), *(("genres", g.pk) for g in genres)],
            label="Confirm",
        )
        return _control_preview(request, profile, receipt, confirm)
    before = sorted(policy.hidden_genre_ids(policy.settings_for(profile)))
    receipt = receipts.hidden_genres_receipt(profile=profile, genres=genres)
    undo = Resubmit(
        url=url,
        fields=[("profile", profile.pk), *(("genres", pk) for pk in before)],
        label="Undo",
    )
    names = ", ".join(g.name for g in genres)
    message = (
        f"Hidden from {profile.name}’s recommendations: {names}."
        if genres
        else f"No genre is hidden from {profile.name}’s recommendations."
    )
    return _control_done(request, profile, message, receipt, undo)


@account_password_required
@require_POST
def hidden_title_show(request: HttpRequest, pk: int) -> HttpResponse:
    """Undoes "Not interested" from the controls: the title shows in the rows again."""
    feedback = get_object_or_404(
        Feedback.objects.select_related("title", "profile"),
        pk=pk,
        kind=Feedback.Kind.NOT_INTERESTED,
        profile__user=request.user,
    )
    receipt = receipts.not_interested_receipt(
        profile=feedback.profile, title=feedback.title, add=False
    )
    return _control_done(
        request,
        feedback.profile,
        f"{feedback.profile.name}: “{feedback.title.title}” shows in the rows again.",
        receipt,
    )


@account_password_required
@require_POST
def show_fewer_undo(request: HttpRequest, pk: int) -> HttpResponse:
    """Undoes "Show fewer like this" from the controls: titles like it are
    ranked as before."""
    feedback = get_object_or_404(
        Feedback.objects.select_related("title", "profile"),
        pk=pk,
        kind=Feedback.Kind.SHOW_FEWER,
        profile__user=request.user,
    )
    activity_services.feedback_remove(
        profile=feedback.profile, title=feedback.title, kind=feedback.kind
    )
    return _control_done(
        request,
        feedback.profile,
        f"{feedback.profile.name}: titles like “{feedback.title.title}” are "
        "ranked as before.",
    )


# --- the ledger ----------------------------------------------------------------------


@account_password_required
@require_safe
def ledger(request: HttpRequest) -> HttpResponse:
    """Every rating, thumb, hidden title, pick, play and search, newest first."""
    form = LedgerFilterForm(request.GET)
    if not form.is_valid():
        return _bad_request(request, _errors(form))
    profiles = {p.pk: p for p in Profile.objects.filter(user=request.user)}
    chosen = form.cleaned_data["profile"]
    if chosen is not None:
        access_profile(request.user, chosen)
    kind = form.cleaned_data["kind"]
    rows = selectors.ledger(
        [chosen] if chosen is not None else list(profiles), [kind] if kind else None
    )
    try:
        page = Paginator(rows, LEDGER_PAGE_SIZE).page(request.GET.get("page") or 1)
    except InvalidPage:
        raise Http404("No such page.") from None
    filters = {
        key: value
        for key, value in (("kind", kind), ("profile", chosen or ""))
        if value
    }

    def page_url(number: int) -> str:
        return "?" + urlencode({**filters, "page": number})

    context = {
        "form": form,
        "page": page,
        "entries": selectors.ledger_entries(page.object_list, profiles),
        "profiles": list(profiles.values()),
        "chosen_profile": chosen,
        "chosen_kind": kind,
        "kinds": selectors.LEDGER_KINDS,
        "several_profiles": len(profiles) > 1 and chosen is None,
        "next_url": page_url(page.next_page_number()) if page.has_next() else "",
        "previous_url": (
            page_url(page.previous_page_number()) if page.has_previous() else ""
        ),
    }
    template = "privacy/ledger.html"
    if request.htmx and request.htmx.target == "ledger-results":
        template += "#results"
    return _varies_with_htmx(render(request, template, context))


# --- erasing one item ------------------------------------------------------------------


def _own_item_or_account_password(view):
    """The active profile erasing an item of its own needs only itself (as on
    its shelves, kids profiles too); any other profile's item is an account
    matter: on a kids profile the account password first."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        active = getattr(request, "profile", None)
        own = active is not None and request.POST.get("profile", "") in (
            "",
            str(active.pk),
        )
        gate = profile_required if own else account_password_required
        return gate(view)(request, *args, **kwargs)

    return wrapper


def _erased_message(erased: services.ErasedItem) -> str:
    """What was erased and what that changes, in the ledger's words."""
    row = erased.row
    what = f"“{row.query}”" if isinstance(row, SearchEvent) else row.title.title
    kind = erased.kind
    return f"{kind.label} deleted: {what}. {capfirst(kind.consequence)}"


@account_password_required
@require_POST
def ledger_delete(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """Erases one entry of the ledger (:func:`privacy.services.erase_item`, as
    every page and the API do), and says what that changes."""
    if kind not in selectors.LEDGER_KINDS:
        raise Http404("No such kind of activity.")
    profile = selectors.item_owner(request.user, kind=kind, item_id=pk)
    if profile is None:
        raise Http404("No such item.")
    erased = services.erase_item(profile=profile, kind=kind, item_id=pk)
    message = _erased_message(erased)
    if request.htmx:
        return render(request, "privacy/ledger.html#removed", {"message": message})
    messages.success(request, message)
    return _back(request, reverse("privacy:ledger"))


@_own_item_or_account_password
@require_POST
def erase_item(request: HttpRequest) -> HttpResponse:
    """Erases one item (``kind`` and ``item``) of a profile (``profile``, else
    the active one): the form of the Ratings and History shelves' delete
    buttons. To htmx it answers the shelf's note in place of the item."""
    raw_profile, item_id = request.POST.get("profile", ""), request.POST.get("item")
    if not (raw_profile or request.profile) or parse_id(item_id) is None:
        return _bad_request(request, ["Say which profile's item to erase."])
    try:
        profile = _chosen_profile(request, raw_profile)
        erased = services.erase_item(
            profile=profile,
            kind=request.POST.get("kind", ""),
            item_id=parse_id(item_id),
        )
    except ValueError as bad:
        return _bad_request(request, [str(bad)])
    except ObjectDoesNotExist:
        raise Http404("No such item.") from None
    message = _erased_message(erased)
    if request.htmx:
        return render(request, "privacy/erase.html#item_erased", {"message": message})
    messages.success(request, message)
    return _back(request, reverse("privacy:erase"))


# --- deleting a profile from the profile pages ---------------------------------------

#: The profile pages' wording for the erasure's refusal to delete the last profile.
LAST_PROFILE = (
    "An account needs at least one profile, so the last one cannot be deleted."
)


@require_http_methods(["GET", "POST"])
@account_password_required
def profile_delete(request: HttpRequest, profile_id: int) -> HttpResponse:
    """ "Delete profile" on the profile pages: the privacy centre's profile
    erasure (the profile's vector leaves the model files, the account's exports
    go and the consent log says so), confirmed on a page of the accounts app."""
    profile = access_profile(request.user, profile_id)
    error = None
    if request.method == "POST":
        was_active = request.profile is not None and request.profile.pk == profile.pk
        name = profile.name
        try:
            services.erase_profile(profile=profile)
        except services.ErasureRefused:
            error = LAST_PROFILE
        else:
            if was_active:
                profile_deactivate(request)
            messages.success(request, f"Profile “{name}” deleted.")
            return redirect("accounts:profile_manage")
    return render(
        request,
        "accounts/profile_confirm_delete.html",
        {"profile": profile, "error": error},
        status=409 if error else 200,
    )


# --- the home page's exploration and calibration controls ---------------------------


@require_POST
@account_password_required
@profile_required
def home_controls(request: HttpRequest) -> HttpResponse:
    """Exploration and calibration from the home page: the same settings as
    the centre's, saved by the same service (each change in the consent log)."""
    form = HomeControlsForm(request.POST)
    if not form.is_valid():
        errors = [e for field_errors in form.errors.values() for e in field_errors]
        template = "recommendations/bad_request.html" + (
            "#errors" if request.htmx else ""
        )
        return render(request, template, {"errors": errors}, status=400)
    profile = request.profile
    # Only what the viewer moved becomes its own: the form sends both, as
    # shown (a test's or the site's value where the viewer set none).
    shown = dict(
        zip(experiments.OWN_CHOICES, experiments.effective_tuning(profile), strict=True)
    )
    changes = {k: v for k, v in form.cleaned_data.items() if shown.get(k) != v}
    if changes:
        services.privacy_settings_update(profile=profile, **changes)
    if not request.htmx:
        messages.success(request, "Your rows follow the new settings.")
        return redirect(reverse("recommendations:home") + "#home-controls")
    request.profile = Profile.objects.select_related("privacy").get(pk=profile.pk)
    return home_main(request, request.POST.get("mood", ""))


@require_POST
@account_password_required
@profile_required
def home_rows_basis(request: HttpRequest) -> HttpResponse:
    """The home page's non-profiling switch: rows based on the profile's
    activity or not, saved by one service (each change in the consent log)."""
    form = RowsBasisForm(request.POST)
    if not form.is_valid():
        errors = [e for field_errors in form.errors.values() for e in field_errors]
        template = "recommendations/bad_request.html" + (
            "#errors" if request.htmx else ""
        )
        return render(request, template, {"errors": errors}, status=400)
    profile = request.profile
    receipt = receipts.non_profiling_receipt(
        profile=profile,
        on=form.cleaned_data["basis"] == RowsBasisForm.EVERYONE,
        keep_plays=form.cleaned_data["keep_plays"],
    )
    if not request.htmx:
        messages.success(request, f"Your rows follow your choice. {receipt.text}")
        return redirect(reverse("recommendations:home") + "#rows-basis")
    request.profile = Profile.objects.select_related("privacy").get(pk=profile.pk)
    request.basis_receipt = receipt.text  # said under the switch
    return home_main(request, request.POST.get("mood", ""))
