"""What a viewer does to titles, and the pages that list it.

- The title page's actions (play, rate, thumbs, not interested, My List) and
  its "More like this" row are fragments that the title page loads with htmx;
  opened without htmx the same URLs are plain pages, so everything also works
  without JavaScript.
- Each action is a form that posts here: to htmx it answers with its own
  fragment, swapped in place; without htmx it redirects back, with a message.
- The player records a viewing through heartbeats (player.js, or plain
  buttons without JavaScript).
- My List, Continue Watching, Ratings and History list the active profile's
  rows, 50 to a page, each with a remove button.

Everything is the active profile's (``request.profile``): another profile's
viewing, rating or list item is a 404, and so are titles that are withdrawn
or, on a kids profile, not suitable for children.
"""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import InvalidPage, Page, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import (
    require_http_methods,
    require_POST,
    require_safe,
)
from django_htmx.http import HttpResponseClientRedirect

from accounts.access import profile_required
from accounts.throttle import PROFILE_WRITES, by_profile, throttle
from activity import selectors, services
from activity.devices import device_class_from_user_agent
from activity.forms import (
    HeartbeatForm,
    PlayForm,
    RatingForm,
    ThumbsForm,
    ToggleForm,
)
from activity.models import RATING_VALUES, Impression, ListItem, ViewingEvent
from catalog.models import Episode, Title
from config.links import parse_id
from consent.policy import may_store_viewing, private_session_on
from privacy.receipts import not_interested_receipt, show_fewer_receipt
from recommendations.services.engagement import row_engagement_note

SHELF_PAGE_SIZE = 50
ACTIONS_TEMPLATE = "activity/title_actions.html"


@dataclass(frozen=True)
class Star:
    """One radio of the rating's star group."""

    value: float
    label: str  # "3.5 stars"
    slug: str  # "3-5", for element ids
    side: str  # "left" or "right" half of a star


STARS = [
    Star(
        value=value,
        label=f"{value:g} star{'' if value == 1 else 's'}",
        slug=f"{value:.1f}".replace(".", "-"),
        side="left" if value % 1 else "right",
    )
    for value in RATING_VALUES
]


# --- helpers ---------------------------------------------------------------------


def _title_or_404(request: HttpRequest, pk: int) -> Title:
    try:
        return selectors.titles_for(request.profile).get(pk=pk)
    except Title.DoesNotExist:
        raise Http404("No such title.") from None


def _title_with_state_or_404(request: HttpRequest, pk: int) -> Title:
    try:
        return selectors.title_with_state(request.profile, pk)
    except Title.DoesNotExist:
        raise Http404("No such title.") from None


def _back(request: HttpRequest, default: str) -> HttpResponseRedirect:
    """Back to the page the form was on (``next``, if it is ours), else ``default``."""
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = default
    return HttpResponseRedirect(target)


def _varies_with_htmx(response: HttpResponse) -> HttpResponse:
    """Page and fragment share a URL; caches must keep them apart."""
    patch_vary_headers(response, ("HX-Request",))
    return response


def _actions_context(title: Title, **extra) -> dict:
    return {"title": title, "stars": STARS, **extra}


def _play_context(profile, title: Title) -> dict:
    """What the Play button plays: ``resume`` (0..1, where it starts) and,
    for a series with episodes, ``up_next`` (the episode)."""
    following = selectors.up_next(profile, title)
    if following is None:
        return {"resume": selectors.resume_progress(title), "up_next": None}
    return {"resume": following.progress, "up_next": following}


def _action_done(
    request: HttpRequest, title: Title, partial: str, message: str
) -> HttpResponse:
    """htmx gets the action's fragment; a plain form post goes back, with a message."""
    if request.htmx:
        return render(request, f"{ACTIONS_TEMPLATE}#{partial}", _actions_context(title))
    messages.success(request, message)
    return _back(request, reverse("activity:title_actions", args=[title.pk]))


def _errors(form) -> list[str]:
    return [error for field_errors in form.errors.values() for error in field_errors]


