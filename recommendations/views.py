"""The home page ("/", ``recommendations:home``) and its controls.

- :func:`home`: every row, server-side, in one response. The rows' HTML is
  cached per profile (``recommendations.home.cache``: rows the same for
  everyone under one key per audience), so a warm page costs the
  middleware's reads, the candidates' version (one query) and a check that
  no title shown was withdrawn since (one query), and a profile's page view
  keeps the cards it showed (impressions: one insert,
  ``services.impressions``). The forms inside cached
  rows get this request's CSRF token at serve time. ``?mood=`` re-ranks
  every row; htmx gets only the part of the page below the greeting.
- :func:`why`: "Why this?" for one title (``?row=`` the key of the row its
  card sits in, whose reason comes first): an htmx popover, or a small page.
- :func:`seed_exclude` / :func:`seed_restore`: "Don't use as a seed".
- :func:`more_like_this`: the title page's "More like this" row (loaded by
  htmx), or a page of it.
- :func:`home_main`: the page below the greeting, for htmx answers of views
  that change what the rows show (the exploration and calibration controls
  are privacy settings: ``privacy.views.home_controls`` saves them).
"""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_POST, require_safe

from accounts.access import profile_required
from accounts.models import Profile
from activity.devices import device_class_from_user_agent
from activity.models import Impression
from activity.selectors import titles_for
from catalog.models import Title
from consent.policy import settings_for
from recommendations import selectors
from recommendations.engine.rerank import MOODS
from recommendations.home.cache import cached_rows
from recommendations.home.context import weather_now
from recommendations.home.page import UnknownMood, mood_for
from recommendations.home.snapshot import catalog_snapshot
from recommendations.home.why import why_everyone, why_this
from recommendations.services import engagement, experiments, impressions


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    mood = request.GET.get("mood", "")
    try:
        mood_for(mood)
    except UnknownMood:
        template = "recommendations/bad_request.html" + (
            "#errors" if request.htmx else ""
        )
        errors = [f"There is no mood “{mood}”. Choose one of the chips."]
        return render(request, template, {"errors": errors}, status=400)
    response = render(
        request,
        "recommendations/home.html" + ("#home-main" if request.htmx else ""),
        _home_context(request, mood),
    )
    patch_vary_headers(response, ("HX-Request", "User-Agent"))
    return response


def home_main(request: HttpRequest, mood: str = "") -> HttpResponse:
    """The home page's main part (rows, controls, moods) as htmx swaps it in."""
    if mood not in MOODS:
        mood = ""
    return render(
        request, "recommendations/home.html#home-main", _home_context(request, mood)
    )


def _home_context(request: HttpRequest, mood: str) -> dict:
    profile: Profile | None = request.profile
    device = device_class_from_user_agent(request.headers.get("User-Agent", ""))
    # No chip chosen: today's weather may pick the mood, and the page says so.
    weather = None if mood else weather_now(profile)
    if weather is not None:
        mood = weather.mood
    cached = cached_rows(profile=profile, mood=mood, device=device)
    impressions.page_view_record(
        profile=profile,
        page=cached,
        surface=Impression.Surface.HOME,
        device=device,
        session=request.session,
    )
    settings = settings_for(profile) if profile else None
    return {
        "weather": weather,
        "rows_html": cached.html_for(get_token(request)),
        "row_keys": cached.row_keys,
        "note": cached.note,
        "personalized": cached.personalized,
        "mood": mood,
        "moods": list(MOODS.values()),
        "credit_movielens": catalog_snapshot().from_movielens,
        # Plain values, not a bound form: rendering widgets costs more than
        # the rest of a warm page.
        "controls": (
            dict(
                zip(
                    ("exploration", "calibration"),
                    experiments.effective_tuning(profile),
                    strict=True,
                )
            )
            if profile is not None and not profile.is_kids
            else None
        ),
        # The non-profiling switch (``privacy.views.home_rows_basis``).
        "basis": (
            {
                "personal": settings.personalization,
                # Ticked only while plays are kept in the non-profiling mode:
                # going into it, plays are kept only if the viewer ticks it.
                "keep_plays": not (
                    settings.personalization or settings.pause_viewing_history
                ),
            }
            if profile is not None and not profile.is_kids
            else None
        ),
        # What the switch just did (its receipt), under the switch.
        "basis_receipt": getattr(request, "basis_receipt", ""),
    }


# --- "Why this?" ----------------------------------------------------------------------


@require_safe
def why(request: HttpRequest, pk: int) -> HttpResponse:
    title = get_object_or_404(Title.objects.for_profile(request.profile), pk=pk)
    # The row the card sits in (its key), whose reason comes first.
    row = request.GET.get("row") or None
    if request.profile is not None:
        reasons = why_this(profile=request.profile, title=title, row=row)
    else:
        reasons = why_everyone(title, row=row)
    context = {"title": title, "reasons": reasons}
    template = "recommendations/why.html" + ("#why-body" if request.htmx else "")
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


# --- seeds ----------------------------------------------------------------------------


@require_POST
@profile_required
def seed_exclude(request: HttpRequest, pk: int) -> HttpResponse:
    title = get_object_or_404(titles_for(request.profile), pk=pk)
    engagement.seed_exclude(profile=request.profile, title=title)
    if request.htmx:
        return render(
            request, "recommendations/_seed.html#seed-removed", {"title": title}
        )
    messages.success(
        request,
        f"“{title.title}” won’t pick rows for you any more; your history keeps it.",
    )
    return redirect("recommendations:home")


@require_POST
@profile_required
def seed_restore(request: HttpRequest, pk: int) -> HttpResponse:
    title = get_object_or_404(titles_for(request.profile), pk=pk)
    engagement.seed_restore(profile=request.profile, title=title)
    if request.htmx:
        return render(
            request, "recommendations/_seed.html#seed-restored", {"title": title}
        )
    messages.success(request, f"“{title.title}” may pick rows for you again.")
    return redirect("recommendations:home")


# --- More like this ---------------------------------------------------------------------


@profile_required
@require_safe
def more_like_this(request: HttpRequest, pk: int) -> HttpResponse:
    """The title page's "More like this" row (htmx), or a page of it."""
    try:
        title = titles_for(request.profile).get(pk=pk)
    except Title.DoesNotExist:
        raise Http404("No such title.") from None
    similar = selectors.more_like_this(request.profile, title)
    template = "recommendations/more_like_this.html" + ("#row" if request.htmx else "")
    response = render(request, template, {"title": title, "similar": similar})
    patch_vary_headers(response, ("HX-Request",))
    return response
