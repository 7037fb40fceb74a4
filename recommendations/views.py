"""The home page ("/", ``recommendations:home``) and its controls.

- :func:`home`: every row, server-side, in one response. The rows' HTML is
  cached per profile under :func:`recommendations.rows.page_key` (rows the
  same for everyone under one key per audience), so a warm page costs the
  middleware's reads, the candidates' version (one query) and a check that
  no title shown was withdrawn since (one query). The forms inside cached
  rows get this request's CSRF token at serve time. ``?mood=`` re-ranks
  every row; htmx gets only the part of the page below the greeting.
- :func:`why`: "Why this?" for one title: an htmx popover, or a small page.
- :func:`seed_exclude` / :func:`seed_restore`: "Don't use as a seed".
- :func:`controls`: the exploration slider and calibration toggle (the same
  settings as the privacy centre's).
- :func:`row_origin_remember` / :func:`row_engagement_note`: a card opens
  its title with ``?row=<kind>``; the title page remembers it in the
  session, and a play or a rating of that title then counts for that kind
  of row (see ``rows``: engaged rows rise).
"""

from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST, require_safe

from accounts.access import account_password_required, profile_required
from accounts.models import Profile
from activity.devices import device_class_from_user_agent
from catalog.models import Title
from consent.models import PrivacySettings
from consent.policy import private_session_on, settings_for
from privacy.services import privacy_settings_update
from recommendations import rows, services
from recommendations.engine.rerank import MOODS

#: How long a profile's rows stay cached (curated collections and trending
#: change without touching the profile); rows everyone gets, five minutes.
PERSONAL_SECONDS = 10 * 60
SHARED_SECONDS = 5 * 60
#: Where the cached rows' forms get this request's CSRF token.
CSRF_MARK = "<!--csrf-input-->"
ROW_ORIGIN_SESSION_KEY = "recommendations:row_origin"
ROW_ORIGIN_MAX = 30
BUBBLE_SEGMENTS = 6


@dataclass(frozen=True)
class _Cached:
    html: str
    title_ids: list[int]
    note: str
    personalized: bool
    row_keys: list[str]


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    mood = request.GET.get("mood", "")
    try:
        rows.mood_for(mood)
    except rows.UnknownMood:
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


def _home_context(request: HttpRequest, mood: str) -> dict:
    profile: Profile | None = request.profile
    device = device_class_from_user_agent(request.headers.get("User-Agent", ""))
    cached = _rows_html(request, profile, mood, device)
    settings = settings_for(profile) if profile else None
    return {
        "rows_html": mark_safe(cached.html.replace(CSRF_MARK, _csrf_input(request))),
        "row_keys": cached.row_keys,
        "note": cached.note,
        "personalized": cached.personalized,
        "mood": mood,
        "moods": list(MOODS.values()),
        # Plain values, not a bound form: rendering widgets costs more than
        # the rest of a warm page.
        "controls": (
            {"exploration": settings.exploration, "calibration": settings.calibration}
            if profile is not None and not profile.is_kids
            else None
        ),
    }


def _rows_html(
    request: HttpRequest, profile: Profile | None, mood: str, device: str
) -> _Cached:
    key = rows.page_key(profile=profile, mood=mood, device=device)
    cached = cache.get(key.key)
    if cached is not None and rows.withdrawn(cached.title_ids):
        cached = None
    if cached is None:
        page = rows.home_page(profile=profile, mood=mood or None, device=device)
        html = _render_rows(page)
        cached = _Cached(
            html=html,
            title_ids=page.title_ids,
            note="" if key.shared else page.note,
            personalized=page.personalized,
            row_keys=[row.key for row in page.rows],
        )
        cache.set(key.key, cached, SHARED_SECONDS if key.shared else PERSONAL_SECONDS)
        if not key.shared:
            rows.page_remember(profile_id=profile.pk, key=key.key)
    if key.note is not None:
        cached = _Cached(
            cached.html,
            cached.title_ids,
            key.note,
            cached.personalized,
            cached.row_keys,
        )
    return cached


def _render_rows(page: rows.HomePage) -> str:
    return render_to_string(
        "recommendations/_rows.html",
        {
            "page": page,
            "bubble": _bubble_bars(page.bubble),
            "csrf_mark": mark_safe(CSRF_MARK),
        },
    )


def _csrf_input(request: HttpRequest) -> str:
    return format_html(
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}">',
        get_token(request),
    )


