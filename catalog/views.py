"""The catalog's pages: title, poster, genres, search and onboarding (the home
page is ``recommendations.views.home``).

The browse, search and onboarding pages serve their full page and, to
htmx, the named partial they were asked for ("Load more"
appends the next page; the header's search box fills its suggestions; "Show
me others" swaps the onboarding grid), from one view each.

What a profile may see is decided by ``Title.objects.for_profile`` (the kids
rule), which every selector called here applies; posters stay public.
"""

import hashlib
from urllib.parse import urlencode

from django.contrib import messages
from django.core.cache import cache
from django.core.paginator import InvalidPage, Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import (
    get_conditional_response,
    patch_cache_control,
    patch_vary_headers,
)
from django.utils.http import quote_etag
from django.views.decorators.http import require_POST, require_safe

from accounts.access import profile_required
from activity import selectors as activity_selectors
from activity import services as activity_services
from activity.models import Feedback
from catalog import posters, selectors
from catalog.forms import BrowseForm, OnboardingPickForm
from catalog.models import Genre, Title
from consent.policy import private_session_on
from recommendations.selectors import suggestions_for_you
from recommendations.services.engagement import row_origin_remember

#: The id of the header search box's suggestions; htmx sends it as HX-Target.
SUGGESTIONS_TARGET = "search-suggestions"
POSTER_MAX_AGE = 365 * 24 * 60 * 60


@require_safe
def title_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        title = selectors.title_detail(pk, profile=request.profile)
    except Title.DoesNotExist:
        raise Http404("No such title.") from None
    facts = selectors.title_facts(title)
    if "row" in request.GET:
        # Opened from a home row: a play or rating of it then counts for that row.
        row_origin_remember(
            session=request.session,
            profile=request.profile,
            title_id=title.pk,
            row_kind=request.GET["row"],
        )
    seasons = selectors.seasons_of(title)
    up_next = None
    if seasons and request.profile is not None:
        up_next = activity_selectors.up_next(request.profile, title)
    context = {
        "title": title,
        "facts": facts,
        "viewer_tags": facts.viewer_tags,
        "seasons": seasons,
        "up_next": up_next.episode if up_next else None,
    }
    return render(request, "catalog/title_detail.html", context)


@require_safe
def poster(request: HttpRequest, pk: int) -> HttpResponse:
    """The title's generated poster, cacheable for a year.

    Its URL carries a version token (see ``Title.poster_url``), so a renamed
    title is fetched again; the ETag answers revalidations with a 304.
    """
    try:
        text, year, genres = selectors.poster_fields(pk)
    except Title.DoesNotExist:
        raise Http404("No such title.") from None
    svg = posters.poster_svg(title_id=pk, title=text, year=year, genres=genres)
    etag = quote_etag(hashlib.sha256(svg.encode()).hexdigest()[:32])
    response = HttpResponse(svg, content_type="image/svg+xml")
    response["ETag"] = etag
    # Opened on its own, the SVG is a document: it may load and run nothing.
    response["Content-Security-Policy"] = "default-src 'none'"
    patch_cache_control(response, public=True, max_age=POSTER_MAX_AGE, immutable=True)
    return get_conditional_response(request, etag=etag, response=response)


@require_safe
def genre_list(request: HttpRequest) -> HttpResponse:
    genres = selectors.genres_with_counts(profile=request.profile)
    return render(request, "catalog/genre_list.html", {"genres": genres})


@require_safe
def genre_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """A genre's titles, sorted and filtered; "Load more" gets the next page."""
    genre = get_object_or_404(Genre, slug=slug)
    form = BrowseForm(request.GET)
    if form.is_valid():
        titles = selectors.browse_titles(
            profile=request.profile, genre=genre, **form.cleaned_data
        )
        page = _page(titles, request.GET.get("page"))
        context = {"genre": genre, **_page_context(page, request.GET)}
        if request.htmx:
            template = "catalog/genre_detail.html#results-page"
            return _varies_with_htmx(render(request, template, context))
        status = 200
    else:
        context, status = {"genre": genre}, 400
    facets = selectors.genre_facets(genre, profile=request.profile)
    chosen = form.cleaned_data
    context |= {
        "form": form,
        "sort_choices": selectors.Sort.choices,
        "runtime_choices": selectors.Runtime.choices,
        "decades": sorted({*facets.decades, *filter(None, [chosen.get("decade")])}),
        "has_runtimes": facets.has_runtimes or bool(chosen.get("runtime")),
    }
    response = render(request, "catalog/genre_detail.html", context, status=status)
    return _varies_with_htmx(response)


