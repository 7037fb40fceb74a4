"""The catalog for programs (``/api/v1/``): genres, browse and search, a
title with the profile's own state, and the curators' collections.

Every title read goes through the selectors the site's pages call, so a
program sees what the profile sees in the browser: ``Title.objects.for_profile``
(the kids rule, withdrawn titles hidden), the genre pages' filters and sorts,
the search page's typo tolerance and ranking. A title the profile may not see
is a 404, as its page is. A title opened from a home row (``?row=``) is
remembered as its page remembers it, so a rating or play of it then counts
for that row (``recommendations.services.engagement``).
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import Cursor as CursorPlace
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param

from accounts.api_access import api_profile, grant_for
from accounts.models import Profile
from activity import selectors as activity_selectors
from activity import services as activity_services
from activity.models import Feedback
from catalog import selectors
from catalog.models import Collection, Genre, Title
from config.pagination import Cursor
from consent.policy import private_session_on
from recommendations.services import engagement

TAGS = ["catalog"]
#: The title list's ``ordering``: the search page's order, then the genre pages'.
RELEVANCE = "relevance"
ORDERINGS = [
    (RELEVANCE, "Best match first (with q only; its default)"),
    *selectors.Sort.choices,
]
#: The years a year or decade filter may name (the genre page's bounds).
YEAR_MIN, YEAR_MAX = 1870, 2100


# --- paging -------------------------------------------------------------------


class TitleCursor(Cursor):
    """A place in the list, for titles.

    Titles are ordered by what changes as viewers rate and search (popularity,
    mean rating, relevance), not by a column that only grows, so the cursor
    holds a place in that order, like the site's "Load more"; its shape is the
    other lists' (``next``/``previous``/``results``).
    """

    offset_cutoff = 1_000_000

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.page_size = self.get_page_size(request)
        self.base_url = request.build_absolute_uri()
        self.cursor = self.decode_cursor(request)
        self.offset = self.cursor.offset if self.cursor else 0
        rows = list(queryset[self.offset : self.offset + self.page_size + 1])
        self.page = rows[: self.page_size]
        self.has_next = len(rows) > self.page_size
        self.has_previous = self.offset > 0
        return self.page

    def get_next_link(self) -> str | None:
        if not self.has_next:
            return None
        return self._link(self.offset + self.page_size)

    def get_previous_link(self) -> str | None:
        if not self.has_previous:
            return None
        return self._link(max(0, self.offset - self.page_size))

    def _link(self, offset: int) -> str:
        if not offset:
            return remove_query_param(self.base_url, self.cursor_query_param)
        return self.encode_cursor(
            CursorPlace(offset=offset, reverse=False, position=None)
        )


class GenreCursor(Cursor):
    ordering = ("name",)


class CollectionCursor(Cursor):
    ordering = ("position", "name", "id")


# --- what goes out ------------------------------------------------------------


class GenreOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.SlugField(help_text="The `genre` filter of the title list.")


class GenreCountOut(GenreOut):
    title_count = serializers.IntegerField(
        help_text="Its titles that can be seen (by the token's profile, if the "
        "token is tied to one)."
    )


@extend_schema_field(OpenApiTypes.URI)
class AbsoluteUrl(serializers.Field):
    """A site path as an absolute URL (the request's scheme and host)."""

    def to_representation(self, value: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(value) if request else value


class TitleOut(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    year = serializers.IntegerField(allow_null=True)
    kind = serializers.ChoiceField(choices=Title.Kind.choices)
    runtime_minutes = serializers.IntegerField(allow_null=True)
    maturity_rating = serializers.CharField(
        help_text="G, PG, PG-13, R, NC-17, or empty when not rated."
    )
    genres = GenreOut(many=True)
    poster_url = AbsoluteUrl(help_text="The title's poster (SVG, cacheable).")
    web_url = AbsoluteUrl(
        source="get_absolute_url", help_text="The title's page on the site."
    )
    average_rating = serializers.FloatField(
        source="rating_mean",
        allow_null=True,
        help_text="Mean of viewers' ratings (0.5–5), null when unrated.",
    )
    rating_count = serializers.IntegerField()


class ProfileStateOut(serializers.Serializer):
    """What the profile did to the title."""

    rating = serializers.FloatField(
        allow_null=True, help_text="Its rating (0.5–5 in half stars), or null."
    )
    thumbs = serializers.ChoiceField(
        choices=[Feedback.Kind.THUMBS_UP, Feedback.Kind.THUMBS_DOWN],
        allow_null=True,
    )
    not_interested = serializers.BooleanField()
    in_my_list = serializers.BooleanField()
    list_item_id = serializers.IntegerField(
        allow_null=True, help_text="Its My List entry, or null."
    )
    progress = serializers.FloatField(
        allow_null=True,
        help_text="How far it got (0–1) when the title is in Continue watching, "
        "else null.",
    )


class TitleDetailOut(TitleOut):
    """A title as its page shows it, with what the profile did to it."""

    # Genres, tags and rating stats come from ``context["facts"]`` (the title
    # page's cached ``selectors.title_facts``), the state from
    # ``context["profile_state"]``.

    alternative_title = serializers.CharField(
        help_text="Original-language or a.k.a. title; may be empty."
    )
    end_year = serializers.IntegerField(
        allow_null=True, help_text="Last year of a series that has ended."
    )
    synopsis = serializers.CharField()
    genres = serializers.SerializerMethodField()
    tags = serializers.SerializerMethodField(help_text="Editorial tags.")
    viewer_tags = serializers.SerializerMethodField(
        help_text="The tags viewers put on it most often."
    )
    average_rating = serializers.SerializerMethodField(
        help_text="Mean of viewers' ratings (0.5–5), null when unrated."
    )
    rating_count = serializers.SerializerMethodField()
    profile_state = serializers.SerializerMethodField()

    @extend_schema_field(GenreOut(many=True))
    def get_genres(self, title: Title) -> list[dict]:
        return GenreOut(self.context["facts"].genres, many=True).data

    def get_tags(self, title: Title) -> list[str]:
        return [tag.name for tag in self.context["facts"].tags]

    def get_viewer_tags(self, title: Title) -> list[str]:
        return [tag.name for tag in self.context["facts"].viewer_tags]

    def get_average_rating(self, title: Title) -> float | None:
        return self.context["facts"].rating_mean

    def get_rating_count(self, title: Title) -> int:
        return self.context["facts"].rating_count

    @extend_schema_field(ProfileStateOut)
    def get_profile_state(self, title: Title) -> dict:
        return ProfileStateOut(self.context["profile_state"]).data


class CollectionOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.SlugField()
    description = serializers.CharField()
    position = serializers.IntegerField(
        help_text="Its place among the home page's rows (0 = first)."
    )
    audience = serializers.ChoiceField(choices=Collection.Audience.choices)
    audience_genres = GenreOut(
        many=True, help_text="With the audience “genres”: for lovers of these."
    )
    starts_at = serializers.DateTimeField(allow_null=True)
    ends_at = serializers.DateTimeField(allow_null=True)
    title_count = serializers.IntegerField(help_text="Its titles the profile may see.")


class CollectionDetailOut(CollectionOut):
    """A collection with the titles of it the profile may see."""

    # The titles are ``context["titles"]`` (``selectors.collection_titles``).

    titles = serializers.SerializerMethodField(help_text="In the curators' order.")

    @extend_schema_field(TitleOut(many=True))
    def get_titles(self, collection: Collection) -> list[dict]:
        return TitleOut(self.context["titles"], many=True, context=self.context).data


# --- what comes in ------------------------------------------------------------


class TitleQuery(serializers.Serializer):
    """The title list's query string; every parameter is optional."""

    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=selectors.MAX_QUERY_LENGTH,
        help_text="Search as the site does: every word in the title, the "
        "alternative title or a genre (the last one may be half typed), or "
        "close to a title despite a typo (“matrx”). Kept in the profile's "
        "search history, as on the site, unless that history is paused.",
    )
    ordering = serializers.ChoiceField(
        choices=ORDERINGS,
        required=False,
        help_text="Default: relevance with q, popular without.",
    )
    genre = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Genre.objects.all(),
        required=False,
        help_text="A genre's slug (GET /api/v1/genres/).",
    )
    year = serializers.IntegerField(
        required=False, min_value=YEAR_MIN, max_value=YEAR_MAX
    )
    decade = serializers.IntegerField(
        required=False,
        min_value=YEAR_MIN,
        max_value=YEAR_MAX,
        help_text="A year ending in 0: 1990 means 1990–1999.",
    )
    runtime = serializers.ChoiceField(
        choices=selectors.Runtime.choices,
        required=False,
        help_text="The genre page's runtime bands.",
    )
    runtime_min = serializers.IntegerField(
        required=False, min_value=1, max_value=10_000, help_text="Minutes, at least."
    )
    runtime_max = serializers.IntegerField(
        required=False, min_value=1, max_value=10_000, help_text="Minutes, at most."
    )
    kind = serializers.ChoiceField(choices=Title.Kind.choices, required=False)

    def validate_q(self, value: str) -> str:
        query, _ = selectors.clean_query(value)
        return query

    def validate_decade(self, value: int) -> int:
        if value % 10:
            raise serializers.ValidationError(
                "A decade is a year ending in 0, like 1990."
            )
        return value

    def validate(self, data: dict) -> dict:
        low, high = data.get("runtime_min"), data.get("runtime_max")
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError(
                {"runtime_max": "Must not be less than runtime_min."}
            )
        if data.get("ordering") == RELEVANCE and not data.get("q"):
            raise serializers.ValidationError(
                {"ordering": "“relevance” orders search results: give q too."}
            )
        return data


# --- the views ----------------------------------------------------------------


class GenreList(GenericAPIView):
    serializer_class = GenreCountOut
    pagination_class = GenreCursor

    @extend_schema(
        tags=TAGS,
        operation_id="genres_list",
        responses=GenreCountOut(many=True),
        summary="Genres",
        description="Every genre holding a title that can be seen, A–Z, with "
        "its number of titles. With a token tied to a profile (or a kids "
        "profile's session) the counts are that profile's: a kids profile "
        "counts only titles for children, as on its genres page.",
    )
    def get(self, request) -> Response:
        genres = selectors.genres_with_counts(profile=grant_for(request).profile)
        page = self.paginate_queryset(genres)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class TitleList(GenericAPIView):
    serializer_class = TitleOut
    pagination_class = TitleCursor

    @extend_schema(
        tags=TAGS,
        operation_id="profiles_titles_list",
        summary="Browse and search titles",
        description="The titles this profile may see (a kids profile: only "
        "titles for children), filtered and ordered as the genre pages do; "
        "with q, matched and ranked as the site's search. The first page of "
        "a search (no cursor) is kept in the profile's search history unless "
        "it is paused.",
        parameters=[TitleQuery],
        responses=TitleOut(many=True),
    )
    def get(self, request, profile_id: int) -> Response:
        profile = api_profile(request, profile_id)
        query = TitleQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = dict(query.validated_data)
        if params.get("ordering") == RELEVANCE:
            params["ordering"] = None
        titles = selectors.browse_titles(
            profile=profile,
            query=params.pop("q", ""),
            sort=params.pop("ordering", None),
            **params,
        )
        page = self.paginate_queryset(titles.prefetch_related("genres"))
        if query.validated_data.get("q") and self.paginator.offset == 0:
            _search_record(request, profile, query.validated_data["q"])
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


def _search_record(request, profile: Profile, query: str) -> None:
    activity_services.search_record(
        profile=profile,
        query=query,
        private_session=private_session_on(request.session, profile),
    )


class TitleDetailQuery(serializers.Serializer):
    row = serializers.ChoiceField(
        choices=engagement.ROW_KINDS,
        required=False,
        help_text="The kind of home row the title was opened from (a home "
        "row's `kind`), as the site's cards link to its page with `?row=`.",
        error_messages={
            "invalid_choice": "“{input}” is not a kind of home row; one of: "
            + ", ".join(engagement.ROW_KINDS)
            + "."
        },
    )


class TitleDetail(GenericAPIView):
    serializer_class = TitleDetailOut

    @extend_schema(
        tags=TAGS,
        operation_id="profiles_titles_retrieve",
        summary="A title",
        description="A title as its page shows it (genres, tags, average "
        "rating) with what this profile did to it. 404 for a title the "
        "profile may not see: withdrawn, or not for children on a kids "
        "profile.\n\n"
        "Opened from a home row, send that row's `kind` as `row`, as the "
        "site's title page gets it: the next rating (`POST …/ratings/`) or "
        "play (`POST …/viewings/`) of this title by this profile counts once "
        "for that kind of row, and rows the profile engages with rise on its "
        "home. The site remembers the opening in the browser session; a "
        "program signed in with a token has it remembered under the token "
        "(for as long as a browser session lasts), so the rating or play "
        "must be sent with the same token. A private browser session counts "
        "nothing.",
        parameters=[TitleDetailQuery],
    )
    def get(self, request, profile_id: int, title_id: int) -> Response:
        profile = api_profile(request, profile_id)
        query = TitleDetailQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        try:
            title = activity_selectors.title_with_state(profile, title_id)
        except Title.DoesNotExist:
            raise NotFound() from None
        if "row" in query.validated_data:
            engagement.row_origin_remember(
                session=engagement.row_origins(
                    session=request._request.session, token=request.auth
                ),
                profile=profile,
                title_id=title.pk,
                row_kind=query.validated_data["row"],
            )
        serializer = self.get_serializer(
            title,
            context={
                **self.get_serializer_context(),
                "facts": selectors.title_facts(title),
                "profile_state": _profile_state(profile, title),
            },
        )
        return Response(serializer.data)


def _profile_state(profile: Profile, title: Title) -> dict:
    """The profile's own state of a title from ``title_with_state``, with its
    My List entry and its place in Continue watching."""
    list_item = (
        activity_selectors.my_list(profile)
        .filter(title=title)
        .values_list("pk", flat=True)
        .first()
    )
    progress = (
        activity_selectors.continue_watching(profile)
        .filter(title=title)
        .values_list("progress", flat=True)
        .first()
    )
    return {
        "rating": title.my_rating,
        "thumbs": title.thumbs,
        "not_interested": title.not_interested,
        "in_my_list": title.on_list,
        "list_item_id": list_item,
        "progress": progress,
    }


class CollectionList(GenericAPIView):
    serializer_class = CollectionOut
    pagination_class = CollectionCursor

    @extend_schema(
        tags=TAGS,
        operation_id="profiles_collections_list",
        responses=CollectionOut(many=True),
        summary="Collections",
        description="The curators' collections this profile may open: active "
        "now, for its audience (kids collections on kids profiles only; those "
        "for lovers of chosen genres on grown-ups' profiles), holding a title "
        "it may see; in their home-page order.",
    )
    def get(self, request, profile_id: int) -> Response:
        profile = api_profile(request, profile_id)
        page = self.paginate_queryset(selectors.collections_for(profile=profile))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class CollectionDetail(GenericAPIView):
    serializer_class = CollectionDetailOut

    @extend_schema(
        tags=TAGS,
        operation_id="profiles_collections_retrieve",
        summary="A collection",
        description="A collection with the titles of it this profile may see, "
        "in the curators' order. 404 for one it may not open (see the list).",
    )
    def get(self, request, profile_id: int, collection_id: int) -> Response:
        profile = api_profile(request, profile_id)
        try:
            collection = selectors.collections_for(profile=profile).get(
                pk=collection_id
            )
        except Collection.DoesNotExist:
            raise NotFound() from None
        titles = selectors.collection_titles(collection, profile=profile)
        serializer = self.get_serializer(
            collection, context={**self.get_serializer_context(), "titles": titles}
        )
        return Response(serializer.data)
