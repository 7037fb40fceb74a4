"""A profile's signals as REST endpoints (``/api/v1/profiles/<id>/…``).

Everything a viewer does to titles on the site, for programs: ratings,
thumbs, "not interested" and picks, My List, plays (start, heartbeat,
finish), Continue Watching and the viewing history. Each view parses its
input, reaches the profile through :func:`accounts.api_access.api_profile`
(another account's: 404; a grant tied to another profile, such as a kids
profile's session: 403), calls the service or selector the HTML pages call,
and renders.

The house rules, the same on every endpoint here:

- A title in a request body is an integer id (``1.5``, ``"1"`` and ``true``
  are a 400 on ``title``) of a title the profile may see
  (:func:`activity.selectors.titles_for`: available, and on a kids profile
  only titles for children). Any other title (withdrawn, R-rated on a kids
  profile, never there) is a **404**, whatever the reason, as its title
  page is; so is an id in the path that is not the profile's (a rating, a
  list item, a viewing).
- Ratings are JSON numbers, one of the ten half stars (4, 4.0 and 4.5;
  never "4", 4.2 or 0).
- Bodies are JSON (another content type is a 415). Lists are
  cursor-paginated, newest first.
- Writes that the pages throttle (ratings, feedback, My List) count in the
  same per-profile bucket (:class:`accounts.throttle.ProfileWriteThrottle`).
- Plays follow the rules of collection (:mod:`activity.services`): while the
  profile's viewing history is paused, or the browser session is private, a
  play is answered 202 with ``"recorded": false`` and nothing is stored.

- A rating or a recorded play of a title opened from a home row
  (``GET …/titles/{id}/?row=<kind>``) counts once for that kind of row, as on
  the site. The opening is remembered where the site remembers it, in the
  browser session, or, for a program, under its token
  (:func:`recommendations.services.engagement.row_origins`).
"""

import math

from django.core.exceptions import ObjectDoesNotExist
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import exceptions, generics, serializers, status
from rest_framework.response import Response

from accounts.api_access import api_profile
from accounts.throttle import ProfileWriteThrottle
from activity import selectors, services
from activity.devices import device_class_from_user_agent
from activity.forms import MAX_SECONDS_WATCHED
from activity.models import RATING_VALUES, Feedback, Impression, ViewingEvent
from catalog.models import Episode
from config.parsers import JSONParser
from consent.policy import private_session_on
from privacy import services as privacy_services
from recommendations.services import engagement

TAGS = ["activity"]
#: The largest id PostgreSQL's bigint holds; a larger one names nothing.
MAX_ID = 2**63 - 1
HALF_STARS = ", ".join(f"{value:g}" for value in RATING_VALUES)


# --- input fields ----------------------------------------------------------------


def _whole_number(data) -> int | None:
    """``data`` as an id if it is a JSON integer (``1`` or ``1.0``), else None."""
    if isinstance(data, bool):
        return None
    if isinstance(data, int):
        return data
    if isinstance(data, float) and data.is_integer():
        return int(data)
    return None


@extend_schema_field(OpenApiTypes.INT)
class TitleField(serializers.PrimaryKeyRelatedField):
    """An integer id of a title the profile (``context["profile"]``) may see;
    any other title is a 404, as its page is."""

    default_error_messages = {
        "required": "Say which title: its id.",
        "incorrect_type": "A title is named by its id, a whole number; "
        "{data_type} is not one.",
    }

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault(
            "help_text",
            "The title's id: one this profile may see (on a kids profile, a "
            "title for children); any other title answers 404.",
        )
        super().__init__(**kwargs)

    def get_queryset(self):
        return selectors.titles_for(self.context["profile"])

    def to_internal_value(self, data):
        pk = _whole_number(data)
        if pk is None:
            shown = repr(data) if isinstance(data, str) else data
            self.fail("incorrect_type", data_type=shown)
        if 1 <= pk <= MAX_ID:
            title = self.get_queryset().filter(pk=pk).first()
            if title is not None:
                return title
        raise exceptions.NotFound(f"No such title: {pk}.")