@require_safe
def search(request: HttpRequest) -> HttpResponse:
    """The search page, its "Load more" pages, and the header's suggestions.

    The suggestions start with a "For you" part (the profile's own
    candidates that match, hard filters applied); the rest are plain
    matches, as the search page finds them.

    A search is kept (as a SearchEvent of the active profile) when the full
    page is asked for: not for each suggestion while typing, nor for more
    pages of the same search.
    """
    query, shortened = selectors.clean_query(request.GET.get("q", ""))
    context = {"search_query": query, "shortened": shortened}
    if request.htmx and request.htmx.target == SUGGESTIONS_TARGET:
        matches = selectors.search_titles(query, profile=request.profile)
        for_you = suggestions_for_you(request.profile, matches) if query else []
        mine = {title.pk for title in for_you}
        titles = [t for t in matches[: selectors.SUGGESTIONS] if t.pk not in mine]
        context["for_you"] = for_you
        context["titles"] = titles[: selectors.SUGGESTIONS - len(for_you)]
        return _varies_with_htmx(
            render(request, "catalog/search.html#suggestions", context)
        )

    profile = request.profile
    kids = bool(profile and profile.is_kids)
    count_key = (
        f"catalog:search-count:{kids}:{hashlib.sha256(query.encode()).hexdigest()}"
    )
    page = _page(
        selectors.search_titles(query, profile=profile),
        request.GET.get("page"),
        count_key=count_key,
    )
    context.update(_page_context(page, {"q": query}))
    if page.number == 1 and len(page) and page[0].fuzzy:
        # The words found nothing, the closest names did: "Did you mean ...?"
        context["did_you_mean"] = page[0]
    if query and profile is not None and page.number == 1 and not request.htmx:
        activity_services.search_record(
            profile=profile,
            query=query,
            private_session=private_session_on(request.session, profile),
        )
    template = "catalog/search.html"
    if request.htmx:
        template += "#results-page"
    return _varies_with_htmx(render(request, template, context))


# --- Onboarding -------------------------------------------------------------


@require_safe
@profile_required
def onboarding(request: HttpRequest) -> HttpResponse:
    """A new profile picks titles it likes; "Show me others" (``?page=``) swaps
    the grid for the next set."""
    number = _int_or_404(request.GET.get("page", "1"))
    context = _onboarding_context(request.profile, number)
    template = "catalog/onboarding.html"
    if request.htmx:
        template += "#pick-set"
    return _varies_with_htmx(render(request, template, context))


@require_POST
@profile_required
def onboarding_pick(request: HttpRequest) -> HttpResponse:
    """Picks a title (``picked=1``) or takes the pick back (``picked=0``)."""
    form = OnboardingPickForm(request.POST)
    if not form.is_valid():
        return HttpResponse(
            "Choose a title to pick or un-pick.", status=400, content_type="text/plain"
        )
    profile = request.profile
    title = get_object_or_404(
        Title.objects.for_profile(profile), pk=form.cleaned_data["title"]
    )
    picked = form.cleaned_data["picked"]
    change = (
        activity_services.feedback_add if picked else activity_services.feedback_remove
    )
    change(profile=profile, title=title, kind=Feedback.Kind.PICK)
    number = form.cleaned_data["page"] or 1
    if not request.htmx:
        url = reverse("catalog:onboarding")
        return redirect(f"{url}?{urlencode({'page': number})}#pick-{title.pk}")
    context = {
        "title": title,
        "picked": picked,
        "page_number": number,
        **_pick_counts(selectors.onboarding_picks(profile)),
    }
    return render(request, "catalog/onboarding.html#pick-changed", context)


@require_POST
@profile_required
def onboarding_done(request: HttpRequest) -> HttpResponse:
    """Home, once the profile has picked enough titles; a 400 before that."""
    picks = selectors.onboarding_picks(request.profile)
    if len(picks) < selectors.ONBOARDING_MIN_PICKS:
        context = _onboarding_context(request.profile, 1, picks=picks)
        context["done_error"] = (
            f"Pick at least {selectors.ONBOARDING_MIN_PICKS} titles you like, "
            "or skip this for now."
        )
        return render(request, "catalog/onboarding.html", context, status=400)
    messages.success(
        request, "Thanks! Marquee will use your picks to suggest what to watch."
    )
    return redirect("recommendations:home")


def _onboarding_context(profile, number: int, picks: set[int] | None = None) -> dict:
    try:
        pick_set = selectors.onboarding_set(profile=profile, number=number)
    except selectors.UnknownOnboardingSet:
        raise Http404("No such set of titles.") from None
    if picks is None:
        picks = selectors.onboarding_picks(profile)
    url = reverse("catalog:onboarding")
    return {
        "pick_set": pick_set,
        "cards": [(title, title.pk in picks) for title in pick_set.titles],
        "page_number": pick_set.number,
        "others_url": (
            f"{url}?{urlencode({'page': pick_set.next_number})}"
            if pick_set.count > 1
            else ""
        ),
        **_pick_counts(picks),
    }


def _pick_counts(picks: set[int]) -> dict:
    return {
        "pick_count": len(picks),
        "min_picks": selectors.ONBOARDING_MIN_PICKS,
        "can_finish": len(picks) >= selectors.ONBOARDING_MIN_PICKS,
    }


def _int_or_404(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise Http404("No such page.") from None


def _page(object_list, number: str | None, count_key: str | None = None) -> Page:
    """One page of results; a page that is not a number or out of range is a 404.

    With ``count_key`` the number of results is kept in the cache for a few
    minutes, so paging through (or repeating) a search counts its matches once.
    """
    paginator = Paginator(object_list, selectors.PAGE_SIZE)
    if count_key:
        paginator.count = cache.get_or_set(count_key, lambda: object_list.count(), 300)
    try:
        return paginator.page(number or 1)
    except InvalidPage:
        raise Http404("No such page.") from None


def _page_context(page: Page, params) -> dict:
    def url(number: int) -> str:
        query = {k: v for k, v in params.items() if k != "page"}
        return "?" + urlencode({**query, "page": number})

    return {
        "page": page,
        "next_url": url(page.next_page_number()) if page.has_next() else "",
        "previous_url": (
            url(page.previous_page_number()) if page.has_previous() else ""
        ),
    }


def _varies_with_htmx(response: HttpResponse) -> HttpResponse:
    """Page and fragment share a URL; caches must keep them apart."""
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response
