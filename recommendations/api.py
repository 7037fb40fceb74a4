"""The recommender through the API: a profile's home page as JSON, "Why
this?", More like this, the titles it asked not to seed rows, onboarding's
titles, its stored candidates; and, for staff, model versions (list, promote,
roll back, train now).

Every view calls what the site's page calls, so both say the same:
the home page is :func:`recommendations.home.cache.cached_page`, the build
the HTML home renders (same rows, order, headings, reasons and match scores,
one cache); "Why this?" is :func:`recommendations.home.why.why_cards`, the
popover's sentences (each card's, from the row it sits in); More like this is
:func:`recommendations.selectors.more_like_this`; "Don't use as a seed" and
"Use again" are the home page's (``services.engagement``); onboarding is
:func:`catalog.selectors.onboarding_set`; the staff actions are the admin's
(``services.training``).
"""

from dataclasses import asdict

from django.http import Http404
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import exceptions, generics, serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api_access import ApiAccess, api_profile
from activity.devices import device_class_from_user_agent
from activity.models import Impression, ViewingEvent
from activity.selectors import recommendable_for, titles_for
from catalog import selectors as catalog_selectors
from catalog.api import AbsoluteUrl
from catalog.models import Title
from config.api_schema import ErrorResponse
from config.pagination import Cursor
from consent.models import PrivacySettings
from consent.policy import settings_for
from recommendations import selectors
from recommendations.engine.rerank import MOODS
from recommendations.home.cache import cached_page
from recommendations.home.page import Tuning
from recommendations.home.why import why_page, why_this
from recommendations.models import ModelVersion, ProfileCandidates
from recommendations.services import engagement, impressions, training

TAGS = ["recommendations"]


def _conflict(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorResponse, description=description)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"


# --- the home page ------------------------------------------------------------------


class HomeQuery(serializers.Serializer):
    """What the home page's controls set, for this page only (nothing is saved;
    the saved exploration and calibration are privacy settings)."""

    mood = serializers.ChoiceField(
        choices=list(MOODS),
        required=False,
        allow_blank=True,
        help_text="A mood chip; empty or absent: “Anything”.",
    )
    exploration = serializers.IntegerField(
        min_value=0,
        max_value=PrivacySettings.EXPLORATION_MAX,
        required=False,
        help_text="Instead of the saved exploration (0 familiar … 100 adventurous).",
    )
    calibration = serializers.BooleanField(
        required=False,
        allow_null=True,
        help_text="Instead of the saved calibration: keep the genre mix of the "
        "history in Top picks.",
    )
    hour = serializers.IntegerField(
        min_value=0,
        max_value=23,
        required=False,
        help_text="The local hour of the context (default: now). Used only when "
        "the profile allows contextual signals.",
    )
    device = serializers.ChoiceField(
        choices=ViewingEvent.Device.choices,
        required=False,
        help_text="The device of the context (default: told from the "
        "User-Agent, as the site does). Used only when the profile allows "
        "contextual signals.",
    )