@extend_schema_field(
    {
        "type": "number",
        "minimum": RATING_VALUES[0],
        "maximum": RATING_VALUES[-1],
        "multipleOf": 0.5,
        "description": f"Half stars: one of {HALF_STARS}.",
    }
)
class HalfStarsField(serializers.Field):
    """A rating: a JSON number that is one of the ten half stars."""

    default_error_messages = {
        "invalid": f"A rating is a number of stars: one of {HALF_STARS}.",
        "invalid_choice": f"{{input}} is not a rating: give one of {HALF_STARS}.",
    }

    def to_internal_value(self, data) -> float:
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            self.fail("invalid")
        if data not in RATING_VALUES:  # no float(): 10**400 has none
            self.fail("invalid_choice", input=data)
        return float(data)

    def to_representation(self, value) -> float:
        return float(value)


class StrictFloatField(serializers.FloatField):
    """A JSON number (not a string, not ``true``), finite, within bounds."""

    def to_internal_value(self, data) -> float:
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            self.fail("invalid")
        try:
            number = float(data)
        except OverflowError:  # an integer too large for a float
            self.fail("invalid")
        if not math.isfinite(number):
            self.fail("invalid")
        return super().to_internal_value(number)


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer (not a string, not ``true``, not ``1.5``), within bounds."""

    def to_internal_value(self, data) -> int:
        number = _whole_number(data)
        if number is None:
            self.fail("invalid")
        return super().to_internal_value(number)


class DeviceField(serializers.ChoiceField):
    """A device class; stored as "" when unknown, shown as null."""

    def __init__(self, **kwargs) -> None:
        super().__init__(choices=ViewingEvent.Device.choices, **kwargs)

    def to_representation(self, value):
        return value or None


class ProfileInput(serializers.Serializer):
    # A request body naming titles of one profile (``profile=``), which its
    # TitleField reads from the context.

    def __init__(self, *args, profile=None, **kwargs) -> None:
        if profile is not None:
            kwargs["context"] = {"profile": profile}
        super().__init__(*args, **kwargs)


# --- views' common parts ---------------------------------------------------------


class _ProfileView(generics.GenericAPIView):
    """An endpoint of one profile (``profile_id`` in the path); JSON bodies.

    OPTIONS is a 405: the published schema describes each operation (DRF's
    metadata would describe the output serializers as if they were input).
    """

    parser_classes = [JSONParser]
    metadata_class = None

    def profile(self):
        return api_profile(self.request, self.kwargs["profile_id"])

    def valid(self, serializer: serializers.Serializer) -> dict:
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def query(self, serializer_class) -> dict:
        return self.valid(serializer_class(data=self.request.query_params))

    def page(self, rows) -> Response:
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def row_engagement_note(self, profile, title_id: int, take: str = "") -> None:
        """Counts this rating or play for the home row the title was opened
        from, if it was (``?row=`` on the title), and with ``take`` marks the
        title's latest impression taken, as the site's pages do."""
        engagement.row_engagement_note(
            session=engagement.row_origins(
                session=self.request._request.session, token=self.request.auth
            ),
            profile=profile,
            title_id=title_id,
            take=take,
        )


def _found(query, **lookup):
    """One row of ``query`` (a selector's rows of the profile), else a 404."""
    try:
        return query.get(**lookup)
    except ObjectDoesNotExist:
        raise exceptions.NotFound() from None


def _created_or_updated(body: dict, created: bool) -> Response:
    return Response(body, status=status.HTTP_201_CREATED if created else 200)


class TitleQuery(serializers.Serializer):
    title = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text="Only the row of this title (its id).",
    )


def _of_title(rows, params: dict):
    return rows.filter(title_id=params["title"]) if "title" in params else rows