def _bad_request(request: HttpRequest, form) -> HttpResponse:
    """A 400 that says what was wrong; nothing was written."""
    template = "activity/bad_request.html" + ("#errors" if request.htmx else "")
    return render(request, template, {"errors": _errors(form)}, status=400)


# --- the title page's actions --------------------------------------------------------


@profile_required
@require_safe
def title_actions(request: HttpRequest, pk: int) -> HttpResponse:
    """The title page's action panel: a fragment to htmx, a page otherwise."""
    title = _title_with_state_or_404(request, pk)
    context = _actions_context(title, **_play_context(request.profile, title))
    template = ACTIONS_TEMPLATE + ("#panel" if request.htmx else "")
    return _varies_with_htmx(render(request, template, context))


@profile_required
@require_POST
@throttle(PROFILE_WRITES, key=by_profile)
def title_rate(request: HttpRequest, pk: int) -> HttpResponse:
    title = _title_or_404(request, pk)
    form = RatingForm(request.POST)
    if not form.is_valid():
        title = _title_with_state_or_404(request, pk)
        context = _actions_context(
            title,
            **_play_context(request.profile, title),
            rating_errors=_errors(form),
        )
        template = ACTIONS_TEMPLATE + ("#rating" if request.htmx else "")
        return render(request, template, context, status=400)
    if form.cleaned_data["clear"]:
        services.rating_delete(profile=request.profile, title=title)
        title.my_rating = None
        message = f"Your rating of “{title.title}” is cleared."
    else:
        rating, created = services.rating_upsert(
            profile=request.profile, title=title, value=form.cleaned_data["value"]
        )
        row_engagement_note(
            session=request.session,
            profile=request.profile,
            title_id=title.pk,
            take=Impression.Take.RATING if created else "",
        )
        title.my_rating = rating.value
        message = f"You rated “{title.title}” {rating.value:g} stars."
    return _action_done(request, title, "rating", message)


@profile_required
@require_POST
@throttle(PROFILE_WRITES, key=by_profile)
def title_thumbs(request: HttpRequest, pk: int) -> HttpResponse:
    title = _title_or_404(request, pk)
    form = ThumbsForm(request.POST)
    if not form.is_valid():
        return _bad_request(request, form)
    title.thumbs = services.thumbs_set(
        profile=request.profile, title=title, kind=form.cleaned_data["thumb"]
    )
    message = {
        "thumbs_up": f"You like “{title.title}”.",
        "thumbs_down": f"You don’t like “{title.title}”.",
        None: f"Your thumbs for “{title.title}” are cleared.",
    }[title.thumbs]
    return _action_done(request, title, "thumbs", message)


@profile_required
@require_POST
@throttle(PROFILE_WRITES, key=by_profile)
def title_not_interested(request: HttpRequest, pk: int) -> HttpResponse:
    title = _title_or_404(request, pk)
    form = ToggleForm(request.POST)
    if not form.is_valid():
        return _bad_request(request, form)
    add = form.cleaned_data["action"] == "add"
    # Through the privacy centre's receipts: the rows before and after, in words.
    receipt = not_interested_receipt(profile=request.profile, title=title, add=add)
    title.not_interested, title.receipt = add, receipt.text
    message = (
        f"“{title.title}” is hidden from your rows."
        if add
        else f"“{title.title}” may show in your rows again."
    )
    return _action_done(request, title, "not-interested", f"{message} {receipt.text}")