class HomeItem(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    title = serializers.CharField()
    year = serializers.IntegerField(allow_null=True)
    poster_url = AbsoluteUrl(help_text="The poster image (SVG, cacheable).")
    match = serializers.IntegerField(
        allow_null=True,
        help_text="Match score, 0–100 %, on every item of a row ranked for the "
        "profile; null on every item of the others (Continue watching, My List, "
        "Trending, Top 10, New, collections), whose caption says why instead.",
    )
    caption = serializers.CharField(
        source="why",
        help_text="The card's short line (“Because you liked Heat”, “30% watched”"
        ", “S2:E4” for the episode a series resumes at, “Trending in Drama”…); "
        "may be empty.",
    )
    new = serializers.BooleanField(
        source="is_new",
        help_text="The card's “New” flag: in Top picks and “Because you…” rows, "
        "a title nobody had watched when the model was trained (placed by its "
        "content), or one added in the last 30 days and not yet rated.",
    )
    rank = serializers.IntegerField(
        help_text="On the Top 10, its chart number; elsewhere its place among "
        "the row's picks (from 1)."
    )
    progress = serializers.IntegerField(
        allow_null=True, help_text="Percent watched, when in progress."
    )
    viewing = serializers.IntegerField(
        source="viewing_id",
        allow_null=True,
        help_text="The viewing in progress (to remove it from Continue watching).",
    )
    why = serializers.SerializerMethodField(
        help_text="“Why this?”: the sentences the site's popover shows for "
        "this card, the reason it is in this row first."
    )

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_why(self, title: Title) -> list[str]:
        return self.context["why"][title.row_key, title.pk]


class HomeRow(serializers.Serializer):
    key = serializers.CharField(help_text="Unique on the page, stable for a row.")
    kind = serializers.ChoiceField(
        choices=engagement.ROW_KINDS,
        help_text="What the row is (see the site's rule book). Open a title "
        "of it with `GET …/titles/{id}/?row=<kind>` and a rating or play of "
        "it then counts for this kind of row.",
    )
    title = serializers.CharField(source="name", help_text="The row's heading.")
    reason = serializers.CharField(help_text="The line under the heading.")
    seed = serializers.IntegerField(
        source="seed_id",
        allow_null=True,
        help_text="The title that seeds a “Because you…” row, else null.",
    )
    items = HomeItem(source="titles", many=True)


class Mood(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()


class Controls(serializers.Serializer):
    exploration = serializers.IntegerField()
    calibration = serializers.BooleanField()


class BubbleGenre(serializers.Serializer):
    genre = serializers.CharField()
    shown = serializers.FloatField(help_text="Share of the titles shown (0–1).")
    catalog = serializers.FloatField(help_text="Share of the catalog (0–1).")


class SeedTitle(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    title = serializers.CharField()


class HomeOut(serializers.Serializer):
    profile = serializers.IntegerField()
    personalized = serializers.BooleanField()
    note = serializers.CharField(
        help_text="Why the rows are not personal (personalization off, nothing "
        "known yet, no model); empty when they are."
    )
    mood = serializers.CharField(help_text="The mood applied; empty: none.")
    moods = Mood(many=True, help_text="The mood chips, in order.")
    controls = Controls(
        allow_null=True,
        help_text="Exploration and calibration as applied (the saved settings, "
        "or the query's); null on a kids profile, which has no controls.",
    )
    rows = HomeRow(many=True)
    bubble = BubbleGenre(
        many=True,
        help_text="Genres of the titles shown against the catalog, most shown "
        "first (the site draws the first six); empty when not personal.",
    )
    excluded_seeds = SeedTitle(
        many=True,
        help_text="Titles the profile asked not to use as seeds (`…/excluded-seeds/`).",
    )


class HomeView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="The home page",
        description="The profile's home page: the rows the site's home shows, "
        "in the same order, with the same headings, reasons, match scores and "
        "“Why this?” sentences, built by the same row builders (one build serves "
        "both). A kids profile gets the kids rows. Without personalization (off, "
        "nothing known yet, no model) the rows everyone gets, and `note` says "
        "why. One object of a fixed, small number of rows: not paginated. "
        "Each call keeps the cards it returns as impressions (the take rate; "
        "in the privacy centre as “Rows you were shown”), except while viewing "
        "history is paused or personalized rows are off.",
        parameters=[HomeQuery],
        responses=HomeOut,
    )
    def get(self, request, profile_id: int) -> Response:
        profile = api_profile(request, profile_id)
        query = HomeQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        asked = query.validated_data
        tuning = Tuning(
            exploration=asked.get("exploration"),
            calibration=asked.get("calibration"),
            hour=asked.get("hour"),
        )
        device = asked.get("device") or device_class_from_user_agent(
            request.headers.get("User-Agent", "")
        )
        mood = asked.get("mood", "")
        page = cached_page(profile=profile, mood=mood, device=device, tuning=tuning)
        impressions.page_view_record(
            profile=profile,
            page=page,
            surface=Impression.Surface.API,
            device=device,
            session=request._request.session,
        )
        why = why_page(profile=profile, page=page)
        controls = None if profile.is_kids else tuning.over(settings_for(profile))
        body = {
            "profile": profile.pk,
            "personalized": page.personalized,
            "note": page.note,
            "mood": mood,
            "moods": [{"key": m.key, "label": m.label} for m in MOODS.values()],
            "controls": asdict(controls) if controls else None,
            "rows": page.rows,
            "bubble": [
                {"genre": genre, "shown": shown, "catalog": whole}
                for genre, shown, whole in (page.bubble if page.personalized else [])
            ],
            "excluded_seeds": page.excluded_seeds,
        }
        return Response(HomeOut(body, context={"why": why, "request": request}).data)


# --- one title: why, and more like it ------------------------------------------------


class WhyQuery(serializers.Serializer):
    row = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="The key of the row the title's card sits in (a home row's "
        "`key`): its reason comes first, as on that card. Absent: no row.",
    )


class WhyOut(serializers.Serializer):
    title = serializers.IntegerField()
    reasons = serializers.ListField(child=serializers.CharField())


def _title_for(profile, title_id: int) -> Title:
    """A title the profile may open (a kids profile: kids' titles only), else 404."""
    try:
        return titles_for(profile).get(pk=title_id)
    except Title.DoesNotExist:
        raise Http404 from None


class WhyView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Why this title?",
        description="Why the title may be on the profile's home, in the sentences "
        "the site's “Why this?” shows, read from the data the profile still "
        "has; with `row`, the sentences of its card in that row. A title the "
        "profile may not open is a 404.",
        parameters=[WhyQuery],
        responses=WhyOut,
    )
    def get(self, request, profile_id: int, title_id: int) -> Response:
        profile = api_profile(request, profile_id)
        title = _title_for(profile, title_id)
        query = WhyQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        row = query.validated_data.get("row") or None
        reasons = why_this(profile=profile, title=title, row=row)
        return Response(WhyOut({"title": title.pk, "reasons": reasons}).data)


