"""REST endpoints for a profile's signals (``/api/v1/``); owner-only."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.access import access_profile
from accounts.throttle import ProfileWriteThrottle
from activity import services
from activity.models import RATING_VALUES, Feedback
from catalog.models import Title


class RatingIn(serializers.Serializer):
    title = serializers.PrimaryKeyRelatedField(queryset=Title.objects.available())
    value = serializers.ChoiceField(choices=RATING_VALUES)


class FeedbackIn(serializers.Serializer):
    title = serializers.PrimaryKeyRelatedField(queryset=Title.objects.available())
    kind = serializers.ChoiceField(choices=Feedback.Kind.choices)


class RatingOut(serializers.Serializer):
    title = serializers.IntegerField(source="title_id")
    value = serializers.FloatField()
    updated_at = serializers.DateTimeField()


class ProfileRatings(APIView):
    """Rate a title for one of your profiles (half stars, 0.5–5.0); re-rating updates."""

    throttle_classes = [ProfileWriteThrottle]

    @extend_schema(request=RatingIn, responses=RatingOut)
    def post(self, request, profile_id: int) -> Response:
        profile = access_profile(request.user, profile_id)
        data = RatingIn(data=request.data)
        data.is_valid(raise_exception=True)
        rating = services.rating_upsert(profile=profile, **data.validated_data)
        return Response(RatingOut(rating).data, status=status.HTTP_200_OK)

    @extend_schema(responses=RatingOut(many=True))
    def get(self, request, profile_id: int) -> Response:
        profile = access_profile(request.user, profile_id)
        ratings = profile.ratings.order_by("-updated_at")[:500]
        return Response(RatingOut(ratings, many=True).data)


class ProfileFeedback(APIView):
    """Thumbs up / down, an onboarding pick, or "not interested" for one of your profiles."""

    throttle_classes = [ProfileWriteThrottle]

    @extend_schema(request=FeedbackIn, responses={201: FeedbackIn})
    def post(self, request, profile_id: int) -> Response:
        profile = access_profile(request.user, profile_id)
        data = FeedbackIn(data=request.data)
        data.is_valid(raise_exception=True)
        services.feedback_add(profile=profile, **data.validated_data)
        return Response(
            {
                "title": data.validated_data["title"].pk,
                "kind": data.validated_data["kind"],
            },
            status=status.HTTP_201_CREATED,
        )
