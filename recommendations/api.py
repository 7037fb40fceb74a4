from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.access import access_profile
from recommendations.models import ProfileCandidates


class CandidatesOut(serializers.Serializer):
    model_version = serializers.IntegerField(source="model_version_id", allow_null=True)
    updated_at = serializers.DateTimeField()
    title_ids = serializers.ListField(child=serializers.IntegerField())
    predicted = serializers.ListField(child=serializers.FloatField())


class ProfileCandidatesView(APIView):
    """One of your profiles' current candidates, best first, with predicted ratings."""

    @extend_schema(responses=CandidatesOut)
    def get(self, request, profile_id: int) -> Response:
        profile = access_profile(request.user, profile_id)
        candidates = ProfileCandidates.objects.filter(profile=profile).first()
        if candidates is None:
            return Response(
                {
                    "model_version": None,
                    "updated_at": None,
                    "title_ids": [],
                    "predicted": [],
                }
            )
        return Response(CandidatesOut(candidates).data)