class SimilarTitle(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    title = serializers.CharField()
    year = serializers.IntegerField(allow_null=True)
    poster_url = AbsoluteUrl(help_text="The poster image (SVG, cacheable).")
    rating_count = serializers.IntegerField()
    rating_mean = serializers.FloatField(allow_null=True)


class MoreLikeThisOut(serializers.Serializer):
    title = serializers.IntegerField()
    source = serializers.ChoiceField(
        choices=["model", "genres"],
        help_text="model: viewers who watched it also watched these; genres: "
        "popular titles sharing its genres (no model, or nothing left from it).",
    )
    titles = SimilarTitle(many=True)


class MoreLikeThisView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="More like this",
        description="The title page's “More like this” row for the profile: "
        f"at most {selectors.MORE_LIKE_THIS} titles it may see and has not "
        "rated nor turned down, most alike first. Not paginated.",
        responses=MoreLikeThisOut,
    )
    def get(self, request, profile_id: int, title_id: int) -> Response:
        profile = api_profile(request, profile_id)
        title = _title_for(profile, title_id)
        similar = selectors.more_like_this(profile, title)
        body = {"title": title.pk, "source": similar.source, "titles": similar.titles}
        return Response(MoreLikeThisOut(body, context={"request": request}).data)


# --- "Don't use as a seed" ----------------------------------------------------------


class ExcludedSeedOut(serializers.Serializer):
    id = serializers.IntegerField(source="title_id", help_text="The title's id.")
    title = serializers.CharField(source="title.title")
    excluded_at = serializers.DateTimeField(source="created_at")


class ExcludedSeedCursor(Cursor):
    ordering = ("-created_at", "-id")