@profile_required
@require_POST
@throttle(PROFILE_WRITES, key=by_profile)
def title_show_fewer(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Show fewer like this": soft, unlike "not interested": titles like it
    move down in the rows, none is hidden. Undone with ``action=remove``."""
    title = _title_or_404(request, pk)
    form = ToggleForm(request.POST)
    if not form.is_valid():
        return _bad_request(request, form)
    add = form.cleaned_data["action"] == "add"
    # Through the privacy centre's receipts: the rows before and after, in words.
    receipt = show_fewer_receipt(profile=request.profile, title=title, add=add)
    title.show_fewer, title.receipt = add, receipt.text
    message = (
        f"You’ll see fewer titles like “{title.title}”."
        if add
        else f"Titles like “{title.title}” are ranked as before."
    )
    return _action_done(request, title, "show-fewer", f"{message} {receipt.text}")


@profile_required
@require_POST
@throttle(PROFILE_WRITES, key=by_profile)
def title_my_list(request: HttpRequest, pk: int) -> HttpResponse:
    title = _title_or_404(request, pk)
    form = ToggleForm(request.POST)
    if not form.is_valid():
        return _bad_request(request, form)
    if form.cleaned_data["action"] == "add":
        services.list_add(profile=request.profile, title=title)
        title.on_list = True
        message = f"“{title.title}” is on My List."
    else:
        services.list_remove(profile=request.profile, title=title)
        title.on_list = False
        message = f"“{title.title}” is off My List."
    return _action_done(request, title, "my-list", message)


# --- the player ----------------------------------------------------------------------


def _private(request: HttpRequest) -> bool:
    return private_session_on(request.session, request.profile)


#: What the player says when a play is not kept, by the reason.
NOT_KEPT_NOTES = {
    selectors.NOT_KEPT_PRIVATE_SESSION: (
        "Not kept: this is a private session, so this play is not saved."
    ),
    selectors.NOT_KEPT_HISTORY_PAUSED: (
        "Not kept: history paused, so this play is not saved."
    ),
    selectors.NOT_KEPT_NON_PROFILING: (
        "Not kept: your rows are not based on your activity, so this play is not saved."
    ),
}


def _not_kept_note(request: HttpRequest) -> str:
    """Why a play is not being kept, for the player to say so."""
    reason = selectors.viewing_not_kept_reason(
        request.profile, private_session=_private(request)
    )
    return NOT_KEPT_NOTES[reason or selectors.NOT_KEPT_HISTORY_PAUSED]


#: ``?unkept=`` on the player: a play that stores nothing, from where it starts.
UNKEPT_STARTS = ("resume", "beginning")


@profile_required
@require_http_methods(["GET", "HEAD", "POST"])
def play(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the player (of ``?viewing=<id>`` once started, or of a play that
    is not kept, ``?unkept=resume|beginning``). POST: start playing.

    Starting creates a viewing (resuming from the last one unless asked to
    start over) and opens the player on it, which then plays by itself.
    While viewing history is paused or the session is private, the title
    plays all the same but nothing is stored, and the player says so.
    """
    if request.method == "POST":
        return _play_start(request, pk)
    title = _title_with_state_or_404(request, pk)
    play_context = _play_context(request.profile, title)
    resume = play_context["resume"]
    episode = play_context["up_next"].episode if play_context["up_next"] else None
    viewing = None
    heartbeat_url = ""
    if "viewing" in request.GET:
        viewing_id = parse_id(request.GET["viewing"])
        if viewing_id is None:
            raise Http404("No such viewing.")
        viewing = _viewing_or_404(request, viewing_id)
        if viewing.title_id != title.pk:
            raise Http404("No such viewing.")
        viewing.profile = request.profile
        episode = viewing.episode
        kept = services.viewing_kept(viewing, private_session=_private(request))
        heartbeat_url = reverse("activity:heartbeat", args=[viewing.pk])
    elif "unkept" in request.GET:
        start = request.GET["unkept"]
        if start not in UNKEPT_STARTS:
            raise Http404("No such play.")
        if "episode" in request.GET:
            episode = _episode_or_404(title, request.GET["episode"])
            if start == "resume":
                resume = selectors.episode_progress(request.profile, episode)
        viewing = ViewingEvent(
            profile=request.profile,
            title=title,
            episode=episode,
            progress=resume if start == "resume" else 0.0,
        )
        kept = False
        heartbeat_url = reverse("activity:unkept_heartbeat", args=[title.pk])
    else:
        kept = may_store_viewing(request.profile, private_session=_private(request))
    progress = viewing.progress if viewing else resume
    runtime = ViewingEvent.runtime_seconds(title, episode)
    context = {
        "title": title,
        "episode": episode,
        "next_episode": _episode_after(episode),
        "viewing": viewing,
        "resume": resume,
        "progress": progress,
        "runtime_seconds": runtime,
        "position_seconds": round(progress * runtime),
        "heartbeat_url": heartbeat_url,
        "kept": kept,
        "not_kept_note": "" if kept else _not_kept_note(request),
    }
    return render(request, "activity/player.html", context)


def _episode_or_404(title: Title, episode_id: str | int) -> Episode:
    """One of the title's episodes; anything else is a 404."""
    pk = parse_id(episode_id)
    if pk is None:
        raise Http404("No such episode.")
    try:
        return selectors.episodes_of(title).get(pk=pk)
    except Episode.DoesNotExist:
        raise Http404("No such episode.") from None


def _episode_after(episode: Episode | None) -> Episode | None:
    return Episode.objects.after(episode).first() if episode is not None else None


def _play_start(request: HttpRequest, pk: int) -> HttpResponse:
    title = _title_or_404(request, pk)
    form = PlayForm(request.POST)
    if not form.is_valid():
        return _bad_request(request, form)
    resume = form.cleaned_data["start"] != "beginning"
    episode = None
    if form.cleaned_data["episode"] is not None:
        episode = _episode_or_404(title, form.cleaned_data["episode"])
    viewing = services.viewing_start(
        profile=request.profile,
        title=title,
        episode=episode,
        device_class=device_class_from_user_agent(
            request.headers.get("User-Agent", "")
        ),
        resume=resume,
        private_session=_private(request),
    )
    if viewing.pk is not None:
        row_engagement_note(
            session=request.session,
            profile=request.profile,
            title_id=title.pk,
            take=Impression.Take.PLAY,
        )
    query: dict[str, str | int] = (
        {"viewing": viewing.pk}
        if viewing.pk is not None
        else {"unkept": "resume" if resume else "beginning"}
    )
    if viewing.pk is None and viewing.episode_id is not None:
        query["episode"] = viewing.episode_id
    url = reverse("activity:play", args=[title.pk]) + "?" + urlencode(query)
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return HttpResponseRedirect(url)


def _viewing_or_404(request: HttpRequest, viewing_id: int) -> ViewingEvent:
    try:
        return selectors.viewing_of(request.profile, viewing_id)
    except ViewingEvent.DoesNotExist:
        raise Http404("No such viewing.") from None


@profile_required
@require_POST
def viewing_heartbeat(request: HttpRequest, viewing_id: int) -> HttpResponse:
    """How far the player got: htmx gets the player's status line back.

    While history is paused or the session is private, nothing is stored.
    """
    viewing = _viewing_or_404(request, viewing_id)
    viewing.profile = request.profile
    form = HeartbeatForm(request.POST)
    if not form.is_valid():
        return _bad_request(request, form)
    was_completed = viewing.completed
    private = _private(request)
    kept = services.viewing_kept(viewing, private_session=private)
    viewing = services.viewing_heartbeat(
        viewing=viewing,
        progress=form.cleaned_data["progress"],
        seconds_watched=form.cleaned_data["seconds"],
        private_session=private,
    )
    note = "" if kept else _not_kept_note(request)
    if request.htmx:
        return render(
            request,
            "activity/player.html#status",
            {"viewing": viewing, "kept": kept, "not_kept_note": note},
        )
    if "beacon" in request.GET:  # the player's last word as the page closes
        return HttpResponse(status=204)
    if not kept:
        messages.info(request, note)
    elif viewing.completed and not was_completed:
        messages.success(request, f"“{viewing.title.title}” is marked as watched.")
    url = reverse("activity:play", args=[viewing.title_id])
    return HttpResponseRedirect(url + "?" + urlencode({"viewing": viewing.pk}))


@profile_required
@require_POST
def unkept_heartbeat(request: HttpRequest, pk: int) -> HttpResponse:
    """Heartbeats of a play that is not kept (history paused, private
    session): checked like any other, and then forgotten."""
    title = _title_or_404(request, pk)
    form = HeartbeatForm(request.POST)
    if not form.is_valid():
        return _bad_request(request, form)
    note = _not_kept_note(request)
    if request.htmx:
        viewing = ViewingEvent(
            profile=request.profile, title=title, progress=form.cleaned_data["progress"]
        )
        return render(
            request,
            "activity/player.html#status",
            {"viewing": viewing, "kept": False, "not_kept_note": note},
        )
    if "beacon" in request.GET:
        return HttpResponse(status=204)
    messages.info(request, note)
    url = reverse("activity:play", args=[title.pk])
    return HttpResponseRedirect(url + "?" + urlencode({"unkept": "resume"}))


# --- the profile's shelves -----------------------------------------------------------


def _page(request: HttpRequest, rows: QuerySet) -> Page:
    """One page of 50; a page that is not a number or out of range is a 404."""
    try:
        return Paginator(rows, SHELF_PAGE_SIZE).page(request.GET.get("page") or 1)
    except InvalidPage:
        raise Http404("No such page.") from None


#: Each shelf page: its template's name (under activity/) and its title.
SHELVES = {
    "my_list": "My List",
    "continue_watching": "Continue watching",
    "ratings": "Your ratings",
    "history": "Viewing history",
}


def _shelf(request: HttpRequest, shelf: str, rows: QuerySet) -> HttpResponse:
    page = _page(request, rows)
    context = {
        "shelf": shelf,
        "shelf_title": SHELVES[shelf],
        "page": page,
        "items": list(page.object_list),
        "next_url": f"?page={page.next_page_number()}" if page.has_next() else "",
        "previous_url": (
            f"?page={page.previous_page_number()}" if page.has_previous() else ""
        ),
    }
    return render(request, f"activity/{shelf}.html", context)


def _removed(
    request: HttpRequest, template: str, context: dict, default: str, message: str
) -> HttpResponse:
    """htmx swaps the item for a short note; a plain post goes back to the page."""
    if request.htmx:
        return render(request, f"{template}#removed", context)
    messages.success(request, message)
    return _back(request, default)


@profile_required
@require_safe
def my_list(request: HttpRequest) -> HttpResponse:
    return _shelf(request, "my_list", selectors.my_list(request.profile))


@profile_required
@require_POST
def my_list_remove(request: HttpRequest, item_id: int) -> HttpResponse:
    item = get_object_or_404(
        ListItem.objects.select_related("title"), pk=item_id, profile=request.profile
    )
    services.list_remove(profile=request.profile, title=item.title)
    return _removed(
        request,
        "activity/my_list.html",
        {"item": item},
        reverse("activity:my_list"),
        f"“{item.title.title}” is off My List.",
    )


@profile_required
@require_safe
def continue_watching(request: HttpRequest) -> HttpResponse:
    return _shelf(
        request, "continue_watching", selectors.continue_watching(request.profile)
    )


@profile_required
@require_POST
def continue_watching_remove(request: HttpRequest, viewing_id: int) -> HttpResponse:
    viewing = get_object_or_404(
        ViewingEvent.objects.select_related("title"),
        pk=viewing_id,
        profile=request.profile,
    )
    services.viewing_dismiss(viewing=viewing)
    return _removed(
        request,
        "activity/continue_watching.html",
        {"item": viewing},
        reverse("activity:continue_watching"),
        f"“{viewing.title.title}” is off Continue Watching.",
    )


@profile_required
@require_safe
def ratings(request: HttpRequest) -> HttpResponse:
    return _shelf(request, "ratings", selectors.ratings(request.profile))


@profile_required
@require_safe
def history(request: HttpRequest) -> HttpResponse:
    return _shelf(request, "history", selectors.history(request.profile))