NO_CONTENT = {204: OpenApiResponse(description="Done; nothing to return.")}


# --- ratings ---------------------------------------------------------------------


class RatingOut(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.IntegerField(source="title_id", help_text="The title's id.")
    value = HalfStarsField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField(help_text="When it was last changed.")


class RatingIn(ProfileInput):
    """A rating of a title."""

    title = TitleField()
    value = HalfStarsField()


class ProfileRatings(_ProfileView):
    serializer_class = RatingOut
    ordering = ("-updated_at", "-id")
    throttle_classes = [ProfileWriteThrottle]

    @extend_schema(
        tags=TAGS,
        summary="Ratings",
        responses=RatingOut(many=True),
        description="The profile's ratings, the latest rated or changed first "
        "(as the Ratings page), of titles it may see.",
        parameters=[TitleQuery],
    )
    def get(self, request, profile_id: int) -> Response:
        profile = self.profile()
        rows = _of_title(selectors.ratings(profile), self.query(TitleQuery))
        return self.page(rows)

    @extend_schema(
        tags=TAGS,
        summary="Rate a title",
        description="Rates a title in half stars (a JSON number: one of "
        f"{HALF_STARS}). One rating per title: rating it again changes it "
        "(200); a first rating is 201. The profile's rows learn from it. A "
        "title opened from a home row (`GET …/titles/{id}/?row=<kind>`) counts "
        "once for that row, with the same token or browser session.",
        request=RatingIn,
        responses={
            201: OpenApiResponse(RatingOut, description="A first rating."),
            200: OpenApiResponse(RatingOut, description="The rating, changed."),
        },
    )
    def post(self, request, profile_id: int) -> Response:
        profile = self.profile()
        data = self.valid(RatingIn(data=request.data, profile=profile))
        rating, created = services.rating_upsert(profile=profile, **data)
        self.row_engagement_note(
            profile, rating.title_id, Impression.Take.RATING if created else ""
        )
        return _created_or_updated(RatingOut(rating).data, created)


class ProfileRating(_ProfileView):
    serializer_class = RatingOut
    throttle_classes = [ProfileWriteThrottle]

    def rating(self, profile):
        return _found(selectors.ratings(profile), pk=self.kwargs["rating_id"])

    @extend_schema(tags=TAGS, summary="A rating")
    def get(self, request, profile_id: int, rating_id: int) -> Response:
        return Response(RatingOut(self.rating(self.profile())).data)

    @extend_schema(
        tags=TAGS,
        summary="Delete a rating",
        description="Deletes the rating as the Ratings page's “Delete rating” "
        "does: the privacy centre's erasure of one item (noted in the consent "
        "log; the rating leaves the profile's rows, its candidates and every "
        "later training; exports made before it are withdrawn).",
        responses=NO_CONTENT,
    )
    def delete(self, request, profile_id: int, rating_id: int) -> Response:
        profile = self.profile()
        rating = self.rating(profile)
        try:
            privacy_services.erase_item(
                profile=profile, kind="rating", item_id=rating.pk
            )
        except ObjectDoesNotExist:  # deleted in the meantime
            raise exceptions.NotFound() from None
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- feedback --------------------------------------------------------------------

FEEDBACK_KINDS = (
    "thumbs_up and thumbs_down (a title liked or not; each replaces the "
    "other), not_interested (never suggested to the profile again: a hard "
    "filter on every surface), show_fewer (soft: similar titles, and this one, "
    "move down in the rows; nothing is hidden) and pick (chosen at onboarding)"
)


class FeedbackOut(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.IntegerField(source="title_id", help_text="The title's id.")
    kind = serializers.ChoiceField(choices=Feedback.Kind.choices)
    created_at = serializers.DateTimeField()


class FeedbackIn(ProfileInput):
    """Feedback on a title."""

    title = TitleField()
    kind = serializers.ChoiceField(
        choices=Feedback.Kind.choices, help_text=f"One of {FEEDBACK_KINDS}."
    )


class FeedbackQuery(TitleQuery):
    kind = serializers.ChoiceField(
        choices=Feedback.Kind.choices, required=False, help_text="Only this kind."
    )


class ProfileFeedback(_ProfileView):
    serializer_class = FeedbackOut
    ordering = ("-created_at", "-id")
    throttle_classes = [ProfileWriteThrottle]

    @extend_schema(
        tags=TAGS,
        summary="Feedback",
        responses=FeedbackOut(many=True),
        description=f"The profile's feedback, latest first: {FEEDBACK_KINDS}.",
        parameters=[FeedbackQuery],
    )
    def get(self, request, profile_id: int) -> Response:
        profile = self.profile()
        params = self.query(FeedbackQuery)
        rows = _of_title(selectors.feedback(profile), params)
        if "kind" in params:
            rows = rows.filter(kind=params["kind"])
        return self.page(rows)

    @extend_schema(
        tags=TAGS,
        summary="Give feedback on a title",
        description=f"Records feedback: {FEEDBACK_KINDS}. 201 with the new row; "
        "200 with the row that was already there. The profile's rows learn "
        "from it. Undo with DELETE on the row.",
        request=FeedbackIn,
        responses={
            201: OpenApiResponse(FeedbackOut, description="Recorded."),
            200: OpenApiResponse(FeedbackOut, description="It was already there."),
        },
    )
    def post(self, request, profile_id: int) -> Response:
        profile = self.profile()
        data = self.valid(FeedbackIn(data=request.data, profile=profile))
        feedback, created = services.feedback_add(profile=profile, **data)
        return _created_or_updated(FeedbackOut(feedback).data, created)


class ProfileFeedbackItem(_ProfileView):
    serializer_class = FeedbackOut
    throttle_classes = [ProfileWriteThrottle]

    def feedback(self, profile):
        return _found(selectors.feedback(profile), pk=self.kwargs["feedback_id"])

    @extend_schema(tags=TAGS, summary="One feedback")
    def get(self, request, profile_id: int, feedback_id: int) -> Response:
        return Response(FeedbackOut(self.feedback(self.profile())).data)

    @extend_schema(
        tags=TAGS,
        summary="Undo feedback",
        description="Takes the thumb, the “not interested” or the pick back, as "
        "the title page's and onboarding's undo do.",
        responses=NO_CONTENT,
    )
    def delete(self, request, profile_id: int, feedback_id: int) -> Response:
        profile = self.profile()
        feedback = self.feedback(profile)
        services.feedback_remove(
            profile=profile, title=feedback.title, kind=feedback.kind
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- My List ---------------------------------------------------------------------


class ListItemOut(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.IntegerField(source="title_id", help_text="The title's id.")
    added_at = serializers.DateTimeField()


class ListItemIn(ProfileInput):
    """A title for My List."""

    title = TitleField()


class ProfileMyList(_ProfileView):
    serializer_class = ListItemOut
    ordering = ("-added_at", "-id")
    throttle_classes = [ProfileWriteThrottle]

    @extend_schema(
        tags=TAGS,
        summary="My List",
        responses=ListItemOut(many=True),
        description="The titles on the profile's My List, the latest added first.",
        parameters=[TitleQuery],
    )
    def get(self, request, profile_id: int) -> Response:
        profile = self.profile()
        return self.page(_of_title(selectors.my_list(profile), self.query(TitleQuery)))

    @extend_schema(
        tags=TAGS,
        summary="Add to My List",
        description="Puts a title on My List: 201 with the new item, 200 with "
        "the item when the title was there already (it keeps its place).",
        request=ListItemIn,
        responses={
            201: OpenApiResponse(ListItemOut, description="Added."),
            200: OpenApiResponse(ListItemOut, description="It was there already."),
        },
    )
    def post(self, request, profile_id: int) -> Response:
        profile = self.profile()
        data = self.valid(ListItemIn(data=request.data, profile=profile))
        item, created = services.list_add(profile=profile, **data)
        return _created_or_updated(ListItemOut(item).data, created)


class ProfileMyListItem(_ProfileView):
    serializer_class = ListItemOut
    throttle_classes = [ProfileWriteThrottle]

    @extend_schema(
        tags=TAGS,
        summary="Remove from My List",
        description="Takes the item's title off My List, as the My List page's "
        "remove button does.",
        responses=NO_CONTENT,
    )
    def delete(self, request, profile_id: int, item_id: int) -> Response:
        profile = self.profile()
        item = _found(selectors.my_list(profile), pk=item_id)
        services.list_remove(profile=profile, title=item.title)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- viewings: play, heartbeat, finish ---------------------------------------------


class EpisodeOut(serializers.Serializer):
    """The episode of a series a viewing played."""

    id = serializers.IntegerField()
    season = serializers.IntegerField(source="season.number")
    number = serializers.IntegerField(help_text="Its number in its season.")
    code = serializers.CharField(help_text="“S2:E4”.")
    title = serializers.CharField(source="display_title")


class ViewingOut(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.IntegerField(source="title_id", help_text="The title's id.")
    episode = EpisodeOut(
        allow_null=True,
        help_text="The episode played, of a series with episodes; null for a film.",
    )
    started_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField(help_text="The latest heartbeat.")
    progress = serializers.FloatField(
        min_value=0, max_value=1, help_text="How far it got, from 0 to 1."
    )
    position_seconds = serializers.SerializerMethodField(
        help_text="Where it got to in the title, in seconds (progress × runtime)."
    )
    runtime_seconds = serializers.SerializerMethodField(
        help_text="The title's (or the episode's) runtime in seconds (100 "
        "minutes when unknown)."
    )
    seconds_watched = serializers.IntegerField(min_value=0)
    device = DeviceField(
        source="device_class",
        allow_null=True,
        help_text="The device class; null when unknown or when contextual "
        "signals are off.",
    )
    completed = serializers.BooleanField(help_text="Watched to the end (90% or more).")

    def get_runtime_seconds(self, viewing: ViewingEvent) -> int:
        return viewing.play_seconds

    def get_position_seconds(self, viewing: ViewingEvent) -> int:
        return round(viewing.progress * viewing.play_seconds)


NOT_RECORDED_REASONS = [
    (selectors.NOT_KEPT_HISTORY_PAUSED, "Viewing history is paused"),
    (selectors.NOT_KEPT_PRIVATE_SESSION, "A private browser session"),
    (
        selectors.NOT_KEPT_NON_PROFILING,
        "Rows not based on activity, and plays not kept for Continue watching",
    ),
]


class PlayOut(ViewingOut):
    """A play, and whether it is recorded."""

    # context: "recorded" (bool) and "reason" (a NOT_KEPT_* or None).

    id = serializers.IntegerField(
        allow_null=True,
        help_text="The viewing's id, for its heartbeats; null when not recorded.",
    )
    recorded = serializers.SerializerMethodField(
        help_text="Whether this play is stored. It is not while the profile's "
        "viewing history is paused or the browser session is private: the "
        "title plays all the same, and is forgotten."
    )
    not_recorded_reason = serializers.SerializerMethodField(
        help_text="Why the play is not stored; null when it is."
    )

    @extend_schema_field(serializers.BooleanField())
    def get_recorded(self, viewing: ViewingEvent) -> bool:
        return self.context["recorded"]

    @extend_schema_field(
        serializers.ChoiceField(choices=NOT_RECORDED_REASONS, allow_null=True)
    )
    def get_not_recorded_reason(self, viewing: ViewingEvent) -> str | None:
        return self.context["reason"]


class PlayIn(ProfileInput):
    """A play to start."""

    title = TitleField()
    start = serializers.ChoiceField(
        choices=[("resume", "Resume"), ("beginning", "From the beginning")],
        default="resume",
        help_text="resume: from where the latest play stopped (unless it was "
        "finished); beginning: from the start.",
    )
    device = serializers.ChoiceField(
        choices=ViewingEvent.Device.choices,
        required=False,
        help_text="The device class playing it; told from the User-Agent when "
        "left out. Kept only while the profile allows contextual signals.",
    )
    episode = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="Of a series: the episode's id. Left out, the episode that "
        "comes next for the profile (the one it stopped in, or the one after "
        "the last it finished).",
    )

    def validate(self, attrs: dict) -> dict:
        if "episode" in attrs:
            try:
                attrs["episode"] = selectors.episodes_of(attrs["title"]).get(
                    pk=attrs["episode"]
                )
            except Episode.DoesNotExist:
                raise serializers.ValidationError(
                    {"episode": "Not an episode of this title."}, code="invalid"
                ) from None
        return attrs


class HeartbeatIn(serializers.Serializer):
    """How far a play got (at least one of the two)."""

    progress = StrictFloatField(
        required=False,
        min_value=0.0,
        max_value=1.0,
        help_text="How far the play got, from 0 to 1. It never goes back: a "
        "smaller value changes nothing.",
    )
    seconds_watched = StrictIntegerField(
        required=False,
        min_value=0,
        max_value=MAX_SECONDS_WATCHED,
        help_text="Seconds watched so far in this play; when left out, the "
        "progress gained counts as watched.",
    )

    def validate(self, attrs: dict) -> dict:
        if not attrs:
            raise serializers.ValidationError(
                "Send progress, seconds_watched or both.", code="required"
            )
        return attrs


PLAYED = {
    200: OpenApiResponse(PlayOut, description="Recorded."),
    202: OpenApiResponse(
        PlayOut,
        description="Not recorded (viewing history paused or a private "
        "session): nothing was stored.",
    ),
}


class _Play(_ProfileView):
    """Plays as the player page records them."""

    def played(self, viewing, *, profile, private: bool, kept: bool, new=False):
        reason = None
        if not kept:
            reason = (
                selectors.viewing_not_kept_reason(profile, private_session=private)
                or selectors.NOT_KEPT_HISTORY_PAUSED
            )
        body = PlayOut(viewing, context={"recorded": kept, "reason": reason}).data
        if not kept:
            code = status.HTTP_202_ACCEPTED
        else:
            code = status.HTTP_201_CREATED if new else status.HTTP_200_OK
        return Response(body, status=code)

    def private(self, profile) -> bool:
        return private_session_on(self.request._request.session, profile)

    def viewing(self, profile) -> ViewingEvent:
        try:
            viewing = selectors.viewing_of(profile, self.kwargs["viewing_id"])
        except ViewingEvent.DoesNotExist:
            raise exceptions.NotFound() from None
        viewing.profile = profile  # with its privacy settings loaded
        return viewing

    def heartbeat(self, viewing, *, profile, progress, seconds_watched) -> Response:
        private = self.private(profile)
        kept = services.viewing_kept(viewing, private_session=private)
        viewing = services.viewing_heartbeat(
            viewing=viewing,
            progress=progress,
            seconds_watched=seconds_watched,
            private_session=private,
        )
        return self.played(viewing, profile=profile, private=private, kept=kept)


class ProfileViewings(_Play):
    @extend_schema(
        tags=TAGS,
        summary="Start playing a title",
        description="Starts a play, as the title page's Play button: a new "
        "viewing, from where the latest one stopped (start: resume) or from "
        "the beginning. Send its heartbeats to PATCH …/viewings/{id}/ as it "
        "plays. 201 when recorded; 202 with recorded false and id null while "
        "viewing history is paused or the session is private. A recorded play "
        "of a title opened from a home row (`GET …/titles/{id}/?row=<kind>`) "
        "counts once for that row, with the same token or browser session.",
        request=PlayIn,
        responses={
            201: OpenApiResponse(PlayOut, description="Started and recorded."),
            202: PLAYED[202],
        },
    )
    def post(self, request, profile_id: int) -> Response:
        profile = self.profile()
        data = self.valid(PlayIn(data=request.data, profile=profile))
        device = data.get("device") or device_class_from_user_agent(
            request.headers.get("User-Agent", "")
        )
        private = self.private(profile)
        viewing = services.viewing_start(
            profile=profile,
            title=data["title"],
            episode=data.get("episode"),
            device_class=device,
            resume=data["start"] == "resume",
            private_session=private,
        )
        kept = viewing.pk is not None
        if kept:
            self.row_engagement_note(profile, viewing.title_id, Impression.Take.PLAY)
        return self.played(
            viewing, profile=profile, private=private, kept=kept, new=True
        )


class ProfileViewing(_Play):
    @extend_schema(
        tags=TAGS,
        summary="A play's heartbeat",
        description="How far the play got, as the player reports it. Progress "
        "and seconds watched only grow; at 90% the title counts as watched. "
        "202 with recorded false when nothing is stored (viewing history "
        "paused since, or a private session).",
        request=HeartbeatIn,
        responses=PLAYED,
    )
    def patch(self, request, profile_id: int, viewing_id: int) -> Response:
        profile = self.profile()
        viewing = self.viewing(profile)
        data = self.valid(HeartbeatIn(data=request.data))
        return self.heartbeat(
            viewing,
            profile=profile,
            progress=data.get("progress", viewing.progress),
            seconds_watched=data.get("seconds_watched"),
        )


class ProfileViewingFinish(_Play):
    @extend_schema(
        tags=TAGS,
        summary="Mark as watched",
        description="Marks the play as watched to the end, as the player's “Mark "
        "as watched” button: the progress gained counts as watched.",
        request=None,
        responses=PLAYED,
    )
    def post(self, request, profile_id: int, viewing_id: int) -> Response:
        profile = self.profile()
        viewing = self.viewing(profile)
        return self.heartbeat(
            viewing, profile=profile, progress=1.0, seconds_watched=None
        )


# --- Continue Watching and the history -----------------------------------------------


class ProfileContinueWatching(_ProfileView):
    serializer_class = ViewingOut
    ordering = ("-started_at", "-id")

    @extend_schema(
        tags=TAGS,
        summary="Continue Watching",
        responses=ViewingOut(many=True),
        description="The Continue Watching row: the latest viewing of each "
        "title left unfinished and not removed from the row, the latest "
        "started first.",
    )
    def get(self, request, profile_id: int) -> Response:
        return self.page(selectors.continue_watching(self.profile()))


class ProfileContinueWatchingTitle(_ProfileView):
    serializer_class = ViewingOut

    @extend_schema(
        tags=TAGS,
        summary="Remove from Continue Watching",
        description="Takes the title off the row (its history stays), until it "
        "is played again. 404 when the title is not on the row.",
        responses=NO_CONTENT,
    )
    def delete(self, request, profile_id: int, title_id: int) -> Response:
        profile = self.profile()
        try:
            viewing = selectors.continue_watching_of(profile, title_id)
        except ViewingEvent.DoesNotExist:
            raise exceptions.NotFound() from None
        services.viewing_dismiss(viewing=viewing)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProfileHistory(_ProfileView):
    serializer_class = ViewingOut
    ordering = ("-started_at", "-id")

    @extend_schema(
        tags=TAGS,
        summary="Viewing history",
        responses=ViewingOut(many=True),
        description="Every recorded play, the latest started first, as the "
        "History page lists them. Erase one with the privacy centre's item "
        "erasure (kind “play”).",
    )
    def get(self, request, profile_id: int) -> Response:
        return self.page(selectors.history(self.profile()))