class ExcludedSeedList(generics.GenericAPIView):
    serializer_class = ExcludedSeedOut
    pagination_class = ExcludedSeedCursor

    @extend_schema(
        tags=TAGS,
        operation_id="profiles_excluded_seeds_list",
        summary="Titles not used as seeds",
        description="The titles the profile asked not to seed “Because you…” "
        "rows (the home page's “Don't use as a seed”), the latest first; "
        "their ratings and viewings stay. Add one with PUT "
        "`…/excluded-seeds/{title_id}/`; let it seed again with DELETE.",
        responses=ExcludedSeedOut(many=True),
    )
    def get(self, request, profile_id: int) -> Response:
        profile = api_profile(request, profile_id)
        page = self.paginate_queryset(selectors.excluded_seeds(profile))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


NOT_EXCLUDED = "This title is not excluded from seeding rows."


class ExcludedSeed(APIView):
    """One title of the profile's excluded seeds, named by the title's id."""

    @extend_schema(
        tags=TAGS,
        operation_id="profiles_excluded_seeds_retrieve",
        summary="Is a title excluded as a seed?",
        description="200 when the profile asked the title not to seed rows; "
        "404 when it did not, or may not see the title.",
        responses=ExcludedSeedOut,
    )
    def get(self, request, profile_id: int, title_id: int) -> Response:
        profile = api_profile(request, profile_id)
        title = _title_for(profile, title_id)
        exclusion = selectors.excluded_seeds(profile).filter(title=title).first()
        if exclusion is None:
            raise exceptions.NotFound(NOT_EXCLUDED)
        return Response(ExcludedSeedOut(exclusion).data)

    @extend_schema(
        tags=TAGS,
        operation_id="profiles_excluded_seeds_update",
        summary="Don't use a title as a seed",
        description="The home page's “Don't use as a seed”: the title no "
        "longer seeds a “Because you…” row (that row leaves the home page); "
        "its rating and viewings stay and still count. No body. 201 when "
        "newly excluded, 200 when it already was. A title the profile may "
        "not see (withdrawn; on a kids profile, not for children) is a 404.",
        request=None,
        responses={
            201: OpenApiResponse(ExcludedSeedOut, description="Excluded now."),
            200: OpenApiResponse(ExcludedSeedOut, description="Already excluded."),
        },
    )
    def put(self, request, profile_id: int, title_id: int) -> Response:
        profile = api_profile(request, profile_id)
        title = _title_for(profile, title_id)
        exclusion, created = engagement.seed_exclude(profile=profile, title=title)
        return Response(
            ExcludedSeedOut(exclusion).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        tags=TAGS,
        operation_id="profiles_excluded_seeds_destroy",
        summary="Use a title as a seed again",
        description="The home page's “Use again”: the title may seed rows "
        "again. 404 when it was not excluded, or the profile may not see it.",
        responses={204: OpenApiResponse(description="It may seed rows again.")},
    )
    def delete(self, request, profile_id: int, title_id: int) -> Response:
        profile = api_profile(request, profile_id)
        title = _title_for(profile, title_id)
        if not engagement.seed_restore(profile=profile, title=title):
            raise exceptions.NotFound(NOT_EXCLUDED)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- onboarding ---------------------------------------------------------------------


class OnboardingQuery(serializers.Serializer):
    set = serializers.IntegerField(
        min_value=1,
        required=False,
        default=1,
        help_text="Which set (from 1); `next_set` is “Show me others”.",
    )


