"""The catalog's pages: landing, title, poster, genres and search.

The browse and search pages serve their full page and, to htmx, the named
partial they were asked for ("Load more" appends the next page; the header's
search box fills its suggestions), from one view each.
"""

import hashlib
from urllib.parse import urlencode

from django.core.paginator import InvalidPage, Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.cache import (
    get_conditional_response,
    patch_cache_control,
    patch_vary_headers,
)
from django.utils.http import quote_etag
from django.views.decorators.http import require_safe

from activity import services as activity_services
from catalog import posters, selectors
from catalog.forms import BrowseForm
from catalog.models import Genre, Title

#: The id of the header search box's suggestions; htmx sends it as HX-Target.
SUGGESTIONS_TARGET = "search-suggestions"
POSTER_MAX_AGE = 365 * 24 * 60 * 60


@require_safe
def landing(request: HttpRequest) -> HttpResponse:
    return render(request, "catalog/landing.html", {"rows": selectors.landing_rows()})


@require_safe
def title_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        title = selectors.title_detail(pk)
    except Title.DoesNotExist:
        raise Http404("No such title.") from None
    context = {"title": title, "viewer_tags": selectors.title_viewer_tags(title)}
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
    genres = selectors.genres_with_counts()
    return render(request, "catalog/genre_list.html", {"genres": genres})


@require_safe
def genre_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """A genre's titles, sorted and filtered; "Load more" gets the next page."""
    genre = get_object_or_404(Genre, slug=slug)
    form = BrowseForm(request.GET)
    if form.is_valid():
        titles = selectors.genre_titles(genre, **form.cleaned_data)
        page = _page(titles, request.GET.get("page"))
        context = {"genre": genre, **_page_context(page, request.GET)}
        if request.htmx:
            template = "catalog/genre_detail.html#results-page"
            return _varies_with_htmx(render(request, template, context))
        status = 200
    else:
        context, status = {"genre": genre}, 400
    facets = selectors.genre_facets(genre)
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

    A search is kept (as a SearchEvent of the active profile) when the full
    page is asked for: not for each suggestion while typing, nor for more
    pages of the same search.
    """
    query, shortened = selectors.clean_query(request.GET.get("q", ""))
    context = {"search_query": query, "shortened": shortened}
    if request.htmx and request.htmx.target == SUGGESTIONS_TARGET:
        titles = selectors.search_titles(query)[: selectors.SUGGESTIONS]
        context["titles"] = list(titles)
        return _varies_with_htmx(
            render(request, "catalog/search.html#suggestions", context)
        )

    page = _page(selectors.search_titles(query), request.GET.get("page"))
    context.update(_page_context(page, {"q": query}))
    profile = getattr(request, "profile", None)
    if query and profile is not None and page.number == 1 and not request.htmx:
        activity_services.search_record(profile=profile, query=query)
    template = "catalog/search.html"
    if request.htmx:
        template += "#results-page"
    return _varies_with_htmx(render(request, template, context))


def _page(object_list, number: str | None) -> Page:
    """One page of results; a page that is not a number or out of range is a 404."""
    paginator = Paginator(object_list, selectors.PAGE_SIZE)
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