def _bubble_bars(bubble: list[tuple[str, float, float]]) -> dict | None:
    """The bubble meter's two bars (shown, catalog) as SVG segments: the
    genres most shown, each in its own colour, and "Other"."""
    if not bubble:
        return None
    top = bubble[:BUBBLE_SEGMENTS]
    other_shown = max(0.0, 1.0 - sum(b[1] for b in top))
    other_catalog = max(0.0, 1.0 - sum(b[2] for b in top))
    labels = [(name, shown, whole) for name, shown, whole in top]
    if other_shown > 0.005 or other_catalog > 0.005:
        labels.append(("Other", other_shown, other_catalog))

    def bar(column: int) -> list[dict]:
        x, segments = 0.0, []
        for n, label in enumerate(labels):
            width = round(label[column] * 100, 2)
            if width > 0:
                segments.append(
                    {"x": round(x, 2), "width": width, "colour": n, "name": label[0]}
                )
            x += width
        return segments

    return {
        "shown": bar(1),
        "catalog": bar(2),
        "legend": [
            {
                "name": name,
                "shown": round(shown * 100),
                "catalog": round(whole * 100),
                "colour": n,
            }
            for n, (name, shown, whole) in enumerate(labels)
        ],
        "top": labels[0][0],
        "top_shown": round(labels[0][1] * 100),
        "top_catalog": round(labels[0][2] * 100),
    }


# --- "Why this?" ----------------------------------------------------------------------


@require_safe
def why(request: HttpRequest, pk: int) -> HttpResponse:
    title = get_object_or_404(Title.objects.for_profile(request.profile), pk=pk)
    if request.profile is not None:
        reasons = rows.why_this(profile=request.profile, title=title)
    else:
        reasons = rows.why_everyone(title)
    context = {"title": title, "reasons": reasons}
    template = "recommendations/why.html" + ("#why-body" if request.htmx else "")
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


# --- seeds ----------------------------------------------------------------------------


@require_POST
@profile_required
def seed_exclude(request: HttpRequest, pk: int) -> HttpResponse:
    title = get_object_or_404(Title, pk=pk)
    services.seed_exclude(profile=request.profile, title=title)
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
    title = get_object_or_404(Title, pk=pk)
    services.seed_restore(profile=request.profile, title=title)
    if request.htmx:
        return render(
            request, "recommendations/_seed.html#seed-restored", {"title": title}
        )
    messages.success(request, f"“{title.title}” may pick rows for you again.")
    return redirect("recommendations:home")


# --- exploration and calibration ----------------------------------------------------


class HomeControlsForm(forms.Form):
    exploration = forms.IntegerField(
        min_value=0,
        max_value=PrivacySettings.EXPLORATION_MAX,
        label="Exploration",
        widget=forms.NumberInput(attrs={"type": "range", "step": 10}),
    )
    calibration = forms.BooleanField(
        required=False, label="Keep the genre mix of my history in Top picks"
    )


@require_POST
@account_password_required
@profile_required
def controls(request: HttpRequest) -> HttpResponse:
    """Saves exploration and calibration (each change goes to the consent log)."""
    form = HomeControlsForm(request.POST)
    if not form.is_valid():
        errors = [e for field_errors in form.errors.values() for e in field_errors]
        template = "recommendations/bad_request.html" + (
            "#errors" if request.htmx else ""
        )
        return render(request, template, {"errors": errors}, status=400)
    profile = request.profile
    privacy_settings_update(profile=profile, **form.cleaned_data)
    if not request.htmx:
        messages.success(request, "Your rows follow the new settings.")
        return redirect(reverse("recommendations:home") + "#home-controls")
    request.profile = Profile.objects.select_related("privacy").get(pk=profile.pk)
    mood = request.POST.get("mood", "")
    if mood not in MOODS:
        mood = ""
    return render(
        request, "recommendations/home.html#home-main", _home_context(request, mood)
    )


# --- which row a title was opened from --------------------------------------------------


def row_origin_remember(request: HttpRequest, title_id: int, row_kind: str) -> None:
    """Notes (in the session) that the profile opened ``title_id`` from a row."""
    profile = request.profile
    if profile is None or row_kind not in services.ROW_KINDS:
        return
    origins = dict(request.session.get(ROW_ORIGIN_SESSION_KEY, {}))
    key = f"{profile.pk}:{title_id}"
    origins.pop(key, None)
    origins[key] = row_kind
    request.session[ROW_ORIGIN_SESSION_KEY] = dict(
        list(origins.items())[-ROW_ORIGIN_MAX:]
    )


def row_engagement_note(request: HttpRequest, title_id: int) -> None:
    """A play or a rating of ``title_id``: counts once for the row it came from."""
    profile = request.profile
    origins = request.session.get(ROW_ORIGIN_SESSION_KEY)
    if profile is None or not origins:
        return
    if private_session_on(request.session, profile):
        return  # a private session teaches nothing
    origins = dict(origins)
    row_kind = origins.pop(f"{profile.pk}:{title_id}", None)
    if row_kind is None:
        return
    request.session[ROW_ORIGIN_SESSION_KEY] = origins
    if row_kind in services.ROW_KINDS:
        services.row_engagement_record(profile=profile, row_kind=row_kind)