class OnboardingTitle(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    title = serializers.CharField()
    year = serializers.IntegerField(allow_null=True)
    poster_url = AbsoluteUrl(help_text="The poster image (SVG, cacheable).")
    picked = serializers.BooleanField()


class OnboardingOut(serializers.Serializer):
    set = serializers.IntegerField()
    sets = serializers.IntegerField(help_text="How many sets there are (0: none).")
    next_set = serializers.IntegerField(help_text="The set “Show me others” shows.")
    titles = OnboardingTitle(many=True)
    picks = serializers.IntegerField(help_text="Titles the profile picked so far.")
    min_picks = serializers.IntegerField(help_text="Picks that make “Done”.")
    can_finish = serializers.BooleanField()


class OnboardingCandidatesView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Titles to pick at onboarding",
        description="One set of the onboarding grid: well-known titles spread "
        "across the biggest genres the profile can see, each with whether it is "
        "picked. Pick one with `POST …/feedback/` (kind `pick`); undo by deleting "
        "that feedback. Sets are numbered, not cursor-paginated.",
        parameters=[OnboardingQuery],
        responses=OnboardingOut,
    )
    def get(self, request, profile_id: int) -> Response:
        profile = api_profile(request, profile_id)
        query = OnboardingQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        number = query.validated_data["set"]
        try:
            pick_set = catalog_selectors.onboarding_set(profile=profile, number=number)
        except catalog_selectors.UnknownOnboardingSet:
            raise exceptions.ValidationError(
                {"set": f"There is no set {number}."}, code="invalid"
            ) from None
        picks = catalog_selectors.onboarding_picks(profile)
        for title in pick_set.titles:
            title.picked = title.pk in picks
        body = {
            "set": pick_set.number,
            "sets": pick_set.count,
            "next_set": pick_set.next_number,
            "titles": pick_set.titles,
            "picks": len(picks),
            "min_picks": catalog_selectors.ONBOARDING_MIN_PICKS,
            "can_finish": len(picks) >= catalog_selectors.ONBOARDING_MIN_PICKS,
        }
        return Response(OnboardingOut(body, context={"request": request}).data)


# --- stored candidates --------------------------------------------------------------


class CandidatesOut(serializers.Serializer):
    model_version = serializers.IntegerField(
        allow_null=True,
        help_text="The model version that scored them; null: not scored yet.",
    )
    updated_at = serializers.DateTimeField(allow_null=True)
    title_ids = serializers.ListField(
        child=serializers.IntegerField(), help_text="Best first."
    )
    predicted = serializers.ListField(
        child=serializers.FloatField(), help_text="Predicted rating of each, 0.5–5."
    )


class ProfileCandidatesView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Stored candidates",
        description="The profile's current candidates as the model scored them "
        "(before the home page's re-ranking), best first, with predicted ratings; "
        "never a title of a hidden genre, marked not interested or withdrawn. "
        "Empty, with a null model version, before the first scoring.",
        responses=CandidatesOut,
    )
    def get(self, request, profile_id: int) -> Response:
        profile = api_profile(request, profile_id)
        stored = ProfileCandidates.objects.filter(profile=profile).first()
        if stored is None:
            body = {
                "model_version": None,
                "updated_at": None,
                "title_ids": [],
                "predicted": [],
            }
        else:
            # What may be suggested now: the hard filters (a genre hidden
            # since the scoring), the kids rule and withdrawn titles.
            kept = set(
                recommendable_for(profile)
                .filter(pk__in=stored.title_ids)
                .values_list("pk", flat=True)
            )
            pairs = [
                (t, p)
                for t, p in zip(stored.title_ids, stored.predicted, strict=True)
                if t in kept
            ]
            body = {
                "model_version": stored.model_version_id,
                "updated_at": stored.updated_at,
                "title_ids": [t for t, _ in pairs],
                "predicted": [p for _, p in pairs],
            }
        return Response(CandidatesOut(body).data)


# --- model versions (staff) ----------------------------------------------------------


class IsStaff(BasePermission):
    message = "Only staff may see and change model versions."
    code = "staff_only"

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_staff)


class StaffView:
    """Staff, signed in with full account access (as the admin needs)."""

    access = "account"
    permission_classes = [ApiAccess, IsStaff]


class ModelVersionOut(serializers.ModelSerializer):
    active = serializers.SerializerMethodField(help_text="The version that serves.")
    parameters = serializers.DictField(
        help_text="Hyper-parameters it was trained with."
    )
    metrics = serializers.DictField(help_text="Offline evaluation (rating, ranking…).")
    data_counts = serializers.DictField()
    timings = serializers.DictField(help_text="Seconds per training stage.")
    ndcg = serializers.FloatField(allow_null=True, help_text="NDCG@10.")
    rmse = serializers.FloatField(allow_null=True)

    class Meta:
        model = ModelVersion
        fields = [
            "id",
            "algorithm",
            "status",
            "active",
            "parameters",
            "metrics",
            "ndcg",
            "rmse",
            "data_counts",
            "timings",
            "error",
            "created_at",
            "finished_at",
            "activated_at",
        ]
        extra_kwargs = {
            "finished_at": {"help_text": "When it was trained; null until then."},
            "activated_at": {"help_text": "When it was last promoted, if ever."},
        }

    def get_active(self, version: ModelVersion) -> bool:
        return version.status == ModelVersion.Status.ACTIVE


class ModelVersionQuery(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=ModelVersion.Status.choices, required=False
    )
    algorithm = serializers.CharField(required=False, max_length=32)


class ModelVersionCursor(Cursor):
    ordering = ("-created_at", "-id")


@extend_schema(tags=TAGS)
class ModelVersionList(StaffView, generics.ListAPIView):
    serializer_class = ModelVersionOut
    pagination_class = ModelVersionCursor

    def get_queryset(self):
        query = ModelVersionQuery(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return ModelVersion.objects.filter(**query.validated_data)

    @extend_schema(
        summary="Model versions (staff)",
        description="Every training run, newest first, as the admin lists them; "
        "filter by `status` or `algorithm`.",
        parameters=[ModelVersionQuery],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


@extend_schema(tags=TAGS)
class ModelVersionDetail(StaffView, generics.RetrieveAPIView):
    serializer_class = ModelVersionOut
    queryset = ModelVersion.objects.all()
    lookup_url_kwarg = "version_id"

    @extend_schema(summary="A model version (staff)")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class _Activate(StaffView, generics.GenericAPIView):
    serializer_class = ModelVersionOut
    queryset = ModelVersion.objects.all()
    lookup_url_kwarg = "version_id"
    force = False

    def post(self, request, version_id: int) -> Response:
        version = self.get_object()
        try:
            version = training.model_promote(version=version, force=self.force)
        except training.PromotionRefused as exc:
            raise Conflict(str(exc), code="promotion_refused") from None
        return Response(ModelVersionOut(version).data)


class ModelVersionPromote(_Activate):
    @extend_schema(
        tags=TAGS,
        summary="Promote a model version (staff)",
        description="Makes a ready (or retired) version the one that serves, if "
        "it passes the metrics gate against the active one (the admin's "
        "“Promote”); every profile's candidates are refreshed after. 409 "
        "`promotion_refused` says why not.",
        request=None,
        responses={200: ModelVersionOut, 409: _conflict("Refused: why, in detail.")},
    )
    def post(self, request, version_id: int) -> Response:
        return super().post(request, version_id)


class ModelVersionRollback(_Activate):
    force = True

    @extend_schema(
        tags=TAGS,
        summary="Roll back to a model version (staff)",
        description="Makes this version the one that serves without the metrics "
        "gate (the admin's “Activate without the gate (rollback)”), e.g. an "
        "earlier one; no restart needed. 409 `promotion_refused` when it cannot "
        "serve (not ready, or its file is missing or corrupted).",
        request=None,
        responses={200: ModelVersionOut, 409: _conflict("Refused: why, in detail.")},
    )
    def post(self, request, version_id: int) -> Response:
        return super().post(request, version_id)


class TrainQueued(serializers.Serializer):
    detail = serializers.CharField()


class ModelTrain(StaffView, APIView):
    @extend_schema(
        tags=TAGS,
        summary="Train now (staff)",
        description="Queues a training, as the admin's “Train now” (it starts "
        "even after trainings died in a row); the new version is listed when it "
        "ends. 409 `training_running` while one runs.",
        request=None,
        responses={
            202: TrainQueued,
            409: _conflict("A training is running."),
        },
        examples=[
            OpenApiExample(
                "Queued",
                value={"detail": "Training queued."},
                response_only=True,
                status_codes=["202"],
            )
        ],
    )
    def post(self, request) -> Response:
        if not training.training_ask():
            raise Conflict(
                "A training is running; its version is listed when it ends.",
                code="training_running",
            )
        return Response(
            {"detail": "Training queued; the new version is listed when it ends."},
            status=status.HTTP_202_ACCEPTED,
        )
